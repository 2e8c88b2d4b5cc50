/**
 * Load: N reference clients at once against one DM server process over loopback, full sessions
 * with md5 authentication (407 challenge, then 212, the job's command, its Status), zero failed
 * sessions allowed. Two drivers:
 * - scripts/load.ts: the server in a child process, plain HTTP, every round trip timed on the
 *   client side (sessions/s, p50/p99 per round trip), the server's records checked;
 * - the demo command's own `--devices N` (`syncml-dm demo`, HTTPS, its server in the same process),
 *   run as a child process: exit status 0, every check passed.
 *
 * N: `LOAD_DEVICES`, else 1000 in the long run (HARDENING_RUNS >= 100 000) and 100 in `npm test`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LONG } from './runs.js';
import { ROOT, exited, startServer, type ServerChild } from './scripts/harness.js';
import { runLoad } from './scripts/load.js';

const DEVICES = Number(process.env.LOAD_DEVICES ?? (LONG ? 1000 : 100));
const ROUNDS = Number(process.env.LOAD_ROUNDS ?? (LONG ? 3 : 1));
const dir = mkdtempSync(join(tmpdir(), 'syncml-dm-load-'));
let server: ServerChild | undefined;

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('load', () => {
  it(`${DEVICES} devices at once, ${ROUNDS} round(s), md5 over loopback against a server process: no failed session`, async () => {
    server = await startServer({ dataDir: join(dir, 'data'), token: 'load-test-token-0123456789', logFile: join(dir, 'server.log') });
    const report = await runLoad({ url: server.url, adminUrl: server.adminUrl, token: server.token, devices: DEVICES, rounds: ROUNDS, encoding: 'mixed' });
    console.log(`[hardening] load: ${JSON.stringify({ ...report, machine: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`, node: process.version })}`);
    expect(report.failures).toEqual([]);
    expect(report.failed).toBe(0);
    expect(report.completed).toBe(DEVICES * ROUNDS);
    expect(report.retries).toBe(0);
    // The server's view agrees: every job answered with the device's value, every session md5-authenticated and completed.
    expect(report.jobsAnswered).toBe(DEVICES * ROUNDS);
    expect(report.jobsOpen).toBe(0);
    expect(report.authenticated).toBe(DEVICES * ROUNDS);
    // First session: challenge + package 1 with Cred + package 3; later ones use the nonce from the 212.
    expect(report.roundTrips).toBe(DEVICES * (3 + 2 * (ROUNDS - 1)));
    expect(await server.stop()).toBe(0);
    server = undefined;
  }, 900_000);

  it(`the demo's --devices ${DEVICES}: exit 0, every session completed and checked`, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'demo', '--devices', String(DEVICES)], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' },
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (c) => { out += String(c); });
    child.stderr!.on('data', (c) => { err += String(c); });
    const { code } = await exited(child);
    const rate = /([\d,]+) sessions in ([^:]+): ([\d.]+) sessions\/s/.exec(out);
    console.log(`[hardening] demo --devices ${DEVICES}: exit ${code}${rate ? `, ${rate[0]}` : ''}`);
    expect(code, `${out.slice(-2000)}\n${err.slice(-2000)}`).toBe(0);
    const claim = /(\d[\d,]*) sessions completed and authenticated, (\d[\d,]*) jobs answered \d+, (\d+) failed/.exec(out);
    expect(claim, 'the demo prints its load claim').not.toBeNull();
    const num = (s: string) => Number(s.replace(/,/g, ''));
    expect([num(claim![1]), num(claim![2]), num(claim![3])]).toEqual([DEVICES, DEVICES, 0]);
  }, 900_000);
});
