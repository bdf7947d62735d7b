/**
 * A shop's order history, imported (issue 15): POST /v1/purchases/batch answers each order in
 * order (201 / 200 / 409 / 400 naming the field), so one bad row never loses the others; history
 * tiers viewers but fires no campaign; sending it again records nothing twice. Both stores.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeAllClients, createStream, startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
beforeEach(async () => {
  srv = await startServer();
});
afterEach(async () => {
  closeAllClients();
  await srv.close();
});

const DAY = 86_400_000;

describe('POST /v1/purchases/batch', () => {
  it('answers every order in order; bad ones name their field and lose nothing beside them', async () => {
    const s = await createStream(srv, { channel: 'history-shop', currency: 'CNY' });
    const now = Date.now();
    const orders = [
      { orderId: 'h-1', viewerId: 'ann', amount: 60_000, currency: 'CNY', at: now - 300 * DAY },
      { orderId: 'h-2', viewerId: 'ann', amount: 70_000, currency: 'CNY', at: new Date(now - 20 * DAY).toISOString(), items: [{ sku: 'TEA-01', quantity: 2 }] },
      { orderId: 'h-1', viewerId: 'ann', amount: 60_000, currency: 'CNY', at: now - 300 * DAY }, // the same again
      { orderId: 'h-2', viewerId: 'bob', amount: 70_000, currency: 'CNY' }, // the id with another viewer
      { orderId: 'h-3', viewerId: 'bob', amount: -5, currency: 'CNY' },
      { orderId: 'h-4', viewerId: 'bob', amount: 100, currency: 'USD' }, // not the channel's currency
      { orderId: 'h-5', viewerId: 'bob', amount: 100, currency: 'CNY', at: now + 3 * DAY },
      'not an order',
      { orderId: 'h-6', viewerId: 'cy', amount: 9_900, currency: 'CNY', at: now - 2 * DAY, extra: true },
      { orderId: 'h-7', viewerId: 'cy', amount: 9_900, currency: 'CNY', at: now - 2 * DAY },
    ];
    const r = await srv.api('POST', '/v1/purchases/batch', { orders }, s.ingestKey);
    expect(r.status).toBe(200);
    expect(r.body.results.map((x: any) => [x.index, x.orderId, x.status])).toEqual([
      [0, 'h-1', 201], [1, 'h-2', 201], [2, 'h-1', 200], [3, 'h-2', 409], [4, 'h-3', 400], [5, 'h-4', 400], [6, 'h-5', 400], [7, null, 400], [8, 'h-6', 400], [9, 'h-7', 201],
    ]);
    const msg = (i: number) => r.body.results[i].message as string;
    expect(msg(3)).toMatch(/another viewer|different viewer/);
    expect(msg(4)).toMatch(/^body\.orders\.4\.amount /);
    expect(msg(5)).toMatch(/^body\.orders\.5\.currency USD is not channel history-shop's currency CNY/);
    expect(msg(6)).toBe('body.orders.6.at is in the future');
    expect(msg(7)).toMatch(/^body\.orders\.7/);
    expect(msg(8)).toMatch(/^body\.orders\.8\.extra is not an allowed/);
    expect(r.body).toMatchObject({ recorded: 3, duplicates: 1, conflicts: 1, rejected: 5 });

    // history tiers its viewers (ann: two orders, ¥1,300 … but one is 300 days old: mid) and fires no campaign
    const ann = (await srv.api('GET', `/v1/streams/${s.id}/viewers/ann`, undefined, s.hostKey)).body;
    expect(ann).toMatchObject({ tier: 'mid', stats: { purchases: 2, spend: 130_000 } });
    const report = (await srv.api('GET', `/v1/streams/${s.id}/report`, undefined, s.hostKey)).body;
    expect(report.offers).toMatchObject({ issued: 0 });

    // sent again (an import resumed): nothing twice
    const again = await srv.api('POST', '/v1/purchases/batch', { orders }, s.ingestKey);
    expect(again.body).toMatchObject({ recorded: 0, duplicates: 4, conflicts: 1, rejected: 5 });
    expect((await srv.api('GET', `/v1/streams/${s.id}/viewers/ann`, undefined, s.hostKey)).body.stats).toMatchObject({ purchases: 2, spend: 130_000 });
  });

  it('refuses a call that is not a batch with 400 naming orders', async () => {
    const s = await createStream(srv, { channel: 'history-shop-2' });
    for (const body of [{}, { orders: [] }, { orders: 'x' }, { orders: Array.from({ length: 1001 }, (_, i) => ({ orderId: `x-${i}`, viewerId: 'v', amount: 1, currency: 'CNY' })) }]) {
      const r = await srv.api('POST', '/v1/purchases/batch', body, s.ingestKey);
      expect(r.status, JSON.stringify(body).slice(0, 40)).toBe(400);
      expect(r.body.message).toMatch(/orders/);
    }
    expect((await srv.api('POST', '/v1/purchases/batch', { orders: [{ orderId: 'k', viewerId: 'v', amount: 1, currency: 'CNY' }] }, s.hostKey)).status).toBe(403);
  });
});
