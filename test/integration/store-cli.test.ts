/**
 * The CLI and the store it is given: a PostgreSQL that cannot be reached at start is one clear
 * line on stderr and a non-zero exit (no stack trace, no password), and `backup` of a PostgreSQL
 * URL points to pg_dump. Runs the built CLI as a child process (no database needed).
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { BIN, REPO, haveBuild } from '../helpers/process.js';

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...process.env, LIVETIER_ADMIN_KEY: 'cli-admin-key-0123456789' } });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(!haveBuild())('the CLI with a PostgreSQL URL', () => {
  it('exits non-zero with one line when PostgreSQL is unreachable at start, never printing the password', async () => {
    const r = await run(['serve', '--db', 'postgres://shop:s3cret-pw@127.0.0.1:1/livetier', '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/listening/);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^livetier: PostgreSQL at 127\.0\.0\.1:1\/livetier is unreachable: .*ECONNREFUSED/);
    expect(r.stderr).not.toContain('s3cret-pw');
  });

  it('refuses --db-pool values that are not a positive integer', async () => {
    for (const bad of ['0', 'ten', '-1']) {
      const r = await run(['serve', '--db', 'postgres://127.0.0.1:1/x', '--db-pool', bad, '--port', '0']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--db-pool/);
    }
  });

  it('backup of a PostgreSQL URL points to pg_dump instead', async () => {
    const r = await run(['backup', '--db', 'postgresql://shop:s3cret-pw@127.0.0.1:5432/livetier', '--out', 'x.db']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pg_dump/);
    expect(r.stderr).not.toContain('s3cret-pw');
  });
});
