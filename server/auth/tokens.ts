/**
 * Viewer tokens: HS256 JWTs (fast-jwt) signed with the channel's secret. The merchant's backend
 * asks for one with its ingest key and hands it to a logged-in viewer's page. The secret can be
 * rotated (routes/channels.ts): new tokens are signed with the new one at once, and tokens signed
 * with the replaced one keep verifying until its grace period ends.
 */
import { randomBytes } from 'node:crypto';
import { createSigner, createVerifier } from 'fast-jwt';

/** a new channel token secret: 32 random bytes, as the channel's first one is made */
export const newChannelSecret = (): string => randomBytes(32).toString('base64url');

export const TOKEN_TTL_SECONDS = 24 * 3600;

export interface ViewerClaims {
  sub: string;
  ch: string;
}

export function signViewerToken(secret: string, channel: string, viewerId: string, now: number, ttlSeconds = TOKEN_TTL_SECONDS): string {
  const sign = createSigner({ key: secret, algorithm: 'HS256', clockTimestamp: now, expiresIn: ttlSeconds * 1000, iss: 'livetier' });
  return sign({ sub: viewerId, ch: channel });
}

/** The claims of a valid token for this channel, or null (bad signature, expired, other channel, malformed). */
export function verifyViewerToken(secret: string, channel: string, token: string, now: number): ViewerClaims | null {
  try {
    const verify = createVerifier({ key: secret, algorithms: ['HS256'], clockTimestamp: now, allowedIss: 'livetier', cache: false });
    const claims = verify(token) as ViewerClaims;
    if (claims.ch !== channel || typeof claims.sub !== 'string' || !claims.sub) return null;
    return claims;
  } catch {
    return null;
  }
}

/**
 * The claims of a token valid under the channel's current secret or, failing that, the replaced
 * one still in its grace period (`previous`, null when there is none), or null.
 */
export function verifyViewerTokenWith(
  secrets: { current: string; previous: string | null },
  channel: string,
  token: string,
  now: number,
): ViewerClaims | null {
  return verifyViewerToken(secrets.current, channel, token, now)
    ?? (secrets.previous !== null ? verifyViewerToken(secrets.previous, channel, token, now) : null);
}
