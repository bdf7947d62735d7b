/**
 * `livetier predict`: fits BG/NBD and Gamma-Gamma on a transaction file and prints the parameters,
 * the holdout check, and (with --out) one row per customer. This file is the I/O around the pure
 * code in server/predict: the flags, streaming the file line by line (files can be millions of
 * lines), and writing --out atomically (a temporary file beside it, renamed when complete), so a
 * failed run leaves no half-written file, and an earlier --out file as it was.
 *
 * Exit codes: 0 done; 2 bad usage or input (the message on stderr, with the line for a bad line);
 * 1 the output could not be written or the fit failed.
 */
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import {
  CLV_HORIZON_DAYS,
  CUSTOMER_CSV_HEADER,
  customerCsvRow,
  formatReport,
  HOLDOUT_TOP,
  MIN_REPEAT_BUYERS,
  predict,
  PredictError,
  reportJson,
  type CustomerPrediction,
} from '../predict/report.js';
import type { TimeUnit } from '../predict/summary.js';
import { parseIsoDay, TransactionError, TransactionParser, type PurchaseLog } from '../predict/transactions.js';

export const PREDICT_USAGE =
  'livetier predict --transactions FILE --calibration-end YYYY-MM-DD [--holdout-end YYYY-MM-DD] [--unit week|day] [--out FILE] [--json]';

const HELP = `usage: ${PREDICT_USAGE}

Fits the BG/NBD model of repeat purchases and the Gamma-Gamma model of spend on the purchases up to
the calibration end, and prints their parameters.

  --transactions FILE      CSV with a header customer_id,date,amount (date YYYY-MM-DD; other columns
                           ignored), or the CDNOW text format: whitespace columns id [sample_id]
                           YYYYMMDD quantity amount. Told apart by the content. Several orders of one
                           customer on one day count as one purchase, their amounts summed.
  --calibration-end DATE   last day (UTC, included) of the calibration period
  --holdout-end DATE       also compare the repeat purchases predicted for the day after the
                           calibration end through DATE with the actual ones, in total and by the
                           number of repeat purchases in the calibration period (0 … ${HOLDOUT_TOP - 1}, ${HOLDOUT_TOP}+)
  --unit week|day          time unit of the model and of t_x, T (default week)
  --out FILE               one CSV row per customer (written whole or not at all):
                           ${CUSTOMER_CSV_HEADER}
  --json                   print the report as one JSON object instead of text

Columns: x = repeat purchases (purchase days after the first) and t_x = time of the last one after
the first, T = time from the first purchase to the calibration end (in the unit); p_alive = P(still
a customer at the calibration end); expected_holdout / actual_holdout = repeat purchases in the
holdout period (empty without --holdout-end); expected_order_value = Gamma-Gamma's expected amount
of one purchase; clv = expected value of the ${CLV_HORIZON_DAYS} days after the calibration end, undiscounted:
expected purchases in ${CLV_HORIZON_DAYS} days x expected_order_value. With fewer than ${MIN_REPEAT_BUYERS} repeat buyers
Gamma-Gamma is not fitted and expected_order_value is the average amount of a purchase day.

Exit status: 0 done, 2 bad usage or input (a bad line is named), 1 the output could not be written.`;

class UsageError extends Error {}

interface PredictArgs {
  transactions: string;
  calibrationEndDay: number;
  holdoutEndDay?: number;
  unit: TimeUnit;
  out?: string;
  json: boolean;
}

function parse(argv: string[]): PredictArgs | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      transactions: { type: 'string' },
      'calibration-end': { type: 'string' },
      'holdout-end': { type: 'string' },
      unit: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  if (!values.transactions) throw new UsageError('predict needs --transactions FILE');
  const day = (flag: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const d = parseIsoDay(text);
    if (d === null) throw new UsageError(`--${flag} must be a YYYY-MM-DD date, got "${text}"`);
    return d;
  };
  const calibrationEndDay = day('calibration-end', values['calibration-end']);
  if (calibrationEndDay === undefined) throw new UsageError('predict needs --calibration-end YYYY-MM-DD');
  const holdoutEndDay = day('holdout-end', values['holdout-end']);
  if (holdoutEndDay !== undefined && holdoutEndDay <= calibrationEndDay) {
    throw new UsageError(`--holdout-end (${values['holdout-end']}) must be after --calibration-end (${values['calibration-end']})`);
  }
  const unit = values.unit ?? 'week';
  if (unit !== 'week' && unit !== 'day') throw new UsageError(`--unit must be week or day, got "${unit}"`);
  return { transactions: values.transactions, calibrationEndDay, holdoutEndDay, unit, out: values.out, json: values.json ?? false };
}

/** Streams the file into purchases; TransactionError for a bad line, the fs error for an unreadable file. */
async function readTransactions(file: string): Promise<PurchaseLog> {
  const info = await stat(file);
  if (!info.isFile()) throw Object.assign(new Error(`${file} is not a file`), { code: 'ENOTFILE' });
  const input = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let readError: Error | undefined;
  input.on('error', (err) => {
    readError = err;
    lines.close();
  });
  const parser = new TransactionParser();
  try {
    for await (const line of lines) parser.push(line);
  } finally {
    lines.close();
    input.destroy();
  }
  if (readError) throw readError;
  return parser.finish();
}

/** Writes the rows to a temporary file beside `path`, flushed, then renames it over `path`. */
async function writeCustomers(path: string, customers: CustomerPrediction[]): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const file = await open(tmp, 'wx');
  let closed = false;
  try {
    let chunk = CUSTOMER_CSV_HEADER + '\n';
    for (const c of customers) {
      chunk += customerCsvRow(c) + '\n';
      if (chunk.length >= 1 << 20) {
        await file.write(chunk);
        chunk = '';
      }
    }
    await file.write(chunk);
    await file.sync();
    closed = true;
    await file.close();
    await rename(tmp, path);
  } catch (err) {
    if (!closed) await file.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

function fail(message: string, code: number): void {
  console.error(message);
  process.exitCode = code;
}

export async function predictCommand(argv: string[]): Promise<void> {
  let args: PredictArgs | 'help';
  try {
    args = parse(argv);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      return fail(`${(err as Error).message}\nusage: ${PREDICT_USAGE}\n(livetier predict --help for more)`, 2);
    }
    throw err;
  }
  if (args === 'help') {
    console.log(HELP);
    return;
  }
  let log: PurchaseLog;
  try {
    log = await readTransactions(args.transactions);
  } catch (err) {
    if (err instanceof TransactionError) return fail(`predict: ${args.transactions}: ${err.message}`, 2);
    const code = (err as { code?: string }).code;
    if (code) return fail(`predict: cannot read ${args.transactions}: ${(err as Error).message}`, 2);
    throw err;
  }
  let prediction: ReturnType<typeof predict>;
  try {
    prediction = predict(log, { calibrationEndDay: args.calibrationEndDay, holdoutEndDay: args.holdoutEndDay, unit: args.unit });
  } catch (err) {
    if (err instanceof PredictError) return fail(`predict: ${err.message}`, 2);
    return fail(`predict: the fit failed: ${(err as Error).message}`, 1);
  }
  if (args.out) {
    try {
      await writeCustomers(args.out, prediction.customers);
    } catch (err) {
      return fail(`predict: cannot write ${args.out}: ${(err as Error).message}`, 1);
    }
  }
  for (const w of prediction.warnings) console.error(`warning: ${w}`);
  if (args.json) {
    const out = args.out ? { file: args.out, customers: prediction.customers.length } : null;
    process.stdout.write(JSON.stringify({ ...reportJson(prediction), out }, null, 2) + '\n');
  } else {
    let text = formatReport(prediction);
    if (args.out) text += `wrote ${prediction.customers.length.toLocaleString('en')} customers to ${args.out}\n`;
    process.stdout.write(text);
  }
}
