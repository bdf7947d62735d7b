/**
 * Transaction files for `livetier predict`, read line by line (the caller streams the file, so a
 * file of millions of lines is never held as text) into purchases merged by customer and UTC day.
 *
 * Two formats, told apart by the first non-blank line:
 * - CSV (that line has a comma): a header naming `customer_id`, `date` (YYYY-MM-DD) and `amount`, in
 *   any order, any case, other columns ignored; fields may be double-quoted (a quote inside doubled;
 *   a quoted customer_id keeps its spaces), but a field may not span lines;
 * - the CDNOW text format (Fader & Hardie's CDNOW files): whitespace-separated columns
 *   `id [sample_id] YYYYMMDD quantity amount`, with or without the sample-id column (every line like
 *   the first), and an optional header line, one without any number (CDNOW_master.txt has one). The
 *   customer is the first column (the sample id only numbers the customers of a sample).
 * A byte-order mark, CRLF line ends and blank lines are accepted. Amounts are non-negative decimals.
 *
 * Several orders of one customer on one day are one purchase, their amounts summed (the convention of
 * the BG/NBD and Gamma-Gamma literature, and of ./summary.ts). Anything else wrong is a
 * TransactionError naming the line; nothing is guessed.
 */
import type { Purchase } from './summary.js';

export type TransactionFormat = 'csv' | 'cdnow';

const DAY_MS = 86_400_000;

/** A bad transaction file; `line` is 1-based, 0 when the fault is the file as a whole. */
export class TransactionError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(line > 0 ? `line ${line}: ${reason}` : reason);
    this.name = 'TransactionError';
  }
}

/** Purchases merged by customer and UTC day (days since 1970-01-01), amounts summed. */
export class PurchaseLog {
  private readonly byCustomer = new Map<string, Map<number, number>>();
  /** transaction rows read (before merging) */
  transactions = 0;
  /** customer-days (purchases, after merging) */
  purchaseDays = 0;
  firstDay = Infinity;
  lastDay = -Infinity;

  add(customerId: string, day: number, amount: number): void {
    this.transactions++;
    let days = this.byCustomer.get(customerId);
    if (!days) {
      days = new Map();
      this.byCustomer.set(customerId, days);
    }
    const before = days.get(day);
    if (before === undefined) this.purchaseDays++;
    days.set(day, (before ?? 0) + amount);
    if (day < this.firstDay) this.firstDay = day;
    if (day > this.lastDay) this.lastDay = day;
  }

  get customers(): number {
    return this.byCustomer.size;
  }

  /** One purchase per customer and day, at the day's UTC midnight (the input of summarize). */
  *purchases(): IterableIterator<Purchase> {
    for (const [customerId, days] of this.byCustomer) {
      for (const [day, amount] of days) yield { customerId, at: day * DAY_MS, amount };
    }
  }

  /** The customer's purchase days and amounts (undefined for an unknown customer). */
  days(customerId: string): ReadonlyMap<number, number> | undefined {
    return this.byCustomer.get(customerId);
  }

  /** Purchase days of the customer in (afterDay, throughDay]. */
  purchasesBetween(customerId: string, afterDay: number, throughDay: number): number {
    let n = 0;
    for (const day of this.byCustomer.get(customerId)?.keys() ?? []) if (day > afterDay && day <= throughDay) n++;
    return n;
  }
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const COMPACT_DATE = /^(\d{4})(\d{2})(\d{2})$/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The UTC day number of a calendar date, or null when it is not one (2023-02-30). */
function calendarDay(y: string, m: string, d: string): number | null {
  const year = Number(y);
  const month = Number(m);
  const day = Number(d);
  const ms = Date.UTC(year, month - 1, day);
  const check = new Date(ms);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  return ms / DAY_MS;
}

/** The UTC day number of `YYYY-MM-DD`, or null. */
export function parseIsoDay(text: string): number | null {
  const m = ISO_DATE.exec(text);
  return m ? calendarDay(m[1], m[2], m[3]) : null;
}

function parseCompactDay(text: string): number | null {
  const m = COMPACT_DATE.exec(text);
  return m ? calendarDay(m[1], m[2], m[3]) : null;
}

/** `YYYY-MM-DD` of a UTC day number. */
export function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Splits one CSV line into trimmed fields; null when a quoted field is not closed on the line. */
function splitCsvLine(line: string): string[] | null {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return null;
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      const comma = line.indexOf(',', i);
      const rest = comma < 0 ? line.slice(i) : line.slice(i, comma);
      if (rest.trim() !== '') return null; // text after a closing quote
      fields.push(value);
      if (comma < 0) return fields;
      i = comma + 1;
    } else {
      const comma = line.indexOf(',', i);
      fields.push((comma < 0 ? line.slice(i) : line.slice(i, comma)).trim());
      if (comma < 0) return fields;
      i = comma + 1;
    }
  }
}

const CSV_COLUMNS = ['customer_id', 'date', 'amount'] as const;
const CDNOW_COLUMNS = { 4: 'id, YYYYMMDD, quantity, amount', 5: 'id, sample id, YYYYMMDD, quantity, amount' } as const;

function amountOf(text: string, line: number): number {
  if (!DECIMAL.test(text)) throw new TransactionError(line, `amount "${text}" is not a number`);
  const v = Number(text);
  if (!Number.isFinite(v)) throw new TransactionError(line, `amount "${text}" is not a finite number`);
  if (v < 0) throw new TransactionError(line, `amount ${text} is negative (a purchase amount must be >= 0)`);
  return v;
}

/**
 * Reads a transaction file one line at a time: `push` each line (without its line end; a trailing
 * CR is dropped), then `finish`. Lines are numbered from 1 in the order pushed.
 */
export class TransactionParser {
  readonly log: PurchaseLog;
  format: TransactionFormat | null = null;
  private lineNo = 0;
  private header = false;
  /** CSV: field positions of customer_id, date, amount, and the field count of every row */
  private csv: { id: number; date: number; amount: number; width: number } | null = null;
  /** CDNOW: 4 or 5 columns, fixed by the first data line */
  private cdnowWidth: 4 | 5 | null = null;
  private cdnowFirstLine = 0;
  /** date text to day: a file has few distinct dates and many lines, and Date is the slow part */
  private readonly dayCache = new Map<string, number | null>();

  constructor(log: PurchaseLog = new PurchaseLog()) {
    this.log = log;
  }

  /** the number of the last line pushed */
  get line(): number {
    return this.lineNo;
  }

  push(raw: string): void {
    const n = ++this.lineNo;
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (n === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    if (line.trim() === '') return;
    if (this.format === null) {
      this.format = line.includes(',') ? 'csv' : 'cdnow';
      if (this.format === 'csv') return this.csvHeader(line, n);
      const fields = line.trim().split(/\s+/);
      if (!fields.some((f) => DECIMAL.test(f))) {
        this.header = true; // CDNOW_master.txt: "customer_id date number_of_cds dollar_value"
        return;
      }
    }
    if (this.format === 'csv') this.csvRow(line, n);
    else this.cdnowRow(line, n);
  }

  /** The purchases read; throws when the file held no transaction. */
  finish(): PurchaseLog {
    if (this.log.transactions === 0) {
      const what = this.format === null ? 'the file is empty' : this.format === 'csv' || this.header ? 'the file has a header and no transactions' : 'no transactions';
      throw new TransactionError(0, what);
    }
    return this.log;
  }

  private cachedDay(text: string, parseDay: (text: string) => number | null): number | null {
    let day = this.dayCache.get(text);
    if (day === undefined) {
      day = parseDay(text);
      if (this.dayCache.size >= 100_000) this.dayCache.clear();
      this.dayCache.set(text, day);
    }
    return day;
  }

  private csvHeader(line: string, n: number): void {
    const names = splitCsvLine(line)?.map((f) => f.toLowerCase());
    const expected = CSV_COLUMNS.join(',');
    if (!names) throw new TransactionError(n, `the header has an unclosed quote (expected ${expected})`);
    const at = (name: string): number => names.indexOf(name);
    const missing = CSV_COLUMNS.filter((c) => at(c) < 0);
    if (missing.length > 0) {
      throw new TransactionError(
        n,
        `a CSV file starts with the header ${expected}; this one has no ${missing.join(', ')} column (got "${line.trim()}")`,
      );
    }
    this.csv = { id: at('customer_id'), date: at('date'), amount: at('amount'), width: names.length };
    this.header = true;
  }

  private csvRow(line: string, n: number): void {
    const c = this.csv!;
    const f = splitCsvLine(line);
    if (!f) throw new TransactionError(n, 'unclosed or misplaced quote');
    if (f.length !== c.width) {
      throw new TransactionError(n, `expected ${c.width} comma-separated fields like the header, got ${f.length}`);
    }
    const id = f[c.id];
    if (id === '') throw new TransactionError(n, 'customer_id is empty');
    // a quoted customer_id keeps its spaces; a date or amount never has any
    const date = f[c.date].trim();
    const day = this.cachedDay(date, parseIsoDay);
    if (day === null) throw new TransactionError(n, `date "${date}" is not a YYYY-MM-DD date`);
    this.log.add(id, day, amountOf(f[c.amount].trim(), n));
  }

  private cdnowRow(line: string, n: number): void {
    const f = line.trim().split(/\s+/);
    if (this.cdnowWidth === null) {
      if (f.length !== 4 && f.length !== 5) {
        throw new TransactionError(
          n,
          `expected the CDNOW columns (${CDNOW_COLUMNS[5]}, the sample id optional) or a CSV file with the header customer_id,date,amount; got ${f.length} column${f.length === 1 ? '' : 's'}`,
        );
      }
      this.cdnowWidth = f.length;
      this.cdnowFirstLine = n;
    } else if (f.length !== this.cdnowWidth) {
      throw new TransactionError(
        n,
        `expected ${this.cdnowWidth} columns (${CDNOW_COLUMNS[this.cdnowWidth]}) like line ${this.cdnowFirstLine}, got ${f.length}`,
      );
    }
    const off = this.cdnowWidth - 4;
    const [id, date, quantity, amount] = [f[0], f[1 + off], f[2 + off], f[3 + off]];
    const day = this.cachedDay(date, parseCompactDay);
    if (day === null) throw new TransactionError(n, `date "${date}" is not a YYYYMMDD date`);
    if (!/^\d+$/.test(quantity)) throw new TransactionError(n, `quantity "${quantity}" is not a whole number`);
    this.log.add(id, day, amountOf(amount, n));
  }
}

/** Parses a whole file's lines (tests, small inputs); the CLI pushes lines as it streams them. */
export function parseTransactions(lines: Iterable<string>): { log: PurchaseLog; format: TransactionFormat } {
  const parser = new TransactionParser();
  for (const line of lines) parser.push(line);
  const log = parser.finish();
  return { log, format: parser.format! };
}
