import { describe, expect, it } from 'vitest';
import { checkEvent } from './schema.js';

const ok = (raw: unknown) => {
  const r = checkEvent(raw);
  if (!r.ok) throw new Error(r.reason);
  return r.event;
};
const reason = (raw: unknown) => {
  const r = checkEvent(raw);
  if (r.ok) throw new Error('expected a rejection');
  return r;
};

describe('checkEvent', () => {
  it('accepts every contract type with its data', () => {
    ok({ id: 'a', type: 'watch', ts: 1, data: { playing: true, engagedMs: 10_000 } });
    ok({ id: 'b', type: 'comment', ts: 1, data: { text: '好看' } });
    expect(ok({ id: 'c', type: 'like', ts: 1 }).data).toEqual({});
    ok({ id: 'd', type: 'product_view', ts: 1, data: { sku: 'S1', price: 100 } });
    ok({ id: 'e', type: 'add_to_cart', ts: 1, data: { sku: 'S1' } });
    ok({ id: 'f', type: 'checkout', ts: 1, data: {} });
    ok({ id: 'g', type: 'purchase', ts: 1, data: { orderId: 'o1', amount: 100, currency: 'CNY' } });
    ok({ id: 'h', type: 'offer_seen', ts: 1, data: { offerId: 'x' } });
    ok({ id: 'i', type: 'offer_click', ts: 1, data: { offerId: 'x' } });
  });

  it('names the field that is wrong', () => {
    expect(reason({ id: 'a', type: 'watch', ts: 1, data: { playing: 'yes', engagedMs: 1 } }).reason).toMatch(/^data\.playing /);
    expect(reason({ id: 'a', type: 'product_view', ts: 1, data: { sku: 'S', price: 1.5 } }).reason).toMatch(/^data\.price /);
    expect(reason({ id: 'a', type: 'purchase', ts: 1, data: { orderId: 'o', amount: -1, currency: 'CNY' } }).reason).toMatch(/^data\.amount /);
    expect(reason({ id: 'a', type: 'nope', ts: 1 }).reason).toMatch(/^type /);
    expect(reason({ id: 'a b', type: 'like', ts: 1 }).reason).toMatch(/^id /);
    expect(reason({ id: 'a', type: 'like', ts: -1 }).reason).toMatch(/^ts /);
    expect(reason({ id: 'a', type: 'like', ts: 1, extra: 1 }).reason).toMatch(/^extra /);
    expect(reason({ id: 'a', type: 'comment', ts: 1 }).reason).toBe('data is required for comment');
  });

  it('keeps the id of a rejected event when it has one', () => {
    expect(reason({ id: 'keep-me', type: 'bad', ts: 1 }).id).toBe('keep-me');
    expect(reason('text').id).toBeNull();
    expect(reason([1, 2]).id).toBeNull();
  });
});
