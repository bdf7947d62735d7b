import { describe, expect, it } from 'vitest';
import { applyPatch, CampaignError, DEFAULT_CAMPAIGNS, parseCampaign, withShippedTranslations, type CampaignDoc } from './campaign.js';

const doc = (over: Record<string, unknown> = {}, offer: Record<string, unknown> = {}): unknown => ({
  name: 'Cups',
  trigger: { type: 'manual' },
  offer: { title: '20% off cups', discount: { kind: 'percent', value: 20 }, ttlSeconds: 600, ...offer },
  ...over,
});

const fieldOf = (raw: unknown): string => {
  try {
    parseCampaign(raw);
  } catch (err) {
    if (err instanceof CampaignError) return err.message;
    throw err;
  }
  return 'accepted';
};

describe('campaign translations', () => {
  it('accepts translations of the name and of the offer for en and zh-CN', () => {
    const d = parseCampaign(doc({ i18n: { 'zh-CN': { name: '杯子' }, en: { name: 'Cups!' } } }, { i18n: { 'zh-CN': { title: '杯子 8 折', description: '限今晚' }, en: { description: 'Tonight' } } }));
    expect(d.i18n?.['zh-CN']?.name).toBe('杯子');
    expect(d.offer.i18n?.['zh-CN']).toEqual({ title: '杯子 8 折', description: '限今晚' });
    expect(fieldOf(doc({ i18n: {} }))).toBe('accepted');
  });

  it.each([
    ['a language LiveTier does not speak', doc({ i18n: { fr: { name: 'Tasses' } } }), /^i18n\.fr is not allowed$/],
    ['a language in the offer it does not speak', doc({}, { i18n: { 'zh-TW': { title: '杯子' } } }), /^offer\.i18n\.zh-TW is not allowed$/],
    ['an empty name', doc({ i18n: { 'zh-CN': { name: '' } } }), /^i18n\.zh-CN\.name /],
    ['a name over 120 characters', doc({ i18n: { 'zh-CN': { name: '杯'.repeat(121) } } }), /^i18n\.zh-CN\.name /],
    ['a title over 120 characters', doc({}, { i18n: { 'zh-CN': { title: '杯'.repeat(121) } } }), /^offer\.i18n\.zh-CN\.title /],
    ['a description over 500 characters', doc({}, { i18n: { 'zh-CN': { description: 'x'.repeat(501) } } }), /^offer\.i18n\.zh-CN\.description /],
    ['a language with no text', doc({}, { i18n: { 'zh-CN': {} } }), /^offer\.i18n\.zh-CN /],
    ['a field the offer has no text for', doc({}, { i18n: { 'zh-CN': { body: '杯子' } } }), /^offer\.i18n\.zh-CN\.body is not allowed$/],
    ['text that is not a string', doc({}, { i18n: { 'zh-CN': { title: 7 } } }), /^offer\.i18n\.zh-CN\.title /],
  ])('refuses %s, naming the field', (_what, raw, field) => {
    expect(fieldOf(raw)).toMatch(field);
  });

  it('a new name without translations drops the old ones; the offer brings its own', () => {
    const d = parseCampaign(doc({ i18n: { 'zh-CN': { name: '杯子' } } }, { i18n: { 'zh-CN': { title: '杯子 8 折' } } }));
    expect(applyPatch(d, { name: 'Mugs' }).i18n).toBeUndefined();
    expect(applyPatch(d, { name: 'Mugs', i18n: { 'zh-CN': { name: '马克杯' } } }).i18n).toEqual({ 'zh-CN': { name: '马克杯' } });
    expect(applyPatch(d, { name: 'Cups', holdoutPercent: 10 }).i18n).toEqual({ 'zh-CN': { name: '杯子' } });
    expect(applyPatch(d, { i18n: {} }).i18n).toEqual({});
    const offer = { title: '30% off', discount: { kind: 'percent' as const, value: 30 }, ttlSeconds: 600 };
    expect(applyPatch(d, { offer }).offer.i18n).toBeUndefined();
  });
});

describe('default campaigns', () => {
  it('ship their names and offers in English and Chinese', () => {
    for (const { id, doc: d } of DEFAULT_CAMPAIGNS) {
      expect(parseCampaign(d), id).toEqual(d);
      expect(d.i18n?.['zh-CN']?.name, id).toMatch(/\p{Script=Han}/u);
      expect(d.offer.i18n?.['zh-CN']?.title, id).toMatch(/\p{Script=Han}/u);
      expect(d.offer.i18n?.['zh-CN']?.description, id).toMatch(/\p{Script=Han}/u);
    }
  });

  it('stored without translations, get the shipped ones where their English is the shipped text', () => {
    const vip = DEFAULT_CAMPAIGNS[0]!;
    const { i18n: _name, ...bare } = vip.doc;
    const { i18n: _offer, ...bareOffer } = vip.doc.offer;
    const old: CampaignDoc = { ...bare, offer: bareOffer, holdoutPercent: 20 };
    expect(withShippedTranslations(vip.id, old)).toEqual({ ...vip.doc, holdoutPercent: 20 });
    // reworded by the merchant: no stale translation
    const reworded = withShippedTranslations(vip.id, { ...old, name: 'Our VIPs', offer: { ...bareOffer, title: 'VIP: 20% off' } });
    expect(reworded.i18n).toBeUndefined();
    expect(reworded.offer.i18n).toBeUndefined();
    // translations the merchant set (none included) stay
    expect(withShippedTranslations(vip.id, { ...old, i18n: {} }).i18n).toEqual({});
    // another campaign: unchanged
    expect(withShippedTranslations('c_other', old)).toBe(old);
  });
});
