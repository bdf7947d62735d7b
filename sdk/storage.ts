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

/**
 * localStorage behind a write-through memory copy: reads prefer what this page wrote, so a
 * failed write (quota) never resurfaces an older value, and nothing here ever throws.
 */
export function safeStorage(): KeyValueStore {
  const memory = new Map<string, string>();
  let local: Storage | null = null;
  try {
    local = globalThis.localStorage ?? null;
  } catch {
    // accessing the property itself throws when site data is blocked
  }
  return {
    getItem(key) {
      if (memory.has(key)) return memory.get(key)!;
      try {
        return local?.getItem(key) ?? null;
      } catch {
        return null;
      }
    },
    setItem(key, value) {
      memory.set(key, value);
      try {
        local?.setItem(key, value);
      } catch {
        // memory keeps it for this page
      }
    },
    removeItem(key) {
      memory.delete(key);
      try {
        local?.removeItem(key);
      } catch {
        // nothing to undo
      }
    },
  };
}

/** The browser's anonymous viewer id (`v_` + a random UUID), made once and kept. */
export function anonymousId(store: KeyValueStore = safeStorage()): string {
  const existing = store.getItem(VIEWER_ID_KEY);
  if (existing && /^v_[A-Za-z0-9-]{1,64}$/.test(existing)) return existing;
  const id = `v_${randomUUID()}`;
  store.setItem(VIEWER_ID_KEY, id);
  return id;
}
