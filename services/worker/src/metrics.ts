import { Counter, Gauge, Histogram, type Registry } from '@switchboard/observability';

/** The worker's metrics. Labels are bounded: server slug, tool, outcome, reason; never a user or request id. */
export class WorkerMetrics {
  readonly toolCalls: Counter<'server' | 'tool' | 'outcome'>;
  readonly toolCallDuration: Histogram<'server' | 'tool' | 'outcome'>;
  readonly spawns: Counter;
  readonly crashes: Counter;
  readonly circuitOpens: Counter;
  readonly openCircuits: Gauge;
  readonly evictions: Counter<'reason'>;
  readonly installs: Counter<'outcome'>;
  readonly credentialResolutions: Counter<'outcome'>;
  /** Upstream token refreshes: `refreshed` here, `joined` another worker's, `dead` grant, `failed`. */
  readonly upstreamRefreshes: Counter<'outcome'>;
  readonly stdioProcesses: Gauge;
  readonly backends: Gauge;
  readonly sessions: Gauge;
  /** 1 for the sandbox state of this worker: `bwrap`, `off` (by the operator) or `unavailable`. */
  readonly sandbox: Gauge<'state'>;

  constructor(
    registry: Registry,
    live: {
      processes: () => number;
      backends: () => number;
      sessions: () => number;
      openCircuits: () => number;
    },
  ) {
    const registers = [registry];
    this.toolCalls = new Counter({
      name: 'switchboard_tool_calls_total',
      help: 'Tool calls by server, tool and outcome (success, error = isError result, failure = no result)',
      labelNames: ['server', 'tool', 'outcome'],
      registers,
    });
    this.toolCallDuration = new Histogram({
      name: 'switchboard_tool_call_duration_seconds',
      help: 'Tool call duration in the worker, by server, tool and outcome',
      labelNames: ['server', 'tool', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.sandbox = new Gauge({
      name: 'switchboard_worker_sandbox',
      help: 'How stdio servers run on this worker: state="bwrap" (sandboxed), "off" (WORKER_SANDBOX=off), "unavailable" (refused)',
      labelNames: ['state'],
      registers,
    });
    this.spawns = new Counter({
      name: 'switchboard_worker_stdio_spawns_total',
      help: 'stdio server processes started',
      registers,
    });
    this.crashes = new Counter({
      name: 'switchboard_worker_backend_crashes_total',
      help: 'Backends that stopped unexpectedly',
      registers,
    });
    this.circuitOpens = new Counter({
      name: 'switchboard_worker_circuit_opens_total',
      help: 'Times a backend failed repeatedly and its circuit breaker opened',
      registers,
    });
    this.openCircuits = new Gauge({
      name: 'switchboard_worker_open_circuits',
      help: 'Backends whose circuit breaker is open or half-open (calls refused at once)',
      registers,
      collect() {
        this.set(live.openCircuits());
      },
    });
    this.evictions = new Counter({
      name: 'switchboard_worker_backend_evictions_total',
      help: 'Backends stopped on purpose, by reason (idle, capacity, changed)',
      labelNames: ['reason'],
      registers,
    });
    this.installs = new Counter({
      name: 'switchboard_worker_package_installs_total',
      help: 'npm installs of MCP server packages, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.credentialResolutions = new Counter({
      name: 'switchboard_credential_resolutions_total',
      help: 'Credential look-ups by outcome (hit = cache, miss = database, error)',
      labelNames: ['outcome'],
      registers,
    });
    this.upstreamRefreshes = new Counter({
      name: 'switchboard_upstream_token_refreshes_total',
      help: 'Upstream OAuth token refreshes by outcome (refreshed, joined another worker, dead grant, failed)',
      labelNames: ['outcome'],
      registers,
    });
    this.stdioProcesses = new Gauge({
      name: 'switchboard_worker_stdio_processes',
      help: 'Live stdio server processes',
      registers,
      collect() {
        this.set(live.processes());
      },
    });
    this.backends = new Gauge({
      name: 'switchboard_worker_backends',
      help: 'Live backends of every kind',
      registers,
      collect() {
        this.set(live.backends());
      },
    });
    // Known label values start at zero, so dashboards and alerts see a series before the first event.
    this.sessions = new Gauge({
      name: 'switchboard_worker_sessions',
      help: 'MCP client sessions held',
      registers,
      collect() {
        this.set(live.sessions());
      },
    });
    for (const reason of ['idle', 'capacity', 'changed']) this.evictions.inc({ reason }, 0);
    for (const outcome of ['success', 'failure']) this.installs.inc({ outcome }, 0);
    for (const outcome of ['hit', 'miss', 'error']) this.credentialResolutions.inc({ outcome }, 0);
  }
}
