import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RUNTIME_FILES } from './lib/production-deps.ts';

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
        'mail',
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

/** A Dockerfile as stages of instructions (continuation lines joined, comments dropped). */
function dockerStages(text: string): { from: string; name?: string; instructions: [string, string][] }[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const args = new Map<string, string>();
  const stages: { from: string; name?: string; instructions: [string, string][] }[] = [];
  for (const line of lines) {
    const [keyword, ...rest] = line.split(/\s+/);
    const value = rest.join(' ');
    if (keyword === 'ARG' && !stages.length) {
      const [k, v] = value.split('=');
      args.set(k!, v ?? '');
    } else if (keyword === 'FROM') {
      const [image, as, name] = value.split(/\s+/);
      const from = image!.replace(/\$\{(\w+)\}/g, (_, k: string) => args.get(k) ?? '');
      stages.push({ from, ...(as?.toUpperCase() === 'AS' ? { name } : {}), instructions: [] });
    } else {
      stages.at(-1)!.instructions.push([keyword!.toUpperCase(), value]);
    }
  }
  return stages;
}

describe('services/Dockerfile', () => {
  it('builds in stages and ships production dependencies only, as a non-root user', async () => {
    const stages = dockerStages(await readFile(path.join(ROOT, 'services', 'Dockerfile'), 'utf8'));
    expect(stages.map((s) => s.name)).toEqual(['build', 'production-deps', undefined]);
    for (const s of stages) expect(s.from).toMatch(/^node:\d+\.\d+\.\d+-bookworm-slim$/);
    const [build, deps, final] = stages as [(typeof stages)[0], (typeof stages)[0], (typeof stages)[0]];
    const runs = (s: typeof final) => s.instructions.filter(([k]) => k === 'RUN').map(([, v]) => v);
    expect(runs(build).join('\n')).toContain('npm run build');
    // The production install: no dev dependencies, no install scripts.
    expect(runs(deps).join('\n')).toMatch(/npm ci --omit=dev .*--ignore-scripts/);
    // The final stage installs nothing from npm and copies node_modules from the production install.
    expect(runs(final).join('\n')).not.toMatch(/npm (ci|install)/);
    expect(runs(final).join('\n')).toContain('bubblewrap');
    const copies = final.instructions.filter(([k]) => k === 'COPY').map(([, v]) => v);
    expect(copies).toContain('--from=production-deps /app/node_modules ./node_modules');
    expect(copies.some((c) => c.startsWith('--from=build ') && c.includes('node_modules'))).toBe(false);
    expect(copies).toContain('--from=build /app/dist ./dist');
    // Every file the bundles read at run time reaches the final stage.
    const depsRun = runs(deps).join('\n');
    for (const file of RUNTIME_FILES) {
      const copied = copies.some((c) => c.includes(file.split('/').slice(0, 2).join('/')));
      const kept = depsRun.includes(`! -name ${path.basename(file)}`);
      expect(copied || kept, file).toBe(true);
    }
    const users = final.instructions.filter(([k]) => k === 'USER').map(([, v]) => v);
    expect(users.at(-1)).toBe('node');
    expect(
      final.instructions.some(([k, v]) => k === 'HEALTHCHECK' && v.includes('dist/healthcheck.js')),
    ).toBe(true);
    const cmd = final.instructions.find(([k]) => k === 'CMD')?.[1];
    expect(JSON.parse(cmd!)).toEqual(['node', 'dist/gateway.js']);
  });
});
