import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// The files the full stack is deployed from, checked without Docker (no engine runs here): the compose
// file parses, every service has a pinned image or a build, every mounted file exists; every Kibana
// saved object parses and references only objects that exist.

const ROOT = path.resolve(import.meta.dirname, '..');

interface Service {
  image?: string;
  build?: unknown;
  volumes?: string[];
  depends_on?: Record<string, unknown>;
  healthcheck?: unknown;
  environment?: Record<string, unknown>;
}

describe('docker-compose.yml', () => {
  it('names every part of the full stack, each with a pinned image or a build', async () => {
    const compose = parse(await readFile(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, Service>;
    };
    const services = compose.services;
    expect(Object.keys(services).sort()).toEqual(
      [
        'auth',
        'db',
        'elasticsearch',
        'gateway',
        'grafana',
        'kibana',
        'kibana-setup',
        'kong',
        'migrate',
        'prometheus',
        'rest',
        'worker',
      ].sort(),
    );
    for (const [name, service] of Object.entries(services)) {
      if (service.build) continue;
      expect(service.image, name).toMatch(/:[^/:]+$/);
      expect(service.image, name).not.toMatch(/:latest$/);
    }
    for (const name of [
      'db',
      'auth',
      'kong',
      'gateway',
      'worker',
      'elasticsearch',
      'kibana',
      'prometheus',
      'grafana',
    ]) {
      expect(services[name]!.healthcheck, `${name} has a health check`).toBeDefined();
    }
    // Local auth does not run in this mode: the gateway verifies Supabase Auth's tokens.
    expect(Object.keys(services)).not.toContain('switchboard-auth');
    expect(services.gateway!.environment!.SUPABASE_JWT_SECRET).toBeDefined();
  });

  it('mounts only files that exist, and depends only on services it defines', async () => {
    const compose = parse(await readFile(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, Service>;
    };
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./'))
          expect(existsSync(path.join(ROOT, source)), `${name}: ${source}`).toBe(true);
      }
      for (const dependency of Object.keys(service.depends_on ?? {}))
        expect(compose.services[dependency], `${name} -> ${dependency}`).toBeDefined();
    }
    expect(existsSync(path.join(ROOT, 'services', 'Dockerfile'))).toBe(true);
  });

  it('documents every variable it uses in .env.example', async () => {
    const compose = await readFile(path.join(ROOT, 'docker-compose.yml'), 'utf8');
    const example = await readFile(path.join(ROOT, '.env.example'), 'utf8');
    const used = new Set([...compose.matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]!));
    for (const variable of used) expect(example, variable).toMatch(new RegExp(`^${variable}=`, 'm'));
  });
});

describe('Kibana saved objects', () => {
  it('parse, and every reference points at an object in the file', async () => {
    const lines = (await readFile(path.join(ROOT, 'dashboards', 'kibana', 'switchboard.ndjson'), 'utf8'))
      .split('\n')
      .filter(Boolean);
    const objects = lines.map(
      (l) =>
        JSON.parse(l) as {
          type: string;
          id: string;
          attributes: Record<string, unknown>;
          references: { name: string; type: string; id: string }[];
        },
    );
    const known = new Set(objects.map((o) => `${o.type}:${o.id}`));
    expect(objects.map((o) => o.type).sort()).toEqual([
      'dashboard',
      'index-pattern',
      'index-pattern',
      'search',
      'search',
      'search',
    ]);
    for (const o of objects) {
      for (const ref of o.references)
        expect(known.has(`${ref.type}:${ref.id}`), `${o.id} -> ${ref.type}:${ref.id}`).toBe(true);
      const meta = o.attributes.kibanaSavedObjectMeta as { searchSourceJSON?: string } | undefined;
      if (meta?.searchSourceJSON) {
        const source = JSON.parse(meta.searchSourceJSON) as { indexRefName?: string };
        if (source.indexRefName) expect(o.references.map((r) => r.name)).toContain(source.indexRefName);
      }
      if (o.type === 'dashboard') {
        const panels = JSON.parse(o.attributes.panelsJSON as string) as { panelRefName: string }[];
        for (const p of panels) expect(o.references.map((r) => r.name)).toContain(p.panelRefName);
      }
      if (o.type === 'index-pattern') expect(o.attributes.timeFieldName).toBe('@timestamp');
    }
  });
});
