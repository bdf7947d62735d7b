/**
 * The schema of a tracked event: an envelope plus a `data` shape per type. Each event is
 * checked on its own so one bad event never costs the good ones beside it.
 */
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { EVENT_TYPES, type EventType, type TrackEvent } from '../realtime/events.js';

export const MAX_EVENTS_PER_BATCH = 500;
/** a heartbeat never claims more than this; the server credits far less (see watch.ts) */
export const MAX_ENGAGED_MS = 600_000;

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' });
const Sku = Type.String({ minLength: 1, maxLength: 64 });
const Minor = Type.Integer({ minimum: 0, maximum: 1e12 });

export const EventEnvelope = Type.Object(
  {
    id: Id,
    type: Type.Union(EVENT_TYPES.map((t) => Type.Literal(t))),
    ts: Type.Number({ minimum: 0 }),
    data: Type.Optional(Type.Object({})),
  },
  { additionalProperties: false },
);

const Product = Type.Object({ sku: Sku, price: Type.Optional(Minor) }, { additionalProperties: false });

export const EventData = {
  watch: Type.Object({ playing: Type.Boolean(), engagedMs: Type.Integer({ minimum: 0, maximum: MAX_ENGAGED_MS }) }, { additionalProperties: false }),
  comment: Type.Object({ text: Type.String({ minLength: 1, maxLength: 500 }) }, { additionalProperties: false }),
  like: Type.Object({ count: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }, { additionalProperties: false }),
  product_view: Product,
  add_to_cart: Type.Object({ sku: Sku, price: Type.Optional(Minor), quantity: Type.Optional(Type.Integer({ minimum: 1, maximum: 999 })) }, { additionalProperties: false }),
  checkout: Type.Object({ sku: Type.Optional(Sku), amount: Type.Optional(Minor) }, { additionalProperties: false }),
  purchase: Type.Object({ orderId: Type.String({ minLength: 1, maxLength: 128 }), amount: Minor, currency: Type.String({ pattern: '^[A-Z]{3}$' }) }, { additionalProperties: false }),
  offer_seen: Type.Object({ offerId: Id }, { additionalProperties: false }),
  offer_click: Type.Object({ offerId: Id }, { additionalProperties: false }),
  // issue 5: the answer to a host's one-question poll, on a 1-5 scale
  poll_answer: Type.Object({ pollId: Id, value: Type.Integer({ minimum: 1, maximum: 5 }) }, { additionalProperties: false }),
} satisfies Record<EventType, unknown>;

/** types whose `data` may be left out */
const DATA_OPTIONAL = new Set<EventType>(['like']);

const checkEnvelope = Compile(EventEnvelope);
const checkData = Object.fromEntries(Object.entries(EventData).map(([k, v]) => [k, Compile(v as any)])) as Record<
  EventType,
  ReturnType<typeof Compile>
>;

export type ValidEvent = TrackEvent & { data: Record<string, any> };
export type Checked = { ok: true; event: ValidEvent } | { ok: false; id: string | null; reason: string };

export function firstError(errors: Iterable<{ instancePath: string; message: string; schemaPath?: string }>, prefix: string): string {
  for (const e of errors) {
    const where = (prefix + e.instancePath).replace(/^\//, '').replaceAll('/', '.');
    // typebox reports an unknown property as "schema is false" under additionalProperties
    const message = e.schemaPath?.endsWith('additionalProperties') ? 'is not an allowed (additional) property' : e.message;
    return where ? `${where} ${message}` : message;
  }
  return 'invalid';
}

/** Checks one event; the reason names the field that is wrong. */
export function checkEvent(raw: unknown): Checked {
  const id = raw && typeof raw === 'object' && typeof (raw as any).id === 'string' ? ((raw as any).id as string).slice(0, 64) : null;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, id, reason: 'event must be an object' };
  if (!checkEnvelope.Check(raw)) return { ok: false, id, reason: firstError(checkEnvelope.Errors(raw) as any, '') };
  const ev = raw as TrackEvent;
  const data = ev.data ?? (DATA_OPTIONAL.has(ev.type) ? {} : undefined);
  if (data === undefined) return { ok: false, id, reason: `data is required for ${ev.type}` };
  const check = checkData[ev.type];
  if (!check.Check(data)) return { ok: false, id, reason: firstError(check.Errors(data) as any, '/data') };
  return { ok: true, event: { id: ev.id, type: ev.type, ts: ev.ts, data: data as Record<string, any> } };
}

export type EventDataOf<T extends EventType> = Static<(typeof EventData)[T]>;
