import { Writable } from 'node:stream';
import { ElasticsearchStandIn, waitFor } from '@switchboard/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { LogShipper } from './log-shipper.ts';
import { createLogger } from './logger.ts';

// Shipping logs with pino-elasticsearch to a stand-in that behaves like Elasticsearch 8: down at start,
// going down mid-traffic and coming back, refusing documents. Logging itself never fails or waits.

const standIns: ElasticsearchStandIn[] = [];
const shippers: LogShipper[] = [];
afterEach(async () => {
  for (const s of shippers.splice(0)) s.end();
  for (const e of standIns.splice(0)) await e.stop();
});

function setup(es: ElasticsearchStandIn) {
  const stdout: string[] = [];
  const reports: string[] = [];
  const shipper = new LogShipper({
    node: es.url,
    index: 'logs-%{DATE}',
    report: (l) => reports.push(l),
    flushIntervalMillis: 200,
  });
  shippers.push(shipper);
  const destination = new Writable({
    write(chunk, _e, cb) {
      stdout.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger({ service: 'test', destination, shipper });
  return { logger, shipper, stdout, reports };
}

describe('LogShipper', () => {
  it('ships lines to a daily index while stdout gets every line', async () => {
    const es = await new ElasticsearchStandIn().start();
    standIns.push(es);
    const { logger, stdout } = setup(es);
    for (let i = 0; i < 20; i++) logger.info({ i }, 'shipped line');
    await waitFor(() => es.documents('logs-*').length === 20, { what: '20 documents' });
    const today = new Date().toISOString().slice(0, 10).replaceAll('-', '.');
    expect([...es.indices.keys()]).toEqual([`logs-${today}`]);
    expect(es.documents()[0]).toMatchObject({ message: 'shipped line', 'service.name': 'test' });
    expect(stdout).toHaveLength(20);
  });

  it('survives Elasticsearch down at start and for a while, and resumes by itself', async () => {
    const es = new ElasticsearchStandIn();
    standIns.push(es);
    await es.start();
    await es.stop(); // the port is known and closed: down at start
    const { logger, shipper, stdout, reports } = setup(es);
    for (let i = 0; i < 50; i++) logger.info({ i }, 'while down');
    // Logging never waits on shipping: every line is out before the first shipping attempt has failed.
    expect(shipper.counts.requestErrors).toBe(0);
    await waitFor(() => shipper.counts.requestErrors > 0, { what: 'the outage to be counted' });
    expect(shipper.isShipping).toBe(false);
    expect(reports.join()).toMatch(/log shipping to Elasticsearch failed; retrying/);

    await es.start();
    logger.info('after recovery');
    await waitFor(() => es.documents().some((d) => d.message === 'after recovery'), {
      timeoutMillis: 10_000,
      what: 'shipping to resume',
    });
    // The stand-in holds a document as soon as the bulk request arrives; the shipper hears of success
    // only when the response is read, so wait for its count before asking whether it is shipping.
    await waitFor(() => shipper.counts.sent === 51, { what: 'the shipper to count the recovery' });
    // The lines of a short outage were kept and shipped once Elasticsearch came back.
    expect(es.documents().filter((d) => d.message === 'while down')).toHaveLength(50);
    expect(shipper.isShipping).toBe(true);
    expect(stdout.filter((l) => l.includes('while down'))).toHaveLength(50);
  });

  it('drops (and counts) the oldest lines when an outage outlasts the buffer', async () => {
    const es = new ElasticsearchStandIn();
    standIns.push(es);
    await es.start();
    await es.stop();
    const shipper = new LogShipper({ node: es.url, maxBufferedBytes: 2000, flushIntervalMillis: 100 });
    shippers.push(shipper);
    const logger = createLogger({
      service: 'test',
      destination: new Writable({ write: (_c, _e, cb) => cb() }),
      shipper,
    });
    for (let i = 0; i < 100; i++) logger.info({ i }, 'overflowing');
    expect(shipper.counts.dropped).toBeGreaterThan(80);
    await es.start();
    await waitFor(() => es.documents().length > 0, { timeoutMillis: 10_000, what: 'the newest lines' });
    expect(es.documents().some((d) => d.i === 99)).toBe(true);
    expect(es.documents().some((d) => d.i === 0)).toBe(false);
  }, 30_000);

  it('counts documents Elasticsearch refuses, and keeps shipping the rest', async () => {
    const es = await new ElasticsearchStandIn().start();
    standIns.push(es);
    es.rejectDocument = (doc) => (doc.bad ? 'failed to parse field [bad]' : undefined);
    const { logger, shipper } = setup(es);
    logger.info({ bad: true }, 'refused');
    logger.info('accepted');
    await waitFor(() => es.documents().some((d) => d.message === 'accepted'), { what: 'the good line' });
    await waitFor(() => shipper.counts.failed === 1, { what: 'the refusal to be counted' });
    expect(shipper.isShipping).toBe(true);
  });
});
