import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import jsonPatch, { type Operation } from 'fast-json-patch';
import { parseAllDocuments } from 'yaml';

/**
 * A small resolver of the kustomize features deploy/kubernetes uses, so a test can build the overlays
 * without the kustomize binary (none installs here from npm or Debian): `resources` (files and
 * directories), `patches` (strategic merge from a file, RFC 6902 inline with a target), `namespace`,
 * `labels` (pairs, on metadata) and `images`. Anything else in a kustomization is refused, so a
 * feature this does not understand cannot pass unnoticed.
 */

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [key: string]: unknown;
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  patches?: {
    path?: string;
    patch?: string;
    target?: { group?: string; version?: string; kind: string; name: string };
  }[];
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }[];
  images?: { name: string; newName?: string; newTag?: string }[];
}

const KNOWN_FIELDS = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'patches', 'labels', 'images']);
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
]);

/** Lists merged by key in a strategic merge patch (the keys Kubernetes declares for these fields). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
};

export async function readYamlDocuments(file: string): Promise<K8sObject[]> {
  const docs = parseAllDocuments(await readFile(file, 'utf8'));
  return docs
    .map((d) => {
      if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((d): d is K8sObject => d !== null);
}

export async function resolveKustomization(dir: string): Promise<K8sObject[]> {
  const [k] = (await readYamlDocuments(path.join(dir, 'kustomization.yaml'))) as unknown as Kustomization[];
  if (!k) throw new Error(`${dir}: empty kustomization.yaml`);
  const unknown = Object.keys(k).filter((f) => !KNOWN_FIELDS.has(f));
  if (unknown.length) throw new Error(`${dir}: this resolver does not support ${unknown.join(', ')}`);

  let objects: K8sObject[] = [];
  for (const resource of k.resources ?? []) {
    const target = path.resolve(dir, resource);
    objects.push(
      ...((await stat(target)).isDirectory()
        ? await resolveKustomization(target)
        : await readYamlDocuments(target)),
    );
  }
  for (const p of k.patches ?? []) {
    if (p.path) {
      for (const patch of await readYamlDocuments(path.resolve(dir, p.path))) {
        const i = findIndex(objects, patch.kind, patch.metadata.name, dir);
        objects[i] = strategicMerge(objects[i], patch) as K8sObject;
      }
    } else if (p.patch && p.target) {
      const i = findIndex(objects, p.target.kind, p.target.name, dir);
      const ops = parseAllDocuments(p.patch)[0]!.toJS() as Operation[];
      if (!Array.isArray(ops))
        throw new Error(`${dir}: an inline patch with a target must be RFC 6902 operations`);
      objects[i] = jsonPatch.applyPatch(structuredClone(objects[i]!), ops, true, false).newDocument;
    } else {
      throw new Error(`${dir}: a patch needs a path, or a patch and a target`);
    }
  }
  objects = objects.map((o) => transform(o, k));
  const seen = new Set<string>();
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (seen.has(id)) throw new Error(`${dir}: ${id} is declared twice`);
    seen.add(id);
  }
  return objects;
}

function findIndex(objects: K8sObject[], kind: string, name: string, dir: string): number {
  const i = objects.findIndex((o) => o.kind === kind && o.metadata.name === name);
  if (i < 0) throw new Error(`${dir}: a patch targets ${kind}/${name}, which no resource declares`);
  return i;
}

/** Maps merge; lists with a merge key merge item by item; other lists and scalars are replaced. */
export function strategicMerge(base: unknown, patch: unknown, field = ''): unknown {
  if (Array.isArray(base) && Array.isArray(patch) && MERGE_KEYS[field]) {
    const key = MERGE_KEYS[field]!;
    const out = [...base] as Record<string, unknown>[];
    for (const item of patch as Record<string, unknown>[]) {
      const i = out.findIndex((b) => b[key] === item[key]);
      if (i >= 0) out[i] = strategicMerge(out[i], item) as Record<string, unknown>;
      else out.push(item);
    }
    return out;
  }
  if (isMap(base) && isMap(patch)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(patch)) out[k] = k in base ? strategicMerge(base[k], v, k) : v;
    return out;
  }
  return patch;
}

function transform(o: K8sObject, k: Kustomization): K8sObject {
  const out = structuredClone(o);
  if (k.namespace && !CLUSTER_SCOPED.has(out.kind)) out.metadata.namespace = k.namespace;
  for (const l of k.labels ?? []) {
    if (l.includeSelectors || l.includeTemplates)
      throw new Error('labels: only metadata labels are supported');
    out.metadata.labels = { ...out.metadata.labels, ...l.pairs };
  }
  for (const container of containersOf(out)) {
    const image = k.images?.find(
      (i) => container.image === i.name || container.image.startsWith(`${i.name}:`),
    );
    if (image) {
      const tag = image.newTag ?? container.image.split(':')[1];
      container.image = `${image.newName ?? image.name}${tag ? `:${tag}` : ''}`;
    }
  }
  return out;
}

export interface Container {
  name: string;
  image: string;
  [key: string]: unknown;
}

/** The pod template of a workload (Deployment, StatefulSet, Job), if it is one. */
export function podTemplateOf(
  o: K8sObject,
): { metadata?: { labels?: Record<string, string> }; spec: Record<string, unknown> } | undefined {
  const spec = o.spec as
    | { template?: { metadata?: { labels?: Record<string, string> }; spec: Record<string, unknown> } }
    | undefined;
  return spec?.template;
}

/** Every container and init container of a workload. */
export function containersOf(o: K8sObject): Container[] {
  const pod = podTemplateOf(o)?.spec as
    | { containers?: Container[]; initContainers?: Container[] }
    | undefined;
  return [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])];
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
