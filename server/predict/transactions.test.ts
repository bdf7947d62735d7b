/**
 * Transaction files: both formats, told apart by the content, with the file quirks met in practice
 * (BOM, CRLF, blank lines, CDNOW's optional header and sample-id column), same-day orders merged,
 * and every bad line refused with its number.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cdnowPath } from './cdnow-fixture.js';
import { summarize } from './summary.js';
import { isoDay, parseIsoDay, parseTransactions, TransactionError, TransactionParser } from './transactions.js';

const day = (iso: string): number => parseIsoDay(iso)!;

/** the parser's error for these lines (fails the test when there is none) */
function errorOf(lines: string[]): TransactionError {
  try {
    parseTransactions(lines);
  } catch (err) {
    expect(err).toBeInstanceOf(TransactionError);
    return err as TransactionError;
  }
  throw new Error('expected a TransactionError');
}

describe('CSV files', () => {
  it('reads customer_id,date,amount and merges one customer\'s orders of one day', () => {
    const { log, format } = parseTransactions([
      'customer_id,date,amount',
      'a,2024-01-05,10',
      'a,2024-01-05,2.5',
      'b,2024-01-05,7',
      'a,2024-02-01,1e1',
    ]);
    expect(format).toBe('csv');
    expect(log.transactions).toBe(4);
    expect(log.purchaseDays).toBe(3);
    expect(log.customers).toBe(2);
    expect([...log.days('a')!]).toEqual([
      [day('2024-01-05'), 12.5],
      [day('2024-02-01'), 10],
    ]);
    expect(isoDay(log.firstDay)).toBe('2024-01-05');
    expect(isoDay(log.lastDay)).toBe('2024-02-01');
    expect(log.purchasesBetween('a', day('2024-01-05'), day('2024-02-01'))).toBe(1);
    expect(log.purchasesBetween('a', day('2024-01-04'), day('2024-01-31'))).toBe(1);
    expect(log.purchasesBetween('nobody', 0, day('2030-01-01'))).toBe(0);
  });

  it('finds the columns by name in any order, ignores the others, and reads quoted fields', () => {
    const { log } = parseTransactions([
      'Amount, order_id ,DATE,customer_id',
      '5,o1,2024-03-01,"Smith, J."',
      '" 6 ",o2,2024-03-02,"say ""hi"""',
    ]);
    expect([...log.days('Smith, J.')!]).toEqual([[day('2024-03-01'), 5]]);
    expect([...log.days('say "hi"')!]).toEqual([[day('2024-03-02'), 6]]);
  });

  it('accepts a byte-order mark, CRLF line ends and blank lines', () => {
    const text = '\uFEFFcustomer_id,date,amount\r\n\r\na,2024-01-01,1\r\n   \r\nb,2024-01-02,2\r\n';
    const { log, format } = parseTransactions(text.split('\n'));
    expect(format).toBe('csv');
    expect(log.transactions).toBe(2);
    expect(log.days('a')).toBeDefined();
  });

  it('refuses bad lines, naming each one', () => {
    const h = 'customer_id,date,amount';
    const cases: [string[], number, RegExp][] = [
      [[h, 'a,2024-01-01,1', 'a,2024-02-30,1'], 3, /date "2024-02-30" is not a YYYY-MM-DD date/],
      [[h, 'a,01/02/2024,1'], 2, /date "01\/02\/2024"/],
      [[h, 'a,2024-01-01T10:00:00Z,1'], 2, /not a YYYY-MM-DD date/],
      [[h, '', 'a,2024-01-01,abc'], 3, /amount "abc" is not a number/],
      [[h, 'a,2024-01-01,'], 2, /amount "" is not a number/],
      [[h, 'a,2024-01-01,-3'], 2, /amount -3 is negative/],
      [[h, 'a,2024-01-01,1e999'], 2, /not a finite number/],
      [[h, 'a,2024-01-01'], 2, /expected 3 comma-separated fields like the header, got 2/],
      [[h, 'a,2024-01-01,1,extra'], 2, /got 4/],
      [[h, ',2024-01-01,1'], 2, /customer_id is empty/],
      [[h, '"a,2024-01-01,1'], 2, /quote/],
      [['a,2024-01-01,1'], 1, /header customer_id,date,amount; this one has no customer_id, date, amount column/],
      [['customer,date,amount', 'a,2024-01-01,1'], 1, /no customer_id column/],
    ];
    for (const [lines, line, message] of cases) {
      const err = errorOf(lines);
      expect(err.line, lines.join(' | ')).toBe(line);
      expect(err.message).toMatch(new RegExp(`^line ${line}: `));
      expect(err.message).toMatch(message);
    }
  });

  it('refuses an empty file and a header without transactions', () => {
    expect(errorOf([]).message).toBe('the file is empty');
    expect(errorOf(['', '  ']).message).toBe('the file is empty');
    const headerOnly = errorOf(['customer_id,date,amount', '']);
    expect(headerOnly.line).toBe(0);
    expect(headerOnly.message).toMatch(/header and no transactions/);
  });
});

describe('CDNOW text files', () => {
  it('reads the sample format (id, sample id, YYYYMMDD, quantity, amount); the customer is the first column', () => {
    const { log, format } = parseTransactions([
      ' 00004 0001 19970101  2   29.33',
      ' 00004 0001 19970118  2   29.73',
      ' 00004 0001 19970118  1   10.00',
      ' 00021 0002 19970101  3   63.34',
    ]);
    expect(format).toBe('cdnow');
    expect(log.customers).toBe(2);
    expect(log.transactions).toBe(4);
    expect(log.purchaseDays).toBe(3);
    expect(log.days('00004')!.get(day('1997-01-18'))).toBeCloseTo(39.73, 12);
  });

  it('reads the master format (no sample id) with its header line', () => {
    const { log } = parseTransactions([
      ' customer_id  date number_of_cds  dollar_value',
      ' 00001 19970101  1   11.77',
      ' 00002 19970112  1   12.00',
      ' 00002 19970112  5   77.00',
    ]);
    expect(log.customers).toBe(2);
    expect([...log.days('00002')!]).toEqual([[day('1997-01-12'), 89]]);
  });

  it('refuses bad lines, naming each one', () => {
    const cases: [string[], number, RegExp][] = [
      [['00001 0001 19970101 1 11.77', '00001 19970102 1 11.77'], 2, /expected 5 columns \(id, sample id, YYYYMMDD, quantity, amount\) like line 1, got 4/],
      [['', '00001 19970101 1 11.77', '00001 0001 19970102 1 11.77'], 3, /expected 4 columns \(id, YYYYMMDD, quantity, amount\) like line 2, got 5/],
      [['00001 19970101 1'], 1, /expected the CDNOW columns .* got 3 columns/],
      [['00001 19970231 1 11.77'], 1, /date "19970231" is not a YYYYMMDD date/],
      [['00001 1997-01-01 1 11.77'], 1, /date "1997-01-01" is not a YYYYMMDD date/],
      [['00001 19970101 1.5 11.77'], 1, /quantity "1.5" is not a whole number/],
      [['00001 19970101 1 $11.77'], 1, /amount "\$11.77" is not a number/],
      [['id date n amount', 'x y z w'], 2, /date "y"/],
    ];
    for (const [lines, line, message] of cases) {
      const err = errorOf(lines);
      expect(err.line, lines.join(' | ')).toBe(line);
      expect(err.message).toMatch(message);
    }
  });

  it('reads the whole CDNOW sample (CRLF) into the published calibration summary', () => {
    const parser = new TransactionParser();
    for (const line of readFileSync(cdnowPath('CDNOW_sample.txt'), 'utf8').split('\n')) parser.push(line);
    const log = parser.finish();
    expect(parser.format).toBe('cdnow');
    expect(log.transactions).toBe(6919);
    expect(log.purchaseDays).toBe(6696);
    expect(log.customers).toBe(2357);
    const rows = summarize(log.purchases(), Date.UTC(1997, 8, 30), 'week');
    expect(rows).toHaveLength(2357);
    // lifetimes' cdnow_customers_summary.csv: sum(frequency) = 2457, 1411 customers without a repeat purchase
    expect(rows.reduce((s, r) => s + r.x, 0)).toBe(2457);
    expect(rows.filter((r) => r.x === 0)).toHaveLength(1411);
  });
});

describe('dates', () => {
  it('parses real calendar dates only and prints them back', () => {
    expect(parseIsoDay('1970-01-01')).toBe(0);
    expect(parseIsoDay('2024-02-29')).toBe(Date.UTC(2024, 1, 29) / 86_400_000);
    expect(parseIsoDay('2023-02-29')).toBeNull();
    expect(parseIsoDay('2023-1-5')).toBeNull();
    expect(isoDay(parseIsoDay('1998-06-30')!)).toBe('1998-06-30');
  });
});
