/**
 * The campaign document: what a merchant hands LiveTier (trigger, audience, offer, limits,
 * holdout), its TypeBox schema, the checks a schema cannot express, and the four default
 * campaigns every stream starts with. Pure code: no I/O, no clock.
 */
import Type, { type Static, type TObject } from 'typebox';
import { Compile } from 'typebox/compile';
import type { Tier } from '../realtime/events.js';

export const TRIGGER_TYPES = ['manual', 'tier_entered', 'watch_milestone', 'cart_abandoned', 'purchase', 'cross_sell'] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

/** lifecycle stages of the tiering model (issue 3); an audience may name any of them */
export const LIFECYCLES = ['new', 'active', 'at_risk', 'lapsed'] as const;
export type Lifecycle = (typeof LIFECYCLES)[number];

const TierName = Type.Union([Type.Literal('high'), Type.Literal('mid'), Type.Literal('potential')]);
const Sku = Type.String({ minLength: 1, maxLength: 64 });
const Minor = Type.Integer({ minimum: 0, maximum: 1e12, description: 'money in minor units (fen, cents)' });

export const Trigger = Type.Object(
  {
    type: Type.Union([
      Type.Literal('manual'), Type.Literal('tier_entered'), Type.Literal('watch_milestone'), Type.Literal('cart_abandoned'), Type.Literal('purchase'),
      Type.Literal('cross_sell'),
    ]),
    /** tier_entered: the tier the viewer moves up into */
    tier: Type.Optional(TierName),
    /** watch_milestone: seconds of this stream watched (server-credited) */
    watchSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
    /** cart_abandoned: seconds after the last add_to_cart with no purchase */
    afterSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
    /** purchase: only purchases that contain one of these SKUs */
    skus: Type.Optional(Type.Array(Sku, { minItems: 1, maxItems: 100 })),
    /** cross_sell: the least confidence a rule needs (0–1, default 0.3, the least the miner keeps) */
    minConfidence: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    /** cross_sell: the least lift a rule needs (default 1: the items sell together more than by chance) */
    minLift: Type.Optional(Type.Number({ minimum: 0, maximum: 1000 })),
  },
  { additionalProperties: false },
);

export const Audience = Type.Object(
  {
    tiers: Type.Optional(Type.Array(TierName, { minItems: 1, maxItems: 3 })),
    lifecycle: Type.Optional(
      Type.Array(Type.Union([Type.Literal('new'), Type.Literal('active'), Type.Literal('at_risk'), Type.Literal('lapsed')]), { minItems: 1, maxItems: 4 }),
    ),
  },
  { additionalProperties: false },
);

const Title = Type.String({ minLength: 1, maxLength: 120 });
const Description = Type.String({ maxLength: 500 });
const Name = Type.String({ minLength: 1, maxLength: 120 });

/** the languages a campaign's text may be translated into: those the elements speak */
function byLang<T extends TObject>(text: T, description: string) {
  return Type.Object({ en: Type.Optional(text), 'zh-CN': Type.Optional(text) }, { additionalProperties: false, description });
}

/**
 * The offer's title and description in other languages (each language with at least one of them;
 * one left out falls back to the offer's own). The offer pushed to a viewer carries them.
 */
export const OfferI18n = byLang(
  Type.Object({ title: Type.Optional(Title), description: Type.Optional(Description) }, { additionalProperties: false, minProperties: 1 }),
  "The offer's `title` and `description` in other languages (`en`, `zh-CN`); the viewer's widget shows its own language's",
);

/** The campaign's name in other languages: the host panel shows the one of its language. */
export const NameI18n = byLang(
  Type.Object({ name: Name }, { additionalProperties: false }),
  "The campaign's `name` in other languages (`en`, `zh-CN`); `{}` for none",
);

export const CampaignOffer = Type.Object(
  {
    title: Title,
    description: Type.Optional(Description),
    discount: Type.Object(
      {
        kind: Type.Union([Type.Literal('percent'), Type.Literal('amount')]),
        value: Type.Integer({ minimum: 1, maximum: 1e9 }),
      },
      { additionalProperties: false },
    ),
    minSpend: Type.Optional(Minor),
    /** percent discounts: the most one order can take off (minor units); what the budget counts */
    maxDiscount: Type.Optional(Type.Integer({ minimum: 1, maximum: 1e12 })),
    skus: Type.Optional(Type.Array(Sku, { minItems: 1, maxItems: 100 })),
    ttlSeconds: Type.Integer({ minimum: 10, maximum: 30 * 86_400 }),
    i18n: Type.Optional(OfferI18n),
  },
  { additionalProperties: false },
);

export const Limits = Type.Object(
  {
    perViewer: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    maxIssued: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
    budget: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e12 })),
  },
  { additionalProperties: false },
);

/** The campaign document as a merchant sends it (`POST /v1/streams/:id/campaigns`). */
export const CampaignDoc = Type.Object(
  {
    name: Name,
    i18n: Type.Optional(NameI18n),
    trigger: Trigger,
    audience: Type.Optional(Audience),
    offer: CampaignOffer,
    limits: Type.Optional(Limits),
    holdoutPercent: Type.Optional(Type.Integer({ minimum: 0, maximum: 90 })),
    attributionHours: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 30 })),
  },
  { additionalProperties: false },
);
export type CampaignDoc = Static<typeof CampaignDoc>;

/** `PATCH`: any top-level part of the document, plus `status` to pause or resume. */
export const CampaignPatch = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('paused')])),
    name: Type.Optional(CampaignDoc.properties.name),
    i18n: Type.Optional(CampaignDoc.properties.i18n),
    trigger: Type.Optional(Trigger),
    audience: Type.Optional(Audience),
    offer: Type.Optional(CampaignOffer),
    limits: Type.Optional(Limits),
    holdoutPercent: Type.Optional(CampaignDoc.properties.holdoutPercent),
    attributionHours: Type.Optional(CampaignDoc.properties.attributionHours),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type CampaignPatch = Static<typeof CampaignPatch>;

export const DEFAULT_PER_VIEWER = 1;
export const DEFAULT_ATTRIBUTION_HOURS = 24;

const checkDoc = Compile(CampaignDoc);

/** Thrown for a document that is well-formed JSON but wrong; `field` is its path (`trigger.tier`). */
export class CampaignError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field} ${message}`);
  }
}

/**
 * The checks a JSON schema cannot express. Returns the document unchanged, or throws a
 * CampaignError naming the field. `doc` must already match the schema (see `parseCampaign`).
 */
export function checkCampaign(doc: CampaignDoc): CampaignDoc {
  const t = doc.trigger;
  const need = { tier_entered: 'tier', watch_milestone: 'watchSeconds', cart_abandoned: 'afterSeconds' } as const;
  for (const [type, field] of Object.entries(need) as [TriggerType, 'tier' | 'watchSeconds' | 'afterSeconds'][]) {
    if (t.type === type && t[field] === undefined) throw new CampaignError(`trigger.${field}`, `is required for ${type}`);
    if (t.type !== type && t[field] !== undefined) throw new CampaignError(`trigger.${field}`, `applies only to ${type}`);
  }
  if (t.skus && t.type !== 'purchase') throw new CampaignError('trigger.skus', 'applies only to purchase');
  for (const f of ['minConfidence', 'minLift'] as const) {
    if (t[f] !== undefined && t.type !== 'cross_sell') throw new CampaignError(`trigger.${f}`, 'applies only to cross_sell');
  }
  // a cross-sell offer is for the rule's consequent: the rule sets its SKUs
  if (t.type === 'cross_sell' && doc.offer.skus) throw new CampaignError('offer.skus', "is set by the cross-sell rule (its consequent); leave it out");
  const d = doc.offer.discount;
  if (d.kind === 'percent' && d.value > 100) throw new CampaignError('offer.discount.value', 'must be at most 100 for a percent discount');
  if (d.kind === 'amount' && doc.offer.maxDiscount !== undefined) throw new CampaignError('offer.maxDiscount', 'applies only to percent discounts');
  if (doc.limits?.budget !== undefined && d.kind === 'percent' && doc.offer.maxDiscount === undefined) {
    throw new CampaignError('offer.maxDiscount', 'is required for a percent discount under a budget (the budget counts it)');
  }
  return doc;
}

/** Schema check plus `checkCampaign`, for documents that did not come through a Fastify route. */
export function parseCampaign(raw: unknown): CampaignDoc {
  if (!checkDoc.Check(raw)) {
    const e = [...checkDoc.Errors(raw)][0];
    const where = e?.instancePath.replace(/^\//, '').replaceAll('/', '.') || 'campaign';
    // an unknown field (a language LiveTier does not speak, say): TypeBox reports it at its own path as "schema is false"
    const unknown = e?.keyword === 'boolean' && e.schemaPath.endsWith('/additionalProperties');
    throw new CampaignError(where, unknown ? 'is not allowed' : (e?.message ?? 'is invalid'));
  }
  return checkCampaign(raw as CampaignDoc);
}

/**
 * A document with a patch applied (top-level parts replace the old ones); checked again as a whole.
 * A new `name` without `i18n` drops the name's old translations: they translated the old name.
 * (The offer's translations live inside `offer`, so a new offer replaces them with it.)
 */
export function applyPatch(doc: CampaignDoc, patch: CampaignPatch): CampaignDoc {
  const { status: _status, ...parts } = patch;
  const next: CampaignDoc = { ...doc, ...parts };
  if (parts.name !== undefined && parts.name !== doc.name && parts.i18n === undefined) delete next.i18n;
  return parseCampaign(next);
}

/**
 * The discount value one issued offer commits against the budget, in minor units: the amount
 * for an `amount` discount, `maxDiscount` for a percent discount (0 when it has none: such a
 * campaign cannot have a budget, see `checkCampaign`).
 */
export function committedValue(offer: CampaignDoc['offer']): number {
  return offer.discount.kind === 'amount' ? offer.discount.value : (offer.maxDiscount ?? 0);
}

/**
 * The four campaigns every stream starts with (editable), in English with Chinese translations of
 * their names and offers. Ids are also the offers' `campaign`.
 */
export const DEFAULT_CAMPAIGNS: { id: string; doc: CampaignDoc }[] = [
  {
    id: 'default:vip',
    doc: {
      name: 'VIP perk',
      i18n: { 'zh-CN': { name: 'VIP 专属福利' } },
      trigger: { type: 'tier_entered', tier: 'high' },
      offer: {
        title: 'VIP thank-you: 15% off',
        description: 'For our most loyal shoppers. Valid on everything in this stream.',
        discount: { kind: 'percent', value: 15 },
        ttlSeconds: 24 * 3600,
        i18n: { 'zh-CN': { title: 'VIP 专属答谢：全场 8.5 折', description: '感谢最忠实的你，本场直播全部商品可用。' } },
      },
    },
  },
  {
    id: 'default:deal',
    doc: {
      name: 'Limited-time deal',
      i18n: { 'zh-CN': { name: '限时优惠' } },
      trigger: { type: 'tier_entered', tier: 'mid' },
      offer: {
        title: 'Limited-time deal: ¥30 off',
        description: 'On orders of ¥199 or more. Hurry, it ends soon.',
        discount: { kind: 'amount', value: 3000 },
        minSpend: 19_900,
        ttlSeconds: 15 * 60,
        i18n: { 'zh-CN': { title: '限时特惠：立减 ¥30', description: '满 ¥199 可用，手慢无！' } },
      },
    },
  },
  {
    id: 'default:first-order',
    doc: {
      name: 'First order',
      i18n: { 'zh-CN': { name: '首单礼' } },
      trigger: { type: 'watch_milestone', watchSeconds: 5 * 60 },
      audience: { tiers: ['potential'] },
      offer: {
        title: 'Your first order: ¥20 off',
        description: 'Thanks for watching! Try us with ¥20 off your first order.',
        discount: { kind: 'amount', value: 2000 },
        minSpend: 9_900,
        ttlSeconds: 30 * 60,
        i18n: { 'zh-CN': { title: '首单立减 ¥20', description: '感谢观看！首单满 ¥99 立减 ¥20，快来试试。' } },
      },
    },
  },
  {
    id: 'default:win-back',
    doc: {
      name: 'Win-back',
      i18n: { 'zh-CN': { name: '老客回归' } },
      trigger: { type: 'watch_milestone', watchSeconds: 60 },
      audience: { lifecycle: ['at_risk'] },
      offer: {
        title: 'Welcome back: ¥25 off',
        description: 'We missed you! ¥25 off orders of ¥149 or more.',
        discount: { kind: 'amount', value: 2500 },
        minSpend: 14_900,
        ttlSeconds: 30 * 60,
        i18n: { 'zh-CN': { title: '欢迎回来：立减 ¥25', description: '好久不见！满 ¥149 立减 ¥25。' } },
      },
    },
  },
];

/**
 * A default campaign as stored by a version without translations gets the shipped ones, for each
 * part (the name, the offer) whose English is still the shipped text; a part the merchant reworded,
 * or whose translations they set (`{}` included), stays as it is, so no translation of older words
 * is ever shown. Any other campaign is returned unchanged.
 */
export function withShippedTranslations(id: string, doc: CampaignDoc): CampaignDoc {
  const shipped = DEFAULT_CAMPAIGNS.find((d) => d.id === id)?.doc;
  if (!shipped) return doc;
  let out = doc;
  if (!doc.i18n && doc.name === shipped.name) out = { ...out, i18n: shipped.i18n };
  const o = doc.offer;
  if (!o.i18n && o.title === shipped.offer.title && o.description === shipped.offer.description) out = { ...out, offer: { ...o, i18n: shipped.offer.i18n } };
  return out;
}

/** Tiers from lowest to highest: `tier_entered` fires only on a move up. */
export const TIER_RANK: Record<Tier, number> = { potential: 0, mid: 1, high: 2 };
