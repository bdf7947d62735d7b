/**
 * `livetier predict` as a user runs it (the built CLI as a child process) on the CDNOW sample of
 * Fader, Hardie & Lee (2005): 2357 customers, calibration through 1997-09-30 (39 weeks), holdout to
 * 1998-06-30 (39 more). Published: BG/NBD r, alpha, a, b = 0.2426, 4.4135, 0.7929, 2.4258,
 * log-likelihood -9582.43; Gamma-Gamma p, q, v = 6.25, 3.74, 15.44.
 *
 * The holdout table is checked against an independent computation: the same file read by a Python
 * script (same-day orders merged), the BG/NBD likelihood maximised by scipy.optimize (r, alpha, a, b
 * = 0.2425945, 4.4136017, 0.7929220, 2.4259068) and the paper's eq. (10) evaluated with mpmath's
 * hyp2f1 at 30 digits, summed by calibration x; and Gamma-Gamma fitted by scipy on the exact
 * amounts (p, q, v = 6.249573, 3.744225, 15.443520; the lifetimes summary file's averages, rounded
 * to cents, give 6.248802, 3.744588, 15.447748, and the paper prints 6.25, 3.74, 15.44). The actual
 * column is a count of the file: 1882 customer-days in the holdout (1959 orders).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cdnowPath } from '../../server/predict/cdnow-fixture.js';
import { BIN, REPO, haveBuild } from '../helpers/process.js';

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [BIN, ...args], { cwd: REPO });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);
const SAMPLE = cdnowPath('CDNOW_sample.txt');
const CDNOW = ['predict', '--transactions', SAMPLE, '--calibration-end', '1997-09-30', '--holdout-end', '1998-06-30', '--unit', 'week'];

/** by calibration x = 0 … 6, 7+ */
const CUSTOMERS = [1411, 439, 214, 100, 62, 38, 29, 64];
const ACTUAL = [334, 306, 298, 156, 157, 112, 112, 407];
const EXPECTED = [317.5981944, 229.6545778, 223.4446969, 152.0279483, 134.1596774, 100.8461421, 101.6172251, 394.0601886];
const EXPECTED_TOTAL = 1653.408651;

describe.skipIf(!haveBuild())('livetier predict', () => {
  const dir = mkdtempSync(join(tmpdir(), 'livetier-predict-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('on CDNOW prints the published parameters and holdout table, and writes one row per customer', async () => {
    const out = join(dir, 'customers.csv');
    const r = await run([...CDNOW, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);

    const bg = /r = (\S+) +alpha = (\S+) +a = (\S+) +b = (\S+) +log-likelihood = (\S+)/.exec(r.stdout);
    expect(bg, r.stdout).not.toBeNull();
    const [rr, alpha, a, b, ll] = bg!.slice(1).map(Number);
    expect(rel(rr, 0.2426)).toBeLessThan(1e-3);
    expect(rel(alpha, 4.4135)).toBeLessThan(1e-3);
    expect(rel(a, 0.7929)).toBeLessThan(1e-3);
    expect(rel(b, 2.4258)).toBeLessThan(1e-3);
    expect(Math.abs(ll - -9582.43)).toBeLessThan(0.01);

    const gg = /Gamma-Gamma \(946 repeat buyers\):\n +p = (\S+) +q = (\S+) +v = (\S+)/.exec(r.stdout);
    expect(gg, r.stdout).not.toBeNull();
    const [p, q, v] = gg!.slice(1).map(Number);
    expect(rel(p, 6.249573)).toBeLessThan(1e-3);
    expect(rel(q, 3.744225)).toBeLessThan(1e-3);
    expect(rel(v, 15.44352)).toBeLessThan(1e-3);
    for (const [got, published] of [[p, 6.25], [q, 3.74], [v, 15.44]]) expect(Math.abs(got - published)).toBeLessThan(0.01);

    expect(r.stdout).toMatch(/holdout 1997-10-01 to 1998-06-30 \(39 weeks\)/);
    const rows = [...r.stdout.matchAll(/^ {2}(\d\+?|total) +([\d,]+) +([\d,]+) +([\d,.]+) +([\d.]+) +([\d.]+)$/gm)].map((m) => ({
      x: m[1],
      customers: Number(m[2].replaceAll(',', '')),
      actual: Number(m[3].replaceAll(',', '')),
      expected: Number(m[4].replaceAll(',', '')),
    }));
    expect(rows.map((row) => row.x)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7+', 'total']);
    expect(rows.slice(0, 8).map((row) => row.customers)).toEqual(CUSTOMERS);
    expect(rows.slice(0, 8).map((row) => row.actual)).toEqual(ACTUAL);
    rows.slice(0, 8).forEach((row, i) => expect(rel(row.expected, EXPECTED[i]), row.x).toBeLessThan(1e-3));
    expect(rows[8]).toMatchObject({ customers: 2357, actual: 1882 });
    expect(rel(rows[8].expected, EXPECTED_TOTAL)).toBeLessThan(1e-3);

    const lines = readFileSync(out, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines[0]).toBe('customer_id,x,t_x,T,p_alive,expected_holdout,actual_holdout,expected_order_value,clv');
    const body = lines.slice(1).map((l) => l.split(','));
    expect(body).toHaveLength(2357);
    expect(new Set(body.map((f) => f[0])).size).toBe(2357);
    expect(body.every((f) => f.length === 9 && f.slice(1).every((x) => Number.isFinite(Number(x)) && x !== ''))).toBe(true);
    expect(body.reduce((s, f) => s + Number(f[1]), 0)).toBe(2457);
    expect(body.reduce((s, f) => s + Number(f[6]), 0)).toBe(1882);
    expect(rel(body.reduce((s, f) => s + Number(f[5]), 0), EXPECTED_TOTAL)).toBeLessThan(1e-6);
    // master id 00004 is sample customer 1: bought 1997-01-01, 01-18, 08-02 (and 12-12, in the holdout)
    const first = body.find((f) => f[0] === '00004')!;
    expect(first.slice(1, 4).map(Number)).toEqual([2, Number((213 / 7).toPrecision(10)), Number((272 / 7).toPrecision(10))]);
    expect(first[6]).toBe('1');
    expect(Number(first[4])).toBeGreaterThan(0);
    expect(Number(first[4])).toBeLessThan(1);
  });

  it('--json prints the report as one JSON object', async () => {
    const r = await run([...CDNOW, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(rel(j.bgnbd.r, 0.2426)).toBeLessThan(1e-3);
    expect(rel(j.bgnbd.b, 2.4258)).toBeLessThan(1e-3);
    expect(j.bgnbd.customers).toBe(2357);
    expect(j.gammaGamma).toMatchObject({ fitted: true, customers: 946 });
    expect(rel(j.gammaGamma.v, 15.44352)).toBeLessThan(1e-3);
    expect(j.unit).toBe('week');
    expect(j.clv).toEqual({ horizonDays: 365, discountRate: 0 });
    expect(j.holdout).toMatchObject({ start: '1997-10-01', end: '1998-06-30', length: 39 });
    expect(j.holdout.table.rows.map((row: { actual: number }) => row.actual)).toEqual(ACTUAL);
    expect(j.holdout.table.total).toMatchObject({ x: 'total', customers: 2357, actual: 1882 });
    expect(rel(j.holdout.table.total.expected, EXPECTED_TOTAL)).toBeLessThan(1e-6);
    expect(j.data).toMatchObject({ transactions: 6919, purchaseDays: 6696, customers: 2357 });
    expect(j.out).toBeNull();
  });

  it('a bad line: exit 2 naming the line, and no --out file written (an earlier one is left as it was)', async () => {
    const lines = readFileSync(SAMPLE, 'utf8').split('\n');
    lines[1233] = lines[1233].replace(/ 199\d(\d\d)(\d\d) /, ' 19971345 ');
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, lines.join('\n'));
    const out = join(dir, 'bad-out.csv');
    const r = await run([...CDNOW.map((a) => (a === SAMPLE ? bad : a)), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(`predict: ${bad}: line 1234: date "19971345" is not a YYYYMMDD date`);
    expect(readdirSync(dir)).not.toContain('bad-out.csv');

    writeFileSync(out, 'an earlier run\n');
    expect((await run([...CDNOW.map((a) => (a === SAMPLE ? bad : a)), '--out', out])).code).toBe(2);
    expect(readFileSync(out, 'utf8')).toBe('an earlier run\n');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('bad usage exits 2 with the usage; help lists the command', async () => {
    const cal = ['--transactions', SAMPLE, '--calibration-end'];
    const usages: [string[], RegExp][] = [
      [['--transactions', SAMPLE], /^predict needs --calibration-end YYYY-MM-DD$/m],
      [[...cal, '30/09/1997'], /^--calibration-end must be a YYYY-MM-DD date, got "30\/09\/1997"$/m],
      [[...cal, '1997-09-30', '--unit', 'month'], /^--unit must be week or day, got "month"$/m],
      [[...cal, '1997-09-30', '--holdout-end', '1997-09-30'], /^--holdout-end \(1997-09-30\) must be after --calibration-end \(1997-09-30\)$/m],
      [[...cal, '1997-09-30', '--bogus'], /Unknown option '--bogus'/],
    ];
    // each run starts a node process: in parallel
    const [missing, help, all, ...bad] = await Promise.all([
      run(['predict', '--transactions', join(dir, 'nope.csv'), '--calibration-end', '1997-09-30']),
      run(['predict', '--help']),
      run(['help']),
      ...usages.map(([args]) => run(['predict', ...args])),
    ]);
    bad.forEach((r, i) => {
      expect(r.code, usages[i][0].join(' ')).toBe(2);
      expect(r.stderr).toMatch(usages[i][1]);
      expect(r.stderr).toMatch(/usage: livetier predict --transactions FILE --calibration-end YYYY-MM-DD/);
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.csv: ENOENT/);

    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/customer_id,x,t_x,T,p_alive,expected_holdout,actual_holdout,expected_order_value,clv/);
    expect(help.stdout).toMatch(/365 days after the calibration end, undiscounted/);
    expect(all.stdout).toMatch(/livetier predict --transactions FILE/);
  });
});
