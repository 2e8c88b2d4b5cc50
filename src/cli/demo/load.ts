/**
 * `--devices N`: after the tour, N simulated devices run full sessions against the same server at
 * the same time (each a DmClient with its own memory store and md5 credentials, each with a job
 * queued through the admin API). Nothing per device is printed: one progress line on standard
 * error, then the totals, checked against the server's records.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DmClient } from '../../client/dm-client.js';
import { MemoryStore } from '../../client/store.js';
import { failureMessage, verifyLoad, type Step } from './checks.js';
import { INTERVAL, MAIN_ID, need, SettingsHandler, vendorSetup, type DemoContext } from './context.js';
import { duration, int } from './format.js';
import { CountLine } from './progress.js';
import { clientTransport } from './tour.js';

/** Runs `fn` over `items`, at most `limit` at a time. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/** The IMEI of simulated device `i` (1-based): `IMEI:35` and 13 digits. */
export function simulatedDeviceId(i: number): string {
  return `IMEI:35${String(i).padStart(13, '0')}`;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function loadStep(devices: number, concurrency: number): Step<DemoContext> {
  return {
    name: 'devices',
    title: `${int(devices)} simulated devices, ${concurrency >= devices ? 'all at once' : `${int(concurrency)} at a time`}: each an md5 session (challenge, then 212) with a queued Replace`,
    async run(ctx) {
      const main = need(ctx.main, 'the main server');
      const cert = need(ctx.cert, 'the certificate');
      const ids = Array.from({ length: devices }, (_, i) => simulatedDeviceId(i + 1));
      const secrets = ids.map(() => ({ clientSecret: randomBytes(9).toString('base64url'), serverSecret: randomBytes(9).toString('base64url') }));
      const value = (i: number) => String(10 + (i % 50));
      const t0 = performance.now();
      await pool(ids, 16, async (id, i) => {
        await main.api.addDevice({ id, auth: { scheme: 'md5', clientName: `sim${i + 1}`, ...secrets[i], serverId: MAIN_ID } });
        await main.api.queue(id, { kind: 'command', command: { verb: 'Replace', target: INTERVAL, data: value(i), format: 'int' } });
      });
      ctx.info(`${int(devices)} devices and ${int(devices)} jobs created through the admin API in ${duration(performance.now() - t0)}`);

      const http = clientTransport(cert.cert);
      const progress = new CountLine(ctx.err, 'devices', devices);
      progress.update(0, 0);
      const failures: string[] = [];
      const times: number[] = [];
      let done = 0;
      const t1 = performance.now();
      await pool(ids, concurrency, async (id, i) => {
        const start = performance.now();
        try {
          const client = await DmClient.open({
            deviceId: id, store: new MemoryStore(), encoding: ctx.options.encoding,
            transport: ctx.tracer.transport(id, http, { quiet: true }),
            server: {
              url: main.url, serverId: MAIN_ID, username: `sim${i + 1}`, password: secrets[i].clientSecret, authType: 'md5',
              serverPassword: secrets[i].serverSecret,
            },
            setup: vendorSetup(new SettingsHandler()),
            fumo: false,
          });
          const r = await client.runSession();
          if (r.reason !== 'completed') failures.push(`${id}: session ${r.reason} (${r.message})`);
          else if (client.tree.info(INTERVAL)?.value !== value(i)) failures.push(`${id}: Interval is ${String(client.tree.info(INTERVAL)?.value)} after the session`);
        } catch (e) {
          failures.push(`${id}: ${failureMessage(e)}`);
        }
        times.push(performance.now() - start);
        done++;
        progress.update(done, failures.length);
      });
      const elapsed = performance.now() - t1;
      const [jobs, sessions] = await Promise.all([main.api.jobs(), main.api.sessions()]);
      for (const claim of verifyLoad({ devices: ids, failures, jobs, sessions })) ctx.ok(claim);
      times.sort((a, b) => a - b);
      ctx.info(`${int(devices)} sessions in ${duration(elapsed)}: ${(devices / (elapsed / 1000)).toFixed(1)} sessions/s; per session p50 ${duration(percentile(times, 50))}, p95 ${duration(percentile(times, 95))}, max ${duration(times[times.length - 1] ?? 0)}`);
    },
  };
}
