import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { register as globalRegistry } from 'prom-client';
import { createMetrics, listenMetrics, UNMATCHED_ROUTE } from './metrics.js';
import { GroupCommitWriter } from './ingest/writer.js';
import { openStore } from './store/index.js';
import { Engine } from './engine.js';
import type { Store } from './store/types.js';

let dir: string;
let store: Store;
let engine: Engine;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'livetier-metrics-'));
  store = await openStore(path.join(dir, 'm.db'));
  engine = new Engine(store, Date.now);
});
afterAll(async () => {
  await engine.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('GroupCommitWriter observer', () => {
  it('is told each batch: its size, its commit time, and whether it committed', async () => {
    let fail = false;
    const seen: { jobs: number; seconds: number; ok: boolean }[] = [];
    const w = new GroupCommitWriter(
      async (jobs: number[]) => {
        if (fail) throw new Error('down');
        await new Promise((r) => setTimeout(r, 5));
        return jobs;
      },
      { observer: (b) => seen.push(b) },
    );
    await Promise.all([w.submit(1), w.submit(2), w.submit(3)]);
    fail = true;
    await expect(w.submit(4)).rejects.toThrow('down');
    expect(seen.map((b) => [b.jobs, b.ok])).toEqual([
      [3, true],
      [1, false],
    ]);
    expect(seen[0]!.seconds).toBeGreaterThan(0.003);
  });

  it('can be set later, and one that throws never fails a commit', async () => {
    const w = new GroupCommitWriter(async (jobs: number[]) => jobs.map((j) => j * 2));
    expect(await w.submit(1)).toBe(2);
    w.observer = () => {
      throw new Error('broken metrics');
    };
    expect(await w.submit(2)).toBe(4);
  });
});

describe('createMetrics', () => {
  it('gives each app a registry of its own (never the global one), sharing the process metrics', async () => {
    const a = createMetrics({ engine, io: () => undefined });
    const b = createMetrics({ engine, io: () => undefined });
    expect(a.registry).not.toBe(b.registry);
    expect(a.registry).not.toBe(globalRegistry);
    expect(globalRegistry.getSingleMetric('livetier_events_accepted_total')).toBeUndefined();
    a.realtime.tracked(3, 1);
    a.realtime.rejected('invalid', 2);
    a.realtime.rejected('rate_limited', 0);
    expect(await a.text()).toMatch(/^livetier_events_accepted_total 3$/m);
    expect(await a.text()).toMatch(/^livetier_events_rejected_total\{reason="invalid"\} 2$/m);
    expect(await b.text()).toMatch(/^livetier_events_accepted_total 0$/m);
    // the process metrics are the same objects in both
    expect(a.registry.getSingleMetric('process_cpu_user_seconds_total')).toBe(b.registry.getSingleMetric('process_cpu_user_seconds_total'));
    expect(await b.text()).toContain('nodejs_eventloop_lag_seconds');
  });

  it('labels requests with the route pattern, or (unmatched) when none matched', async () => {
    const m = createMetrics({ engine, io: () => undefined });
    m.observeHttp('GET', '/v1/streams/:id/summary', 200, 0.012);
    m.observeHttp('GET', undefined, 404, 0.001);
    const text = await m.text();
    expect(text).toContain('livetier_http_request_duration_seconds_count{method="GET",route="/v1/streams/:id/summary",status_code="200"} 1');
    expect(text).toContain(`livetier_http_request_duration_seconds_count{method="GET",route="${UNMATCHED_ROUTE}",status_code="404"} 1`);
  });

  it('puts batch sizes and commit times in histograms and counts failed commits', async () => {
    const m = createMetrics({ engine, io: () => undefined });
    m.writer({ jobs: 40, seconds: 0.002, ok: true });
    m.writer({ jobs: 3, seconds: 0.5, ok: false });
    const text = await m.text();
    expect(text).toContain('livetier_ingest_batch_size_bucket{le="50"} 1');
    expect(text).toContain('livetier_ingest_batch_size_bucket{le="20"} 0');
    expect(text).toContain('livetier_ingest_commit_duration_seconds_count 1');
    expect(text).toContain('livetier_ingest_commit_errors_total 1');
    // gauges read at scrape time: nothing connected, nothing queued
    expect(text).toContain('livetier_viewers_connected{tier="high"} 0');
    expect(text).toContain('livetier_ingest_queue_jobs 0');
  });
});

describe('listenMetrics', () => {
  it('answers GET and HEAD /metrics, 404 elsewhere, 405 for other methods', async () => {
    const l = await listenMetrics({ port: 0, host: '127.0.0.1', scrape: async () => 'x_total 1\n', contentType: 'text/plain; version=0.0.4; charset=utf-8' });
    try {
      expect(l.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const r = await fetch(l.url);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toContain('version=0.0.4');
      expect(await r.text()).toBe('x_total 1\n');
      expect((await fetch(l.url + '?x=1')).status).toBe(200);
      expect((await fetch(l.url, { method: 'HEAD' })).status).toBe(200);
      expect((await fetch(new URL('/', l.url))).status).toBe(404);
      expect((await fetch(l.url, { method: 'DELETE' })).status).toBe(405);
    } finally {
      await l.close();
    }
  });

  it('refuses a port in use with the listen error', async () => {
    const a = await listenMetrics({ port: 0, host: '127.0.0.1', scrape: async () => '', contentType: 'text/plain' });
    try {
      const port = Number(new URL(a.url).port);
      await expect(listenMetrics({ port, host: '127.0.0.1', scrape: async () => '', contentType: 'text/plain' })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await a.close();
    }
  });
});
