/**
 * Faults: a client killed in the middle of a session, the server killed in the middle of a
 * session (SIGKILL, child processes), the store running out of space (SQLite `max_page_count`,
 * and a real full tmpfs when the test runs as root), and slow clients that never finish their
 * request. Jobs must resume and complete exactly once, nothing acknowledged may be lost, errors
 * must be clear (HTTP 503 / 507 with the cause logged), connections must be freed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DmServer, JsonLogger, SqliteStore } from '../../src/server/index.js';
import {
  DmClient, HttpTransport, MemoryStore, type FallbackSignal, type Transport, type TransportRequest, type TransportResponse,
} from '../../src/client/index.js';
import { LONG } from './runs.js';
import { SCRIPTS, ROOT, eventually, exited, logLines, startServer, type ServerChild } from './scripts/harness.js';
import type { ClientChildOptions } from './scripts/client-child.js';
import { freePort } from '../server-helpers.js';

const TOKEN = 'faults-test-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'syncml-dm-faults-'));
const servers: ServerChild[] = [];

afterAll(async () => {
  for (const s of servers) await s.kill();
  rmSync(dir, { recursive: true, force: true });
});

async function server(name: string, extra: Partial<Parameters<typeof startServer>[0]> = {}): Promise<ServerChild> {
  const s = await startServer({ dataDir: join(dir, name), token: TOKEN, logFile: join(dir, `${name}.log`), ...extra });
  servers.push(s);
  return s;
}

async function addDevice(s: ServerChild, id: string, jobs: number): Promise<string[]> {
  expect((await s.admin('POST', '/api/devices', { id, auth: { scheme: 'md5', clientName: id, clientSecret: `${id}-secret` } })).status).toBe(201);
  const ids: string[] = [];
  for (let i = 0; i < jobs; i++) {
    const r = await s.admin('POST', `/api/devices/${encodeURIComponent(id)}/jobs`, { kind: 'command', command: { verb: 'Get', target: i % 2 === 0 ? './DevDetail/SwV' : './DevInfo/Mod' } });
    expect(r.status).toBe(201);
    ids.push(r.json.id);
  }
  return ids;
}

/** A transport that can run something (kill the server...) before a given message goes out. */
class Hooked implements Transport {
  n = 0;
  constructor(private readonly inner: Transport, private readonly before: (n: number) => Promise<void> | void = () => undefined) {}
  async send(request: TransportRequest): Promise<TransportResponse> {
    await this.before(++this.n);
    return this.inner.send(request);
  }
  shouldFallBack(signal: FallbackSignal): boolean {
    return this.inner.shouldFallBack(signal);
  }
}

function client(url: string, id: string, transport?: Transport): Promise<DmClient> {
  return DmClient.open({
    deviceId: id, store: new MemoryStore(), fumo: false,
    server: { url, serverId: 'dm.example.test', username: id, password: `${id}-secret`, authType: 'md5' },
    transport: transport ?? { retry: { count: 0 }, timeoutMs: 30_000 },
  });
}

/** Every job answered once: one Status, one result row. */
async function expectAnsweredOnce(s: ServerChild, jobIds: string[], attempts?: number): Promise<void> {
  for (const id of jobIds) {
    const j = (await s.admin('GET', `/api/jobs/${id}`)).json;
    expect(j.state, `job ${id}`).toBe('answered');
    expect(j.statuses.length, `job ${id} statuses`).toBe(1);
    expect(j.results.length, `job ${id} results`).toBe(1);
    if (attempts !== undefined) expect(j.attempts, `job ${id} attempts`).toBe(attempts);
  }
  const rows = (await s.admin('GET', '/api/results')).json as { jobId?: string }[];
  for (const id of jobIds) expect(rows.filter((r) => r.jobId === id).length, `result rows of job ${id}`).toBe(1);
}

// --- the client dies ------------------------------------------------------------------------------

function runClientChild(o: ClientChildOptions): Promise<{ lines: Record<string, any>[]; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(SCRIPTS, 'client-child.ts'), JSON.stringify(o)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c) => { out += String(c); });
  child.stderr!.on('data', (c) => { err += String(c); });
  return exited(child).then(({ signal }) => {
    const lines = out.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
    if (signal === null && !lines.some((l) => l.report || l.error)) throw new Error(`the client child printed nothing useful: ${err}`);
    return { lines, signal };
  });
}

describe('the client is killed in the middle of a session', () => {
  let s: ServerChild;
  beforeAll(async () => {
    s = await server('client-kill', { idleTimeoutMs: 1000 });
  });

  it('before its package 3: the server ends the idle session, the jobs are sent again next time and answered once', async () => {
    const jobs = await addDevice(s, 'ck-before', 2);
    const storeDir = join(dir, 'ck-before-store');
    const first = await runClientChild({ url: s.url, deviceId: 'ck-before', username: 'ck-before', password: 'ck-before-secret', storeDir, killBefore: 3 });
    expect(first.signal).toBe('SIGKILL');
    expect(first.lines.at(-1)).toEqual({ killed: 'before', message: 3 });
    expect((await s.admin('GET', '/api/jobs?device=ck-before')).json.map((j: { state: string }) => j.state)).toEqual(['sent', 'sent']);
    // The idle timeout (1 s) ends the session and queues its jobs again.
    await eventually(async () => (await s.admin('GET', '/api/jobs?device=ck-before')).json.every((j: { state: string }) => j.state === 'queued'), 10_000, 'the idle session to end');
    const ended = (await s.admin('GET', '/api/sessions?device=ck-before')).json;
    expect(ended[0]).toMatchObject({ reason: 'expired' });
    expect(logLines(join(dir, 'client-kill.log')).some((l) => l.kind === 'session-end' && l.device === 'ck-before' && l.reason === 'expired')).toBe(true);
    // The device comes back (same store: its nonce from the 212 still works).
    const second = await runClientChild({ url: s.url, deviceId: 'ck-before', username: 'ck-before', password: 'ck-before-secret', storeDir });
    expect(second.lines.at(-1)?.report).toMatchObject({ reason: 'completed' });
    expect(second.lines.filter((l) => l.sent !== undefined).length).toBe(2); // pkg 1 with Cred, pkg 3
    await expectAnsweredOnce(s, jobs, 2);
  });

  it('after its package 3 was answered: nothing is sent again, nothing is duplicated', async () => {
    const jobs = await addDevice(s, 'ck-after', 2);
    const storeDir = join(dir, 'ck-after-store');
    const first = await runClientChild({ url: s.url, deviceId: 'ck-after', username: 'ck-after', password: 'ck-after-secret', storeDir, killAfter: 3 });
    expect(first.signal).toBe('SIGKILL');
    expect(first.lines.find((l) => l.received === 3)).toMatchObject({ status: 200 });
    await expectAnsweredOnce(s, jobs, 1);
    const second = await runClientChild({ url: s.url, deviceId: 'ck-after', username: 'ck-after', password: 'ck-after-secret', storeDir });
    expect(second.lines.at(-1)?.report).toMatchObject({ reason: 'completed' });
    await expectAnsweredOnce(s, jobs, 1);
  });
});

// --- the server dies ------------------------------------------------------------------------------

describe('the server is killed in the middle of sessions', () => {
  it('between package 2 and 3: the next session sends the jobs again; each completes once', async () => {
    const port = await freePort();
    const adminPort = await freePort();
    const opts = { port, adminPort, idleTimeoutMs: 60_000 };
    let s = await server('srv-kill', opts);
    const jobs = await addDevice(s, 'sk-1', 3);
    const restarted: ServerChild[] = [];
    const c = await client(s.url, 'sk-1', new Hooked(new HttpTransport({ retry: { count: 0 } }), async (n) => {
      if (n !== 3) return;
      // Package 2 (the jobs' commands) went out and the device executed them: the server dies now.
      await s.kill();
      s = await server('srv-kill', opts);
      restarted.push(s);
    }));
    const r1 = await c.runSession();
    expect(restarted.length).toBe(1);
    // The new process does not know the session: 408 + Alert 1223, the device gives up on it.
    expect(r1.reason).not.toBe('completed');
    expect((await s.admin('GET', '/api/jobs?device=sk-1')).json.map((j: { state: string }) => j.state)).toEqual(['sent', 'sent', 'sent']);
    const r2 = await c.runSession();
    expect(r2.reason).toBe('completed');
    await expectAnsweredOnce(s, jobs, 2);
    expect(logLines(join(dir, 'srv-kill.log')).some((l) => l.kind === 'notes' && l.device === 'sk-1' && l.notes.some((n: string) => /408/.test(n)))).toBe(true);
  });

  it(`during a burst of ${LONG ? 200 : 40} devices: SIGKILL, restart; every job ends answered exactly once`, async () => {
    const N = LONG ? 200 : 40;
    const port = await freePort();
    const adminPort = await freePort();
    const opts = { port, adminPort, idleTimeoutMs: 60_000 };
    let s = await server('srv-burst', opts);
    const jobsOf = new Map<string, string[]>();
    for (let i = 0; i < N; i++) jobsOf.set(`sb-${i}`, await addDevice(s, `sb-${i}`, 2));
    let ready = 0;
    let killed: Promise<void> | undefined;
    // Connection failures are retried (the real transport, short back-off) while the server is down.
    const clients = await Promise.all([...jobsOf.keys()].map((id) => client(s.url, id, new Hooked(new HttpTransport({ retry: { count: 8, initialBackoffMs: 100, maxBackoffMs: 400 } }), (n) => {
      // When half of the devices hold their package 2 (jobs in flight), the server dies (requests
      // in flight are cut) and comes back; messages sent meanwhile wait for it (or fail and are
      // retried); package 3 of the sessions it lost gets 408.
      if (n === 3 && ++ready === N / 2 && killed === undefined) {
        killed = (async () => {
          await s.kill();
          await new Promise((r) => setTimeout(r, 200));
          s = await server('srv-burst', opts);
        })();
      }
      return killed;
    }))));
    const reasons = new Map<string, number>();
    const run = async (c: DmClient) => {
      try {
        const r = await c.runSession();
        reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
      } catch (e) {
        reasons.set(`error: ${(e as Error).message.slice(0, 60)}`, (reasons.get('error') ?? 0) + 1);
      }
    };
    await Promise.all(clients.map(run));
    await killed;
    expect(killed).toBeDefined();
    // Devices whose session broke come back until the server has every answer.
    for (let round = 0; round < 4; round++) {
      const open = (await s.admin('GET', '/api/jobs')).json.filter((j: { deviceId: string; state: string }) => j.deviceId.startsWith('sb-') && j.state !== 'answered');
      if (open.length === 0) break;
      const ids = new Set(open.map((j: { deviceId: string }) => j.deviceId));
      await Promise.all(clients.filter((c) => ids.has(c.options.deviceId)).map(run));
    }
    await expectAnsweredOnce(s, [...jobsOf.values()].flat());
    // Most packages 2 were out when the server died: those jobs were sent a second time.
    const all = (await s.admin('GET', '/api/jobs')).json.filter((j: { deviceId: string }) => j.deviceId.startsWith('sb-'));
    const resent = all.filter((j: { attempts: number }) => j.attempts > 1).length;
    expect(resent).toBeGreaterThan(0);
    reasons.set('jobs sent twice', resent);
    const failed = (await s.admin('GET', '/api/jobs?state=failed')).json.filter((j: { deviceId: string }) => j.deviceId.startsWith('sb-'));
    expect(failed).toEqual([]);
    console.log(`[hardening] server killed during ${N} sessions: ${JSON.stringify(Object.fromEntries(reasons))}`);
  }, 600_000);
});

// --- the store is full ------------------------------------------------------------------------------

describe('the store runs out of space', () => {
  let srv: DmServer;
  let store: SqliteStore;
  const lines: Record<string, any>[] = [];
  let url: string;
  let api: string;
  const A = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api}${path}`, { method, headers: { authorization: `Bearer ${srv.adminToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, json: await res.json() as any };
  };

  beforeAll(async () => {
    mkdirSync(join(dir, 'full'), { recursive: true });
    store = SqliteStore.open(join(dir, 'full', 'dm.sqlite'));
    srv = new DmServer({ store, port: 0, admin: { port: 0 }, session: { serverId: 'dm.example.test' }, log: new JsonLogger({ write: (l: string) => lines.push(JSON.parse(l)) }) });
    ({ url, adminUrl: api } = (await srv.start()) as { url: string; adminUrl: string });
  });
  afterAll(async () => {
    await srv.stop();
    await store.close();
  });

  it('SQLITE_FULL (max_page_count): 503 / 507 with the cause logged, nothing half-written, acknowledged data kept, reads served, then recovery', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `full-${i}`);
    const jobs = new Map<string, string[]>();
    for (const id of ids) {
      expect((await A('POST', '/api/devices', { id, auth: { scheme: 'md5', clientName: id, clientSecret: `${id}-secret` } })).status).toBe(201);
      const js: string[] = [];
      for (let k = 0; k < 3; k++) js.push((await A('POST', `/api/devices/${encodeURIComponent(id)}/jobs`, { kind: 'command', command: { verb: 'Get', target: './DevDetail/SwV' } })).json.id);
      jobs.set(id, js);
    }
    const clients = await Promise.all(ids.map((id) => client(url, id)));
    // Ten devices finish before the disk fills: their answers are acknowledged.
    for (const c of clients.slice(0, 10)) expect((await c.runSession()).reason).toBe('completed');
    const acknowledged = (await A('GET', '/api/jobs?state=answered')).json;
    expect(acknowledged.length).toBe(30);

    // The disk is full: the database may not grow by a single page.
    const pages = Number(store.db.pragma('page_count', { simple: true }));
    store.db.pragma(`max_page_count = ${pages}`);
    const mark = lines.length;
    const outcomes: string[] = [];
    await Promise.all(clients.slice(10).map(async (c) => outcomes.push(await storeFullOutcome(c))));
    // Free pages inside the file may take a little; what does not fit is refused with 503.
    expect(outcomes.filter((o) => o !== 'completed' && o !== '503')).toEqual([]);
    expect(outcomes).toContain('503');
    const full = lines.slice(mark).filter((l) => l.kind === 'error' && l.code === 'SQLITE_FULL');
    expect(full.length).toBeGreaterThan(0);
    expect(full[0]).toMatchObject({ what: 'store unavailable: the message was not processed', status: 503 });
    expect(lines.slice(mark).filter((l) => l.kind === 'error' && l.what === 'request failed')).toEqual([]);
    // The admin API: a write is refused with 507 and says why; reads work.
    const add = await A('POST', '/api/devices/full-0/jobs', { kind: 'command', command: { verb: 'Replace', target: './Vendor/X/Blob', dataBase64: Buffer.alloc(256 * 1024, 1).toString('base64') } });
    expect(add.status).toBe(507);
    expect(add.json.error).toMatch(/SQLITE_FULL/);
    expect((await A('GET', '/api/health')).status).toBe(200);
    expect((await A('GET', '/api/jobs?state=answered')).json.length).toBeGreaterThanOrEqual(30);
    // The database is consistent.
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(store.db.pragma('foreign_key_check')).toEqual([]);
    // Nothing acknowledged was lost.
    for (const j of acknowledged) {
      const now = (await A('GET', `/api/jobs/${j.id}`)).json;
      expect(now).toMatchObject({ state: 'answered', statuses: j.statuses, results: j.results });
    }

    // Space again: every device finishes, every job answered exactly once.
    store.db.pragma('max_page_count = 1073741823');
    for (const c of clients.slice(10)) {
      let r = await c.runSession();
      if (r.reason !== 'completed') r = await c.runSession();
      expect(r.reason).toBe('completed');
    }
    for (const [id, js] of jobs) {
      for (const jid of js) {
        const j = (await A('GET', `/api/jobs/${jid}`)).json;
        expect(j.state, `${id} job ${jid}`).toBe('answered');
        expect(j.statuses.length).toBe(1);
        expect(j.results.length).toBe(1);
      }
    }
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const counts = Object.fromEntries([...new Set(outcomes)].map((o) => [o, outcomes.filter((x) => x === o).length]));
    console.log(`[hardening] max_page_count full: sessions ${JSON.stringify(counts)}, admin write ${add.status}, cause SQLITE_FULL; after recovery every job answered once`);
  });
});

const canMount = process.platform === 'linux' && process.getuid?.() === 0 && (() => {
  const m = join(dir, 'probe-mnt');
  mkdirSync(m, { recursive: true });
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', m]).status === 0;
  if (ok) spawnSync('umount', [m]);
  return ok;
})();

describe.skipIf(!canMount)('a real full disk (tmpfs, root only)', () => {
  const mnt = join(dir, 'tmpfs');
  afterAll(() => {
    spawnSync('umount', ['-l', mnt]);
  });

  it('ENOSPC under SQLite: 503 with the cause logged, integrity kept, acknowledged data kept, then recovery', async () => {
    mkdirSync(mnt, { recursive: true });
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]).status).toBe(0);
    const lines: Record<string, any>[] = [];
    const srv = new DmServer({ dataDir: join(mnt, 'data'), port: 0, admin: false, session: { serverId: 'dm.example.test' }, log: new JsonLogger({ write: (l: string) => lines.push(JSON.parse(l)) }) });
    const { url } = await srv.start();
    try {
      const ids = Array.from({ length: 20 }, (_, i) => `tmpfs-${i}`);
      for (const id of ids) {
        await srv.store.putDevice({ id, auth: { scheme: 'md5', clientName: id, clientSecret: `${id}-secret` } }, Date.now());
        for (let k = 0; k < 3; k++) await srv.store.addJob(id, { kind: 'command', command: { verb: 'Get', target: './DevDetail/SwV' } }, Date.now());
      }
      const clients = await Promise.all(ids.map((id) => client(url, id)));
      for (const c of clients.slice(0, 5)) expect((await c.runSession()).reason).toBe('completed');
      const acknowledged = await srv.store.listJobs({ state: 'answered' });
      expect(acknowledged.length).toBe(15);
      // Fill the file system to the last byte.
      const filler = join(mnt, 'filler');
      const fd = openSync(filler, 'w');
      try {
        for (;;) writeSync(fd, Buffer.alloc(64 * 1024));
      } catch (e) {
        expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
      }
      try {
        for (;;) writeSync(fd, Buffer.alloc(512));
      } catch {
        // full
      }
      closeSync(fd);
      const mark = lines.length;
      const outcomes: string[] = [];
      for (const c of clients.slice(5)) outcomes.push(await storeFullOutcome(c));
      expect(outcomes.filter((o) => o !== 'completed' && o !== '503')).toEqual([]);
      expect(outcomes).toContain('503');
      const logged = lines.slice(mark).filter((l) => l.kind === 'error' && l.status === 503);
      expect(logged.length).toBeGreaterThan(0);
      expect(String(logged[0].code)).toMatch(/^SQLITE_(FULL|IOERR)/);
      expect(lines.slice(mark).filter((l) => l.kind === 'error' && l.what === 'request failed')).toEqual([]);
      const db = (srv.store as SqliteStore).db;
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      for (const j of acknowledged) expect((await srv.store.getJob(j.id))).toMatchObject({ state: 'answered', statuses: j.statuses, results: j.results });
      // Space again.
      rmSync(filler);
      for (const c of clients.slice(5)) {
        let r = await c.runSession();
        if (r.reason !== 'completed') r = await c.runSession();
        expect(r.reason).toBe('completed');
      }
      const all = await srv.store.listJobs({});
      expect(all.length).toBe(60);
      for (const j of all) expect([j.state, j.statuses.length, j.results.length]).toEqual(['answered', 1, 1]);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      console.log(`[hardening] tmpfs full: ${JSON.stringify(Object.fromEntries(outcomes.map((o) => [o, outcomes.filter((x) => x === o).length])))}, cause ${logged[0].code}`);
    } finally {
      await srv.stop();
    }
  });
});

// --- slow clients --------------------------------------------------------------------------------

describe('slow clients', () => {
  let srv: DmServer;
  let url: string;
  const lines: Record<string, any>[] = [];
  beforeAll(async () => {
    srv = new DmServer({
      dataDir: join(dir, 'slow'), port: 0, admin: false, bodyTimeoutMs: 800, headersTimeoutMs: 1000, session: { serverId: 'dm.example.test' },
      log: new JsonLogger({ write: (l: string) => lines.push(JSON.parse(l)) }),
    });
    url = (await srv.start()).url;
  });
  afterAll(() => srv.stop());

  function open(text: string, u = new URL(url)): Promise<{ socket: Socket; data: () => string; closed: Promise<number> }> {
    return new Promise((resolve, reject) => {
      const socket = connect(Number(u.port), u.hostname, () => {
        socket.write(text);
        const t = performance.now();
        resolve({ socket, data: () => got, closed: new Promise((r) => socket.once('close', () => r(performance.now() - t))) });
      });
      let got = '';
      socket.on('data', (c) => { got += String(c); });
      socket.on('error', () => undefined);
      socket.once('error', reject);
    });
  }

  const head = (len: number) => `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/vnd.syncml.dm+xml\r\nContent-Length: ${len}\r\n\r\n`;

  it('a body that never ends: 408 after the body timeout, the connection closed, logged', async () => {
    const mark = lines.length;
    const c = await open(`${head(1000)}<SyncML><SyncHdr>`);
    const ms = await c.closed;
    expect(c.data()).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeGreaterThan(700);
    expect(ms).toBeLessThan(3000);
    expect(lines.slice(mark).find((l) => l.kind === 'http-error')).toMatchObject({ status: 408, reason: expect.stringMatching(/did not arrive within 800 ms/) });
  });

  it('headers that never end: closed by the headers timeout', async () => {
    const c = await open('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: appl');
    const ms = await c.closed;
    expect(ms).toBeLessThan(4000);
    expect(c.data()).toMatch(/^$|^HTTP\/1\.1 408 /);
  });

  it('a client that hangs up in the middle of its body: logged as such, no error', async () => {
    const mark = lines.length;
    const c = await open(`${head(1000)}<SyncML>`);
    await new Promise((r) => setTimeout(r, 100));
    c.socket.destroy();
    await eventually(() => lines.slice(mark).find((l) => l.kind === 'http-error'), 3000, 'the log line');
    expect(lines.slice(mark).find((l) => l.kind === 'http-error')).toMatchObject({ status: 400, reason: expect.stringMatching(/closed before the end of the body/) });
    expect(lines.slice(mark).filter((l) => l.kind === 'error')).toEqual([]);
  });

  it('300 slow connections at once do not stop an honest device; all of them are closed by the timeouts', async () => {
    // A server of its own with timeouts long enough to tell "served meanwhile" from "served after the cut".
    const own = new DmServer({ dataDir: join(dir, 'slow-300'), port: 0, admin: false, bodyTimeoutMs: 3000, headersTimeoutMs: 3000, session: { serverId: 'dm.example.test' } });
    const ownUrl = (await own.start()).url;
    try {
      await own.store.putDevice({ id: 'slow-honest', auth: { scheme: 'md5', clientName: 'slow-honest', clientSecret: 'slow-honest-secret' } }, Date.now());
      await own.store.addJob('slow-honest', { kind: 'command', command: { verb: 'Get', target: './DevDetail/SwV' } }, Date.now());
      const u = new URL(ownUrl);
      const slow = await Promise.all(Array.from({ length: 300 }, (_, i) => open(i % 2 === 0 ? `${head(5000)}<SyncML>` : 'POST / HTTP/1.1\r\nHost: x\r\n', u)));
      let closed = 0;
      for (const x of slow) void x.closed.then(() => { closed++; });
      const c = await client(ownUrl, 'slow-honest');
      expect((await c.runSession()).reason).toBe('completed');
      // Served while every slow connection was still hanging.
      expect(closed).toBe(0);
      const times = await Promise.all(slow.map((x) => x.closed));
      expect(Math.min(...times)).toBeGreaterThan(2500);
      expect(Math.max(...times)).toBeLessThan(10_000);
      expect((await own.store.listJobs({ deviceId: 'slow-honest' }))[0].state).toBe('answered');
    } finally {
      await own.stop();
    }
  });
});

/** A session's end reason, or '503' when the server refused it for a full store. */
async function storeFullOutcome(c: DmClient): Promise<string> {
  try {
    return (await c.runSession()).reason;
  } catch (e) {
    return (e as { httpStatus?: number }).httpStatus === 503 ? '503' : `error ${(e as Error).message}`;
  }
}
