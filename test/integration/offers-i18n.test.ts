/**
 * Campaigns in two languages over a real server and database: translations of a campaign's name
 * and of its offer are accepted for `en` and `zh-CN` only (400 naming the field otherwise), kept
 * through edits, shipped with the default campaigns, and carried by the offers viewers receive,
 * re-sent offers included; host pushes carry one language.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import {
  startServer, createStream, viewerToken, client, connect, collect, until, closeAllClients, type TestServer, type StreamKeys,
} from '../helpers/server.js';
import { DEFAULT_CAMPAIGNS } from '../../server/offers/campaign.js';

let srv: TestServer;
let stream: StreamKeys;

beforeEach(async () => {
  srv = await startServer();
  stream = await createStream(srv, { title: 'Bilingual', channel: 'i18n-shop' });
});
afterEach(async () => {
  closeAllClients();
  await srv.close();
});

const host = (method: string, path: string, body?: unknown) => srv.api(method, `/v1/streams/${stream.id}${path}`, body, stream.hostKey);
const buy = (orderId: string, viewerId: string, amount: number) =>
  srv.api('POST', '/v1/purchases', { orderId, viewerId, amount, currency: 'CNY' }, stream.ingestKey);

const teaOffer = {
  title: 'Tea cups: 20% off',
  description: 'Tonight only',
  discount: { kind: 'percent', value: 20 },
  ttlSeconds: 600,
  i18n: { 'zh-CN': { title: '茶杯 8 折', description: '仅限今晚' } },
};
const doc = (over: Record<string, unknown> = {}) => ({
  name: 'Tea cups',
  i18n: { 'zh-CN': { name: '茶杯专场' } },
  trigger: { type: 'manual' },
  offer: teaOffer,
  ...over,
});

/** a logged-in viewer whose offers are collected (and acked) */
async function viewer(id: string): Promise<{ socket: Socket; offers: any[] }> {
  const token = await viewerToken(srv, stream.ingestKey, id);
  const socket = client(srv, '/viewer', { streamId: stream.id, viewerId: id, token });
  const offers = collect<any>(socket, 'offer');
  const hello = new Promise((r) => socket.once('hello', r));
  await connect(socket);
  await hello;
  return { socket, offers };
}

describe('campaign translations', () => {
  it('the default campaigns carry their names and offers in Chinese', async () => {
    const { campaigns } = (await host('GET', '/campaigns')).body;
    expect(campaigns).toHaveLength(DEFAULT_CAMPAIGNS.length);
    for (const c of campaigns) {
      const shipped = DEFAULT_CAMPAIGNS.find((d) => d.id === c.id)!.doc;
      expect(c.name).toBe(shipped.name);
      expect(c.i18n).toEqual(shipped.i18n);
      expect(c.i18n['zh-CN'].name).toMatch(/\p{Script=Han}/u);
      expect(c.offer.i18n['zh-CN']).toEqual({ title: expect.stringMatching(/\p{Script=Han}/u), description: expect.stringMatching(/\p{Script=Han}/u) });
    }
  });

  it('a default campaign stored without translations (an older version) gets the shipped ones while its English is unchanged', async () => {
    await host('GET', '/campaigns'); // the defaults exist
    const row = (await srv.app.store.getCampaign(stream.id, 'default:vip'))!;
    const { i18n: _name, ...bare } = row.doc;
    const { i18n: _offer, ...bareOffer } = bare.offer;
    await srv.app.store.updateCampaign(stream.id, 'default:vip', { ...bare, offer: bareOffer }, 'active', Date.now());
    expect((await host('GET', '/campaigns/default:vip')).body).toMatchObject({ i18n: { 'zh-CN': { name: 'VIP 专属福利' } }, offer: { i18n: { 'zh-CN': {} } } });
    // reworded: no translation of the old words
    const reworded = await host('PATCH', '/campaigns/default:vip', { name: 'Our VIPs' });
    expect(reworded.status).toBe(200);
    expect(reworded.body.i18n).toBeUndefined();
    expect(reworded.body.offer.i18n['zh-CN'].title).toMatch(/VIP/);
  });

  it('create and edit keep the translations; a new name drops its old ones; an offer brings its own', async () => {
    const created = await host('POST', '/campaigns', doc());
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Tea cups', i18n: { 'zh-CN': { name: '茶杯专场' } }, offer: { i18n: teaOffer.i18n } });
    const id = created.body.id;
    expect((await host('GET', `/campaigns/${id}`)).body).toMatchObject({ i18n: { 'zh-CN': { name: '茶杯专场' } }, offer: { i18n: teaOffer.i18n } });

    // a holdout change leaves the text alone
    expect((await host('PATCH', `/campaigns/${id}`, { holdoutPercent: 10 })).body.i18n).toEqual({ 'zh-CN': { name: '茶杯专场' } });
    // new name and its translation together
    const renamed = await host('PATCH', `/campaigns/${id}`, { name: 'Cups', i18n: { 'zh-CN': { name: '杯子' }, en: { name: 'Cups!' } } });
    expect(renamed.body).toMatchObject({ name: 'Cups', i18n: { 'zh-CN': { name: '杯子' }, en: { name: 'Cups!' } } });
    // a new name alone: the old translations translated the old name
    const bare = await host('PATCH', `/campaigns/${id}`, { name: 'Mugs' });
    expect(bare.status).toBe(200);
    expect(bare.body.i18n).toBeUndefined();
    // a new offer without translations: one language
    const { i18n: _t, ...plain } = teaOffer;
    expect((await host('PATCH', `/campaigns/${id}`, { offer: plain })).body.offer.i18n).toBeUndefined();
    expect((await host('GET', `/campaigns/${id}`)).body.offer.i18n).toBeUndefined();
  });

  it('refuses translations for other languages, empty or overlong text and unknown fields: 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [doc({ i18n: { fr: { name: 'Tasses' } } }), 'body.i18n must NOT have additional properties (fr)'],
      [doc({ i18n: { zh: { name: '茶杯' } } }), 'body.i18n must NOT have additional properties (zh)'],
      [doc({ i18n: { 'zh-CN': { name: '' } } }), 'body.i18n.zh-CN.name'],
      [doc({ i18n: { 'zh-CN': { name: '茶'.repeat(121) } } }), 'body.i18n.zh-CN.name'],
      [doc({ i18n: { 'zh-CN': { title: '茶杯' } } }), 'body.i18n.zh-CN'],
      [doc({ i18n: ['zh-CN'] }), 'body.i18n'],
      [doc({ offer: { ...teaOffer, i18n: { 'zh-TW': { title: '茶杯' } } } }), 'body.offer.i18n must NOT have additional properties (zh-TW)'],
      [doc({ offer: { ...teaOffer, i18n: { 'zh-CN': {} } } }), 'body.offer.i18n.zh-CN'],
      [doc({ offer: { ...teaOffer, i18n: { 'zh-CN': { title: '' } } } }), 'body.offer.i18n.zh-CN.title'],
      [doc({ offer: { ...teaOffer, i18n: { 'zh-CN': { title: '茶'.repeat(121) } } } }), 'body.offer.i18n.zh-CN.title'],
      [doc({ offer: { ...teaOffer, i18n: { 'zh-CN': { description: '茶'.repeat(501) } } } }), 'body.offer.i18n.zh-CN.description'],
      [doc({ offer: { ...teaOffer, i18n: { 'zh-CN': { body: '茶杯' } } } }), 'body.offer.i18n.zh-CN must NOT have additional properties (body)'],
      [doc({ offer: { ...teaOffer, i18n: { 'zh-CN': { title: 5 } } } }), 'body.offer.i18n.zh-CN.title'],
    ];
    for (const [body, field] of cases) {
      const r = await host('POST', '/campaigns', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toBe('bad_request');
      expect(r.body.message, JSON.stringify(body)).toContain(field);
    }
    const id = (await host('POST', '/campaigns', doc())).body.id;
    const patched = await host('PATCH', `/campaigns/${id}`, { i18n: { de: { name: 'Tassen' } } });
    expect(patched.status).toBe(400);
    expect(patched.body.message).toContain('body.i18n must NOT have additional properties (de)');
    const badOffer = await host('PATCH', `/campaigns/default:deal`, { offer: { ...teaOffer, i18n: { 'zh-CN': { title: '' } } } });
    expect(badOffer.status).toBe(400);
    expect(badOffer.body.message).toContain('body.offer.i18n.zh-CN.title');
    // nothing changed
    expect((await host('GET', `/campaigns/${id}`)).body.i18n).toEqual({ 'zh-CN': { name: '茶杯专场' } });
  });
});

describe('offers in two languages', () => {
  it("a campaign's offer reaches the viewer with its translations, also when it is sent again", async () => {
    const id = (await host('POST', '/campaigns', doc())).body.id;
    const v = await viewer('tea-lover');
    expect((await host('POST', `/campaigns/${id}/send`)).body.sent).toBe(1);
    await until(() => v.offers.length === 1, 5000, 'the offer');
    expect(v.offers[0]).toMatchObject({ title: 'Tea cups: 20% off', description: 'Tonight only', i18n: { 'zh-CN': { title: '茶杯 8 折', description: '仅限今晚' } } });

    // offline when issued: the pending offer comes with the connection, from the database
    const id2 = (await host('POST', '/campaigns', doc({ name: 'Cups again', trigger: { type: 'tier_entered', tier: 'mid' } }))).body.id;
    v.socket.close();
    await buy('o-1', 'tea-lover', 12_800); // potential → mid while away: default:deal and this campaign issue
    await until(async () => (await host('GET', `/campaigns/${id2}`)).body.issued === 1, 5000, 'issued while offline');
    const back = await viewer('tea-lover');
    await until(() => back.offers.length >= 2, 5000, 'pending offers on reconnect');
    const byCampaign = new Map(back.offers.map((o) => [o.campaign, o]));
    expect(byCampaign.get(id2)!.i18n).toEqual(teaOffer.i18n);
    const deal = DEFAULT_CAMPAIGNS.find((d) => d.id === 'default:deal')!.doc.offer;
    expect(byCampaign.get('default:deal')).toMatchObject({ title: deal.title, description: deal.description, i18n: deal.i18n });
  });

  it('an offer without translations, and a host push, carry none', async () => {
    const { i18n: _t, ...plain } = teaOffer;
    const id = (await host('POST', '/campaigns', doc({ offer: plain }))).body.id;
    const v = await viewer('plain');
    await host('POST', `/campaigns/${id}/send`);
    await until(() => v.offers.length === 1, 5000, 'the offer');
    expect(v.offers[0]).not.toHaveProperty('i18n');

    const h = client(srv, '/host', { streamId: stream.id, hostKey: stream.hostKey });
    await connect(h);
    const viewer2 = await viewer('pushed');
    const ack = await h.emitWithAck('push', { tier: 'potential', offer: { title: 'Flash: ¥10 off', discount: { kind: 'amount', value: 1000 }, ttlSeconds: 120 } });
    expect(ack.sent).toBeGreaterThanOrEqual(1);
    await until(() => viewer2.offers.length === 1, 5000, 'the push');
    expect(viewer2.offers[0].title).toBe('Flash: ¥10 off');
    expect(viewer2.offers[0]).not.toHaveProperty('i18n');
    // a push keeps one language: translations are refused, naming the field
    const refused = await h.emitWithAck('push', { tier: 'potential', offer: { title: 'x', discount: { kind: 'amount', value: 1000 }, ttlSeconds: 120, i18n: { 'zh-CN': { title: 'x' } } } });
    expect(refused.error?.code).toBe('bad_request');
  });
});
