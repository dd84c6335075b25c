import { type ChildProcess, spawn } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '@switchboard/runtime';
import { type NpmStart, startNpmStart, waitFor } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A real Prometheus (Debian's package; .ci/run installs it) scrapes a real `npm start` stack while it
// serves a burst of traffic; then every query of every Grafana dashboard panel must return data.

const ROOT = path.resolve(import.meta.dirname, '..');
const DASHBOARDS = path.join(ROOT, 'dashboards');
let stack: NpmStart;
let prometheus: ChildProcess;
let dir: string;
let info: NpmStart['info'];
let promUrl: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'switchboard-observability-'));
  stack = await startNpmStart({ AUDIT_LOG_LEVEL: 'silent' });
  info = stack.info;

  const hostPort = (url: string) => new URL(url).host;
  await copyFile(path.join(DASHBOARDS, 'prometheus', 'alerts.yml'), path.join(dir, 'alerts.yml'));
  await writeFile(
    path.join(dir, 'prometheus.yml'),
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'rule_files: [alerts.yml]',
      'scrape_configs:',
      `  - { job_name: gateway, static_configs: [{ targets: ['${hostPort(info.gatewayUrl).replace('localhost', '127.0.0.1')}'] }] }`,
      `  - { job_name: worker, static_configs: [{ targets: [${info.workers.map((w) => `'${hostPort(w)}'`).join(', ')}] }] }`,
      `  - { job_name: auth, static_configs: [{ targets: ['${hostPort(info.authUrl)}'] }] }`,
      '',
    ].join('\n'),
  );
  const promPort = await freePort();
  promUrl = `http://127.0.0.1:${promPort}`;
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  prometheus.on('error', (err) => {
    throw new Error(`Prometheus could not start (apt-get install prometheus): ${err.message}`);
  });
  await waitFor(async () => (await fetch(`${promUrl}/-/ready`).catch(() => null))?.ok, {
    timeoutMillis: 20_000,
    what: 'Prometheus',
  });
}, 90_000);

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null) {
    prometheus.kill('SIGTERM');
    await new Promise((r) => prometheus.once('exit', r));
  }
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function query(expr: string): Promise<unknown[]> {
  const res = await fetch(`${promUrl}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { result: unknown[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data!.result;
}

async function traffic() {
  const signUp = await fetch(`${info.gatewayUrl}/auth/v1/signup`, {
    method: 'POST',
    headers: { apikey: info.anonKey, 'content-type': 'application/json' },
    body: JSON.stringify({ email: `metrics-${Date.now()}@example.com`, password: 'metrics password' }),
  });
  const { access_token: token } = (await signUp.json()) as { access_token: string };
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  await fetch(`${info.gatewayUrl}/api/v1/installations`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ server: 'everything', slug: 'everything' }),
  });
  await fetch(`${info.gatewayUrl}/api/v1/me`, { headers: { authorization: 'Bearer not-a-token' } });
  await fetch(`${info.gatewayUrl}/api/v1/nowhere`, { headers: auth });
  const mcp = { ...auth, accept: 'application/json, text/event-stream' };
  const init = await fetch(`${info.gatewayUrl}/mcp/everything`, {
    method: 'POST',
    headers: mcp,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    }),
  });
  await init.text();
  const session = {
    ...mcp,
    'mcp-session-id': init.headers.get('mcp-session-id')!,
    'mcp-protocol-version': '2025-06-18',
  };
  for (let i = 0; i < 30; i++) {
    const name = i % 10 === 0 ? 'no-such-tool' : 'echo';
    const res = await fetch(`${info.gatewayUrl}/mcp/everything`, {
      method: 'POST',
      headers: session,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: i + 1,
        method: 'tools/call',
        params: { name, arguments: { message: 'm' } },
      }),
    });
    await res.text();
  }
}

describe('the Grafana dashboards', () => {
  it('get data from a real Prometheus for every panel query', async () => {
    await traffic();
    await waitFor(async () => (await query('switchboard_tool_calls_total')).length > 0, {
      timeoutMillis: 20_000,
      what: 'tool-call metrics scraped',
    });
    // Rates need two samples after the burst: wait until the last tool-call sample is in twice more.
    const samples = async () =>
      Math.max(
        0,
        ...(
          (await query('count_over_time(switchboard_tool_calls_total[10m])')) as { value: [number, string] }[]
        ).map((r) => Number(r.value[1])),
      );
    const first = await samples();
    await waitFor(async () => (await samples()) >= first + 2, {
      timeoutMillis: 20_000,
      what: 'two more scrapes after the burst',
    });
    const files = (await readdir(path.join(DASHBOARDS, 'grafana', 'dashboards'))).filter((f) =>
      f.endsWith('.json'),
    );
    expect(files.sort()).toEqual(['gateway.json', 'security.json', 'tools.json', 'workers.json']);
    const empty: string[] = [];
    let checked = 0;
    for (const file of files) {
      const dashboard = JSON.parse(
        await readFile(path.join(DASHBOARDS, 'grafana', 'dashboards', file), 'utf8'),
      ) as {
        panels: { title: string; targets: { expr: string }[] }[];
      };
      for (const panel of dashboard.panels) {
        for (const target of panel.targets) {
          const expr = target.expr.replaceAll('$__rate_interval', '1m').replaceAll('$__interval', '15s');
          checked++;
          if ((await query(expr)).length === 0) empty.push(`${file} / ${panel.title}: ${expr}`);
        }
      }
    }
    expect(empty).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(24);
    // The alert rules load in this Prometheus too.
    const rules = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
      data: { groups: { rules: unknown[] }[] };
    };
    expect(rules.data.groups[0]!.rules).toHaveLength(6);
  }, 90_000);
});
