/**
 * A channel's read-only key (`lt_channel_…`): it reads that channel's overview and nothing else,
 * so a merchant can hand it to whoever compares the channel's streams without giving them the
 * admin key or a host key. The admin issues and rotates it; only its SHA-256 digest is stored,
 * and the one a rotation replaced keeps working for a grace period, as stream keys do.
 */
import type { Store } from '../store/types.js';
import { generateKey, graceUntil, hashKey } from './keys.js';

export const CHANNEL_KEY_PREFIX = 'lt_channel_';

/**
 * The channel this key reads (current, or replaced and still in its grace period), or null. Only
 * a key with the channel prefix is looked up: any other string is no channel key, at no cost.
 */
export async function channelForKey(store: Store, key: string, now = Date.now()): Promise<string | null> {
  if (!key.startsWith(CHANNEL_KEY_PREFIX)) return null;
  return store.channelForKey(hashKey(key), now);
}

/** A new key for the channel; the old one stays valid for `graceSeconds` (0: it stops now). null: unknown channel. */
export async function rotateChannelKey(
  store: Store,
  channel: string,
  graceSeconds: number,
  now = Date.now(),
): Promise<{ channelKey: string; previousValidUntil: number | null } | null> {
  const channelKey = generateKey('channel');
  const previousValidUntil = graceUntil(graceSeconds, now);
  if (!(await store.rotateChannelKey(channel, hashKey(channelKey), previousValidUntil, now))) return null;
  return { channelKey, previousValidUntil };
}
