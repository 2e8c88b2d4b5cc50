/**
 * The embedded {@link Store}: SQLite through better-sqlite3, in WAL mode with `synchronous=FULL`
 * (a committed transaction survives a power cut, not only a process crash), numbered migrations
 * in a `schema_migrations` table, one transaction per acknowledging call.
 *
 * Secrets at rest: the md5 and HMAC schemes need the password itself (the digest key
 * B64(MD5(user:password)) is password-equivalent), so credentials are stored as given; the
 * database file is created readable by its owner only (0600) and should live in a private data
 * directory.
 */
import Database, { type Statement } from 'better-sqlite3';
import { chmodSync, existsSync } from 'node:fs';
import type { DeviceAuth, AuthScheme } from '../dm/server-auth.js';
import type { JobSpec, JobState, PendingJob } from '../dm/jobs.js';
import type { ServerEffect } from '../dm/server-session.js';
import type {
  AuthEvent, DeviceInput, DeviceRecord, JobRecord, ListFilter, NotificationRecord, SessionRecord, Store, StoredAlert,
  StoredNode, StoredResult,
} from './store.js';

/** The schema, one migration per entry, applied in order; never edit a published one. */
const MIGRATIONS: readonly string[] = [
  // 1: initial schema
  `CREATE TABLE devices (
     id TEXT PRIMARY KEY, name TEXT, created_at INTEGER NOT NULL, first_seen INTEGER, last_seen INTEGER,
     dm_version TEXT, devinfo TEXT NOT NULL DEFAULT '{}', auth_scheme TEXT NOT NULL DEFAULT 'md5',
     client_name TEXT, client_secret TEXT, server_id TEXT, server_secret TEXT, push_address TEXT);
   CREATE TABLE nonces (
     id INTEGER PRIMARY KEY AUTOINCREMENT, device_id TEXT NOT NULL, purpose TEXT NOT NULL, value TEXT NOT NULL,
     issued_at INTEGER NOT NULL, used_at INTEGER);
   CREATE INDEX nonces_device ON nonces (device_id, purpose, value);
   CREATE TABLE jobs (
     id INTEGER PRIMARY KEY AUTOINCREMENT, device_id TEXT NOT NULL, campaign TEXT, spec TEXT NOT NULL,
     state TEXT NOT NULL, step TEXT, attempts INTEGER NOT NULL DEFAULT 0, session TEXT, sent TEXT NOT NULL DEFAULT '[]',
     fumo TEXT, error TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
   CREATE INDEX jobs_device_state ON jobs (device_id, state);
   CREATE TABLE job_statuses (
     id INTEGER PRIMARY KEY AUTOINCREMENT, job_id INTEGER NOT NULL, session TEXT, step TEXT NOT NULL, path TEXT NOT NULL,
     cmd TEXT NOT NULL, code INTEGER NOT NULL, msg_ref TEXT, cmd_ref TEXT, target_refs TEXT, source_refs TEXT, items TEXT,
     at INTEGER NOT NULL);
   CREATE INDEX job_statuses_job ON job_statuses (job_id);
   CREATE TABLE results (
     id INTEGER PRIMARY KEY AUTOINCREMENT, device_id TEXT NOT NULL, job_id INTEGER, session TEXT, step TEXT, path TEXT,
     uri TEXT NOT NULL, format TEXT, type TEXT, data TEXT NOT NULL, encoding TEXT NOT NULL, at INTEGER NOT NULL);
   CREATE INDEX results_device ON results (device_id);
   CREATE INDEX results_job ON results (job_id);
   CREATE TABLE tree (
     device_id TEXT NOT NULL, uri TEXT NOT NULL, format TEXT, type TEXT, data TEXT NOT NULL, encoding TEXT NOT NULL,
     at INTEGER NOT NULL, PRIMARY KEY (device_id, uri));
   CREATE TABLE alerts (
     id INTEGER PRIMARY KEY AUTOINCREMENT, device_id TEXT NOT NULL, session TEXT, job_id INTEGER, code INTEGER NOT NULL,
     type TEXT NOT NULL, raw_type TEXT NOT NULL, format TEXT NOT NULL, mark TEXT NOT NULL, source TEXT, target TEXT,
     data TEXT NOT NULL, encoding TEXT NOT NULL, correlator TEXT, at INTEGER NOT NULL);
   CREATE INDEX alerts_device ON alerts (device_id);
   CREATE TABLE sessions (
     token TEXT PRIMARY KEY, device_id TEXT NOT NULL, session_id TEXT NOT NULL, version TEXT, initiator TEXT,
     started_at INTEGER NOT NULL, last_at INTEGER NOT NULL, ended_at INTEGER, reason TEXT,
     authenticated INTEGER NOT NULL DEFAULT 0, messages_in INTEGER NOT NULL DEFAULT 0, messages_out INTEGER NOT NULL DEFAULT 0);
   CREATE INDEX sessions_device ON sessions (device_id);
   CREATE TABLE auth_events (
     id INTEGER PRIMARY KEY AUTOINCREMENT, device_id TEXT NOT NULL, session TEXT NOT NULL, scheme TEXT NOT NULL,
     outcome TEXT NOT NULL, code INTEGER NOT NULL, reason TEXT, at INTEGER NOT NULL);
   CREATE TABLE notifications (
     id INTEGER PRIMARY KEY AUTOINCREMENT, device_id TEXT NOT NULL, session_id TEXT NOT NULL, swapped_session_id TEXT NOT NULL,
     ui_mode TEXT NOT NULL, created_at INTEGER NOT NULL, answered_at INTEGER, session TEXT, delivery TEXT);
   CREATE INDEX notifications_device ON notifications (device_id);`,
  // 2: the server's own scheme towards a device (DMAcc SRVCRED AAuthType), apart from the client's
  'ALTER TABLE devices ADD COLUMN server_scheme TEXT',
  // 3: a device's current nonce found without scanning every nonce it ever had (the nonce table
  // grows by one or two rows a session; without these, each message cost more than the last)
  `CREATE INDEX IF NOT EXISTS nonces_latest ON nonces (device_id, purpose, id);
   CREATE INDEX IF NOT EXISTS nonces_open ON nonces (device_id, purpose) WHERE used_at IS NULL;`,
  // 4: a device's current nonces live on its row: reading a device is one query, and a message
  // that issues or consumes a nonce writes two fewer index pages. The nonces table keeps the
  // history (is a nonce used?), looked up by value. Unused client nonces older than the current
  // one are marked used, as a new nonce always did.
  `ALTER TABLE devices ADD COLUMN client_nonce TEXT;
   ALTER TABLE devices ADD COLUMN server_nonce TEXT;
   UPDATE devices SET
     client_nonce = (SELECT value FROM nonces WHERE device_id = devices.id AND purpose = 'client' AND used_at IS NULL ORDER BY id DESC LIMIT 1),
     server_nonce = (SELECT value FROM nonces WHERE device_id = devices.id AND purpose = 'server' ORDER BY id DESC LIMIT 1);
   UPDATE nonces SET used_at = issued_at WHERE purpose = 'client' AND used_at IS NULL
     AND id NOT IN (SELECT MAX(id) FROM nonces WHERE purpose = 'client' AND used_at IS NULL GROUP BY device_id);
   DROP INDEX IF EXISTS nonces_latest;
   DROP INDEX IF EXISTS nonces_open;`,
];

/** The schema version this code writes. @public */
export const SCHEMA_VERSION = MIGRATIONS.length;

type Row = Record<string, unknown>;

const JSONP = <T>(s: unknown, fallback: T): T => {
  if (typeof s !== 'string' || s === '') return fallback;
  try {
    return JSON.parse(s) as T;
  } catch {
    return fallback;
  }
};

const opt = <T>(v: unknown): T | undefined => (v === null || v === undefined ? undefined : (v as T));

function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** A call of `apply` waiting for the group commit. */
interface QueuedApply {
  effects: readonly ServerEffect[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** Options of {@link SqliteStore.open}. @public */
export interface SqliteStoreOptions {
  /**
   * Commit without waiting for the disk (SQLite `synchronous=NORMAL`): a commit survives a crash
   * of the process, not a power cut; each `apply` commits at once instead of in a group. For
   * tests, slow disks, or when the machine's own storage is trusted. Default false.
   */
  relaxedDurability?: boolean;
}

/**
 * The embedded store.
 *
 * @example
 * ```ts
 * const store = SqliteStore.open('/var/lib/syncml-dm/dm.sqlite');
 * await store.putDevice({ id: 'IMEI:356938035643809', auth: { scheme: 'md5', clientName: 'dev', clientSecret: 's' } }, Date.now());
 * ```
 * @public
 */
export class SqliteStore implements Store {
  /** Prepared statements by SQL text: preparing is most of a small query's cost. */
  private readonly statements = new Map<string, Statement>();

  private stmt(sql: string): Statement {
    let st = this.statements.get(sql);
    if (st === undefined) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  readonly db: Database.Database;

  /**
   * Whether a commit waits for the disk (synchronous=FULL on a file). Only then are concurrent
   * calls of `apply` gathered into one commit: the wait for the next event-loop turn costs a
   * lone request more than an unsynced commit does.
   */
  private readonly groupCommit: boolean;

  private constructor(db: Database.Database, groupCommit: boolean) {
    this.db = db;
    this.groupCommit = groupCommit;
  }

  /** Opens (creating if need be) and migrates the database at `path` (`:memory:` for a test). */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    const fresh = path !== ':memory:' && !existsSync(path);
    const db = new Database(path);
    if (fresh) {
      try {
        chmodSync(path, 0o600);
      } catch {
        // Not fatal (some file systems have no modes).
      }
    }
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.relaxedDurability ? 'NORMAL' : 'FULL'}`);
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const s = new SqliteStore(db, !db.memory && !options.relaxedDurability);
    s.migrate();
    return s;
  }

  /** The schema version of the database (migrations applied). */
  get schemaVersion(): number {
    return (this.stmt('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const have = this.schemaVersion;
    if (have > MIGRATIONS.length) throw new Error(`the database has schema version ${have}, newer than this server (${MIGRATIONS.length})`);
    for (let v = have + 1; v <= MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v - 1]);
        this.stmt('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(v, Date.now());
      })();
    }
  }

  // --- devices ------------------------------------------------------------------------------------

  private device(r: Row): DeviceRecord {
    const id = r.id as string;
    const auth: DeviceAuth = clean({
      scheme: r.auth_scheme as AuthScheme,
      clientName: opt<string>(r.client_name), clientSecret: opt<string>(r.client_secret),
      serverId: opt<string>(r.server_id), serverSecret: opt<string>(r.server_secret), serverScheme: opt<AuthScheme>(r.server_scheme),
      clientNonce: opt<string>(r.client_nonce), serverNonce: opt<string>(r.server_nonce),
    });
    return clean({
      id, name: opt<string>(r.name), createdAt: r.created_at as number, firstSeen: opt<number>(r.first_seen),
      lastSeen: opt<number>(r.last_seen), dmVersion: opt<'1.2' | '1.1.2'>(r.dm_version), devInfo: JSONP(r.devinfo, {}),
      auth, pushAddress: opt<string>(r.push_address),
    });
  }

  /** A nonce becomes the device's current one (a new client nonce replaces the unused one: a nonce is used once). */
  private insertNonce(deviceId: string, purpose: 'client' | 'server', value: string, now: number): void {
    if (purpose === 'client') {
      this.stmt(`UPDATE nonces SET used_at = ? WHERE device_id = ? AND purpose = 'client' AND used_at IS NULL
        AND value = (SELECT client_nonce FROM devices WHERE id = ?)`).run(now, deviceId, deviceId);
      this.stmt('UPDATE devices SET client_nonce = ? WHERE id = ?').run(value, deviceId);
    } else {
      this.stmt('UPDATE devices SET server_nonce = ? WHERE id = ?').run(value, deviceId);
    }
    this.stmt('INSERT INTO nonces (device_id, purpose, value, issued_at) VALUES (?, ?, ?, ?)').run(deviceId, purpose, value, now);
  }

  private consumeNonce(deviceId: string, purpose: 'client' | 'server', value: string, now: number): void {
    this.stmt('UPDATE nonces SET used_at = ? WHERE device_id = ? AND purpose = ? AND value = ? AND used_at IS NULL').run(now, deviceId, purpose, value);
    if (purpose === 'client') this.stmt('UPDATE devices SET client_nonce = NULL WHERE id = ? AND client_nonce = ?').run(deviceId, value);
  }

  private writeAuth(id: string, a: Partial<DeviceAuth>, now: number): void {
    const cols: [string, unknown][] = [];
    if (a.scheme !== undefined) cols.push(['auth_scheme', a.scheme]);
    if (a.clientName !== undefined) cols.push(['client_name', a.clientName]);
    if (a.clientSecret !== undefined) cols.push(['client_secret', a.clientSecret]);
    if (a.serverId !== undefined) cols.push(['server_id', a.serverId]);
    if (a.serverSecret !== undefined) cols.push(['server_secret', a.serverSecret]);
    if (a.serverScheme !== undefined) cols.push(['server_scheme', a.serverScheme]);
    if (cols.length > 0) {
      this.stmt(`UPDATE devices SET ${cols.map(([c]) => `${c} = ?`).join(', ')} WHERE id = ?`).run(...cols.map(([, v]) => v), id);
    }
    if (a.clientNonce !== undefined) this.insertNonce(id, 'client', a.clientNonce, now);
    if (a.serverNonce !== undefined) this.insertNonce(id, 'server', a.serverNonce, now);
  }

  async putDevice(input: DeviceInput, now: number): Promise<DeviceRecord> {
    this.db.transaction(() => {
      this.stmt('INSERT INTO devices (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING').run(input.id, now);
      if (input.name !== undefined) this.stmt('UPDATE devices SET name = ? WHERE id = ?').run(input.name, input.id);
      if (input.pushAddress !== undefined) this.stmt('UPDATE devices SET push_address = ? WHERE id = ?').run(input.pushAddress, input.id);
      if (input.auth !== undefined) this.writeAuth(input.id, input.auth, now);
    })();
    return (await this.getDevice(input.id))!;
  }

  async getDevice(id: string): Promise<DeviceRecord | undefined> {
    const r = this.stmt('SELECT * FROM devices WHERE id = ?').get(id) as Row | undefined;
    return r === undefined ? undefined : this.device(r);
  }

  async listDevices(): Promise<DeviceRecord[]> {
    return (this.stmt('SELECT * FROM devices ORDER BY id').all() as Row[]).map((r) => this.device(r));
  }

  async deleteDevice(id: string): Promise<boolean> {
    let n = 0;
    this.db.transaction(() => {
      const jobIds = 'SELECT id FROM jobs WHERE device_id = ?';
      this.stmt(`DELETE FROM job_statuses WHERE job_id IN (${jobIds})`).run(id);
      for (const t of ['jobs', 'nonces', 'results', 'tree', 'alerts', 'sessions', 'auth_events', 'notifications']) {
        this.stmt(`DELETE FROM ${t} WHERE device_id = ?`).run(id);
      }
      n = this.stmt('DELETE FROM devices WHERE id = ?').run(id).changes;
    })();
    return n > 0;
  }

  async setCredentials(id: string, auth: Partial<DeviceAuth>, now: number): Promise<DeviceRecord | undefined> {
    if (!this.stmt('SELECT 1 FROM devices WHERE id = ?').get(id)) return undefined;
    this.db.transaction(() => this.writeAuth(id, auth, now))();
    return this.getDevice(id);
  }

  async isNonceUsed(deviceId: string, purpose: 'client' | 'server', value: string): Promise<boolean> {
    const r = this.stmt('SELECT 1 FROM nonces WHERE device_id = ? AND purpose = ? AND value = ? AND used_at IS NOT NULL LIMIT 1').get(deviceId, purpose, value);
    return r !== undefined;
  }

  // --- jobs ---------------------------------------------------------------------------------------

  private job(r: Row): JobRecord {
    const id = String(r.id);
    const statuses = (this.stmt('SELECT * FROM job_statuses WHERE job_id = ? ORDER BY id').all(r.id) as Row[]).map((s) => clean({
      path: s.path as string, step: s.step as string, cmd: s.cmd as string, code: s.code as number,
      msgRef: (s.msg_ref as string) ?? '', cmdRef: (s.cmd_ref as string) ?? '',
      targetRefs: JSONP<string[] | undefined>(s.target_refs, undefined), sourceRefs: JSONP<string[] | undefined>(s.source_refs, undefined),
      items: JSONP<string[] | undefined>(s.items, undefined),
    }));
    const results = (this.stmt('SELECT * FROM results WHERE job_id = ? ORDER BY id').all(r.id) as Row[]).map((x) => this.resultOf(x));
    return clean({
      id, deviceId: r.device_id as string, campaign: opt<string>(r.campaign), spec: JSON.parse(r.spec as string) as JobSpec,
      state: r.state as JobState, step: opt<string>(r.step), attempts: r.attempts as number, session: opt<string>(r.session),
      fumo: JSONP(r.fumo, undefined), error: opt<string>(r.error), createdAt: r.created_at as number, updatedAt: r.updated_at as number,
      statuses, results: results.map(({ path, step, uri, format, type, data, encoding }) => clean({ path, step, uri, format, type, data, encoding })),
      sent: JSONP(r.sent, []),
    });
  }

  async addJob(deviceId: string, spec: JobSpec, now: number, options: { campaign?: string } = {}): Promise<JobRecord> {
    const info = this.stmt('INSERT INTO jobs (device_id, campaign, spec, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(deviceId, options.campaign ?? null, JSON.stringify(spec), 'queued', now, now);
    return (await this.getJob(String(info.lastInsertRowid)))!;
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const r = this.stmt('SELECT * FROM jobs WHERE id = ?').get(Number(id)) as Row | undefined;
    return r === undefined ? undefined : this.job(r);
  }

  async listJobs(filter: ListFilter = {}): Promise<JobRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.deviceId !== undefined) { where.push('device_id = ?'); args.push(filter.deviceId); }
    if (filter.state !== undefined) { where.push('state = ?'); args.push(filter.state); }
    if (filter.campaign !== undefined) { where.push('campaign = ?'); args.push(filter.campaign); }
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`;
    return (this.stmt(sql).all(...args, filter.limit ?? -1) as Row[]).map((r) => this.job(r));
  }

  async pendingJobs(deviceId: string): Promise<PendingJob[]> {
    const rows = this.stmt("SELECT * FROM jobs WHERE device_id = ? AND state IN ('queued', 'sent', 'waiting-alert') ORDER BY id").all(deviceId) as Row[];
    return rows.map((r) => clean({
      id: String(r.id), spec: JSON.parse(r.spec as string) as JobSpec, state: r.state as JobState, step: opt<string>(r.step),
      attempts: r.attempts as number, session: opt<string>(r.session), fumo: JSONP(r.fumo, undefined),
    }));
  }

  async cancelJob(id: string, now: number): Promise<JobRecord | undefined> {
    const n = this.stmt("UPDATE jobs SET state = 'failed', error = 'cancelled', updated_at = ? WHERE id = ? AND state IN ('queued', 'waiting-alert')").run(now, Number(id)).changes;
    return n > 0 ? this.getJob(id) : undefined;
  }

  // --- what devices reported --------------------------------------------------------------------------

  private resultOf(r: Row): StoredResult {
    return clean({
      id: r.id as number, deviceId: r.device_id as string, jobId: r.job_id === null ? undefined : String(r.job_id), session: opt<string>(r.session),
      path: (r.path as string) ?? '', step: (r.step as string) ?? '', uri: r.uri as string, format: opt<string>(r.format), type: opt<string>(r.type),
      data: r.data as string, encoding: r.encoding as StoredResult['encoding'], at: r.at as number,
    });
  }

  async getTree(deviceId: string): Promise<StoredNode[]> {
    return (this.stmt('SELECT * FROM tree WHERE device_id = ? ORDER BY uri').all(deviceId) as Row[]).map((r) => clean({
      uri: r.uri as string, format: opt<string>(r.format), type: opt<string>(r.type), data: r.data as string,
      encoding: r.encoding as StoredNode['encoding'], at: r.at as number,
    }));
  }

  private list(table: string, filter: ListFilter, order = 'id DESC'): Row[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.deviceId !== undefined) { where.push('device_id = ?'); args.push(filter.deviceId); }
    if (filter.jobId !== undefined) { where.push('job_id = ?'); args.push(Number(filter.jobId)); }
    const sql = `SELECT * FROM ${table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ?`;
    return this.stmt(sql).all(...args, filter.limit ?? -1) as Row[];
  }

  async listResults(filter: ListFilter = {}): Promise<StoredResult[]> {
    return this.list('results', filter).map((r) => this.resultOf(r));
  }

  async listAlerts(filter: ListFilter = {}): Promise<StoredAlert[]> {
    return this.list('alerts', filter).map((r) => clean({
      id: r.id as number, deviceId: r.device_id as string, session: opt<string>(r.session), jobId: r.job_id === null ? undefined : String(r.job_id),
      code: r.code as number, type: r.type as string, rawType: r.raw_type as string, format: r.format as string, mark: r.mark as string,
      source: opt<string>(r.source), target: opt<string>(r.target), data: r.data as string, encoding: r.encoding as StoredAlert['encoding'],
      correlator: opt<string>(r.correlator), at: r.at as number,
    }));
  }

  private sessionOf(r: Row): SessionRecord {
    return clean({
      token: r.token as string, deviceId: r.device_id as string, sessionId: r.session_id as string, version: opt<'1.2' | '1.1.2'>(r.version),
      initiator: opt<'client' | 'server'>(r.initiator), startedAt: r.started_at as number, lastAt: r.last_at as number,
      endedAt: opt<number>(r.ended_at), reason: opt<SessionRecord['reason']>(r.reason), authenticated: r.authenticated === 1,
      messagesIn: r.messages_in as number, messagesOut: r.messages_out as number,
    });
  }

  async listSessions(filter: ListFilter = {}): Promise<SessionRecord[]> {
    return this.list('sessions', filter, 'started_at DESC').map((r) => this.sessionOf(r));
  }

  async getSession(token: string): Promise<SessionRecord | undefined> {
    const r = this.stmt('SELECT * FROM sessions WHERE token = ?').get(token) as Row | undefined;
    return r === undefined ? undefined : this.sessionOf(r);
  }

  async listAuthEvents(filter: ListFilter = {}): Promise<AuthEvent[]> {
    return this.list('auth_events', filter).map((r) => clean({
      deviceId: r.device_id as string, session: r.session as string, scheme: r.scheme as AuthEvent['scheme'], outcome: r.outcome as AuthEvent['outcome'],
      code: r.code as number, reason: opt<string>(r.reason), at: r.at as number,
    }));
  }

  // --- notifications ----------------------------------------------------------------------------------

  private notificationOf(r: Row): NotificationRecord {
    return clean({
      id: String(r.id), deviceId: r.device_id as string, sessionId: r.session_id as string, swappedSessionId: r.swapped_session_id as string,
      uiMode: r.ui_mode as string, createdAt: r.created_at as number, answeredAt: opt<number>(r.answered_at), session: opt<string>(r.session),
      delivery: opt<string>(r.delivery),
    });
  }

  async addNotification(n: Omit<NotificationRecord, 'id'>): Promise<NotificationRecord> {
    const info = this.stmt('INSERT INTO notifications (device_id, session_id, swapped_session_id, ui_mode, created_at, delivery) VALUES (?, ?, ?, ?, ?, ?)')
      .run(n.deviceId, n.sessionId, n.swappedSessionId, n.uiMode, n.createdAt, n.delivery ?? null);
    return this.notificationOf(this.stmt('SELECT * FROM notifications WHERE id = ?').get(info.lastInsertRowid) as Row);
  }

  async findNotification(deviceId: string, sessionId: string): Promise<NotificationRecord | undefined> {
    const r = this.stmt('SELECT * FROM notifications WHERE device_id = ? AND answered_at IS NULL AND (session_id = ? OR swapped_session_id = ?) ORDER BY id DESC LIMIT 1')
      .get(deviceId, sessionId.toUpperCase(), sessionId.toUpperCase()) as Row | undefined;
    return r === undefined ? undefined : this.notificationOf(r);
  }

  async listNotifications(filter: ListFilter = {}): Promise<NotificationRecord[]> {
    return this.list('notifications', filter).map((r) => this.notificationOf(r));
  }

  /** Records how a notification was delivered. */
  async setNotificationDelivery(id: string, delivery: string): Promise<void> {
    this.stmt('UPDATE notifications SET delivery = ? WHERE id = ?').run(delivery, Number(id));
  }

  // --- effects ----------------------------------------------------------------------------------------

  /**
   * Makes one step's effects durable. Concurrent calls are committed together (group commit):
   * the calls made while the event loop polls for I/O are queued, and one transaction, with a
   * savepoint per call, commits them all with a single sync; each promise settles after that
   * commit, so nothing is acknowledged before it is on disk. A call whose effects fail is rolled
   * back alone (its savepoint); the others commit. A store whose commits do not wait for the disk
   * (relaxed durability, in memory) commits each call at once.
   */
  apply(effects: readonly ServerEffect[]): Promise<void> {
    if (effects.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      if (!this.groupCommit) {
        this.queued.push({ effects, resolve, reject });
        this.flush();
      } else if (this.queued.push({ effects, resolve, reject }) === 1) setImmediate(this.flush);
    });
  }

  private queued: QueuedApply[] = [];

  /** One step's effects: a transaction of its own, or a savepoint inside the group's. */
  private applyTxFn?: (effects: readonly ServerEffect[]) => void;

  private readonly flush = (): void => {
    const batch = this.queued;
    if (batch.length === 0) return;
    this.queued = [];
    if (!this.db.open) {
      for (const b of batch) b.reject(new Error('the store is closed'));
      return;
    }
    const one = (this.applyTxFn ??= this.db.transaction((list: readonly ServerEffect[]) => {
      for (const e of list) this.applyOne(e);
    }));
    if (batch.length > 1 && this.commitGroup(batch, one)) return;
    // One call, or a group SQLite rolled back: each call in its own transaction, with its own outcome.
    for (const b of batch) {
      try {
        one(b.effects);
      } catch (e) {
        b.reject(e);
        continue;
      }
      b.resolve();
    }
  };

  /**
   * Commits the calls of `batch` in one transaction (`one` makes each a savepoint) and settles
   * them; false, with nothing settled, when nothing of the group could be kept.
   */
  private commitGroup(batch: QueuedApply[], one: (effects: readonly ServerEffect[]) => void): boolean {
    const failed: unknown[] = new Array(batch.length);
    try {
      this.db.transaction(() => {
        for (let i = 0; i < batch.length; i++) {
          try {
            one(batch[i].effects);
          } catch (e) {
            // SQLite may roll the whole transaction back on its own (SQLITE_FULL, I/O errors).
            if (!this.db.inTransaction) throw e;
            failed[i] = e ?? new Error('store write failed');
          }
        }
      })();
    } catch {
      return false;
    }
    for (let i = 0; i < batch.length; i++) {
      if (failed[i] !== undefined) batch[i].reject(failed[i]);
      else batch[i].resolve();
    }
    return true;
  }

  private applyOne(e: ServerEffect): void {
    switch (e.type) {
      case 'session':
        if (e.action === 'start') {
          this.stmt('INSERT OR REPLACE INTO sessions (token, device_id, session_id, version, initiator, started_at, last_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
            .run(e.token, e.deviceId, e.sessionId, e.version ?? null, e.initiator ?? null, e.at, e.at);
        } else {
          this.stmt(`UPDATE sessions SET last_at = ?, messages_in = COALESCE(?, messages_in), messages_out = COALESCE(?, messages_out),
            authenticated = COALESCE(?, authenticated), ended_at = COALESCE(?, ended_at), reason = COALESCE(?, reason) WHERE token = ?`)
            .run(e.at, e.messagesIn ?? null, e.messagesOut ?? null, e.authenticated === undefined ? null : e.authenticated ? 1 : 0,
              e.action === 'end' ? e.at : null, e.reason ?? null, e.token);
        }
        return;
      case 'device': {
        // A device the store did not know (allowUnknownDevices) is recorded without credentials.
        this.stmt(`INSERT INTO devices (id, created_at, auth_scheme, first_seen, last_seen, dm_version) VALUES (?, ?, 'none', ?, ?, ?)
          ON CONFLICT (id) DO UPDATE SET first_seen = COALESCE(first_seen, excluded.first_seen), last_seen = excluded.last_seen, dm_version = excluded.dm_version`)
          .run(e.deviceId, e.at, e.at, e.at, e.version);
        if (e.devInfo !== undefined) {
          const r = this.stmt('SELECT devinfo FROM devices WHERE id = ?').get(e.deviceId) as Row;
          this.stmt('UPDATE devices SET devinfo = ? WHERE id = ?').run(JSON.stringify({ ...JSONP(r.devinfo, {}), ...e.devInfo }), e.deviceId);
        }
        return;
      }
      case 'auth':
        this.stmt('INSERT INTO auth_events (device_id, session, scheme, outcome, code, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(e.deviceId, e.token, e.scheme, e.outcome, e.code, e.reason ?? null, e.at);
        return;
      case 'nonce':
        if (e.action === 'consumed') {
          this.consumeNonce(e.deviceId, e.purpose, e.value, e.at);
        } else {
          this.insertNonce(e.deviceId, e.purpose, e.value, e.at);
        }
        return;
      case 'job':
        this.applyJob(e);
        return;
      case 'tree': {
        const st = this.stmt(`INSERT INTO tree (device_id, uri, format, type, data, encoding, at) VALUES (?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (device_id, uri) DO UPDATE SET format = excluded.format, type = excluded.type, data = excluded.data, encoding = excluded.encoding, at = excluded.at`);
        for (const n of e.nodes) st.run(e.deviceId, n.uri, n.format ?? null, n.type ?? null, n.data, n.encoding, e.at);
        return;
      }
      case 'alert': {
        const a = e.alert;
        this.stmt(`INSERT INTO alerts (device_id, session, job_id, code, type, raw_type, format, mark, source, target, data, encoding, correlator, at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
          .run(e.deviceId, e.token, e.jobId === undefined ? null : Number(e.jobId), a.code, a.type, a.rawType, a.format, a.mark,
            a.source ?? null, a.target ?? null, a.data, a.encoding, a.correlator ?? null, e.at);
        return;
      }
      case 'notification':
        this.stmt('UPDATE notifications SET answered_at = ?, session = ? WHERE id = ?').run(e.at, e.token, Number(e.notificationId));
        return;
      default:
        throw new Error(`unknown effect ${(e as { type?: unknown }).type}`);
    }
  }

  private applyJob(e: Extract<ServerEffect, { type: 'job' }>): void {
    const r = this.stmt('SELECT device_id, fumo, sent, session FROM jobs WHERE id = ?').get(Number(e.jobId)) as Row | undefined;
    if (r === undefined) return; // deleted meanwhile
    const fumo = e.fumo !== undefined ? JSON.stringify({ ...JSONP(r.fumo, {}), ...e.fumo }) : null;
    let sent: string | null = null;
    if (e.sent !== undefined) sent = JSON.stringify(e.attempts !== undefined ? e.sent : [...JSONP<unknown[]>(r.sent, []), ...e.sent]);
    const terminalOk = e.state === 'answered' || e.state === 'done';
    const error = e.error !== undefined ? e.error : terminalOk ? null : undefined;
    this.stmt(`UPDATE jobs SET state = ?, step = COALESCE(?, step), session = COALESCE(?, session), attempts = COALESCE(?, attempts),
      sent = COALESCE(?, sent), fumo = COALESCE(?, fumo), error = ${error === undefined ? 'error' : '?'}, updated_at = ? WHERE id = ?`)
      .run(...[e.state, e.step ?? null, e.session ?? null, e.attempts ?? null, sent, fumo, ...(error === undefined ? [] : [error]), e.at, Number(e.jobId)]);
    const session = e.session ?? opt<string>(r.session) ?? null;
    if (e.statuses !== undefined && e.statuses.length > 0) {
      const st = this.stmt(`INSERT INTO job_statuses (job_id, session, step, path, cmd, code, msg_ref, cmd_ref, target_refs, source_refs, items, at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const s of e.statuses) {
        st.run(Number(e.jobId), session, s.step, s.path, s.cmd, s.code, s.msgRef, s.cmdRef,
          s.targetRefs ? JSON.stringify(s.targetRefs) : null, s.sourceRefs ? JSON.stringify(s.sourceRefs) : null, s.items ? JSON.stringify(s.items) : null, e.at);
      }
    }
    if (e.results !== undefined && e.results.length > 0) {
      const st = this.stmt('INSERT INTO results (device_id, job_id, session, step, path, uri, format, type, data, encoding, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
      for (const x of e.results) st.run(r.device_id, Number(e.jobId), session, x.step, x.path, x.uri, x.format ?? null, x.type ?? null, x.data, x.encoding, e.at);
    }
  }

  async close(): Promise<void> {
    // Effects already handed to apply() are committed first: their callers are waiting for them.
    if (this.queued.length > 0 && this.db.open) this.flush();
    if (this.db.open) this.db.close();
  }
}
