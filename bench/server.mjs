#!/usr/bin/env node
/**
 * `npm run bench:server`: full OMA DM sessions per second against one server process, and the
 * cost of a DM round trip relative to a bare Node HTTP request/response of the same size, on the
 * same machine in the same run.
 *
 * - The DM server (`DmServer`, SQLite store in WAL mode) runs in a child process; so does the bare HTTP server (node:http, answers a body of the size
 *   asked for). The clients run in this process.
 * - A DM round trip = one HTTP POST of a DM message and its answer, timed around the reference
 *   client's (`DmClient`) transport: the server's parse, MD5 check, session step, store commit
 *   and serialize are in it, the client's own processing before and after is not. The bare round
 *   trip posts the same number of bytes and gets the same number back, keep-alive as well.
 * - Sessions/s: C concurrent devices each running back-to-back client-initiated sessions with a
 *   queued Get per session, for a fixed time.
 *
 * Three store settings are measured in the same run: the default durable one (synchronous=FULL:
 * each message waits for its commit to reach the disk), the relaxed one (synchronous=NORMAL), and
 * an in-memory database (what the DM processing costs without a disk). Last, the floor under a
 * durable round trip: the smallest durable commit on the same disk, timed between bare round trips.
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
const sequentialSessions = quick ? 30 : 300;
const warmupSessions = quick ? 30 : 300;

if (process.argv[2] === '--child-dm') await childDm();
else if (process.argv[2] === '--child-bare') await childBare();
else await main();

/**
 * The DM server, in its own process. `relaxed`: the store commits without waiting for the disk
 * (SQLite synchronous=NORMAL: a commit survives a process crash, not a power cut). `memory`: the
 * store is an in-memory SQLite database (nothing survives the process; not a deployment setting:
 * it shows how much of a round trip the disk costs and how much the DM processing). The child
 * reports the server's own time per message (request in to answer out, from its log) and the
 * part of it spent committing to the store.
 */
async function childDm() {
  const { DmServer, SqliteStore } = await import(pathToFileURL(join(dist, 'server', 'index.js')).href);
  const dir = process.argv[3];
  const mode = process.argv[4];
  const store = mode === 'memory' ? SqliteStore.open(':memory:') : SqliteStore.open(join(dir, 'dm.sqlite'), { relaxedDurability: mode === 'relaxed' });
  const t = { messages: 0, serverMs: 0, commits: 0, commitMs: 0, on: false };
  const apply = store.apply.bind(store);
  store.apply = async (effects) => {
    const t0 = performance.now();
    try {
      return await apply(effects);
    } finally {
      if (t.on && effects.length > 0) { t.commits++; t.commitMs += performance.now() - t0; }
    }
  };
  const log = { message: (e) => { if (t.on && e.dir === 'out') { t.messages++; t.serverMs += e.ms; } }, event() {}, error() {} };
  const server = new DmServer({ store, log, port: 0, host: '127.0.0.1', admin: { port: 0 }, session: { serverId: 'bench.example.test' } });
  const { url, adminUrl } = await server.start();
  process.send({ url, adminUrl, token: server.adminToken });
  process.on('message', async (m) => {
    if (m === 'measure') { Object.assign(t, { messages: 0, serverMs: 0, commits: 0, commitMs: 0, on: true }); process.send({ ok: true }); }
    else if (m === 'timings') { t.on = false; process.send({ ...t }); }
    else if (m === 'stop') { await server.stop(); process.exit(0); }
  });
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

function ask(child, m) {
  return new Promise((resolve) => { child.once('message', resolve); child.send(m); });
}

function mean(a) {
  return a.reduce((x, y) => x + y, 0) / a.length;
}

async function main() {
  for (const sub of ['server', 'client']) {
    if (!existsSync(join(dist, sub, 'index.js'))) {
      console.error(`bench:server: ${join(dist, sub, 'index.js')} not found: run npm run build first`);
      process.exit(1);
    }
  }
  const { DmClient, MemoryStore, HttpTransport } = await import(pathToFileURL(join(dist, 'client', 'index.js')).href);
  const bare = await spawnChild('--child-bare');
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const transports = [];

  const barePost = (size, reply) => new Promise((resolve, reject) => {
    const body = Buffer.alloc(size, 0x62);
    const req = request(bare.info.url, { method: 'POST', agent, headers: { 'content-type': 'application/vnd.syncml.dm+wbxml', 'content-length': size, 'x-reply-size': reply } }, (res) => {
      res.on('data', () => {});
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(body);
  });
  for (let w = 0; w < warmupSessions * 2; w++) await barePost(400, 400);

  /** One DM server process with the store in `mode`: sequential round trips, then (durable only) concurrent sessions. */
  async function runMode(mode) {
    const dir = mkdtempSync(join(tmpdir(), 'syncml-dm-bench-'));
    const dm = await spawnChild('--child-dm', dir, mode);
    const concurrentHere = mode === 'durable';
    const devices = [];
    for (let i = 0; i <= (concurrentHere ? concurrency : 0); i++) {
      const id = `IMEI:9900000000${String(i).padStart(5, '0')}`;
      await admin(dm.info, 'POST', '/api/devices', {
        id, auth: { scheme: 'md5', clientName: `bench${i}`, clientSecret: `secret${i}`, serverId: 'bench.example.test', serverSecret: `srv${i}` },
      });
      devices.push({ id, n: i });
    }
    // The client's transport is wrapped to time and size every round trip.
    let record = null;
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
      return DmClient.open({
        deviceId: d.id, store: new MemoryStore(), encoding: 'wbxml', transport,
        server: { url: dm.info.url, serverId: 'bench.example.test', username: `bench${d.n}`, password: `secret${d.n}`, authType: 'md5', serverPassword: `srv${d.n}` },
      });
    }
    const queueGet = (d, target) => admin(dm.info, 'POST', `/api/devices/${encodeURIComponent(d.id)}/jobs`, { kind: 'command', command: { verb: 'Get', target } });

    // --- sequential: one device, a Get per session; the first sessions warm the JIT up -----------
    const seqDevice = devices[devices.length - 1];
    const seqClient = await openClient(seqDevice);
    for (let i = 0; i < warmupSessions; i++) {
      await queueGet(seqDevice, './DevInfo/Mod');
      await seqClient.runSession();
    }
    const trips = [];
    let seqMs = 0;
    await ask(dm.child, 'measure');
    for (let i = 0; i < sequentialSessions; i++) {
      await queueGet(seqDevice, './DevInfo/Mod');
      record = trips;
      const t0 = performance.now();
      const report = await seqClient.runSession();
      seqMs += performance.now() - t0;
      record = null;
      if (report.reason !== 'completed') throw new Error(`sequential session ${i}: ${report.reason} ${report.message}`);
    }
    const timings = await ask(dm.child, 'timings');

    // --- bare HTTP round trips of the same sizes, right after ----------------------------------
    const bareMs = [];
    for (const trip of trips) {
      const t0 = performance.now();
      await barePost(trip.sent, trip.received);
      bareMs.push(performance.now() - t0);
    }

    // --- concurrent sessions per second -------------------------------------------------------
    let concurrent;
    if (concurrentHere) {
      const clients = [];
      for (let i = 0; i < concurrency; i++) {
        const client = await openClient(devices[i]);
        await client.runSession();
        clients.push({ client, device: devices[i] });
      }
      let sessions = 0, failures = 0;
      const deadline = performance.now() + seconds * 1000;
      const tStart = performance.now();
      await Promise.all(clients.map(async ({ client, device }) => {
        while (performance.now() < deadline) {
          await queueGet(device, './DevInfo/Man');
          try {
            const r = await client.runSession();
            if (r.reason === 'completed') sessions++;
            else failures++;
          } catch {
            failures++;
          }
        }
      }));
      const s = (performance.now() - tStart) / 1000;
      concurrent = { concurrency, seconds: s, sessions, failures, sessionsPerSecond: sessions / s };
    }
    const exited = new Promise((r) => dm.child.once('exit', r));
    dm.child.send('stop');
    await exited;
    rmSync(dir, { recursive: true, force: true });

    const dmSorted = trips.map((t) => t.ms).sort((a, b) => a - b);
    const bareSorted = bareMs.sort((a, b) => a - b);
    return {
      mode,
      sequential: { sessions: sequentialSessions, warmupSessions, ms: seqMs, sessionsPerSecond: sequentialSessions / (seqMs / 1000), roundTrips: trips.length },
      dmRoundTrip: { meanMs: mean(dmSorted), p50: percentile(dmSorted, 50), p99: percentile(dmSorted, 99), meanBytesOut: mean(trips.map((t) => t.sent)), meanBytesIn: mean(trips.map((t) => t.received)) },
      bareRoundTrip: { meanMs: mean(bareSorted), p50: percentile(bareSorted, 50), p99: percentile(bareSorted, 99) },
      server: { messages: timings.messages, meanMs: timings.serverMs / timings.messages, commitMeanMs: timings.commitMs / Math.max(1, timings.commits) },
      ratio: mean(dmSorted) / mean(bareSorted),
      concurrent,
    };
  }

  /**
   * The floor under a durable round trip on this machine: the smallest commit that waits for the
   * disk (one row updated, WAL, synchronous=FULL, in the directory the stores use), timed between
   * bare round trips of the DM messages' mean sizes. A DM server that did nothing else but commit durably would cost
   * (bare + commit) / bare.
   */
  async function durableFloor(sent, received) {
    const { default: Database } = await import('better-sqlite3');
    const dir = mkdtempSync(join(tmpdir(), 'syncml-dm-bench-'));
    const db = new Database(join(dir, 'floor.sqlite'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER); INSERT INTO t VALUES (1, 0)');
    const up = db.prepare('UPDATE t SET v = ? WHERE id = 1');
    const commits = [];
    const bares = [];
    const n = quick ? 200 : 1000;
    for (let i = 0; i < n; i++) {
      let t0 = performance.now();
      up.run(i);
      commits.push(performance.now() - t0);
      t0 = performance.now();
      await barePost(sent, received);
      bares.push(performance.now() - t0);
    }
    db.close();
    rmSync(dir, { recursive: true, force: true });
    const c = commits.sort((a, b) => a - b);
    const b = bares.sort((a, b) => a - b);
    return { commitMeanMs: mean(c), commitP50: percentile(c, 50), bareMeanMs: mean(b), bareP50: percentile(b, 50), ratio: (mean(b) + mean(c)) / mean(b) };
  }

  const durable = await runMode('durable');
  const relaxed = await runMode('relaxed');
  const memory = await runMode('memory');
  const floor = await durableFloor(Math.round(durable.dmRoundTrip.meanBytesOut), Math.round(durable.dmRoundTrip.meanBytesIn));
  const bareExited = new Promise((r) => bare.child.once('exit', r));
  bare.child.send('stop');
  agent.destroy();
  for (const t of transports) t.close();
  await bareExited;

  const result = { machine: `${cpus()[0]?.model ?? '?'} · ${cpus().length} cores · Node ${process.version}`, date: new Date().toISOString(), durable, relaxed, memory, floor };
  const f = (x, d = 2) => x.toFixed(d);
  const c = durable.concurrent;
  console.log(`## syncml-dm server benchmark\n\n${result.machine} · ${result.date}\n`);
  console.log(`Round trips: one device, ${sequentialSessions} sessions of two round trips (MD5, a Get each) after ${warmupSessions} warm-up sessions; the bare round trip posts and gets back the same byte counts right after, on the same machine.\n`);
  const modes = [durable, relaxed, memory];
  const row = (label, cell) => console.log(`| ${label} | ${modes.map(cell).join(' | ')} |`);
  console.log('| measure | durable store (default: synchronous=FULL) | relaxed store (synchronous=NORMAL) | in-memory store (nothing durable) |\n| --- | ---: | ---: | ---: |');
  row('DM round trip, mean / p50 / p99 (ms)', (m) => `${f(m.dmRoundTrip.meanMs)} / ${f(m.dmRoundTrip.p50)} / ${f(m.dmRoundTrip.p99)}`);
  row('bare HTTP round trip, same sizes, mean / p50 / p99 (ms)', (m) => `${f(m.bareRoundTrip.meanMs)} / ${f(m.bareRoundTrip.p50)} / ${f(m.bareRoundTrip.p99)}`);
  row('**DM round trip ÷ bare HTTP round trip**', (m) => `**${f(m.ratio)}×**`);
  row('the same, p50 ÷ p50', (m) => `${f(m.dmRoundTrip.p50 / m.bareRoundTrip.p50)}×`);
  row('server time per message, request in to answer out (ms)', (m) => f(m.server.meanMs, 3));
  row('of which the store commit (ms)', (m) => f(m.server.commitMeanMs, 3));
  row('full DM sessions/s, one device, sequential', (m) => f(m.sequential.sessionsPerSecond, 0));
  console.log(`| full DM sessions/s, ${c.concurrency} concurrent devices (${f(c.seconds, 1)} s) | ${f(c.sessionsPerSecond, 0)} (${c.sessions} sessions, ${c.failures} failed) | | |`);
  console.log(`| mean DM message out / in (bytes) | ${f(durable.dmRoundTrip.meanBytesOut, 0)} / ${f(durable.dmRoundTrip.meanBytesIn, 0)} | | |`);
  console.log(`\nFloor on this disk: the smallest durable commit (one row, synchronous=FULL) takes ${f(floor.commitMeanMs, 3)} ms mean (p50 ${f(floor.commitP50, 3)}) against a bare round trip of ${f(floor.bareMeanMs, 3)} ms (p50 ${f(floor.bareP50, 3)}), timed alternately: a server that only committed durably would already cost ${f(floor.ratio)}× a bare round trip.`);
  const json = opt('json');
  if (json) writeFileSync(json, JSON.stringify(result, null, 2));
  if (c.failures > 0) process.exitCode = 1;
}
