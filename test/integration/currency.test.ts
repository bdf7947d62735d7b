/**
 * A channel has one currency (issue 16): set by a stream's creation or by the first verified
 * purchase; a purchase, refund or stream in another currency is refused with 400 naming both, and a
 * code that is not ISO 4217 with 400 naming the field. Nothing is recorded by a refused request.
 * Both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createStream, startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv.close();
});

const buy = (key: string, orderId: string, currency: string) => srv.api('POST', '/v1/purchases', { orderId, viewerId: 'v', amount: 1000, currency }, key);

describe('one currency per channel', () => {
  it('the first verified purchase sets it; another currency is refused, naming both, and nothing is recorded', async () => {
    const s = await createStream(srv, { channel: 'cur-a' });
    expect((await buy(s.ingestKey, 'a-1', 'CNY')).status).toBe(201);
    const usd = await buy(s.ingestKey, 'a-2', 'USD');
    expect(usd.status).toBe(400);
    expect(usd.body.message).toBe("body.currency USD is not channel cur-a's currency CNY (a channel keeps one currency)");
    expect((await srv.api('GET', `/v1/streams/${s.id}/summary`, undefined, s.hostKey)).body).toMatchObject({ orders: 1, gmv: 1000 });
    // another stream of the channel: the same currency holds
    const s2 = await createStream(srv, { channel: 'cur-a' });
    expect((await buy(s2.ingestKey, 'a-3', 'EUR')).status).toBe(400);
    expect((await buy(s2.ingestKey, 'a-4', 'CNY')).status).toBe(201);
  });

  it("a stream's creation may set it; a stream in another currency of the same channel is refused", async () => {
    const made = await srv.api('POST', '/v1/streams', { title: 'Yen', channel: 'cur-b', currency: 'JPY' }, ADMIN_KEY);
    expect(made.status).toBe(201);
    expect((await buy(made.body.ingestKey, 'b-1', 'CNY')).body.message).toBe("body.currency CNY is not channel cur-b's currency JPY (a channel keeps one currency)");
    expect((await buy(made.body.ingestKey, 'b-2', 'JPY')).status).toBe(201);
    const other = await srv.api('POST', '/v1/streams', { title: 'Dollars', channel: 'cur-b', currency: 'USD' }, ADMIN_KEY);
    expect(other.status).toBe(400);
    expect(other.body.message).toBe("body.currency USD is not channel cur-b's currency JPY (a channel keeps one currency)");
    expect((await srv.api('POST', '/v1/streams', { title: 'Same', channel: 'cur-b', currency: 'JPY' }, ADMIN_KEY)).status).toBe(201);
  });

  it('refuses codes that are not ISO 4217, and a refund in another currency than its order', async () => {
    const s = await createStream(srv, { channel: 'cur-c' });
    const fake = await buy(s.ingestKey, 'c-1', 'ABC');
    expect(fake.status).toBe(400);
    expect(fake.body.message).toBe('body.currency ABC is not an ISO 4217 currency code');
    expect((await buy(s.ingestKey, 'c-2', 'cny')).body.message).toMatch(/^body\.currency /);
    expect((await srv.api('POST', '/v1/streams', { title: 'x', channel: 'cur-d', currency: 'XYZ' }, ADMIN_KEY)).body.message).toBe('body.currency XYZ is not an ISO 4217 currency code');
    // the refused code did not set the channel's currency
    expect((await buy(s.ingestKey, 'c-3', 'GBP')).status).toBe(201);
    const refund = await srv.api('POST', '/v1/refunds', { orderId: 'c-3', currency: 'CNY' }, s.ingestKey);
    expect(refund.status).toBe(400);
    expect(refund.body.message).toBe("body.currency CNY is not order c-3's currency GBP");
    expect((await srv.api('POST', '/v1/refunds', { orderId: 'c-3', currency: 'GBP' }, s.ingestKey)).body).toMatchObject({ refunded: 1000, currency: 'GBP' });
  });
});
