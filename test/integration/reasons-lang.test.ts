/**
 * Reasons as codes, worded in the language asked (issue 16): the viewer list, a viewer's detail
 * and the export carry `explain: [{ code, params }]` beside `reasons`, which follow `?lang=` or
 * `Accept-Language` (default English); a language without words is a 400 naming `lang`. Both stores.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_KEY, closeAllClients, connectViewer, createStream, eid, startServer, viewerToken, type TestServer } from '../helpers/server.js';

let srv: TestServer;
beforeEach(async () => {
  srv = await startServer();
});
afterEach(async () => {
  closeAllClients();
  await srv.close();
});

const HAN = /[\u4e00-\u9fff]/;

describe('reasons in the host’s language', () => {
  it('codes with parameters, and words in English or Chinese', async () => {
    const s = await createStream(srv, { channel: 'lang-shop' });
    const token = await viewerToken(srv, s.ingestKey, 'amy');
    const { socket } = await connectViewer(srv, { streamId: s.id, viewerId: 'amy', token });
    await socket.emitWithAck('track', [{ id: eid(), ts: Date.now(), type: 'comment', data: { text: '好看' } }]);
    for (const [orderId, amount] of [['l-1', 60_000], ['l-2', 50_000]] as const) {
      expect((await srv.api('POST', '/v1/purchases', { orderId, viewerId: 'amy', amount, currency: 'CNY' }, s.ingestKey)).status).toBe(201);
    }
    const path = `/v1/streams/${s.id}/viewers/amy`;

    const en = await srv.api('GET', path, undefined, s.hostKey);
    expect(en.status).toBe(200);
    expect(en.body.tier).toBe('high');
    expect(en.body.explain).toEqual([
      { code: 'tier.high', params: { orders: 2, spend: 110_000, currency: 'CNY', windowDays: 90, minOrders: 2, minSpend: 100_000 } },
      { code: 'lifecycle.new', params: { days: 0 } },
    ]);
    expect(en.body.reasons).toEqual(['2 verified orders, ¥1,100 in 90 days (high needs 2+ orders and ¥1,000+)', 'new: first seen today']);

    const zh = await srv.api('GET', `${path}?lang=zh-CN`, undefined, s.hostKey);
    expect(zh.body.explain).toEqual(en.body.explain);
    expect(zh.body.reasons).toEqual(['90 天内 2 笔已核实订单，消费 ¥1,100（高价值需 2 笔以上且 ¥1,000 以上）', '新观众：今天首次出现']);

    // Accept-Language, when there is no ?lang; ?lang wins over it
    const res = await fetch(srv.url + path, { headers: { authorization: `Bearer ${s.hostKey}`, 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8' } });
    expect(res.headers.get('content-language')).toBe('zh-CN');
    expect(res.headers.get('vary')).toMatch(/accept-language/i);
    expect((await res.json()).reasons[0]).toMatch(HAN);
    expect((await srv.api('GET', `${path}?lang=en`, undefined, s.hostKey, { 'accept-language': 'zh-CN' })).body.reasons).toEqual(en.body.reasons);
    expect((await srv.api('GET', path, undefined, s.hostKey, { 'accept-language': 'fr-FR, de;q=0.5' })).body.reasons).toEqual(en.body.reasons);

    // the list, in Chinese
    const list = await srv.api('GET', `/v1/streams/${s.id}/viewers?sort=value&lang=zh`, undefined, s.hostKey);
    expect(list.status).toBe(200);
    expect(list.body.viewers[0]).toMatchObject({ id: 'amy', explain: en.body.explain, reasons: zh.body.reasons });

    // the export: English words beside the codes
    const exp = await srv.api('GET', `/v1/viewers/amy/export?channel=lang-shop`, undefined, ADMIN_KEY);
    expect(exp.status).toBe(200);
    expect(exp.body).toMatchObject({ reasons: en.body.reasons, explain: en.body.explain });
  });

  it('a language without words is refused with 400 naming lang; nothing else changes', async () => {
    const s = await createStream(srv, { channel: 'lang-shop-2' });
    await connectViewer(srv, { streamId: s.id, viewerId: 'bo', token: await viewerToken(srv, s.ingestKey, 'bo') });
    await srv.app.engine.writer.flushAll();
    for (const q of ['lang=fr', 'lang=', `lang=${'x'.repeat(40)}`]) {
      for (const p of [`/v1/streams/${s.id}/viewers/bo?${q}`, `/v1/streams/${s.id}/viewers?${q}`]) {
        const r = await srv.api('GET', p, undefined, s.hostKey);
        expect(r.status, p).toBe(400);
        expect(r.body.message, p).toMatch(/querystring\.lang/);
      }
    }
    // the key is checked first: no key, no language check
    expect((await srv.api('GET', `/v1/streams/${s.id}/viewers/bo?lang=fr`)).status).toBe(401);
    expect((await srv.api('GET', `/v1/streams/${s.id}/viewers/bo`, undefined, s.hostKey)).body.reasons).toEqual(['no verified purchase in 180 days', 'new: first seen today']);
  });
});
