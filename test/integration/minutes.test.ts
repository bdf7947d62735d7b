/**
 * The stream minute by minute (server/stats/minutes.ts defines each field) and the numbers hosts
 * read outside the panel: a scripted stream on the server's clock whose expected per-minute
 * watching-now, orders and GMV are written here, read live from the host socket and the raw feed,
 * from the report, and from the next server's snapshot after a restart; kpis.csv beside
 * viewers.csv. Both stores.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  client, closeAllClients, collect, connect, connectViewer, createStream, manualClock, startServer, until, viewerToken, type TestServer,
} from '../helpers/server.js';
import { CSV_COLUMNS, KPI_CSV_ROWS } from '../../server/routes/reports.js';

// every server of a test shares one database: all stop before the first removes it
const servers: TestServer[] = [];
afterEach(async () => {
  closeAllClients();
  const done = servers.splice(0);
  for (const s of done) await s.stop();
  for (const s of done) await s.close();
});

const MIN = 60_000;
type Minute = { t: number; watching: number; orders: number; gmv: number };

/** merges new or revised minutes (by `t`) into a series, as the panel does */
function merge(series: Minute[][]): Minute[] {
  const byT = new Map<number, Minute>();
  for (const batch of series) for (const p of batch) byT.set(p.t, p);
  return [...byT.values()].sort((a, b) => a.t - b.t);
}

describe('the stream minute by minute', () => {
  it('watching now, orders and GMV per minute, live on the host socket and the raw feed, in the report and after a restart', async () => {
    const T0 = Date.UTC(2026, 4, 1, 20, 0, 0); // a minute's start
    const clock = manualClock(T0 + 1_000);
    const srv = await startServer({ clock });
    servers.push(srv);
    const s = await createStream(srv, { title: 'Minute by minute', channel: 'minutes-shop' });
    const host = client(srv, '/host', { streamId: s.id, hostKey: s.hostKey });
    const minutes = collect<Minute[]>(host, 'minutes');
    await connect(host);
    const feed = new WebSocket(`${srv.url.replace('http', 'ws')}/v1/streams/${s.id}/feed`, { headers: { authorization: `Bearer ${s.hostKey}` } });
    const messages: any[] = [];
    feed.on('message', (m) => messages.push(JSON.parse(String(m))));
    await new Promise((r) => feed.once('open', r));

    const live = () => merge(minutes);
    const minute = (t: number) => live().find((p) => p.t === t);
    const buy = async (orderId: string, amount: number) =>
      expect((await srv.api('POST', '/v1/purchases', { orderId, viewerId: 'bea', amount, currency: 'CNY' }, s.ingestKey)).status).toBe(201);
    const token = await viewerToken(srv, s.ingestKey, 'bea');

    // minute 0: three viewers, bea buys ¥120
    const a = await connectViewer(srv, { streamId: s.id, viewerId: 'a' });
    await connectViewer(srv, { streamId: s.id, viewerId: 'x', token });
    const c = await connectViewer(srv, { streamId: s.id, viewerId: 'c' });
    await buy('m-1', 12_000);
    // within 2 s of the change (updates go out within a second)
    await until(() => JSON.stringify(minute(T0)) === JSON.stringify({ t: T0, watching: 3, orders: 1, gmv: 12_000 }), 2_000, () => `minute 0 (${JSON.stringify(live())})`);

    // minute 1: c leaves, bea buys ¥80 and ¥50
    clock.set(T0 + MIN + 5_000);
    c.socket.close();
    await buy('m-2', 8_000);
    await buy('m-3', 5_000);
    await until(() => JSON.stringify(minute(T0 + MIN)) === JSON.stringify({ t: T0 + MIN, watching: 2, orders: 2, gmv: 13_000 }), 2_000, () => `minute 1 (${JSON.stringify(live())})`);

    // minute 2: nothing happens. minute 3: the ¥80 order is refunded, d joins
    clock.set(T0 + 3 * MIN + 10_000);
    expect((await srv.api('POST', '/v1/refunds', { orderId: 'm-2' }, s.ingestKey)).status).toBe(200);
    await connectViewer(srv, { streamId: s.id, viewerId: 'd' });

    const expected: Minute[] = [
      { t: T0, watching: 3, orders: 1, gmv: 12_000 },
      { t: T0 + MIN, watching: 2, orders: 2, gmv: 13_000 },
      { t: T0 + 2 * MIN, watching: 2, orders: 0, gmv: 0 },
      { t: T0 + 3 * MIN, watching: 3, orders: 0, gmv: -8_000 },
    ];
    await until(() => JSON.stringify(live()) === JSON.stringify(expected), 2_000, () => `the series (${JSON.stringify(live())})`);
    // the raw feed carries the same minutes, and the funnel with the numbers hosts read
    const fromFeed = () => merge(messages.filter((m) => m.type === 'minutes').map((m) => m.points));
    await until(() => JSON.stringify(fromFeed()) === JSON.stringify(expected), 2_000, () => `the feed's series (${JSON.stringify(fromFeed())})`);
    await until(() => messages.some((m) => m.type === 'funnel' && m.kpis?.viewers === 4 && m.kpis.peakConnected === 3), 5_000, 'the kpis in the feed');
    feed.close();

    // the report: the same minutes, adding up to its orders and GMV
    const report = (await srv.api('GET', `/v1/streams/${s.id}/report`, undefined, s.hostKey)).body;
    expect(report.minutes).toEqual(expected);
    expect({ orders: report.orders, gmv: report.gmv }).toEqual({ orders: 3, gmv: 17_000 });

    // a restart a minute later: the next server's host reads the minutes back from the stored history
    a.socket.close();
    closeAllClients();
    await srv.stop();
    clock.set(T0 + 4 * MIN + 1_000);
    const next = await startServer({ db: srv.db, clock });
    servers.push(next);
    const again = client(next, '/host', { streamId: s.id, hostKey: s.hostKey });
    const snapshot = collect<Minute[]>(again, 'minutes');
    await connect(again);
    await until(() => snapshot.length > 0, 5_000, 'the snapshot');
    expect(snapshot[0]).toEqual([...expected, { t: T0 + 4 * MIN, watching: 0, orders: 0, gmv: 0 }]);
  });
});

describe('kpis.csv', () => {
  it('one row per number, the same as the report; viewers.csv keeps its columns; the host key only', async () => {
    const clock = manualClock();
    const srv = await startServer({ clock });
    servers.push(srv);
    const s = await createStream(srv, { title: 'Spreadsheet', channel: 'csv-shop' });
    const other = await createStream(srv, { title: 'Other', channel: 'csv-shop' });
    clock.set(Date.now() + 1_000); // a stream's start is the wall clock's: the viewers come after it
    const token = await viewerToken(srv, s.ingestKey, 'bea');
    const bea = await connectViewer(srv, { streamId: s.id, viewerId: 'x', token });
    await connectViewer(srv, { streamId: s.id, viewerId: 'a' });
    clock.advance(10_000);
    expect((await bea.socket.emitWithAck('track', [{ id: 'w-1', type: 'watch', ts: clock(), data: { playing: true, engagedMs: 10_000 } }, { id: 'c-1', type: 'comment', ts: clock(), data: { text: 'hello' } }])).accepted).toBe(2);
    expect((await srv.api('POST', '/v1/purchases', { orderId: 'k-1', viewerId: 'bea', amount: 30_000, currency: 'CNY' }, s.ingestKey)).status).toBe(201);

    const url = `${srv.url}/v1/streams/${s.id}/kpis.csv`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer lt_host_wrong' } })).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: `Bearer ${other.hostKey}` } })).status).toBe(403);
    const res = await fetch(url, { headers: { authorization: `Bearer ${s.hostKey}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="livetier-${s.id}-kpis.csv"`);
    const body = await res.text();
    // 2 viewers, bea watched 10 s and commented and bought ¥300: written out, not computed
    expect(body).toBe(
      [
        'metric,value,unit',
        'viewers,2,viewers',
        'gpm,15000000,minor_units',
        'uvValue,15000,minor_units',
        'avgWatchSeconds,5,seconds',
        'peakConnected,2,viewers',
        'commentRate,0.5,share',
        'productClickRate,0,share',
        'addToCartRate,0,share',
        'conversion,0.5,share',
        'newViewers,2,viewers',
        'returningViewers,0,viewers',
        'orders,1,orders',
        'gmv,30000,minor_units',
        'aov,30000,minor_units',
      ].join('\r\n') + '\r\n',
    );
    // the same numbers as the report's
    const report = (await srv.api('GET', `/v1/streams/${s.id}/report`, undefined, s.hostKey)).body;
    const values = { ...report.kpis, orders: report.orders, gmv: report.gmv, aov: report.aov };
    const rows = body.trim().split('\r\n').slice(1).map((l) => l.split(','));
    expect(rows.map((r) => r[0])).toEqual(KPI_CSV_ROWS.map(([m]) => m));
    for (const [metric, value] of rows) expect(Number(value), metric).toBe(values[metric!]);

    // viewers.csv is a contract: its header is unchanged
    const viewers = await fetch(`${srv.url}/v1/streams/${s.id}/viewers.csv`, { headers: { authorization: `Bearer ${s.hostKey}` } });
    expect((await viewers.text()).split('\r\n')[0]).toBe(CSV_COLUMNS.join(','));
  });
});
