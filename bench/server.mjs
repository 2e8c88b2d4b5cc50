#!/usr/bin/env node
/**
 * `npm run bench:server`: full OMA DM sessions per second against one server process, and the
 * cost of a DM round trip relative to a bare Node HTTP request/response of the same size, on the
 * same machine in the same run.
 *
 * - The DM server (`DmServer`, SQLite store with its default durability: WAL, synchronous=FULL)
 *   runs in a child process; so does the bare HTTP server (node:http, answers a body of the size
 *   asked for). The clients run in this process.
 * - A DM round trip = one HTTP POST of a DM message and its answer, as the reference client
 *   (`DmClient`) does it: client-side serialize/parse/DPU included, MD5 auth, the server's parse,
 *   session step, store commit and serialize. The bare round trip posts the same number of bytes
 *   and gets the same number back, with the same keep-alive HTTP client settings.
 * - Sessions/s: C concurrent devices each running back-to-back client-initiated sessions with a
 *   queued Get per session, for a fixed time.
 *
 * Options: --quick (shorter), --concurrency C, --seconds S, --json FILE.
 */
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const dist = process.env.BENCH_DIST ?? join(root, 'dist');
const args = process.argv.slice(2);
const opt = (name, d) => { const i = args.indexOf('--' + name); return i >= 0 ? args[i + 1] : d; };
const quick = args.includes('--quick');
const concurrency = Number(opt('concurrency', 16));
const seconds = Number(opt('seconds', quick ? 2 : 8));
const sequentialSessions = quick ? 30 : 200;

if (process.argv[2] === '--child-dm') await childDm();
else if (process.argv[2] === '--child-bare') await childBare();
else await main();

/** The DM server, in its own process. */
async function childDm() {
  const { DmServer } = await import(pathToFileURL(join(dist, 'server', 'index.js')).href);
  const dir = process.argv[3];
  const server = new DmServer({ dataDir: dir, port: 0, host: '127.0.0.1', admin: { port: 0 }, session: { serverId: 'bench.example.test' } });
  const { url, adminUrl } = await server.start();
  process.send({ url, adminUrl, token: server.adminToken });
  process.on('message', async (m) => { if (m === 'stop') { await server.stop(); process.exit(0); } });
}

/** A bare HTTP server: reads the body, answers `x-reply-size` bytes. */
async function childBare() {
  const { createServer } = await import('node:http');
  const cache = new Map();
  const s = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const n = Number(req.headers['x-reply-size'] ?? 0);
      let body = cache.get(n);
      if (!body) cache.set(n, (body = Buffer.alloc(n, 0x61)));
      res.writeHead(200, { 'content-type': 'application/vnd.syncml.dm+wbxml', 'content-length': n });
      res.end(body);
    });
  });
  s.keepAliveTimeout = 60_000;
  s.listen(0, '127.0.0.1', () => process.send({ url: `http://127.0.0.1:${s.address().port}/` }));
  process.on('message', (m) => { if (m === 'stop') s.close(() => process.exit(0)); });
}

function spawnChild(flag, ...rest) {
  const child = fork(fileURLToPath(import.meta.url), [flag, ...rest], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ child, info: m }));
    child.once('exit', (code) => reject(new Error(`${flag} exited with ${code}`)));
  });
}

async function admin(info, method, path, body) {
  const res = await fetch(info.adminUrl + path, {
    method, headers: { authorization: `Bearer ${info.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

async function main() {
  for (const sub of ['server', 'client']) {
    if (!existsSync(join(dist, sub, 'index.js'))) {
      console.error(`bench:server: ${join(dist, sub, 'index.js')} not found: run npm run build first`);
      process.exit(1);
    }
  }
  const { DmClient, MemoryStore, HttpTransport } = await import(pathToFileURL(join(dist, 'client', 'index.js')).href);
  const dir = mkdtempSync(join(tmpdir(), 'syncml-dm-bench-'));
  const dm = await spawnChild('--child-dm', dir);
  const bare = await spawnChild('--child-bare');
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });

  // One device per concurrent client, plus one for the sequential latency run.
  const devices = [];
  for (let i = 0; i <= concurrency; i++) {
    const id = `IMEI:9900000000${String(i).padStart(5, '0')}`;
    await admin(dm.info, 'POST', '/api/devices', {
      id, auth: { scheme: 'md5', clientName: `bench${i}`, clientSecret: `secret${i}`, serverId: 'bench.example.test', serverSecret: `srv${i}` },
    });
    devices.push({ id, n: i });
  }

  // The client's transport is wrapped to time and size every round trip.
  let record = null;
  const transports = [];
  async function openClient(d) {
    const inner = new HttpTransport({ retry: { count: 0 } });
    transports.push(inner);
    const transport = {
      async send(req) {
        const t0 = performance.now();
        const res = await inner.send(req);
        if (record) record.push({ ms: performance.now() - t0, sent: req.body.length, received: res.body.length });
        return res;
      },
      shouldFallBack: (sig) => inner.shouldFallBack(sig),
    };
    const client = await DmClient.open({
      deviceId: d.id,
      store: new MemoryStore(),
      encoding: 'wbxml',
      server: { url: dm.info.url, serverId: 'bench.example.test', username: `bench${d.n}`, password: `secret${d.n}`, authType: 'md5', serverPassword: `srv${d.n}` },
      transport,
    });
    return { client };
  }

  // --- sequential: DM round trips, one device ---------------------------------------------------
  const seqDevice = devices[concurrency];
  const { client: seqClient } = await openClient(seqDevice);
  await seqClient.runSession(); // the first session answers the challenge and learns the nonce
  const dmTrips = [];
  let seqMs = 0;
  for (let i = 0; i < sequentialSessions; i++) {
    await admin(dm.info, 'POST', `/api/devices/${encodeURIComponent(seqDevice.id)}/jobs`, { kind: 'command', command: { verb: 'Get', target: './DevInfo/Mod' } });
    record = dmTrips;
    const t0 = performance.now();
    const report = await seqClient.runSession();
    seqMs += performance.now() - t0;
    record = null;
    if (report.reason !== 'completed') throw new Error(`sequential session ${i}: ${report.reason} ${report.message}`);
  }

  // --- bare HTTP round trips of the same sizes --------------------------------------------------
  const bareTrips = [];
  const barePost = (size, reply) => new Promise((resolve, reject) => {
    const body = Buffer.alloc(size, 0x62);
    const req = request(bare.info.url, { method: 'POST', agent, headers: { 'content-type': 'application/vnd.syncml.dm+wbxml', 'content-length': size, 'x-reply-size': reply } }, (res) => {
      res.on('data', () => {});
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(body);
  });
  for (let w = 0; w < 200; w++) await barePost(400, 400);
  for (const trip of dmTrips) {
    const s = performance.now();
    await barePost(trip.sent, trip.received);
    bareTrips.push(performance.now() - s);
  }

  // --- concurrent sessions per second ----------------------------------------------------------
  const clients = [];
  for (let i = 0; i < concurrency; i++) {
    const c = await openClient(devices[i]);
    await c.client.runSession();
    clients.push({ ...c, device: devices[i] });
  }
  let sessions = 0, failures = 0;
  const deadline = performance.now() + seconds * 1000;
  const tStart = performance.now();
  await Promise.all(clients.map(async ({ client, device }) => {
    while (performance.now() < deadline) {
      await admin(dm.info, 'POST', `/api/devices/${encodeURIComponent(device.id)}/jobs`, { kind: 'command', command: { verb: 'Get', target: './DevInfo/Man' } });
      try {
        const r = await client.runSession();
        if (r.reason === 'completed') sessions++;
        else failures++;
      } catch {
        failures++;
      }
    }
  }));
  const concurrentS = (performance.now() - tStart) / 1000;

  dm.child.send('stop');
  bare.child.send('stop');
  agent.destroy();
  for (const t of transports) t.close();
  await Promise.all([dm, bare].map((c) => new Promise((r) => c.child.once('exit', r))));
  rmSync(dir, { recursive: true, force: true });

  const dmMs = dmTrips.map((t) => t.ms).sort((a, b) => a - b);
  const bareMs = bareTrips.sort((a, b) => a - b);
  const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
  const result = {
    machine: `${cpus()[0]?.model ?? '?'} · ${cpus().length} cores · Node ${process.version}`,
    date: new Date().toISOString(),
    sequential: { sessions: sequentialSessions, ms: seqMs, sessionsPerSecond: sequentialSessions / (seqMs / 1000), roundTrips: dmMs.length },
    dmRoundTrip: { meanMs: mean(dmMs), p50: percentile(dmMs, 50), p99: percentile(dmMs, 99), meanBytesOut: mean(dmTrips.map((t) => t.sent)), meanBytesIn: mean(dmTrips.map((t) => t.received)) },
    bareRoundTrip: { meanMs: mean(bareMs), p50: percentile(bareMs, 50), p99: percentile(bareMs, 99) },
    ratio: mean(dmMs) / mean(bareMs),
    concurrent: { concurrency, seconds: concurrentS, sessions, failures, sessionsPerSecond: sessions / concurrentS },
  };
  const f = (x, d = 2) => x.toFixed(d);
  console.log(`## syncml-dm server benchmark\n\n${result.machine} · ${result.date}\n`);
  console.log('| measure | value |\n| --- | ---: |');
  console.log(`| full DM sessions/s, ${concurrency} concurrent devices (${f(concurrentS, 1)} s, MD5, one Get each) | ${f(result.concurrent.sessionsPerSecond, 0)} (${sessions} sessions, ${failures} failed) |`);
  console.log(`| full DM sessions/s, one device, sequential | ${f(result.sequential.sessionsPerSecond, 0)} |`);
  console.log(`| DM round trip, mean / p50 / p99 (ms) | ${f(result.dmRoundTrip.meanMs)} / ${f(result.dmRoundTrip.p50)} / ${f(result.dmRoundTrip.p99)} |`);
  console.log(`| bare HTTP round trip, same sizes, mean / p50 / p99 (ms) | ${f(result.bareRoundTrip.meanMs)} / ${f(result.bareRoundTrip.p50)} / ${f(result.bareRoundTrip.p99)} |`);
  console.log(`| DM round trip ÷ bare HTTP round trip | ${f(result.ratio)}× |`);
  console.log(`| mean DM message out / in (bytes) | ${f(result.dmRoundTrip.meanBytesOut, 0)} / ${f(result.dmRoundTrip.meanBytesIn, 0)} |`);
  const json = opt('json');
  if (json) writeFileSync(json, JSON.stringify(result, null, 2));
  if (failures > 0) process.exitCode = 1;
}
