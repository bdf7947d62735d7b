import { describe, expect, it } from 'vitest';
import { DEFAULT_PLAYBOOK, FIRST_ORDER_WATCH_MS, offerForTierChange, offerForWatch } from './playbook.js';

describe('default playbook', () => {
  it('entering high gives the VIP perk; entering mid from potential the limited-time deal', () => {
    expect(offerForTierChange('mid', 'high')).toBe(DEFAULT_PLAYBOOK.high);
    expect(offerForTierChange('potential', 'high')).toBe(DEFAULT_PLAYBOOK.high);
    expect(offerForTierChange('potential', 'mid')).toBe(DEFAULT_PLAYBOOK.mid);
  });

  it('no offer for moving down or staying', () => {
    expect(offerForTierChange('high', 'mid')).toBeNull();
    expect(offerForTierChange('mid', 'potential')).toBeNull();
    expect(offerForTierChange('high', 'high')).toBeNull();
  });

  it('the first-order offer fires once, when a potential viewer crosses 5 minutes', () => {
    expect(FIRST_ORDER_WATCH_MS).toBe(300_000);
    expect(offerForWatch('potential', 290_000, 300_000)).toBe(DEFAULT_PLAYBOOK.firstOrder);
    expect(offerForWatch('potential', 300_000, 310_000)).toBeNull();
    expect(offerForWatch('potential', 280_000, 290_000)).toBeNull();
    expect(offerForWatch('mid', 290_000, 300_000)).toBeNull();
  });
});
