/**
 * The PostgreSQL store: the `Store` contract over a `pg` pool, for deployments where several
 * LiveTier servers share one database. Everything that reads, decides and writes as one unit runs
 * in one transaction with the locks it needs (offers.ts, ingest.ts), so quotas, budgets, single
 * use and dedup hold across servers, not just within one process.
 *
 * `createPostgresStore` connects first and fails fast with a one-line `StoreUnavailableError`
 * when the database cannot be reached, then applies the migrations and makes sure today's and
 * tomorrow's event partitions exist.
 */
import type { Store } from '../types.js';
import { Db, DEFAULT_POOL_SIZE } from './pool.js';
import { migrate } from './migrations.js';
import { DAY_MS, dayStart, Partitions } from './partitions.js';
import { ingest } from './ingest.js';
import { issueOffers, recordPurchase, recordPurchases, redeem, refund } from './offers.js';
import { alias, csvRows, eraseViewer, exportViewer, listViewers, setTiers } from './viewers.js';
import { streamOps } from './streams.js';
import { queries } from './queries.js';
import { campaignOps } from './campaigns.js';
import { dashboardOps } from './dashboard.js';
import { jobOps } from './jobs.js';
import { historyOps } from './history.js';
import { webhookOps } from './webhooks.js';
import { lifecycleOps } from './lifecycle.js';
import { modelOps } from './models.js';
import { overviewOps } from './overview.js';

export { DEFAULT_POOL_SIZE } from './pool.js';
export { DEDUP_WINDOW_DAYS } from './ingest.js';
export { MIGRATIONS } from './migrations.js';
export { partitionName } from './partitions.js';

export interface PostgresStoreOptions {
  /** connections in the pool (default DEFAULT_POOL_SIZE) */
  poolSize?: number;
}

export async function createPostgresStore(url: string, opts: PostgresStoreOptions = {}): Promise<Store> {
  const db = new Db(url, opts.poolSize ?? DEFAULT_POOL_SIZE);
  const partitions = new Partitions(db);
  try {
    await db.check();
    await migrate(db.pool).catch((err) => {
      throw db.wrap(err);
    });
    const today = dayStart(Date.now());
    await Promise.all([partitions.ensure(today), partitions.ensure(today + DAY_MS)]);
  } catch (err) {
    await db.end().catch(() => {});
    throw err;
  }

  const store: Store = {
    kind: 'postgres',
    async ping() {
      await db.query('SELECT 1');
    },
    close: () => db.end(),

    ...streamOps(db),
    ...queries(db),
    ...campaignOps(db),
    ...dashboardOps(db),
    ...jobOps(db),
    ...historyOps(db),
    ...webhookOps(db),
    ...lifecycleOps(db),
    ...modelOps(db),
    ...overviewOps(db),

    setTiers: (rows) => setTiers(db, rows),
    listViewers: (q) => listViewers(db, q),
    exportViewer: (channel, viewerId) => exportViewer(db, channel, viewerId),
    eraseViewer: (channel, viewerId, erasedId) => eraseViewer(db, channel, viewerId, erasedId),
    alias: (channel, from, into, now) => alias(db, channel, from, into, now),
    csvRows: (channel, streamId) => csvRows(db, channel, streamId),

    ingest: (jobs) => (jobs.length ? ingest(db, partitions, jobs) : Promise.resolve([])),

    recordPurchase: (r) => recordPurchase(db, r),
    recordPurchases: (rs) => recordPurchases(db, rs),
    refund: (channel, orderId, refundedTotal) => refund(db, channel, orderId, refundedTotal),
    redeem: (channel, code, orderId, viewerId, now) => redeem(db, channel, code, orderId, viewerId, now),
    issueOffers: (req) => issueOffers(db, req),

    purgeEvents: (cutoff, batch) => partitions.purge(cutoff, batch),
  };
  return store;
}
