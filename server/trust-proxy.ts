/**
 * Issue 8: which peers are trusted proxies, so per-IP limits count the client behind them.
 * One rule for Fastify (`trustProxy`, REST) and socket.io (new connections), read from
 * `X-Forwarded-For` by @fastify/proxy-addr, the module Fastify itself uses.
 */
import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

/** off; the number of proxy hops in front of the server; or the proxies' addresses / CIDRs (or `loopback`, `linklocal`, `uniquelocal`) */
export type TrustProxy = false | number | string[];

export type TrustFn = (addr: string, hop: number) => boolean;

/**
 * The trust rule, or undefined when off. A hop count trusts that many hops whoever they are (as
 * Express does; Fastify's own number option no longer does): only for a server reachable solely
 * through those proxies. Throws on a malformed address list.
 */
export function trustFn(tp: TrustProxy): TrustFn | undefined {
  if (tp === false || tp === 0 || (Array.isArray(tp) && tp.length === 0)) return undefined;
  if (typeof tp === 'number') return (_addr, hop) => hop < tp;
  return proxyAddr.compile(tp);
}

/** The client's address: the TCP peer, or the first untrusted address of `X-Forwarded-For` under `trust`. */
export function clientAddress(req: IncomingMessage, trust: TrustFn | undefined): string {
  if (!trust) return req.socket.remoteAddress ?? '';
  return proxyAddr(req, trust);
}
