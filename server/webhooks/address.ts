/**
 * Where a webhook may be sent (Server-Side Request Forgery guard). A webhook URL is the merchant's,
 * but whoever holds the admin key chooses it, and the server sends from inside the operator's
 * network; so by default only `https` to public addresses. The check runs on the addresses the name
 * resolves to (every one of them), at registration and again before each connection, and the
 * connection is made to the address that was checked (no second lookup a DNS rebinding could
 * answer differently). Pure but for the resolver, which the caller passes.
 */
import { BlockList, isIP } from 'node:net';

export interface TargetPolicy {
  /** `--webhooks-allow-http`: `http:` URLs and loopback targets (a receiver on this machine, for development and tests) */
  allowHttp: boolean;
}

export type Resolve = (host: string) => Promise<{ address: string; family: 4 | 6 }[]>;

/** never a webhook target: private, link-local, loopback (unless allowed), unspecified, multicast, reserved */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24],
  ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) blocked.addSubnet(net, prefix, 'ipv6');
const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** an IPv4-mapped IPv6 address (::ffff:10.0.0.1) is checked as the IPv4 address it carries */
function normalize(address: string): { address: string; type: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { address: mapped[1]!, type: 'ipv4' };
  return { address, type: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

/** why this address may not be a target, or null */
export function refusedAddress(address: string, policy: TargetPolicy): string | null {
  const a = normalize(address);
  if (loopback.check(a.address, a.type)) return policy.allowHttp ? null : `${address} is a loopback address`;
  if (blocked.check(a.address, a.type)) return `${address} is a private, link-local or reserved address`;
  return null;
}

/** why this URL may not be a webhook target before any lookup (scheme, credentials), or null */
export function refusedUrl(raw: string, policy: TargetPolicy): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'url is not a valid URL';
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && policy.allowHttp)) {
    return policy.allowHttp ? 'url must be http(s)' : 'url must use https (http needs --webhooks-allow-http)';
  }
  if (u.username || u.password) return 'url must not carry credentials';
  return null;
}

/**
 * The address to connect to for `raw`, after every address its host resolves to passed the
 * policy; a reason when one did not (a name with one private address among public ones is refused).
 */
export async function checkTarget(raw: string, policy: TargetPolicy, resolve: Resolve): Promise<{ ok: true; address: string; family: 4 | 6 } | { ok: false; reason: string }> {
  const early = refusedUrl(raw, policy);
  if (early) return { ok: false, reason: early };
  const host = new URL(raw).hostname.replace(/^\[|\]$/g, '');
  let addresses: { address: string; family: 4 | 6 }[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) as 4 | 6 }];
  else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      return { ok: false, reason: `${host} does not resolve (${(err as Error).message})` };
    }
  }
  if (!addresses.length) return { ok: false, reason: `${host} does not resolve` };
  for (const a of addresses) {
    const why = refusedAddress(a.address, policy);
    if (why) return { ok: false, reason: why };
  }
  return { ok: true, ...addresses[0]! };
}

/**
 * When attempt `n` (1 = the first retry) of a failed delivery runs, after the first try: 5 s, 30 s,
 * 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, then every 8 h until 24 h have passed (null: give up).
 */
export const RETRY_SCHEDULE_MS = [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000];
export const RETRY_FOR_MS = 24 * 3_600_000;

export function nextAttemptAt(firstTriedAt: number, failures: number, now: number): number | null {
  const wait = RETRY_SCHEDULE_MS[Math.min(failures - 1, RETRY_SCHEDULE_MS.length - 1)]!;
  const at = now + wait;
  return at - firstTriedAt > RETRY_FOR_MS ? null : at;
}
