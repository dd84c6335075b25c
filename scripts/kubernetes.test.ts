import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { monitoringManifests } from './kubernetes-monitoring.ts';
import {
  type Container,
  containersOf,
  type K8sObject,
  podTemplateOf,
  resolveKustomization,
} from './lib/kustomize.ts';
import { fieldErrors } from './lib/manifest-types.ts';

// deploy/kubernetes, checked without a cluster (none runs here): each overlay resolved, every object
// validated against the Kubernetes API schemas (kubernetes-models, generated from the official OpenAPI
// definitions; the Prometheus Operator's CRDs likewise), and the references between objects checked.

const ROOT = path.resolve(import.meta.dirname, '..');
const KUBERNETES = path.join(ROOT, 'deploy', 'kubernetes');
const OVERLAYS = ['embedded-db', 'supabase'];

/** Where each apiVersion's models live. */
const MODELS: Record<string, string> = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'batch/v1': 'kubernetes-models/batch/v1',
  'autoscaling/v2': 'kubernetes-models/autoscaling/v2',
  'policy/v1': 'kubernetes-models/policy/v1',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
};

/** Secrets the operator creates (docs/kubernetes.md says how); the manifests only reference them. */
const EXTERNAL_SECRETS = ['switchboard-secrets', 'switchboard-postgres'];

async function validate(o: K8sObject): Promise<void> {
  const module = MODELS[o.apiVersion];
  if (!module) throw new Error(`${o.kind}/${o.metadata.name}: no models for ${o.apiVersion}`);
  const Model = ((await import(module)) as Record<string, new (o: unknown) => { validate(): void }>)[o.kind];
  if (!Model) throw new Error(`${o.kind}/${o.metadata.name}: ${o.apiVersion} has no kind ${o.kind}`);
  new Model(o).validate();
}

const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  !!selector &&
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
const selects = (selector: LabelSelector, labels: Record<string, string> | undefined) =>
  Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels?.[k] === v) &&
  (selector.matchExpressions ?? []).every((e) => {
    if (e.operator === 'In') return e.values!.includes(labels?.[e.key] ?? '\0');
    if (e.operator === 'Exists') return labels?.[e.key] !== undefined;
    throw new Error(`operator ${e.operator} not checked here`);
  });

const workloads = (objects: K8sObject[]) => objects.filter((o) => podTemplateOf(o));
const podLabels = (o: K8sObject) => podTemplateOf(o)?.metadata?.labels;
const portsOf = (o: K8sObject) =>
  containersOf(o).flatMap((c) => (c.ports as { name?: string; containerPort: number }[] | undefined) ?? []);

describe.each(OVERLAYS)('deploy/kubernetes/overlays/%s', (overlay) => {
  let objects: K8sObject[];
  const find = (kind: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata.name === name);
  beforeAll(async () => {
    objects = await resolveKustomization(path.join(KUBERNETES, 'overlays', overlay));
  });

  it('resolves to objects that validate against the Kubernetes API schemas', async () => {
    expect(objects.length).toBeGreaterThan(15);
    for (const o of objects) await validate(o);
    for (const o of objects)
      if (o.kind !== 'Namespace') expect(o.metadata.namespace, o.metadata.name).toBe('switchboard');
    for (const kind of ['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Service'])
      for (const name of ['switchboard-gateway', 'switchboard-worker'])
        expect(find(kind, name), `${kind}/${name}`).toBeDefined();
  });

  it('names no field the API does not know (a misspelt field would be dropped by the cluster)', () => {
    // The schema validation above lets unknown properties through; TypeScript's excess-property check
    // against the same models' interfaces does not.
    expect(fieldErrors(objects, MODELS, ROOT)).toEqual([]);
  });

  it('selectors match pod labels, Services target declared ports, HPAs and PDBs their workloads', () => {
    for (const w of workloads(objects)) {
      const selector = (w.spec as { selector?: LabelSelector }).selector;
      if (w.kind !== 'Job')
        expect(selects(selector!, podLabels(w)), `${w.kind}/${w.metadata.name}`).toBe(true);
    }
    for (const svc of objects.filter((o) => o.kind === 'Service')) {
      const spec = svc.spec as {
        selector: Record<string, string>;
        ports: { name: string; targetPort: string | number }[];
      };
      const targets = workloads(objects).filter((w) => matches(spec.selector, podLabels(w)));
      expect(targets.length, `Service/${svc.metadata.name} selects a workload`).toBeGreaterThan(0);
      for (const port of spec.ports)
        for (const t of targets)
          expect(
            portsOf(t).some((p) => p.name === port.targetPort || p.containerPort === port.targetPort),
            `Service/${svc.metadata.name} -> ${t.metadata.name}:${port.targetPort}`,
          ).toBe(true);
    }
    for (const hpa of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
      const ref = (hpa.spec as { scaleTargetRef: { kind: string; name: string } }).scaleTargetRef;
      expect(find(ref.kind, ref.name), `HPA/${hpa.metadata.name}`).toBeDefined();
    }
    for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
      const selector = (pdb.spec as { selector: LabelSelector }).selector;
      expect(
        workloads(objects).some((w) => w.kind !== 'Job' && selects(selector, podLabels(w))),
        `PDB/${pdb.metadata.name}`,
      ).toBe(true);
    }
  });

  it('network policies: workers accept only gateways (and Prometheus); Postgres only the services', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    expect(
      policies.some((p) => Object.keys((p.spec as { podSelector: object }).podSelector).length === 0),
    ).toBe(true);
    for (const p of policies) {
      const spec = p.spec as {
        podSelector: LabelSelector;
        ingress?: {
          from?: { podSelector?: LabelSelector; namespaceSelector?: LabelSelector }[];
          ports?: { port: string | number }[];
        }[];
      };
      if (!spec.podSelector.matchLabels && !spec.podSelector.matchExpressions) continue;
      const selected = workloads(objects).filter((w) => selects(spec.podSelector, podLabels(w)));
      expect(selected.length, `NetworkPolicy/${p.metadata.name} selects pods`).toBeGreaterThan(0);
      for (const rule of spec.ingress ?? []) {
        for (const port of rule.ports ?? [])
          for (const s of selected)
            expect(
              portsOf(s).some((x) => x.name === port.port || x.containerPort === port.port),
              `${p.metadata.name}: ${port.port}`,
            ).toBe(true);
        for (const from of rule.from ?? [])
          if (from.podSelector)
            expect(
              workloads(objects).some((w) => selects(from.podSelector!, podLabels(w))),
              `${p.metadata.name}: from`,
            ).toBe(true);
      }
    }
    const workerPolicy = policies.find((p) => p.metadata.name === 'worker-ingress')!;
    const sources = (
      workerPolicy.spec as { ingress: { from: { podSelector?: LabelSelector }[] }[] }
    ).ingress.flatMap((r) => r.from.filter((f) => f.podSelector));
    const admitted = workloads(objects).filter((w) =>
      sources.some((f) => selects(f.podSelector!, podLabels(w))),
    );
    expect(admitted.map((w) => w.metadata.name)).toEqual(['switchboard-gateway']);
  });

  it('every ConfigMap, Secret and ServiceAccount referenced is declared, or documented as external', async () => {
    const docs = await readFile(path.join(ROOT, 'docs', 'kubernetes.md'), 'utf8');
    for (const w of workloads(objects)) {
      const pod = podTemplateOf(w)!.spec as { serviceAccountName?: string };
      if (pod.serviceAccountName)
        expect(find('ServiceAccount', pod.serviceAccountName), pod.serviceAccountName).toBeDefined();
      for (const c of containersOf(w)) {
        type Env = {
          name: string;
          value?: string;
          valueFrom?: Record<string, { name: string; key: string; optional?: boolean }>;
        };
        for (const from of (c.envFrom as { configMapRef?: { name: string } }[] | undefined) ?? [])
          if (from.configMapRef)
            expect(find('ConfigMap', from.configMapRef.name), from.configMapRef.name).toBeDefined();
        for (const env of (c.env as Env[] | undefined) ?? []) {
          const cm = env.valueFrom?.configMapKeyRef;
          if (cm)
            expect(
              (find('ConfigMap', cm.name)?.data as Record<string, string>)?.[cm.key],
              `${cm.name}.${cm.key}`,
            ).toBeDefined();
          const secret = env.valueFrom?.secretKeyRef;
          if (secret) {
            expect(EXTERNAL_SECRETS, secret.name).toContain(secret.name);
            // The docs name every key the operator must put in the secret.
            expect(docs, `${secret.name}.${secret.key} documented`).toContain(`\`${secret.key}\``);
          }
          // Secrets are referenced, never inlined: no credentials in a plain value.
          expect(env.value ?? '', `${w.metadata.name}/${c.name}: ${env.name}`).not.toMatch(
            /:\/\/[^:/@]+:(?!\$\()[^@]+@/,
          );
        }
      }
    }
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    for (const name of EXTERNAL_SECRETS.filter((s) =>
      objects.some((o) => JSON.stringify(o).includes(`"${s}"`)),
    ))
      expect(docs, name).toContain(`\`${name}\``);
  });

  it('every container has probes (long-running ones), requests and limits, and a locked-down securityContext', () => {
    for (const w of workloads(objects)) {
      const pod = podTemplateOf(w)!.spec as {
        securityContext?: { runAsNonRoot?: boolean };
        containers: Container[];
      };
      for (const c of containersOf(w)) {
        const where = `${w.kind}/${w.metadata.name}/${c.name}`;
        const resources = c.resources as
          | { requests?: Record<string, string>; limits?: Record<string, string> }
          | undefined;
        for (const kind of ['requests', 'limits'] as const)
          expect(Object.keys(resources?.[kind] ?? {}).sort(), `${where} ${kind}`).toEqual(['cpu', 'memory']);
        const sc = c.securityContext as
          | { allowPrivilegeEscalation?: boolean; privileged?: boolean; capabilities?: { drop?: string[] } }
          | undefined;
        expect(sc?.allowPrivilegeEscalation, where).toBe(false);
        expect(sc?.privileged, where).not.toBe(true);
        expect(sc?.capabilities?.drop, where).toEqual(['ALL']);
        expect(c.image, where).toMatch(/:[\w.-]+$/);
        expect(c.image, where).not.toMatch(/:latest$/);
        // Switchboard's own image runs as non-root everywhere, on a read-only root filesystem.
        if (c.image.startsWith('ghcr.io/switchboard/switchboard:')) {
          expect(pod.securityContext?.runAsNonRoot, where).toBe(true);
          expect((sc as { readOnlyRootFilesystem?: boolean }).readOnlyRootFilesystem, where).toBe(true);
        }
      }
      // A Job's containers run to completion: nothing to probe.
      if (w.kind === 'Job') continue;
      for (const c of pod.containers) {
        expect(c.readinessProbe, `${w.metadata.name}/${c.name} readiness`).toBeDefined();
        expect(c.livenessProbe, `${w.metadata.name}/${c.name} liveness`).toBeDefined();
      }
    }
    // The services' probes are the routes they serve: /readyz for readiness, /healthz for liveness.
    for (const name of ['switchboard-gateway', 'switchboard-worker']) {
      const [c] = (podTemplateOf(find('Deployment', name)!)!.spec as { containers: Container[] }).containers;
      expect((c!.readinessProbe as { httpGet: { path: string } }).httpGet.path).toBe('/readyz');
      expect((c!.livenessProbe as { httpGet: { path: string } }).httpGet.path).toBe('/healthz');
    }
  });

  it('gives the drain its time, and the gateways find the workers through the headless Service', () => {
    for (const name of ['switchboard-gateway', 'switchboard-worker']) {
      const pod = podTemplateOf(find('Deployment', name)!)!.spec as {
        terminationGracePeriodSeconds: number;
        containers: Container[];
      };
      const preStop = (pod.containers[0]!.lifecycle as { preStop: { exec: { command: string[] } } }).preStop
        .exec.command;
      expect(preStop[0]).toBe('sleep');
      // preStop, then the gateway's idle grace (4.5 s) and the drain bound (8 s), within the grace period.
      expect(pod.terminationGracePeriodSeconds, name).toBeGreaterThanOrEqual(Number(preStop[1]) + 4.5 + 8);
    }
    const worker = find('Service', 'switchboard-worker')!.spec as {
      clusterIP: string;
      ports: { port: number }[];
    };
    expect(worker.clusterIP).toBe('None');
    const dns = (find('ConfigMap', 'switchboard-config')!.data as Record<string, string>)
      .SWITCHBOARD_WORKER_DNS!;
    expect(dns).toBe(`switchboard-worker.switchboard.svc.cluster.local:${worker.ports[0]!.port}`);
  });

  it('the ServiceMonitor scrapes the gateway and worker Services on a port they declare', () => {
    const monitor = find('ServiceMonitor', 'switchboard')!.spec as {
      selector: LabelSelector;
      endpoints: { port: string }[];
    };
    const scraped = objects.filter(
      (o) => o.kind === 'Service' && selects(monitor.selector, o.metadata.labels),
    );
    expect(scraped.map((s) => s.metadata.name).sort()).toEqual(['switchboard-gateway', 'switchboard-worker']);
    for (const s of scraped)
      expect((s.spec as { ports: { name: string }[] }).ports.map((p) => p.name)).toContain(
        monitor.endpoints[0]!.port,
      );
  });
});

describe('deploy/kubernetes/base/monitoring', () => {
  it('matches dashboards/ (npm run kubernetes:monitoring regenerates it)', async () => {
    const dir = path.join(KUBERNETES, 'base', 'monitoring');
    for (const [file, text] of Object.entries(await monitoringManifests()))
      expect(await readFile(path.join(dir, file), 'utf8'), file).toBe(text);
    expect((await readdir(dir)).sort()).toEqual([
      'grafana-dashboards.yaml',
      'prometheus-rule.yaml',
      'service-monitor.yaml',
    ]);
  });
});
