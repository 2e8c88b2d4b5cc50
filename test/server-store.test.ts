/**
 * The SQLite store: migrations, every acknowledging call durable, a step's effects applied all or
 * nothing (a job is marked answered only together with the Statuses that answer it), and data
 * surviving a SIGKILL right after a commit.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { SqliteStore, SCHEMA_VERSION } from '../src/server/sqlite-store.js';
import { step } from '../src/dm/server-session.js';
import type { ServerSessionState } from '../src/dm/server-session.js';
import { root } from './helpers.js';
import { ScriptedClient, fakeRandom, headerCode, DEVICE } from './server-helpers.js';

let dir: string;
let db: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncml-dm-store-'));
  db = join(dir, 'dm.sqlite');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('migrations', () => {
  it('creates the schema once, records it, and refuses a newer database', async () => {
    const s = SqliteStore.open(db);
    expect(s.schemaVersion).toBe(SCHEMA_VERSION);
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    await s.putDevice({ id: 'dev1' }, 1);
    await s.close();
    if (process.platform !== 'win32') expect(statSync(db).mode & 0o777).toBe(0o600);
    const again = SqliteStore.open(db);
    expect(again.schemaVersion).toBe(SCHEMA_VERSION);
    expect((again.db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n).toBe(SCHEMA_VERSION);
    expect(await again.getDevice('dev1')).toBeDefined();
    again.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(SCHEMA_VERSION + 1, 0);
    await again.close();
    expect(() => SqliteStore.open(db)).toThrow(/newer/);
  });
});

describe('migrations (upgrade)', () => {
  it('brings a version 1 database to the current schema and keeps its data', async () => {
    const s = SqliteStore.open(db);
    await s.putDevice({ id: 'old', auth: { scheme: 'basic', clientName: 'u', clientSecret: 'p' } }, 1);
    // Make it look like a database written before migration 2, its nonces only in the nonces table.
    s.db.exec(`ALTER TABLE devices DROP COLUMN server_scheme; ALTER TABLE devices DROP COLUMN client_nonce;
      ALTER TABLE devices DROP COLUMN server_nonce; DELETE FROM nonces; DELETE FROM schema_migrations WHERE version > 1;
      INSERT INTO nonces (device_id, purpose, value, issued_at, used_at) VALUES
        ('old', 'client', 'C1', 1, 2), ('old', 'client', 'C2', 2, NULL), ('old', 'client', 'C3', 3, NULL),
        ('old', 'server', 'S1', 1, NULL), ('old', 'server', 'S2', 2, 3);`);
    expect(s.schemaVersion).toBe(1);
    await s.close();
    const up = SqliteStore.open(db);
    expect(up.schemaVersion).toBe(SCHEMA_VERSION);
    expect((await up.getDevice('old'))!.auth).toMatchObject({ scheme: 'basic', clientName: 'u', clientNonce: 'C3', serverNonce: 'S2' });
    // The unused client nonce older than the current one counts as used, as a new nonce always made it.
    expect(await up.isNonceUsed('old', 'client', 'C2')).toBe(true);
    expect(await up.isNonceUsed('old', 'client', 'C3')).toBe(false);
    expect((up.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'nonces'").all() as { name: string }[]).map((r) => r.name)).toEqual(['nonces_device']);
    await up.setCredentials('old', { serverScheme: 'hmac', serverSecret: 's' }, 2);
    expect((await up.getDevice('old'))!.auth.serverScheme).toBe('hmac');
    await up.close();
  });
});

describe('group commit', () => {
  it('concurrent calls: each settles once its effects are committed; a failing one is rolled back alone', async () => {
    const s = SqliteStore.open(db);
    await s.putDevice({ id: 'dev1' }, 1);
    const start = (token: string) => [{ type: 'session', action: 'start', token, deviceId: 'dev1', sessionId: token, at: 2 }] as const;
    const calls = [
      s.apply([...start('A')]),
      s.apply([...start('B'), { type: 'bogus' } as never]),
      s.apply([...start('C')]),
    ];
    const outcomes = await Promise.allSettled(calls);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/unknown effect/);
    expect((await s.listSessions()).map((x) => x.token).sort()).toEqual(['A', 'C']);
    // Another connection sees all of it: it is committed, not pending in ours.
    const other = new Database(db, { readonly: true });
    expect((other.prepare('SELECT token FROM sessions ORDER BY token').all() as { token: string }[]).map((r) => r.token)).toEqual(['A', 'C']);
    other.close();
    await s.close();
  });

  it('settles calls still queued when the store closes', async () => {
    const s = SqliteStore.open(db);
    const p = s.apply([{ type: 'session', action: 'start', token: 'T', deviceId: 'd', sessionId: 'T', at: 1 }]);
    await s.close();
    await p;
    const again = SqliteStore.open(db);
    expect((await again.listSessions()).map((x) => x.token)).toEqual(['T']);
    await again.close();
  });

  it('a durable store gathers the calls of one turn; a relaxed or in-memory one commits each call at once', async () => {
    const start = (token: string) => [{ type: 'session', action: 'start', token, deviceId: 'dev1', sessionId: token, at: 2 }] as const;
    const committed = (s: SqliteStore) => (s.db.prepare('SELECT COUNT(*) AS n FROM sessions').get() as { n: number }).n;
    const durable = SqliteStore.open(db);
    await durable.putDevice({ id: 'dev1' }, 1);
    const queued = durable.apply([...start('D')]);
    expect(committed(durable)).toBe(0); // waits for the group
    await queued;
    expect(committed(durable)).toBe(1);
    await durable.close();
    for (const s of [SqliteStore.open(join(dir, 'relaxed.sqlite'), { relaxedDurability: true }), SqliteStore.open(':memory:')]) {
      await s.putDevice({ id: 'dev1' }, 1);
      const ok = s.apply([...start('A')]);
      expect(committed(s)).toBe(1); // already committed when apply returns
      const bad = s.apply([...start('B'), { type: 'bogus' } as never]);
      await expect(bad).rejects.toThrow(/unknown effect/);
      await ok;
      expect(committed(s)).toBe(1); // B rolled back alone
      await s.close();
    }
  });
});

describe('devices, credentials and nonces', () => {
  it('merges credentials and tracks the current and used nonces', async () => {
    const s = SqliteStore.open(db);
    const d = await s.putDevice({ id: 'dev1', name: 'Phone', auth: { scheme: 'md5', clientName: 'u', clientSecret: 'p', clientNonce: 'AAAA' } }, 1);
    expect(d.auth).toEqual({ scheme: 'md5', clientName: 'u', clientSecret: 'p', clientNonce: 'AAAA' });
    await s.setCredentials('dev1', { serverId: 'srv', serverSecret: 'sp', serverNonce: 'BBBB' }, 2);
    expect((await s.getDevice('dev1'))!.auth).toMatchObject({ clientName: 'u', serverId: 'srv', serverNonce: 'BBBB', clientNonce: 'AAAA' });
    await s.apply([
      { type: 'nonce', deviceId: 'dev1', at: 3, purpose: 'client', action: 'consumed', value: 'AAAA' },
      { type: 'nonce', deviceId: 'dev1', at: 3, purpose: 'client', action: 'issued', value: 'CCCC' },
    ]);
    expect((await s.getDevice('dev1'))!.auth.clientNonce).toBe('CCCC');
    expect(await s.isNonceUsed('dev1', 'client', 'AAAA')).toBe(true);
    expect(await s.isNonceUsed('dev1', 'client', 'CCCC')).toBe(false);
    // Issuing a new nonce replaces the unused one.
    await s.apply([{ type: 'nonce', deviceId: 'dev1', at: 4, purpose: 'client', action: 'issued', value: 'DDDD' }]);
    expect(await s.isNonceUsed('dev1', 'client', 'CCCC')).toBe(true);
    expect(await s.setCredentials('nope', {}, 5)).toBeUndefined();
    expect(await s.deleteDevice('dev1')).toBe(true);
    expect(await s.getDevice('dev1')).toBeUndefined();
    await s.close();
  });
});

describe('jobs and effects', () => {
  it('applies a step atomically: a failing effect leaves the job and its Statuses untouched', async () => {
    const s = SqliteStore.open(db);
    await s.putDevice({ id: 'dev1' }, 1);
    const job = await s.addJob('dev1', { kind: 'command', command: { verb: 'Get', target: './A' } }, 1);
    const answered = { type: 'job' as const, jobId: job.id, at: 2, state: 'answered' as const, statuses: [{ path: '0', step: 'send', cmd: 'Get', code: 200, msgRef: '1', cmdRef: '2' }], results: [{ path: '0', step: 'send', uri: './A', data: 'x', encoding: 'text' as const }] };
    await expect(s.apply([answered, { type: 'bogus' } as never])).rejects.toThrow(/unknown effect/);
    const j = (await s.getJob(job.id))!;
    expect(j.state).toBe('queued');
    expect(j.statuses).toEqual([]);
    expect(await s.listResults({ jobId: job.id })).toEqual([]);
    await s.apply([answered]);
    const k = (await s.getJob(job.id))!;
    expect(k.state).toBe('answered');
    expect(k.statuses).toEqual([{ path: '0', step: 'send', cmd: 'Get', code: 200, msgRef: '1', cmdRef: '2' }]);
    expect(k.results).toEqual([{ path: '0', step: 'send', uri: './A', data: 'x', encoding: 'text' }]);
    await s.close();
  });

  it('lists, filters and cancels jobs; only jobs not in flight can be cancelled', async () => {
    const s = SqliteStore.open(db);
    const a = await s.addJob('dev1', { kind: 'command', command: { verb: 'Get', target: './A' } }, 1);
    const b = await s.addJob('dev1', { kind: 'command', command: { verb: 'Get', target: './B' } }, 2, { campaign: 'c1' });
    await s.addJob('dev2', { kind: 'command', command: { verb: 'Get', target: './C' } }, 3);
    await s.apply([{ type: 'job', jobId: a.id, at: 4, state: 'sent', session: 'tok', attempts: 1, sent: [{ msgId: '2', cmdId: '3', path: '0' }] }]);
    expect((await s.pendingJobs('dev1')).map((j) => [j.id, j.state, j.attempts, j.session])).toEqual([[a.id, 'sent', 1, 'tok'], [b.id, 'queued', 0, undefined]]);
    expect((await s.listJobs({ campaign: 'c1' })).map((j) => j.id)).toEqual([b.id]);
    expect(await s.cancelJob(a.id, 5)).toBeUndefined();
    expect((await s.cancelJob(b.id, 5))!).toMatchObject({ state: 'failed', error: 'cancelled' });
    expect((await s.getJob(a.id))!.sent).toEqual([{ msgId: '2', cmdId: '3', path: '0' }]);
    await s.close();
  });

  it('keeps the device inventory, tree, alerts, sessions and notifications', async () => {
    const s = SqliteStore.open(db);
    await s.putDevice({ id: 'dev1', auth: { scheme: 'basic' } }, 1);
    const n = await s.addNotification({ deviceId: 'dev1', sessionId: '4F2A', swappedSessionId: '2A4F', uiMode: 'background', createdAt: 1 });
    expect((await s.findNotification('dev1', '2a4f'))!.id).toBe(n.id);
    await s.apply([
      { type: 'session', action: 'start', token: 't1', deviceId: 'dev1', sessionId: '4F2A', at: 5, version: '1.2', initiator: 'server' },
      { type: 'device', deviceId: 'dev1', at: 5, version: '1.2', devInfo: { Man: 'M', Mod: 'X' } },
      { type: 'tree', deviceId: 'dev1', at: 5, nodes: [{ uri: './DevInfo/Man', data: 'M', encoding: 'text' }] },
      { type: 'alert', deviceId: 'dev1', token: 't1', at: 5, alert: { code: 1226, type: 't', rawType: 't', format: 'chr', mark: 'informational', data: 'd', encoding: 'text' } },
      { type: 'notification', notificationId: n.id, token: 't1', at: 5 },
      { type: 'auth', deviceId: 'dev1', token: 't1', at: 5, scheme: 'basic', outcome: 'accepted', code: 212 },
      { type: 'session', action: 'end', token: 't1', deviceId: 'dev1', sessionId: '4F2A', at: 6, reason: 'completed', messagesIn: 2, messagesOut: 2 },
      // A device the store did not know (allowUnknownDevices) is recorded.
      { type: 'device', deviceId: 'dev9', at: 7, version: '1.1.2' },
    ]);
    const d = (await s.getDevice('dev1'))!;
    expect(d).toMatchObject({ firstSeen: 5, lastSeen: 5, dmVersion: '1.2', devInfo: { Man: 'M', Mod: 'X' } });
    expect(await s.getTree('dev1')).toEqual([{ uri: './DevInfo/Man', data: 'M', encoding: 'text', at: 5 }]);
    expect((await s.listAlerts({ deviceId: 'dev1' }))[0]).toMatchObject({ code: 1226, data: 'd', session: 't1' });
    expect(await s.getSession('t1')).toMatchObject({ endedAt: 6, reason: 'completed', messagesIn: 2, initiator: 'server' });
    expect((await s.listNotifications({ deviceId: 'dev1' }))[0]).toMatchObject({ answeredAt: 5, session: 't1' });
    expect(await s.findNotification('dev1', '4F2A')).toBeUndefined();
    expect((await s.listAuthEvents({ deviceId: 'dev1' }))[0]).toMatchObject({ outcome: 'accepted', code: 212 });
    expect((await s.getDevice('dev9'))!.auth.scheme).toBe('none');
    await s.close();
  });

  it('drives a whole md5 session through step with its effects in the store', async () => {
    const s = SqliteStore.open(db);
    await s.putDevice({ id: DEVICE, auth: { scheme: 'md5', clientName: 'device01', clientSecret: 'secret' } }, 1);
    const job = await s.addJob(DEVICE, { kind: 'command', command: { verb: 'Get', target: './DevDetail/SwV' } }, 1);
    const c = new ScriptedClient();
    let state: ServerSessionState | undefined;
    const send = async (msg: Parameters<typeof step>[1]) => {
      const device = (await s.getDevice(DEVICE))!;
      const r = await step(state, msg, { device: { id: device.id, known: true, auth: device.auth }, jobs: await s.pendingJobs(DEVICE), now: Date.now(), random: fakeRandom, transport: { body: new Uint8Array(0), encoding: 'xml' } });
      await s.apply(r.effects);
      state = r.closed ? undefined : r.state;
      return r;
    };
    const r1 = await send(c.pkg1());
    expect(headerCode(r1.reply)).toBe(407);
    c.read(r1.reply);
    const r2 = await send(c.pkg1({ cred: c.cred('md5') }));
    expect(headerCode(r2.reply)).toBe(212);
    expect((await s.getJob(job.id))!.state).toBe('sent');
    const r3 = await send(c.answer(r2.reply, { tree: { './DevDetail/SwV': '2.0.7' } }));
    expect(r3.closed).toBe(true);
    const j = (await s.getJob(job.id))!;
    expect(j).toMatchObject({ state: 'answered', attempts: 1, statuses: [{ code: 200, cmd: 'Get' }], results: [{ uri: './DevDetail/SwV', data: '2.0.7' }] });
    const dev = (await s.getDevice(DEVICE))!;
    expect(dev.devInfo.Mod).toBe('ExamplePhone 1');
    expect(dev.auth.clientNonce).toBeDefined();
    c.read(r2.reply);
    expect(dev.auth.clientNonce).toBe(c.nonce);
    expect((await s.listSessions({ deviceId: DEVICE }))[0]).toMatchObject({ reason: 'completed', authenticated: true });
    await s.close();
  });
});

describe('crash safety', () => {
  it('keeps a committed step after the process is killed with SIGKILL at once', async () => {
    const s = SqliteStore.open(db);
    await s.putDevice({ id: 'dev1' }, 1);
    const job = await s.addJob('dev1', { kind: 'command', command: { verb: 'Replace', target: './A', data: '1' } }, 1);
    await s.close();
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'test/scripts/store-crash-child.ts'), db, job.id], { cwd: root, encoding: 'utf8' });
    expect(r.stdout).toBe('applied\n');
    expect(r.signal).toBe('SIGKILL');
    // The WAL was not checkpointed by a clean close; opening replays it.
    const raw = new Database(db, { readonly: true });
    expect((raw.prepare('SELECT state FROM jobs WHERE id = ?').get(Number(job.id)) as { state: string }).state).toBe('answered');
    raw.close();
    const again = SqliteStore.open(db);
    const j = (await again.getJob(job.id))!;
    expect(j.state).toBe('answered');
    expect(j.statuses.map((x) => x.code)).toEqual([200]);
    expect(await again.getTree('dev1')).toHaveLength(1);
    await again.close();
  });
});
