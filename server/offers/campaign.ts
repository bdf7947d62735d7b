/**
 * The campaign document: what a merchant hands LiveTier (trigger, audience, offer, limits,
 * holdout), its TypeBox schema, the checks a schema cannot express, and the four default
 * campaigns every stream starts with. Pure code: no I/O, no clock.
 */
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type { Tier } from '../realtime/events.js';

export const TRIGGER_TYPES = ['manual', 'tier_entered', 'watch_milestone', 'cart_abandoned', 'purchase'] as const;
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
    ]),
    /** tier_entered: the tier the viewer moves up into */
    tier: Type.Optional(TierName),
    /** watch_milestone: seconds of this stream watched (server-credited) */
    watchSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
    /** cart_abandoned: seconds after the last add_to_cart with no purchase */
    afterSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
    /** purchase: only purchases that contain one of these SKUs */
    skus: Type.Optional(Type.Array(Sku, { minItems: 1, maxItems: 100 })),
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

export const CampaignOffer = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 120 }),
    description: Type.Optional(Type.String({ maxLength: 500 })),
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
    name: Type.String({ minLength: 1, maxLength: 120 }),
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
    throw new CampaignError(where, e?.message ?? 'is invalid');
  }
  return checkCampaign(raw as CampaignDoc);
}

/** A document with a patch applied (top-level parts replace the old ones); checked again as a whole. */
export function applyPatch(doc: CampaignDoc, patch: CampaignPatch): CampaignDoc {
  const { status: _status, ...parts } = patch;
  return parseCampaign({ ...doc, ...parts });
}

/**
 * The discount value one issued offer commits against the budget, in minor units: the amount
 * for an `amount` discount, `maxDiscount` for a percent discount (0 when it has none: such a
 * campaign cannot have a budget, see `checkCampaign`).
 */
export function committedValue(offer: CampaignDoc['offer']): number {
  return offer.discount.kind === 'amount' ? offer.discount.value : (offer.maxDiscount ?? 0);
}

/** The four campaigns every stream starts with (editable). Ids are also the offers' `campaign`. */
export const DEFAULT_CAMPAIGNS: { id: string; doc: CampaignDoc }[] = [
  {
    id: 'default:vip',
    doc: {
      name: 'VIP perk',
      trigger: { type: 'tier_entered', tier: 'high' },
      offer: {
        title: 'VIP thank-you: 15% off',
        description: 'For our most loyal shoppers. Valid on everything in this stream.',
        discount: { kind: 'percent', value: 15 },
        ttlSeconds: 24 * 3600,
      },
    },
  },
  {
    id: 'default:deal',
    doc: {
      name: 'Limited-time deal',
      trigger: { type: 'tier_entered', tier: 'mid' },
      offer: {
        title: 'Limited-time deal: ¥30 off',
        description: 'On orders of ¥199 or more. Hurry, it ends soon.',
        discount: { kind: 'amount', value: 3000 },
        minSpend: 19_900,
        ttlSeconds: 15 * 60,
      },
    },
  },
  {
    id: 'default:first-order',
    doc: {
      name: 'First order',
      trigger: { type: 'watch_milestone', watchSeconds: 5 * 60 },
      audience: { tiers: ['potential'] },
      offer: {
        title: 'Your first order: ¥20 off',
        description: 'Thanks for watching! Try us with ¥20 off your first order.',
        discount: { kind: 'amount', value: 2000 },
        minSpend: 9_900,
        ttlSeconds: 30 * 60,
      },
    },
  },
  {
    id: 'default:win-back',
    doc: {
      name: 'Win-back',
      trigger: { type: 'watch_milestone', watchSeconds: 60 },
      audience: { lifecycle: ['at_risk'] },
      offer: {
        title: 'Welcome back: ¥25 off',
        description: 'We missed you! ¥25 off orders of ¥149 or more.',
        discount: { kind: 'amount', value: 2500 },
        minSpend: 14_900,
        ttlSeconds: 30 * 60,
      },
    },
  },
];

/** Tiers from lowest to highest: `tier_entered` fires only on a move up. */
export const TIER_RANK: Record<Tier, number> = { potential: 0, mid: 1, high: 2 };
