/**
 * Test-only loader for the CDNOW data set (Fader, Hardie & Lee; the copy the lifetimes library ships,
 * in shared/data/cdnow beside the repository, or /work/shared/data/cdnow). Kept beside the tests
 * that use it; nothing in the server imports it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function dataDir(): string {
  const candidates = [
    process.env.LIVETIER_CDNOW_DIR,
    resolve(here, '../../../shared/data/cdnow'),
    '/work/shared/data/cdnow',
  ].filter((d): d is string => typeof d === 'string' && d.length > 0);
  for (const d of candidates) if (existsSync(resolve(d, 'CDNOW_sample.txt'))) return d;
  throw new Error(`CDNOW data not found (looked in ${candidates.join(', ')}); set LIVETIER_CDNOW_DIR`);
}

/** The path of one of the CDNOW files (CDNOW_sample.txt, CDNOW_master.txt, …). */
export function cdnowPath(name: string): string {
  return resolve(dataDir(), name);
}

export interface CdnowSummaryRow {
  id: string;
  x: number;
  t_x: number;
  T: number;
  zbar: number;
}

/** cdnow_customers_summary_with_transactions.csv: ID,x,t_x,T,zbar, weeks, 2357 customers */
export function cdnowSummaries(): CdnowSummaryRow[] {
  const text = readFileSync(resolve(dataDir(), 'cdnow_customers_summary_with_transactions.csv'), 'utf8');
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [id, x, t_x, T, zbar] = line.trim().split(',');
      return { id, x: Number(x), t_x: Number(t_x), T: Number(T), zbar: Number(zbar) };
    });
}

export interface CdnowPurchase {
  sampleId: string;
  /** UTC midnight of the purchase day, epoch ms */
  at: number;
  cds: number;
  dollars: number;
}

/** CDNOW_sample.txt: master_id sample_id YYYYMMDD n_cds dollars, 6919 rows */
export function cdnowSamplePurchases(): CdnowPurchase[] {
  const text = readFileSync(resolve(dataDir(), 'CDNOW_sample.txt'), 'utf8');
  const out: CdnowPurchase[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const d = f[2];
    out.push({
      sampleId: f[1],
      at: Date.UTC(Number(d.slice(0, 4)), Number(d.slice(4, 6)) - 1, Number(d.slice(6, 8))),
      cds: Number(f[3]),
      dollars: Number(f[4]),
    });
  }
  return out;
}
