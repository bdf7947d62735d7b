// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { aliasKey, anonymousId, safeStorage, storedAlias, VIEWER_ID_KEY } from './storage.js';

afterEach(() => {
  vi.restoreAllMocks();
  localStorage.clear();
});

describe('anonymousId', () => {
  it('makes a v_ + uuid id once and keeps it in localStorage', () => {
    const id = anonymousId();
    expect(id).toMatch(/^v_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(localStorage.getItem(VIEWER_ID_KEY)).toBe(id);
    expect(anonymousId()).toBe(id);
    expect(document.cookie).toBe('');
  });

  it('replaces a stored value that is not an id', () => {
    localStorage.setItem(VIEWER_ID_KEY, '<script>');
    expect(anonymousId()).toMatch(/^v_/);
  });

  it('falls back to memory when storage throws', () => {
    vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('quota', 'QuotaExceededError');
    });
    vi.spyOn(Storage.prototype, 'getItem').mockImplementation(() => {
      throw new DOMException('denied', 'SecurityError');
    });
    const store = safeStorage();
    const id = anonymousId(store);
    expect(id).toMatch(/^v_/);
    expect(anonymousId(store)).toBe(id);
    store.removeItem(VIEWER_ID_KEY);
    expect(store.getItem(VIEWER_ID_KEY)).toBeNull();
  });
});

describe('storedAlias', () => {
  it('reads { anon, viewerId } of its stream only', () => {
    const store = safeStorage();
    store.setItem(aliasKey('s1'), JSON.stringify({ anon: 'v_1-a', viewerId: 'u_x' }));
    expect(storedAlias(store, 's1')).toEqual({ anon: 'v_1-a', viewerId: 'u_x' });
    expect(storedAlias(store, 's2')).toBeNull();
  });

  it('ignores what is not a pending alias', () => {
    const store = safeStorage();
    for (const raw of ['{', '0', '[]', '"v_1"', '{"anon":"v_1"}', '{"anon":"u_1","viewerId":"u_x"}', '{"anon":["v_1"],"viewerId":"u_x"}', '{"anon":"v_1","viewerId":""}']) {
      store.setItem(aliasKey('s1'), raw);
      expect(storedAlias(store, 's1'), raw).toBeNull();
    }
  });
});
