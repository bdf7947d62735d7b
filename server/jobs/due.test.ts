import { describe, expect, it } from 'vitest';
import { cartJobId, effectKey, purchaseJobId, trackWrites, watchJobId } from './due.js';
import type { ValidEvent } from '../ingest/schema.js';

const ev = (type: string): ValidEvent => ({ id: type, type, ts: 0, data: {} }) as ValidEvent;

describe('trackWrites', () => {
  const T = { cartDelayMs: 60_000, milestonesMs: [60_000, 300_000] };

  it('arms the cart on an add_to_cart when the stream has a cart campaign, and closes it on a purchase; the last one wins', () => {
    expect(trackWrites([ev('add_to_cart')], 0, 0, T).cart).toBe('arm');
    expect(trackWrites([ev('add_to_cart')], 0, 0, { milestonesMs: [1] }).cart).toBeNull();
    expect(trackWrites([ev('add_to_cart')], 0, 0, undefined).cart).toBeNull();
    expect(trackWrites([ev('purchase')], 0, 0, undefined).cart).toBe('close');
    expect(trackWrites([ev('add_to_cart'), ev('purchase')], 0, 0, T).cart).toBe('close');
    expect(trackWrites([ev('purchase'), ev('add_to_cart')], 0, 0, T).cart).toBe('arm');
    expect(trackWrites([ev('comment')], 0, 0, T).cart).toBeNull();
  });

  it('creates a watch job when the stored total crosses a threshold with this credit, once', () => {
    expect(trackWrites([ev('watch')], 10_000, 60_000, T).watch).toEqual({ beforeMs: 50_000, afterMs: 60_000 });
    expect(trackWrites([ev('watch')], 10_000, 59_999, T).watch).toBeNull();
    expect(trackWrites([ev('watch')], 10_000, 70_000, T).watch).toBeNull(); // crossed before this batch
    expect(trackWrites([ev('watch')], 0, 60_000, T).watch).toBeNull(); // nothing credited now
    expect(trackWrites([ev('watch')], 250_000, 300_000, T).watch).toEqual({ beforeMs: 50_000, afterMs: 300_000 }); // both at once: one job
  });
});

describe('job ids', () => {
  it('name their parts unambiguously, whatever the ids hold', () => {
    expect(cartJobId('a/b', 'c')).not.toBe(cartJobId('a', 'b/c'));
    expect(watchJobId('s', 'v', 60_000)).toBe('watch/s/v/60000');
    expect(purchaseJobId('shop', 'order 1')).toBe('purchase/shop/order%201');
    expect(effectKey({ id: 'cart/x/y', armedAt: 5 })).toBe('cart/x/y@5');
  });
});
