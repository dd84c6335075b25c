-- Workers commit each tool call's audit event before the call is answered (group commit). With
-- synchronous_commit off for the worker's login, that commit returns once Postgres has the rows, without
-- waiting for the WAL to reach the disk: a worker killed after answering still loses nothing, and only a
-- crash of Postgres itself could lose the last fraction of a second of audit rows. The worker writes
-- nothing else (it only reads credentials), so no other data takes that risk.
alter role switchboard_worker set synchronous_commit = off;
