/**
 * The load test's driver: N reference clients (`DmClient`, MemoryStore, md5 credentials) run full
 * client-initiated sessions at the same time against one DM server over loopback, each with a
 * job queued for it through the admin API. Measures sessions per second and the latency of every
 * round trip (client side: from the POST to the whole answer), counts failed sessions.
 *
 * Used by load.test.ts, and runnable on its own against a server it starts in a child process:
 *   node --import tsx test/hardening/scripts/load.ts --devices 1000 [--rounds 3] [--encoding xml]
 *   (npm run load -- --devices 1000)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { DmClient, HttpTransport, MemoryStore, type Transport, type TransportRequest, type TransportResponse, type FallbackSignal } from '../../../src/client/index.js';
import { admin, percentile, startServer } from './harness.js';

export interface LoadOptions {
  url: string;
  adminUrl: string;
  token: string;
  devices: number;
  /** Rounds: each queues one job per device, then every device runs a session, all at once. Default 1. */
  rounds?: number;
  encoding?: 'wbxml' | 'xml' | 'mixed';
  /** Device id prefix (unique per run). */
  prefix?: string;
  /** Parallel admin calls while provisioning. Default 32. */
  provisioning?: number;
  /** Client socket inactivity limit per request. Default 120 000 ms. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface LoadReport {
  devices: number;
  rounds: number;
  sessions: number;
  completed: number;
  failed: number;
  failures: string[];
  roundTrips: number;
  retries: number;
  /** Wall time of the session rounds (provisioning excluded). */
  seconds: number;
  sessionsPerSecond: number;
  /** Per round trip, ms. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Session durations, ms. */
  sessionP50: number;
  sessionP99: number;
  /** Server side: jobs of this run answered / not answered. */
  jobsAnswered: number;
  jobsOpen: number;
  authenticated: number;
}

/** Wraps the real HTTP transport to time each round trip. */
class TimedTransport implements Transport {
  constructor(private readonly inner: HttpTransport, private readonly rtts: number[], private readonly counts: { retries: number }) {}

  async send(request: TransportRequest): Promise<TransportResponse> {
    const t = performance.now();
    const res = await this.inner.send(request);
    this.rtts.push(performance.now() - t);
    this.counts.retries += res.attempts - 1;
    return res;
  }

  shouldFallBack(signal: FallbackSignal): boolean {
    return this.inner.shouldFallBack(signal);
  }
}

async function pool<T>(items: T[], width: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  }));
}

export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  const log = o.log ?? (() => undefined);
  const rounds = o.rounds ?? 1;
  const prefix = o.prefix ?? `LOAD:${Date.now().toString(36)}-`;
  const A = (method: string, path: string, body?: unknown) => admin(o.adminUrl, o.token, method, path, body);
  const ids = Array.from({ length: o.devices }, (_, i) => `${prefix}${i}`);
  const t0 = performance.now();
  await pool(ids, o.provisioning ?? 32, async (id, i) => {
    const r = await A('POST', '/api/devices', { id, auth: { scheme: 'md5', clientName: `dev${i}`, clientSecret: `pw-${i}-secret` } });
    if (r.status !== 201) throw new Error(`provisioning ${id}: ${r.status} ${JSON.stringify(r.json)}`);
  });
  const rtts: number[] = [];
  const durations: number[] = [];
  const counts = { retries: 0 };
  const clients = await Promise.all(ids.map((id, i) => DmClient.open({
    deviceId: id,
    server: { url: o.url, serverId: 'dm.example.test', username: `dev${i}`, password: `pw-${i}-secret`, authType: 'md5' },
    store: new MemoryStore(),
    encoding: o.encoding === 'mixed' ? (i % 2 === 0 ? 'wbxml' : 'xml') : o.encoding ?? 'wbxml',
    fumo: false,
    // No retries: a transport failure is a failed session, not hidden by a second attempt.
    transport: new TimedTransport(new HttpTransport({ retry: { count: 0 }, timeoutMs: o.timeoutMs ?? 120_000 }), rtts, counts),
  })));
  log(`provisioned ${o.devices} devices in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const failures: string[] = [];
  let completed = 0;
  let seconds = 0;
  for (let round = 0; round < rounds; round++) {
    await pool(ids, o.provisioning ?? 32, async (id) => {
      const r = await A('POST', `/api/devices/${encodeURIComponent(id)}/jobs`, { kind: 'command', command: { verb: 'Get', target: './DevDetail/SwV' } });
      if (r.status !== 201) throw new Error(`queueing a job for ${id}: ${r.status} ${JSON.stringify(r.json)}`);
    });
    const start = performance.now();
    await Promise.all(clients.map(async (c, i) => {
      const s = performance.now();
      try {
        const rep = await c.runSession();
        durations.push(performance.now() - s);
        if (rep.reason === 'completed') completed++;
        else failures.push(`${ids[i]} round ${round}: ${rep.reason} ${rep.code ?? ''} ${rep.message}`);
      } catch (e) {
        failures.push(`${ids[i]} round ${round}: ${(e as Error).message}`);
      }
    }));
    const took = (performance.now() - start) / 1000;
    seconds += took;
    log(`round ${round + 1}/${rounds}: ${o.devices} sessions in ${took.toFixed(2)} s, ${failures.length} failed so far`);
  }
  // The server's view: every job of this run answered, with the device's value.
  const jobs = (await A('GET', '/api/jobs')).json as { deviceId: string; state: string; results: { data: string }[] }[];
  const mine = jobs.filter((j) => j.deviceId.startsWith(prefix));
  const sessions = (await A('GET', '/api/sessions')).json as { deviceId: string; authenticated: boolean; reason?: string }[];
  const authenticated = sessions.filter((s) => s.deviceId.startsWith(prefix) && s.authenticated && s.reason === 'completed').length;
  rtts.sort((a, b) => a - b);
  durations.sort((a, b) => a - b);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    devices: o.devices, rounds, sessions: o.devices * rounds, completed, failed: o.devices * rounds - completed, failures: failures.slice(0, 20),
    roundTrips: rtts.length, retries: counts.retries, seconds: r2(seconds), sessionsPerSecond: r2((o.devices * rounds) / seconds),
    p50: r2(percentile(rtts, 50)), p90: r2(percentile(rtts, 90)), p99: r2(percentile(rtts, 99)), max: r2(rtts.at(-1) ?? NaN),
    sessionP50: r2(percentile(durations, 50)), sessionP99: r2(percentile(durations, 99)),
    jobsAnswered: mine.filter((j) => j.state === 'answered' && j.results.length === 1 && j.results[0].data === '1.0').length,
    jobsOpen: mine.filter((j) => j.state !== 'answered').length,
    authenticated,
  };
}

// --- standalone ------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<void> {
  const arg = (name: string, dflt: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
  };
  const devices = Number(arg('devices', process.env.LOAD_DEVICES ?? '1000'));
  const rounds = Number(arg('rounds', '1'));
  const encoding = arg('encoding', 'mixed') as LoadOptions['encoding'];
  const dir = mkdtempSync(join(tmpdir(), 'syncml-dm-load-'));
  const server = await startServer({ dataDir: join(dir, 'data'), token: 'load-test-token-0123456789' });
  try {
    const report = await runLoad({ url: server.url, adminUrl: server.adminUrl, token: server.token, devices, rounds, encoding, log: (l) => process.stderr.write(`${l}\n`) });
    process.stdout.write(JSON.stringify({ ...report, machine: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`, node: process.version }, null, 2) + '\n');
    process.exitCode = report.failed === 0 && report.jobsOpen === 0 ? 0 : 1;
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  await main(process.argv.slice(2));
}
