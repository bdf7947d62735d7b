/**
 * Persistence in localStorage, with memory as the fallback when storage is missing or throws
 * (Safari private mode, sandboxed iframes, blocked site data, a full quota). No cookies, ever.
 */
import { randomUUID } from './ids.js';

/** The part of the Web Storage API the SDK uses, so tests can hand in their own. */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const VIEWER_ID_KEY = 'livetier:vid';
export const queueKey = (stream: string) => `livetier:q:${stream}`;
/** identify()'s alias that the server has not confirmed yet, one per stream (beside its queue) */
export const aliasKey = (stream: string) => `livetier:alias:${stream}`;

/** an anonymous viewer id, as the SDK makes them */
export const ANON_ID = /^v_[A-Za-z0-9-]{1,64}$/;

/** The anonymous id `identify()` links, and the verified viewer it is meant for. */
export interface PendingAlias {
  anon: string;
  viewerId: string;
}

/** The stored pending alias of a stream, or null (none, or not one). */
export function storedAlias(store: KeyValueStore, stream: string): PendingAlias | null {
  try {
    const v = JSON.parse(store.getItem(aliasKey(stream)) ?? 'null');
    return v && typeof v.anon === 'string' && ANON_ID.test(v.anon) && typeof v.viewerId === 'string' && v.viewerId ? { anon: v.anon, viewerId: v.viewerId } : null;
  } catch {
    return null;
  }
}

/**
 * localStorage with a memory copy: reads see other tabs' writes, except for a key whose last
 * write failed here (quota), which reads from memory so an older value never resurfaces.
 * Nothing here ever throws.
 */
export function safeStorage(): KeyValueStore {
  const memory = new Map<string, string>();
  /** keys whose last write to localStorage failed */
  const stale = new Set<string>();
  let local: Storage | null = null;
  try {
    local = globalThis.localStorage ?? null;
  } catch {
    // accessing the property itself throws when site data is blocked
  }
  return {
    getItem(key) {
      if (local && !stale.has(key)) {
        try {
          return local.getItem(key);
        } catch {
          // fall back to this page's copy
        }
      }
      return memory.get(key) ?? null;
    },
    setItem(key, value) {
      memory.set(key, value);
      try {
        local!.setItem(key, value);
        stale.delete(key);
      } catch {
        stale.add(key); // memory keeps it for this page
      }
    },
    removeItem(key) {
      memory.delete(key);
      stale.delete(key);
      try {
        local?.removeItem(key);
      } catch {
        stale.add(key);
      }
    },
  };
}

/** A store that keeps nothing (consent pending or refused). */
export const noStorage: KeyValueStore = { getItem: () => null, setItem() {}, removeItem() {} };

/** The browser's anonymous viewer id (`v_` + a random UUID), made once and kept. */
export function anonymousId(store: KeyValueStore = safeStorage()): string {
  const existing = store.getItem(VIEWER_ID_KEY);
  if (existing && ANON_ID.test(existing)) return existing;
  const id = `v_${randomUUID()}`;
  store.setItem(VIEWER_ID_KEY, id);
  return id;
}
