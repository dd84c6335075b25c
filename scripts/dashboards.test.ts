import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// Static checks of what operators deploy: Prometheus config and alert rules with promtool (Debian's),
// Grafana dashboards and provisioning.

const run = promisify(execFile);
const DASHBOARDS = path.resolve(import.meta.dirname, '..', 'dashboards');

describe('Prometheus', () => {
  it('config and rules pass promtool check, and the alert rules pass their unit tests', async () => {
    const dir = path.join(DASHBOARDS, 'prometheus');
    await run('promtool', ['check', 'config', 'prometheus.yml'], { cwd: dir });
    const rules = await run('promtool', ['check', 'rules', 'alerts.yml'], { cwd: dir });
    expect(rules.stdout).toContain('SUCCESS: 6 rules found');
    const tests = await run('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: dir });
    expect(tests.stdout).toContain('SUCCESS');
  });
});

describe('Grafana', () => {
  it('has the four dashboards, each panel querying the provisioned Prometheus data source', async () => {
    const datasource = await readFile(
      path.join(DASHBOARDS, 'grafana', 'provisioning', 'datasources', 'prometheus.yml'),
      'utf8',
    );
    expect(datasource).toMatch(/uid: prometheus/);
    const dir = path.join(DASHBOARDS, 'grafana', 'dashboards');
    const uids = new Set<string>();
    for (const file of await readdir(dir)) {
      const d = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as {
        uid: string;
        panels: {
          id: number;
          datasource: { uid: string };
          targets: { expr: string; datasource: { uid: string } }[];
        }[];
      };
      expect(uids.has(d.uid), d.uid).toBe(false);
      uids.add(d.uid);
      expect(d.panels.length).toBeGreaterThan(0);
      expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
      for (const p of d.panels) {
        expect(p.datasource.uid).toBe('prometheus');
        expect(p.targets.length).toBeGreaterThan(0);
        for (const t of p.targets) {
          expect(t.datasource.uid).toBe('prometheus');
          // Bounded labels only: no panel groups by user or request.
          expect(t.expr).not.toMatch(/by \([^)]*(user|request_id|session_id)/);
        }
      }
    }
    expect([...uids].sort()).toEqual([
      'switchboard-gateway',
      'switchboard-security',
      'switchboard-tools',
      'switchboard-workers',
    ]);
  });
});
