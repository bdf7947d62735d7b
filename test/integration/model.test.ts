/**
 * Each channel's predictive model (issue 15), on a real server and store: no model until the
 * channel has buyers enough; a refit on demand runs in the fit's worker thread and is stored;
 * viewers' detail and export carry their predicted value from it. Both stores.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelFitter } from '../../server/predict/fitter.js';
import { fitChannel } from '../../server/predict/channel-model.js';
import { ADMIN_KEY, closeAllClients, collect, connectViewer, createStream, startServer, until, viewerToken, type TestServer } from '../helpers/server.js';

let srv: TestServer;
beforeEach(async () => {
  srv = await startServer({ app: { models: { minBuyers: 20, refitMs: 0 } } });
});
afterEach(async () => {
  closeAllClients();
  await srv.close();
});

const DAY = 86_400_000;

describe("the channel's predictive model", () => {
  it('insufficient data, then fitted on demand from the verified purchases; viewers get their predicted value', async () => {
    const s = await createStream(srv, { channel: 'model-shop' });
    const model = async () => (await srv.api('GET', `/v1/streams/${s.id}/model`, undefined, s.hostKey)).body;
    expect(await model()).toEqual({ status: 'insufficient_data', fittedAt: null, buyers: 0, repeatBuyers: 0, bgnbd: null, gammaGamma: null, minBuyers: 20, refitting: false });

    // two of them watch this stream (the CSV and the list are the stream's viewers)
    for (const id of ['buyer-0', 'gone-quiet']) await connectViewer(srv, { streamId: s.id, viewerId: id, token: await viewerToken(srv, s.ingestKey, id) });
    // 40 buyers: half buy every month to this day, half bought five times in two weeks four months ago and stopped
    const now = Date.now();
    let n = 0;
    for (let b = 0; b < 40; b++) {
      const days = b % 2 === 0 ? [180, 150, 120, 90, 60, 30].map((d) => d - (b % 7)) : [130, 127, 124, 121, 118].map((d) => d - (b % 7));
      for (const ago of days) {
        const r = await srv.api('POST', '/v1/purchases', { orderId: `m-${n++}`, viewerId: `buyer-${b}`, amount: 5_000 + 100 * b, currency: 'CNY', at: now - ago * DAY }, s.ingestKey);
        expect(r.status).toBe(201);
      }
    }
    // a buyer who came back five times in two weeks, months ago, and then no more
    for (const [k, ago] of [115, 112, 109, 106, 103, 100].entries()) {
      expect((await srv.api('POST', '/v1/purchases', { orderId: `q-${k}`, viewerId: 'gone-quiet', amount: 8_000, currency: 'CNY', at: now - ago * DAY }, s.ingestKey)).status).toBe(201);
    }
    expect((await srv.api('POST', `/v1/streams/${s.id}/model/refit`, undefined, s.hostKey)).status).toBe(202);
    // (the server may have fitted an earlier model when it first saw the channel's purchases)
    await until(async () => {
      const m = await model();
      if (m.status === 'fitted' && m.buyers === 41) return true;
      // that earlier fit held the lease when the refit was asked for: ask again once it is done
      if (!m.refitting && m.status !== 'fitting') await srv.api('POST', `/v1/streams/${s.id}/model/refit`, undefined, s.hostKey);
      return false;
    }, 15_000, 'a fitted model of every buyer');
    const m = await model();
    expect(m).toMatchObject({ buyers: 41, repeatBuyers: 41, minBuyers: 20, refitting: false });
    for (const k of ['r', 'alpha', 'a', 'b'] as const) expect(m.bgnbd[k]).toBeGreaterThan(0);
    expect(Number.isFinite(m.bgnbd.logLikelihood)).toBe(true);
    expect(m.gammaGamma).toMatchObject({ p: expect.any(Number), q: expect.any(Number), v: expect.any(Number) });

    // a repeat buyer's predicted value, in the viewer detail and the export
    const detail = (await srv.api('GET', `/v1/streams/${s.id}/viewers/buyer-0`, undefined, s.hostKey)).body;
    expect(detail.predicted).toMatchObject({ currency: 'CNY' });
    const p = detail.predicted;
    expect(p.pAlive).toBeGreaterThan(0);
    expect(p.pAlive).toBeLessThanOrEqual(1);
    expect(p.expectedOrders90d).toBeGreaterThan(0);
    expect(Number.isInteger(p.expectedOrderValue) && p.expectedOrderValue > 0).toBe(true);
    expect(Number.isInteger(p.clv365d) && p.clv365d > 0).toBe(true);
    expect((await srv.api('GET', '/v1/viewers/buyer-0/export?channel=model-shop', undefined, ADMIN_KEY)).body.predicted).toEqual(p);
    // the model says the quiet buyer has probably gone: at_risk, with the number in the reason
    const quiet = (await srv.api('GET', `/v1/streams/${s.id}/viewers/gone-quiet?lang=zh-CN`, undefined, s.hostKey)).body;
    expect(quiet.predicted.pAlive).toBeLessThan(0.5);
    expect(quiet.lifecycle).toBe('at_risk');
    expect(quiet.explain.at(-1)).toMatchObject({ code: 'lifecycle.atRisk', params: { pAlive: Math.round(quiet.predicted.pAlive * 100) / 100, atRiskPAlive: 0.5 } });
    expect(quiet.reasons.at(-1)).toMatch(/^有流失风险：.*再次购买的可能性为 \d+%（低于 50% 即有风险）$/);
    // each buyer's prediction is stored at the fit: the CSV carries it, and the list sorts by it
    const csv = (await srv.api('GET', `/v1/streams/${s.id}/viewers.csv`, undefined, s.hostKey)).body as string;
    const [header, ...lines] = csv.trim().split('\r\n');
    expect(header!.split(',').slice(-2)).toEqual(['p_alive', 'clv_365d']);
    const row = lines.map((l) => l.split(',')).find((c) => c[0] === 'buyer-0')!;
    expect(Number(row.at(-2))).toBeCloseTo(p.pAlive, 2);
    expect(Number(row.at(-1))).toBeGreaterThan(0);
    // a viewer who never bought has no prediction
    await connectViewer(srv, { streamId: s.id, viewerId: 'window-shopper', token: await viewerToken(srv, s.ingestKey, 'window-shopper') });
    await srv.app.engine.writer.flushAll();
    expect((await srv.api('GET', `/v1/streams/${s.id}/viewers/window-shopper`, undefined, s.hostKey)).body.predicted).toBeNull();

    const byValue = (await srv.api('GET', `/v1/streams/${s.id}/viewers?sort=predicted&limit=100`, undefined, s.hostKey)).body.viewers;
    const values = byValue.map((v: any) => v.predicted?.clv365d ?? -1);
    expect(values.length).toBeGreaterThan(1);
    expect(byValue.at(-1).id).toBe('window-shopper'); // no prediction: last
    // the model is stored: another server on the same database reads it
    const again = await srv.app.store.getModel('model-shop', Date.now());
    expect(again.model).toMatchObject({ status: 'fitted', buyers: 41 });
  });

  it('mines what buyers buy together with each fit: GET /v1/streams/:id/cross-sell', async () => {
    const s = await createStream(srv, { channel: 'basket-shop' });
    const path = `/v1/streams/${s.id}/cross-sell`;
    expect((await srv.api('GET', path, undefined, s.hostKey)).body).toEqual({ fittedAt: null, orders: 0, minSupport: 0.01, minConfidence: 0.3, rules: [] });
    const orders = Array.from({ length: 40 }, (_, i) => ({
      orderId: `bk-${i}`, viewerId: `v${i}`, amount: 1000, currency: 'CNY', at: Date.now() - i * DAY,
      items: i < 20 ? [{ sku: 'TEA-01' }, ...(i < 13 ? [{ sku: 'CUP-02' }] : [])] : [{ sku: 'PEN-03' }],
    }));
    expect((await srv.api('POST', '/v1/purchases/batch', { orders }, s.ingestKey)).body.recorded).toBe(40);
    await srv.app.models.refit('basket-shop');
    const cs = (await srv.api('GET', path, undefined, s.hostKey)).body;
    expect(cs).toMatchObject({ orders: 40, fittedAt: expect.any(Number) });
    expect(cs.rules).toContainEqual({ if: ['TEA-01'], then: ['CUP-02'], support: 0.325, confidence: 0.65, lift: 2, orders: 13 });
    expect((await srv.api('GET', path)).status).toBe(401);
  });

  it('a cross_sell campaign offers the rule\'s consequent after a verified purchase of its antecedent, saying why', async () => {
    const s = await createStream(srv, { channel: 'cross-shop' });
    // 40 past orders: TEA-01 in 20 of them, CUP-02 with it in 13 (65%, lift 2); PEN-03 alone in 20
    const orders = Array.from({ length: 40 }, (_, i) => ({
      orderId: `cx-${i}`, viewerId: `h${i}`, amount: 1000, currency: 'CNY', at: Date.now() - (i + 1) * DAY,
      items: i < 20 ? [{ sku: 'TEA-01' }, ...(i < 13 ? [{ sku: 'CUP-02' }] : [])] : [{ sku: 'PEN-03' }],
    }));
    expect((await srv.api('POST', '/v1/purchases/batch', { orders }, s.ingestKey)).body.recorded).toBe(40);
    await srv.app.models.refit('cross-shop');
    const created = await srv.api('POST', `/v1/streams/${s.id}/campaigns`, {
      name: 'Bought together', trigger: { type: 'cross_sell', minConfidence: 0.5 },
      offer: { title: 'A bundle price for you', discount: { kind: 'percent', value: 15 }, ttlSeconds: 600 },
    }, s.hostKey);
    expect(created.status).toBe(201);
    const campaign = created.body.id as string;

    const v = await connectViewer(srv, { streamId: s.id, viewerId: 'x', token: await viewerToken(srv, s.ingestKey, 'newcomer') });
    const offers = collect<any>(v.socket, 'offer');
    const mine = () => offers.filter((o) => o.campaign === campaign);
    const buy = (orderId: string, skus: string[]) =>
      srv.api('POST', '/v1/purchases', { orderId, viewerId: 'newcomer', amount: 2000, currency: 'CNY', items: skus.map((sku) => ({ sku })) }, s.ingestKey);
    // a pen has no rule; tea and a cup together: the consequent is already in the basket
    expect((await buy('n-1', ['PEN-03'])).status).toBe(201);
    expect((await buy('n-2', ['TEA-01', 'CUP-02'])).status).toBe(201);
    // tea alone: the cup is offered, with the rule in the viewer's words
    expect((await buy('n-3', ['TEA-01'])).status).toBe(201);
    await until(() => mine().length === 1, 5000, 'the cross-sell offer');
    expect(mine()[0]).toMatchObject({
      title: 'A bundle price for you', skus: ['CUP-02'], discount: { kind: 'percent', value: 15 },
      description: '65% of buyers of TEA-01 also buy CUP-02',
      i18n: { 'zh-CN': { description: '购买 TEA-01 的买家中有 65% 也买了 CUP-02' } },
    });
    const stored = await srv.api('GET', `/v1/streams/${s.id}/campaigns/${campaign}`, undefined, s.hostKey);
    expect(stored.body).toMatchObject({ issued: 1, trigger: { type: 'cross_sell', minConfidence: 0.5 } });

    // a rule below the campaign's confidence is no reason: the same order under minConfidence 0.7 offers nothing
    const strict = await srv.api('POST', `/v1/streams/${s.id}/campaigns`, {
      name: 'Only the surest', trigger: { type: 'cross_sell', minConfidence: 0.7 },
      offer: { title: 'Strict', discount: { kind: 'amount', value: 100 }, ttlSeconds: 600 },
    }, s.hostKey);
    expect((await buy('n-4', ['TEA-01'])).status).toBe(201);
    await new Promise((r) => setTimeout(r, 300));
    expect(offers.filter((o) => o.campaign === strict.body.id)).toHaveLength(0);

    // bad documents name the field
    const bad = async (doc: Record<string, unknown>) => (await srv.api('POST', `/v1/streams/${s.id}/campaigns`, {
      name: 'Bad', offer: { title: 'x', discount: { kind: 'amount', value: 100 }, ttlSeconds: 600 }, ...doc,
    }, s.hostKey)).body;
    expect(await bad({ trigger: { type: 'cross_sell', minConfidence: 1.5 } })).toMatchObject({ statusCode: 400, message: expect.stringContaining('minConfidence') });
    expect(await bad({ trigger: { type: 'purchase', minLift: 2 } })).toMatchObject({ statusCode: 400, message: 'body.trigger.minLift applies only to cross_sell' });
    expect(await bad({ trigger: { type: 'cross_sell' }, offer: { title: 'x', discount: { kind: 'amount', value: 100 }, skus: ['CUP-02'], ttlSeconds: 600 } }))
      .toMatchObject({ statusCode: 400, message: expect.stringContaining('offer.skus') });
  });

  it('finds segments of buyers with each fit, described in the language asked', async () => {
    const s = await createStream(srv, { channel: 'segment-shop' });
    const path = `/v1/streams/${s.id}/segments`;
    expect((await srv.api('GET', path, undefined, s.hostKey)).body).toEqual({ fittedAt: null, buyers: 0, k: 0, silhouette: null, segments: [] });
    // 30 who buy every week, a lot; 60 who bought once, a little, months ago
    const orders = [];
    for (let b = 0; b < 30; b++) for (let w = 0; w < 12; w++) orders.push({ orderId: `w-${b}-${w}`, viewerId: `vip-${b}`, amount: 20_000 + b * 100, currency: 'CNY', at: Date.now() - (w * 7 + (b % 5)) * DAY });
    for (let b = 0; b < 60; b++) orders.push({ orderId: `o-${b}`, viewerId: `once-${b}`, amount: 2_000 + b * 10, currency: 'CNY', at: Date.now() - (100 + b) * DAY });
    for (let i = 0; i < orders.length; i += 1000) await srv.api('POST', '/v1/purchases/batch', { orders: orders.slice(i, i + 1000) }, s.ingestKey);
    await srv.app.models.refit('segment-shop');
    const en = (await srv.api('GET', path, undefined, s.hostKey)).body;
    expect(en).toMatchObject({ buyers: 90, k: 2 });
    const [big, small] = en.segments;
    expect(big).toMatchObject({ id: 0, buyers: 60, recencyDays: expect.any(Number) });
    expect(small).toMatchObject({ id: 1, buyers: 30 });
    expect(small.gmvShare).toBeGreaterThan(0.9);
    expect(small.description).toMatch(/^33% of buyers, 9\d% of GMV: buy (once|[\d.]+ times) a month, spend [\d.]+× the average, last bought/);
    const zh = (await srv.api('GET', `${path}?lang=zh-CN`, undefined, s.hostKey)).body;
    expect(zh.segments[1].description).toMatch(/^占买家 33%，贡献 GMV 的 9\d%/);
    expect((await srv.api('GET', `${path}?lang=fr`, undefined, s.hostKey)).status).toBe(400);
  });

  it('a refit asked for twice at once runs once', async () => {
    const s = await createStream(srv, { channel: 'model-twice' });
    await srv.api('POST', '/v1/purchases', { orderId: 't-1', viewerId: 'v', amount: 100, currency: 'CNY' }, s.ingestKey);
    const [a, b] = await Promise.all([srv.app.models.refit('model-twice'), srv.app.models.refit('model-twice')]);
    expect(a).toBe(b);
    expect(a).toMatchObject({ status: 'insufficient_data', buyers: 1 });
  });

  it("fits in the build's worker thread, with the same answer as on the event loop", async () => {
    const fitter = new ModelFitter();
    try {
      expect(fitter.inline).toBe(false); // dist/server/predict/fit-worker.js (npm run build)
      const now = Date.UTC(2026, 0, 1);
      const purchases = Array.from({ length: 900 }, (_, i) => ({ viewerId: `v${i % 300}`, amount: 1000 + (i % 7) * 250, at: now - ((i * 37) % 300) * DAY }));
      const [inWorker, queued] = await Promise.all([fitter.fit(purchases, now, 50), fitter.fit(purchases.slice(0, 100), now, 50)]);
      const { fitMs: _a, ...got } = inWorker.model;
      const { fitMs: _b, ...want } = fitChannel(purchases, new Map(), now, 50).model;
      expect(got).toEqual(want);
      expect(inWorker.predictions).toHaveLength(inWorker.model.status === 'fitted' ? 300 : 0);
      expect(queued.model).toMatchObject({ status: 'insufficient_data', buyers: 100 });
      expect(queued.predictions).toEqual([]);
      // closing abandons a fit under way (a server shutting down does not wait for one)
      const abandoned = new ModelFitter();
      const big = abandoned.fit(purchases, now, 50);
      await abandoned.close();
      await expect(big).rejects.toThrow();
      await expect(abandoned.fit(purchases, now, 50)).rejects.toThrow(/closed/);
    } finally {
      await fitter.close();
    }
  });
});
