/**
 * `livetier import-orders --server URL --ingest-key KEY FILE.csv`: a shop's order history into
 * LiveTier, through `POST /v1/purchases/batch` (1,000 orders a call), so its viewers are tiered and
 * its model fitted from the first stream. The file: a header `order_id,customer_id,date,amount,
 * currency[,skus]` (`date` YYYY-MM-DD or ISO 8601; `amount` in the currency's major units, `129.90`;
 * `skus` separated by `|`). Read as a stream; a progress line on stderr; at the end a summary and
 * the rejected lines with their line numbers. Re-running it is safe: the server records an order
 * once (by `order_id`), so an interrupted import is resumed by running it again.
 *
 * The pure parts (CSV fields, a row to an order) are exported for the unit tests.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

export const IMPORT_USAGE = 'livetier import-orders --server URL --ingest-key KEY [--batch 1000] FILE.csv';
const HEADER = ['order_id', 'customer_id', 'date', 'amount', 'currency'] as const;

export class ImportError extends Error {}

/** One CSV line's fields (RFC 4180 quotes; a quoted field may not span lines here). */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new ImportError('a quoted field is not closed');
        v += line.slice(i, q);
        if (line[q + 1] === '"') {
          v += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      out.push(v);
      if (i >= line.length) return out;
      if (line[i] !== ',') throw new ImportError('text after a quoted field');
      i++;
    } else {
      const c = line.indexOf(',', i);
      if (c < 0) {
        out.push(line.slice(i).trim());
        return out;
      }
      out.push(line.slice(i, c).trim());
      i = c + 1;
    }
  }
}

/** digits after the decimal point in `currency` (2 for CNY, 0 for JPY); null when not a currency */
function minorDigits(currency: string): number | null {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return null;
  }
}

export interface Order {
  orderId: string;
  viewerId: string;
  amount: number;
  currency: string;
  at: string;
  items?: { sku: string }[];
}

/** The column indexes of a header line; throws naming what is missing. */
export function readHeader(line: string): { index: Record<(typeof HEADER)[number], number>; skus: number | null } {
  const names = csvFields(line.replace(/^\uFEFF/, '')).map((n) => n.toLowerCase());
  const index = {} as Record<(typeof HEADER)[number], number>;
  for (const h of HEADER) {
    const at = names.indexOf(h);
    if (at < 0) throw new ImportError(`the header has no ${h} column (it needs ${HEADER.join(',')}[,skus])`);
    index[h] = at;
  }
  const skus = names.indexOf('skus');
  return { index, skus: skus < 0 ? null : skus };
}

/** One data line as an order; throws an ImportError naming the column. */
export function toOrder(fields: string[], h: ReturnType<typeof readHeader>): Order {
  const get = (k: (typeof HEADER)[number]) => fields[h.index[k]] ?? '';
  const orderId = get('order_id');
  const viewerId = get('customer_id');
  if (!orderId) throw new ImportError('order_id is empty');
  if (!viewerId) throw new ImportError('customer_id is empty');
  const currency = get('currency').toUpperCase();
  const digits = minorDigits(currency);
  if (!/^[A-Z]{3}$/.test(currency) || digits === null) throw new ImportError(`currency "${get('currency')}" is not an ISO 4217 code`);
  const raw = get('amount');
  const m = /^(\d+)(?:\.(\d+))?$/.exec(raw);
  if (!m || (m[2] ?? '').length > digits) throw new ImportError(`amount "${raw}" is not an amount in ${currency} (major units, at most ${digits} decimals)`);
  const amount = Number(m[1]) * 10 ** digits + Number((m[2] ?? '').padEnd(digits, '0') || 0);
  if (!Number.isSafeInteger(amount)) throw new ImportError(`amount "${raw}" is too large`);
  const date = get('date');
  const at = /^\d{4}-\d{2}-\d{2}$/.test(date) ? `${date}T00:00:00Z` : date;
  if (!Number.isFinite(Date.parse(at))) throw new ImportError(`date "${date}" is not YYYY-MM-DD or an ISO 8601 time`);
  const order: Order = { orderId, viewerId, amount, currency, at: new Date(Date.parse(at)).toISOString() };
  if (h.skus !== null) {
    const skus = (fields[h.skus] ?? '').split('|').map((x) => x.trim()).filter(Boolean);
    if (skus.length) order.items = skus.map((sku) => ({ sku }));
  }
  return order;
}

interface Rejected {
  line: number;
  message: string;
}

export async function importOrdersCommand(argv: string[], out = process.stdout, err = process.stderr): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { server: { type: 'string' }, 'ingest-key': { type: 'string' }, batch: { type: 'string' }, help: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    out.write(`usage: ${IMPORT_USAGE}\n`);
    return 0;
  }
  const server = values.server?.replace(/\/+$/, '');
  const key = values['ingest-key'] ?? process.env.LIVETIER_INGEST_KEY;
  const file = positionals[0];
  const size = Number(values.batch ?? 1000);
  if (!server || !key || !file || positionals.length > 1 || !Number.isInteger(size) || size < 1 || size > 1000) {
    err.write(`usage: ${IMPORT_USAGE}\n`);
    return 2;
  }
  const rejected: Rejected[] = [];
  const totals = { lines: 0, recorded: 0, duplicates: 0, conflicts: 0, rejected: 0 };
  const started = Date.now();
  let pending: { line: number; order: Order }[] = [];
  const progress = () => {
    const s = (Date.now() - started) / 1000;
    err.write(`\r${totals.lines.toLocaleString('en')} orders read, ${totals.recorded.toLocaleString('en')} recorded, ${(totals.duplicates).toLocaleString('en')} already there, ${(totals.conflicts + totals.rejected).toLocaleString('en')} rejected (${Math.round(totals.lines / Math.max(s, 0.001)).toLocaleString('en')}/s)`);
  };
  async function flush() {
    if (!pending.length) return;
    const batch = pending;
    pending = [];
    const res = await fetch(`${server}/v1/purchases/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ orders: batch.map((b) => b.order) }),
    }).catch((e: Error) => {
      throw new ImportError(`cannot reach ${server}: ${e.message}`);
    });
    const body = (await res.json().catch(() => null)) as { results?: { index: number; status: number; message?: string }[]; message?: string } | null;
    if (!res.ok || !body?.results) throw new ImportError(`the server answered ${res.status}: ${body?.message ?? 'no batch result'}`);
    for (const r of body.results) {
      if (r.status === 201) totals.recorded++;
      else if (r.status === 200) totals.duplicates++;
      else {
        if (r.status === 409) totals.conflicts++;
        else totals.rejected++;
        rejected.push({ line: batch[r.index]!.line, message: r.message ?? String(r.status) });
      }
    }
    progress();
  }

  let header: ReturnType<typeof readHeader> | null = null;
  let n = 0;
  try {
    const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const raw of lines) {
      n++;
      const line = raw.replace(/\r$/, '');
      if (!line.trim()) continue;
      if (!header) {
        header = readHeader(line);
        continue;
      }
      totals.lines++;
      try {
        pending.push({ line: n, order: toOrder(csvFields(line), header) });
      } catch (e) {
        if (!(e instanceof ImportError)) throw e;
        totals.rejected++;
        rejected.push({ line: n, message: e.message });
      }
      if (pending.length >= size) await flush();
    }
    await flush();
  } catch (e) {
    if (e instanceof ImportError || (e as NodeJS.ErrnoException).code === 'ENOENT') {
      err.write(`\nlivetier import-orders: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? `cannot read ${file}` : (e as Error).message}\n`);
      err.write('nothing after that was sent; run the same command again to go on (orders already recorded are not recorded twice)\n');
      return 1;
    }
    throw e;
  }
  if (!header) {
    err.write(`livetier import-orders: ${file} is empty (it needs a header ${HEADER.join(',')}[,skus])\n`);
    return 2;
  }
  progress();
  err.write('\n');
  const s = ((Date.now() - started) / 1000).toFixed(1);
  out.write(`${totals.lines.toLocaleString('en')} orders in ${s} s: ${totals.recorded.toLocaleString('en')} recorded, ${totals.duplicates.toLocaleString('en')} already recorded, ${totals.conflicts.toLocaleString('en')} conflicting, ${totals.rejected.toLocaleString('en')} rejected\n`);
  for (const r of rejected.slice(0, 100)) out.write(`  line ${r.line}: ${r.message}\n`);
  if (rejected.length > 100) out.write(`  … and ${(rejected.length - 100).toLocaleString('en')} more\n`);
  return rejected.length ? 3 : 0;
}
