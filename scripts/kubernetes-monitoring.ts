/**
 * Writes the Kubernetes copies of the observability files, so the dashboards and alerts have one
 * source (dashboards/): the PrometheusRule from dashboards/prometheus/alerts.yml and one ConfigMap per
 * Grafana dashboard with the label Grafana's dashboard sidecar watches. A test fails when they drift.
 *
 *   npm run kubernetes:monitoring
 */

import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse, stringify } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = path.join(ROOT, 'deploy', 'kubernetes', 'base', 'monitoring');
const HEADER =
  '# Generated from dashboards/ by `npm run kubernetes:monitoring`; edit the source, not this file.\n';

export async function monitoringManifests(): Promise<Record<string, string>> {
  const alerts = parse(await readFile(path.join(ROOT, 'dashboards', 'prometheus', 'alerts.yml'), 'utf8')) as {
    groups: unknown[];
  };
  const rule = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'switchboard', labels: { 'app.kubernetes.io/name': 'switchboard' } },
    spec: { groups: alerts.groups },
  };
  const dir = path.join(ROOT, 'dashboards', 'grafana', 'dashboards');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  const configMaps = await Promise.all(
    files.map(async (file) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: `switchboard-dashboard-${path.basename(file, '.json')}`,
        // kube-prometheus-stack's Grafana sidecar loads every ConfigMap with this label.
        labels: { grafana_dashboard: '1' },
        annotations: { grafana_folder: 'Switchboard' },
      },
      data: { [`switchboard-${file}`]: await readFile(path.join(dir, file), 'utf8') },
    })),
  );
  const yaml = (docs: unknown[]) => HEADER + docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
  return {
    'prometheus-rule.yaml': yaml([rule]),
    'grafana-dashboards.yaml': yaml(configMaps),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const [file, text] of Object.entries(await monitoringManifests())) {
    await writeFile(path.join(OUT, file), text);
    console.log(`wrote deploy/kubernetes/base/monitoring/${file}`);
  }
}
