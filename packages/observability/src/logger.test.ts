import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, SecretMasker } from './logger.ts';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, destination };
}

describe('createLogger', () => {
  it('writes ECS JSON with the service name and numeric level', () => {
    const { lines, destination } = capture();
    createLogger({ service: 'gateway', destination }).info({ k: 1 }, 'hello');
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({
      'log.level': 'info',
      level: 30,
      message: 'hello',
      'service.name': 'gateway',
      k: 1,
    });
    expect(line['@timestamp']).toBeDefined();
  });

  it('censors credential-bearing keys wherever callers put them', () => {
    const { lines, destination } = capture();
    createLogger({ service: 't', destination }).info(
      {
        authorization: 'Bearer top-level-token',
        headers: { authorization: 'Bearer abc.def.ghi', cookie: 'sb=1', 'x-api-key': 'swb_live_key' },
        body: { password: 'hunter2', refresh_token: 'r-token', email: 'a@example.com' },
        secrets: { GITHUB_TOKEN: 'ghp_xyz' },
      },
      'request',
    );
    const text = lines[0]!;
    for (const leaked of [
      'top-level-token',
      'abc.def.ghi',
      'sb=1',
      'swb_live_key',
      'hunter2',
      'r-token',
      'ghp_xyz',
    ]) {
      expect(text).not.toContain(leaked);
    }
    expect(text).toContain('a@example.com');
  });

  it('masks registered secret values anywhere in the text, including JSON-escaped', () => {
    const masker = new SecretMasker();
    const { lines, destination } = capture();
    const logger = createLogger({ service: 'worker', destination, masker });
    masker.add(['ghp_SECRET"value', 'xoxb-123456']);
    logger.info({ stderr: 'env: GITHUB=ghp_SECRET"value SLACK=xoxb-123456' }, 'child said xoxb-123456');
    expect(lines[0]).not.toContain('xoxb-123456');
    expect(lines[0]).not.toContain('ghp_SECRET');
    expect(lines[0]).toContain('[masked]');
    masker.release(['xoxb-123456']);
    logger.info('after release xoxb-123456');
    expect(lines[1]).toContain('xoxb-123456');
  });
});
