import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  newServiceLogins,
  prepareDatabase,
  provisionServiceLogins,
  startEmbeddedPostgres,
} from '@switchboard/db';
import { freePort } from '@switchboard/runtime';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { TEMPLATE_DATABASE, type TestCluster } from './cluster.ts';

/**
 * One real PostgreSQL for the whole test run, with a template database carrying the platform stand-in,
 * every migration and the seed. Each test file clones the template (milliseconds) and works in its own
 * database, so files run in parallel without seeing each other's rows.
 */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(path.join(tmpdir(), 'switchboard-test-pg-'));
  const cluster = await startEmbeddedPostgres({ dataDir: dir, port: await freePort() });
  const admin = new pg.Client({ connectionString: cluster.ownerUrl });
  await admin.connect();
  await admin.query(`create database ${TEMPLATE_DATABASE}`);
  await admin.end();
  await prepareDatabase(cluster.urlFor(TEMPLATE_DATABASE), { embedded: true, seed: true });
  const logins = newServiceLogins();
  await provisionServiceLogins(cluster.ownerUrl, logins);

  const info: TestCluster = { ownerUrl: cluster.ownerUrl, port: cluster.port, logins };
  project.provide('switchboardCluster', info);

  return async () => {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
