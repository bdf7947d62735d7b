/** The Redis the cluster-mode tests use (LIVETIER_TEST_REDIS, by default the local one), and whether it answers. */
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.LIVETIER_TEST_REDIS ?? 'redis://127.0.0.1:6379';

/** null when Redis answers a PING; else why not */
export async function redisUnreachable(): Promise<string | null> {
  const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.ping();
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    r.disconnect();
  }
}
