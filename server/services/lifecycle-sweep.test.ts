import { describe, expect, it } from 'vitest';
import { sweptEventId } from './lifecycle-sweep.js';

describe('sweptEventId', () => {
  it('is the same for the same move from the same stored facts (two processes write one event), and differs otherwise', () => {
    const a = sweptEventId('shop', 'v1', 'active|1700000000000|', 'viewer.lifecycle_changed', 'active', 'at_risk');
    expect(a).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(sweptEventId('shop', 'v1', 'active|1700000000000|', 'viewer.lifecycle_changed', 'active', 'at_risk')).toBe(a);
    // the viewer came back and left again: new facts, a new event
    expect(sweptEventId('shop', 'v1', 'active|1700000999000|', 'viewer.lifecycle_changed', 'active', 'at_risk')).not.toBe(a);
    expect(sweptEventId('shop', 'v2', 'active|1700000000000|', 'viewer.lifecycle_changed', 'active', 'at_risk')).not.toBe(a);
    expect(sweptEventId('shop', 'v1', 'active|1700000000000|', 'viewer.tier_changed', 'active', 'at_risk')).not.toBe(a);
  });
});
