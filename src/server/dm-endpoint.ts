/**
 * The DM endpoint: a `(req, res)` handler for any Node HTTP(S) server. It turns HTTP into session
 * steps (`dm/server-session.ts`) and makes their effects durable before it answers.
 *
 * One request:
 * 1. POST only (405); Content-Type `application/vnd.syncml.dm+wbxml` or `+xml` (else 415); a body
 *    over the limit gets 413 without being read further.
 * 2. The message is parsed tolerantly (`strict: false`; the warnings go to the log). A body that
 *    does not parse is answered with a SyncML SyncHdr Status 400 when the RespURI token names an
 *    open session, with HTTP 400 otherwise.
 * 3. The session is found by the RespURI token (`?s=…`, whatever other query parameters the
 *    client adds), else by (device, SessionID). Requests of one device run one at a time, so a
 *    nonce cannot be used by two requests at once.
 * 4. The device, its unfinished jobs and (for Alert 1200) its pending package 0 come from the
 *    store; `step` runs; its effects are applied in one transaction; only then is the reply
 *    serialized, in the request's encoding, signed with `x-syncml-hmac` in HMAC sessions, and sent.
 * 5. A client that sends the same message again (same MsgID, same bytes: its answer was lost) gets
 *    the same answer again without a second step.
 * Sessions idle longer than `idleTimeoutMs` are ended (their jobs in flight queued again).
 * Anything unexpected is logged and answered 500 (SyncML when a session is known); the process
 * never goes down for a request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { parseMessage, serializeToBytes, type SyncML } from '../syncml/index.js';
import { isWbxmlError, type WbxmlError } from '../wbxml/index.js';
import { formatHmacHeader, hmacDigest } from '../dm/auth.js';
import { step, errorReply, expireSession, type ServerEffect, type ServerSessionConfig, type ServerSessionState, type SessionDevice } from '../dm/server-session.js';
import { isStoreUnavailable, type Store } from './store.js';
import { silentLogger, summarize, TraceWriter, type ServerLogger } from './log.js';
import { runHook, type ServerHooks } from './hooks.js';

/** A message's text may be this many times the body limit (see textSize). */
const EXPANSION_FACTOR = 8;

/** The two DM media types (DMREPPRO; research note §4.7). @public */
export const DM_WBXML = 'application/vnd.syncml.dm+wbxml';
/** @public */
export const DM_XML = 'application/vnd.syncml.dm+xml';

/** Options of {@link createDmEndpoint}. @public */
export interface DmEndpointOptions {
  store: Store;
  /** Session rules (server URI and id, MaxMsgSize, auth failures, job batching...). */
  session?: ServerSessionConfig;
  /** Largest request body in bytes (413 above). Default 1 MiB; also the MaxMsgSize announced. */
  bodyLimit?: number;
  /** An open session with no message for this long is ended. Default 5 minutes. */
  idleTimeoutMs?: number;
  /**
   * The whole request body must arrive within this many milliseconds of the request reaching
   * the handler, else 408 and the connection is closed (a client that never finishes its body
   * does not hold a connection and its memory for ever). Default 30 000; 0: no limit.
   */
  bodyTimeoutMs?: number;
  /**
   * Open sessions that no credentials protect (the device has not authenticated yet, or its
   * scheme is none, or it is an unknown device let in by `allowUnknownDevices`), at most; past it
   * the least recently active is ended. Default 10 000 (about 1.5 KB each).
   */
  maxUnauthenticatedSessions?: number;
  /** Authenticated open sessions of one device, at most; past it its least recently active is ended. Default 4. */
  maxSessionsPerDevice?: number;
  /**
   * The endpoint's public URL, for RespURI (`https://dm.example.net/omadm`). Default: built from
   * the request (scheme of the socket, Host header, path).
   */
  publicUrl?: string;
  log?: ServerLogger;
  /** Keep every message as XML in this directory. */
  traceDir?: string;
  hooks?: ServerHooks;
  /** Default: node:crypto randomBytes. */
  random?: (n: number) => Uint8Array;
  /** Default: Date.now. */
  now?: () => number;
}

/** The handler, with its housekeeping. @public */
export interface DmEndpoint {
  (req: IncomingMessage, res: ServerResponse): void;
  /** The same, as a promise that settles when the answer is sent. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Ends idle sessions now. */
  sweep(): Promise<void>;
  /** Open sessions in memory. */
  readonly openSessions: number;
  /** Stops the idle timer and ends the open sessions (their jobs in flight are queued again). */
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

interface Cached {
  msgId: string;
  hash: string;
  body: Uint8Array;
  headers: Record<string, string>;
}

function mediaType(req: IncomingMessage): string {
  return String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

function tokenOf(url: string | undefined): string | undefined {
  // The client may add its own parameters (Windows: ?mode=Maintenance&Platform=WoA), even after a '?'.
  const m = /[?&]s=([0-9a-f]{32})(?![0-9a-f])/i.exec(url ?? '');
  return m === null ? undefined : m[1].toLowerCase();
}

function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new HttpError(413, `body of ${declared} bytes is over the limit of ${limit}`, { connection: 'close' }));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (e: Error): void => {
      if (done) return;
      done = true;
      chunks.length = 0;
      if (timer !== undefined) clearTimeout(timer);
      reject(e);
    };
    // A client that never finishes its body (slowloris) is cut off.
    const timer = timeoutMs > 0
      ? setTimeout(() => fail(new HttpError(408, `the request body did not arrive within ${timeoutMs} ms (${size} bytes received)`, { connection: 'close' })), timeoutMs)
      : undefined;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limit) {
        fail(new HttpError(413, `body over the limit of ${limit} bytes`, { connection: 'close' }));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      const b = Buffer.concat(chunks);
      resolve(new Uint8Array(b.buffer, b.byteOffset, b.length));
    });
    // The client went away before the end of its body (Node reports 'aborted', then 'close'):
    // nothing to answer, a line in the log, no error.
    const gone = () => new HttpError(400, `the connection closed before the end of the body (${size} bytes received)`, { connection: 'close' });
    // (Checked before the error is built: every request closes, most after their body.)
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (!done) fail(e.code === 'ECONNRESET' || e.message === 'aborted' ? gone() : new HttpError(400, `the request body could not be read: ${e.message}`, { connection: 'close' }));
    });
    req.on('close', () => {
      if (!done) fail(gone());
    });
  });
}

/**
 * Characters and bytes of text in a parsed message, counted until `cap` is passed. WBXML
 * string-table references (STR_T) let a small body name the same table string many times: a
 * 80 KB "string-table bomb" would parse into a 500 MB Data value. The WBXML reader refuses a
 * document whose references stand for more than 256 times its length (at least 1 MiB; the
 * embedded DevInf and MgmtTree documents share one more such budget); the endpoint holds the
 * whole message, embedded documents included, to a tighter bound of its own.
 */
function textSize(v: unknown, cap: number): number {
  let total = 0;
  const stack: unknown[] = [v];
  while (stack.length > 0) {
    const x = stack.pop();
    if (typeof x === 'string') total += x.length;
    else if (x instanceof Uint8Array) total += x.length;
    else if (x !== null && typeof x === 'object') {
      if (Array.isArray(x)) for (const y of x) stack.push(y);
      else for (const k in x) stack.push((x as Record<string, unknown>)[k]);
    }
    if (total > cap) return total;
  }
  return total;
}

/**
 * A request target that is a path the URL parser would keep as it is (no dot segments, no escapes,
 * not `//`), with no query or only `s=<token>`.
 */
const PLAIN_TARGET = /^(\/(?!\/)[A-Za-z0-9_~\/-]*)(?:\?s=[0-9A-Fa-f]*)?$/;

const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;

/**
 * The first field the answer repeats (SessionID, MsgID, LocURIs in SyncHdr and Status refs,
 * CmdIDs) that holds a character XML 1.0 cannot carry. A WBXML body can hold such characters,
 * and an answer in XML (to this message, or to a later one of the session) could then not be
 * written at all (found by the endpoint fuzzer).
 */
function unanswerableInXml(msg: SyncML): string | undefined {
  const bad = (v: unknown) => typeof v === 'string' && XML_INVALID.test(v);
  const h = msg.header;
  for (const [name, v] of [['SessionID', h.sessionId], ['MsgID', h.msgId], ['Source/LocURI', h.source?.locUri], ['Target/LocURI', h.target?.locUri], ['Source/LocName', h.source?.locName]] as const) {
    if (bad(v)) return `SyncHdr/${name}`;
  }
  const walk = (cmds: readonly unknown[], at: string): string | undefined => {
    for (const [i, c] of cmds.entries()) {
      const cmd = c as { kind?: string; cmdId?: unknown; items?: { target?: { locUri?: unknown }; source?: { locUri?: unknown } }[]; commands?: unknown[] };
      if (cmd === null || typeof cmd !== 'object') continue;
      const here = `${at}/${cmd.kind}[${i + 1}]`;
      if (bad(cmd.cmdId)) return `${here}/CmdID`;
      for (const it of Array.isArray(cmd.items) ? cmd.items : []) {
        if (bad(it?.target?.locUri) || bad(it?.source?.locUri)) return `${here}/Item/LocURI`;
      }
      if (Array.isArray(cmd.commands)) {
        const inner = walk(cmd.commands, here);
        if (inner !== undefined) return inner;
      }
    }
    return undefined;
  };
  return walk(msg.body?.commands ?? [], 'SyncBody');
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: Uint8Array | string): void {
  if (res.headersSent) return;
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.length);
  res.writeHead(status, { 'cache-control': 'no-store', 'content-length': String(buf.length), ...headers });
  res.end(buf);
}

/**
 * Random bytes (session tokens, nonces) from node:crypto, drawn 4 KB at a time: one call into the
 * CSPRNG per 4 KB instead of one per token. Each caller gets its own copy.
 */
function randomPool(): (n: number) => Uint8Array {
  const pool = Buffer.alloc(4096);
  let at = pool.length;
  return (n) => {
    if (n > pool.length) return new Uint8Array(randomBytes(n));
    if (at + n > pool.length) {
      randomFillSync(pool);
      at = 0;
    }
    const out = new Uint8Array(n);
    out.set(pool.subarray(at, at + n));
    // What was handed out is not handed out again.
    pool.fill(0, at, at + n);
    at += n;
    return out;
  };
}

/** What identifies a request's bytes for retransmission: its media type and a SHA-256 of its body. */
function requestHash(encoding: 'wbxml' | 'xml', body: Uint8Array): string {
  return `${encoding}:${createHash('sha256').update(body).digest('hex')}`;
}

/**
 * Creates the DM endpoint.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:https';
 * const endpoint = createDmEndpoint({ store: SqliteStore.open('dm.sqlite'), publicUrl: 'https://dm.example.net/omadm' });
 * createServer({ key, cert, minVersion: 'TLSv1.2' }, (req, res) => {
 *   if (req.url?.startsWith('/omadm')) endpoint(req, res); else { res.statusCode = 404; res.end(); }
 * }).listen(443);
 * ```
 * @public
 */
export function createDmEndpoint(options: DmEndpointOptions): DmEndpoint {
  const store = options.store;
  const log = options.log ?? silentLogger;
  const hooks = options.hooks ?? {};
  const limit = options.bodyLimit ?? 1 << 20;
  const idle = options.idleTimeoutMs ?? 5 * 60_000;
  const bodyTimeout = options.bodyTimeoutMs ?? 30_000;
  // Text a parsed message may hold: far above what an honest body of the limit's size decodes to.
  const expansionLimit = EXPANSION_FACTOR * limit;
  const random = options.random ?? randomPool();
  const now = options.now ?? Date.now;
  const trace = options.traceDir !== undefined ? new TraceWriter(options.traceDir) : undefined;
  const sessionConfig: ServerSessionConfig = { maxMsgSize: limit, ...options.session };

  const byToken = new Map<string, ServerSessionState>();
  const byKey = new Map<string, ServerSessionState>();
  const unauthenticated = new Map<string, ServerSessionState>();
  const maxUnauthenticated = Math.max(1, options.maxUnauthenticatedSessions ?? 10_000);
  const perDevice = new Map<string, Map<string, ServerSessionState>>();
  const maxPerDevice = Math.max(1, options.maxSessionsPerDevice ?? 4);
  const cache = new WeakMap<ServerSessionState, Cached>();
  const locks = new Map<string, Promise<unknown>>();
  let closed = false;

  const key = (device: string, sessionId: string): string => `${device}\n${sessionId}`;

  /** Sessions no credentials protect: not authenticated yet, or scheme none (unknown devices let in too). */
  const unprotected = (s: ServerSessionState): boolean => s.phase === 'auth' || s.auth.scheme === 'none';

  function remember(s: ServerSessionState): void {
    byToken.set(s.token, s);
    byKey.set(key(s.deviceId, s.sessionId), s);
    // Least recently active first, in both bounded sets.
    unauthenticated.delete(s.token);
    perDevice.get(s.deviceId)?.delete(s.token);
    if (unprotected(s)) unauthenticated.set(s.token, s);
    else {
      let m = perDevice.get(s.deviceId);
      if (m === undefined) perDevice.set(s.deviceId, (m = new Map()));
      m.set(s.token, s);
    }
  }

  function forget(s: ServerSessionState): void {
    if (byToken.get(s.token) === s) byToken.delete(s.token);
    const k = key(s.deviceId, s.sessionId);
    if (byKey.get(k) === s) byKey.delete(k);
    if (unauthenticated.get(s.token) === s) unauthenticated.delete(s.token);
    const m = perDevice.get(s.deviceId);
    if (m?.get(s.token) === s) {
      m.delete(s.token);
      if (m.size === 0) perDevice.delete(s.deviceId);
    }
  }

  function end(s: ServerSessionState, why: string): void {
    forget(s);
    void withLock(s.deviceId, async () => {
      try {
        const effects = await expireSession(s, now(), 'expired');
        await store.apply(effects);
        afterApply(effects);
        log.event('session-evicted', { device: s.deviceId, session: s.sessionId, token: s.token, reason: why });
      } catch (e) {
        log.error('ending an evicted session', e, { token: s.token });
      }
    });
  }

  /**
   * Bounds on open sessions (found by the endpoint fuzzer: without them, memory grows until the
   * idle timeout). Anyone can open a session (a package 1 without credentials is challenged and
   * the session waits for the answer; with `allowUnknownDevices` or scheme none it is open at
   * once): past `maxUnauthenticatedSessions` of those, the least recently active one is ended. A
   * device with valid credentials may open sessions with ever new SessionIDs: past
   * `maxSessionsPerDevice` of its authenticated ones, its least recently active one is ended.
   * Unauthenticated requests never count against a device's own sessions. An ended session's jobs
   * in flight are queued again; a device waiting for its challenge loses nothing (its next
   * package 1 opens a new session with the nonce it was given).
   */
  function evict(s: ServerSessionState): void {
    for (const x of unauthenticated.values()) {
      if (unauthenticated.size <= maxUnauthenticated) break;
      end(x, `more than ${maxUnauthenticated} sessions without authentication`);
    }
    const m = perDevice.get(s.deviceId);
    if (m === undefined) return;
    for (const x of m.values()) {
      if (m.size <= maxPerDevice) break;
      end(x, `more than ${maxPerDevice} open sessions for the device`);
    }
  }

  /** Runs `fn` after the device's previous request (one request per device at a time). */
  function withLock<T>(device: string, fn: () => Promise<T>): Promise<T> {
    const prev = locks.get(device) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    locks.set(device, tail);
    void tail.then(() => {
      if (locks.get(device) === tail) locks.delete(device);
    });
    return run;
  }

  function respUri(req: IncomingMessage): (token: string) => string {
    // Most requests are a plain path with at most our own token: no URL parser needed.
    const plain = PLAIN_TARGET.exec(req.url ?? '/');
    let pathname: string;
    let query = '';
    if (plain !== null) pathname = plain[1];
    else {
      const url = new URL(req.url ?? '/', 'http://x');
      url.searchParams.delete('s');
      query = url.searchParams.toString();
      pathname = url.pathname;
    }
    let base: string;
    if (options.publicUrl !== undefined) base = options.publicUrl;
    else {
      const tls = (req.socket as { encrypted?: boolean }).encrypted === true;
      base = `${tls ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}${pathname}`;
    }
    const withQuery = query ? `${base}${base.includes('?') ? '&' : '?'}${query}` : base;
    return (token) => `${withQuery}${withQuery.includes('?') ? '&' : '?'}s=${token}`;
  }

  function afterApply(effects: ServerEffect[]): void {
    for (const e of effects) {
      if (e.type === 'alert') {
        const { alert, ...rest } = e;
        runHook(log, 'onAlert', hooks.onAlert && (() => hooks.onAlert!({
          ...alert, deviceId: rest.deviceId, session: rest.token, at: rest.at, solicited: rest.jobId !== undefined,
          ...(rest.jobId !== undefined ? { jobId: rest.jobId } : {}),
        })));
      } else if (e.type === 'job') {
        runHook(log, 'onJobUpdate', hooks.onJobUpdate && (() => hooks.onJobUpdate!({ jobId: e.jobId, state: e.state, ...(e.step ? { step: e.step } : {}), ...(e.error ? { error: e.error } : {}) })));
      } else if (e.type === 'session' && e.action === 'end') {
        runHook(log, 'onSessionEnd', hooks.onSessionEnd && (() => hooks.onSessionEnd!({ token: e.token, deviceId: e.deviceId, sessionId: e.sessionId, reason: e.reason ?? 'completed' })));
        log.event('session-end', { device: e.deviceId, session: e.sessionId, token: e.token, reason: e.reason, in: e.messagesIn, out: e.messagesOut });
      } else if (e.type === 'auth' && e.outcome !== 'accepted') {
        log.event('auth', { device: e.deviceId, token: e.token, scheme: e.scheme, outcome: e.outcome, code: e.code, reason: e.reason });
      }
    }
  }

  function reply(res: ServerResponse, msg: SyncML, encoding: 'wbxml' | 'xml', started: number, extra: { token?: string; status?: number; sign?: { username: string; password: string; nonce: Uint8Array } } = {}): Cached {
    const body = serializeToBytes(msg, { encoding });
    const headers: Record<string, string> = { 'content-type': encoding === 'wbxml' ? DM_WBXML : DM_XML };
    if (extra.sign !== undefined) {
      // DMSEC: the server's own HMAC over the exact bytes it sends.
      headers['x-syncml-hmac'] = formatHmacHeader({ username: extra.sign.username, mac: hmacDigest(extra.sign.username, extra.sign.password, extra.sign.nonce, body) });
    }
    send(res, extra.status ?? 200, headers, body);
    const { commands, statuses } = summarize(msg);
    log.message({
      dir: 'out', device: msg.header.target.locUri, session: msg.header.sessionId, token: extra.token, msg: msg.header.msgId,
      commands, statuses, bytes: body.length, encoding, final: msg.body.final, ms: Math.round((performance.now() - started) * 100) / 100,
    });
    trace?.write({ dir: 'out', device: msg.header.target.locUri, session: msg.header.sessionId, msg: msg.header.msgId }, msg);
    return { msgId: '', hash: '', body, headers };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    let known: ServerSessionState | undefined;
    let encoding: 'wbxml' | 'xml' = 'xml';
    try {
      if (req.method !== 'POST') throw new HttpError(405, 'only POST is served here', { allow: 'POST' });
      const type = mediaType(req);
      if (type !== DM_WBXML && type !== DM_XML) throw new HttpError(415, `content type must be ${DM_WBXML} or ${DM_XML}, not '${type || 'none'}'`);
      encoding = type === DM_WBXML ? 'wbxml' : 'xml';
      const body = await readBody(req, limit, bodyTimeout);
      const token = tokenOf(req.url);
      const byTok = token !== undefined ? byToken.get(token) : undefined;
      known = byTok;
      let parsed;
      try {
        parsed = parseMessage(body, { strict: false, maxBytes: limit });
      } catch (e) {
        log.error('unparsable message', e, { token, bytes: body.length });
        trace?.write({ dir: 'in', device: byTok?.deviceId, session: byTok?.sessionId }, body);
        // The WBXML reader refused a string-table bomb at the reference that went over its limit.
        if (isWbxmlError((e as { cause?: unknown }).cause) && ((e as { cause: WbxmlError }).cause.code === 'SIZE_LIMIT')) {
          throw new HttpError(413, `the ${body.length}-byte message refers to too much string-table text: ${(e as Error).message}`, { connection: 'close' });
        }
        if (byTok !== undefined) {
          const msg = await withLock(byTok.deviceId, async () => errorReply(byTok, 400, sessionConfig));
          reply(res, msg, encoding, started, { token });
          return;
        }
        throw new HttpError(400, `not a SyncML message: ${(e as Error).message}`);
      }
      const msg = parsed.message;
      const expanded = textSize(msg, expansionLimit);
      if (expanded > expansionLimit) {
        trace?.write({ dir: 'in', device: byTok?.deviceId, session: byTok?.sessionId }, body);
        throw new HttpError(413, `the ${body.length}-byte message expands to more than ${expansionLimit} characters of text (WBXML string-table references)`, { connection: 'close' });
      }
      // Refused whatever the encoding: a session opened in WBXML may go on in XML.
      const unanswerable = unanswerableInXml(msg);
      if (unanswerable !== undefined) throw new HttpError(400, `${unanswerable} holds a control character that an answer in XML cannot repeat`);
      const deviceId = (msg.header.source?.locUri ?? '').trim().replace(/\s*\/\s*/g, '/');
      const { commands, statuses } = summarize(msg);
      log.message({
        dir: 'in', device: deviceId, session: msg.header.sessionId, token, msg: msg.header.msgId, commands, statuses,
        bytes: body.length, encoding, final: msg.body.final, ...(parsed.warnings.length ? { warnings: parsed.warnings.length, notes: parsed.warnings.slice(0, 8).map((w) => `${w.code} ${w.path}`) } : {}),
      });
      trace?.write({ dir: 'in', device: deviceId, session: msg.header.sessionId, msg: msg.header.msgId }, msg);
      if (deviceId === '') throw new HttpError(400, 'the SyncHdr has no Source LocURI (the device id)');

      await withLock(deviceId, async () => {
        let state = byTok !== undefined && byTok.deviceId === deviceId && byTok.sessionId === msg.header.sessionId ? byTok : undefined;
        state ??= byKey.get(key(deviceId, msg.header.sessionId));
        if (state !== undefined && state.phase === 'closed') state = undefined;
        known = state;
        // A retransmission is the same bytes under the same media type (the answer is cached in
        // that encoding). The hash is only needed for a message with the MsgID of the last one.
        const last = state !== undefined ? cache.get(state) : undefined;
        if (last !== undefined && last.msgId === msg.header.msgId && last.hash === requestHash(encoding, body)) {
          // The client did not get our answer and sent the same message again.
          send(res, 200, last.headers, last.body);
          log.event('retransmission', { device: deviceId, session: msg.header.sessionId, msg: msg.header.msgId });
          return;
        }
        const record = await store.getDevice(deviceId);
        const device: SessionDevice = { id: deviceId, known: record !== undefined, auth: record?.auth ?? { scheme: 'none' } };
        const hasServerAlert = msg.body.commands.some((c) => c.kind === 'Alert' && c.code === 1200);
        const notification = hasServerAlert ? await store.findNotification(deviceId, msg.header.sessionId) : undefined;
        const hmacHeader = req.headers['x-syncml-hmac'];
        let r: Awaited<ReturnType<typeof step>>;
        try {
          r = await step(state, msg, {
            device, jobs: await store.pendingJobs(deviceId), now: now(), random, config: sessionConfig, respUri: respUri(req),
            transport: { body, encoding, hmacHeader: Array.isArray(hmacHeader) ? hmacHeader[0] : hmacHeader },
            ...(notification !== undefined ? { notification: { id: notification.id } } : {}),
          });
        } catch (e) {
          // A state the step failed in half-way is not trusted: the session ends, its jobs in flight go back to the queue.
          if (state !== undefined) {
            forget(state);
            await expireSession(state, now(), 'error').then((fx) => store.apply(fx)).catch((x) => log.error('ending a failed session', x));
          }
          throw e;
        }
        try {
          await store.apply(r.effects);
        } catch (e) {
          // Nothing of this step is stored: forget the session so that no state runs ahead of the store.
          if (state !== undefined) forget(state);
          forget(r.state);
          throw e;
        }
        // A replaced session is closed by the step; one that was not (the new package 1 did not
        // authenticate, a one-off answer) stays reachable by its RespURI.
        if (state !== undefined && state !== r.state && state.phase === 'closed') forget(state);
        if (r.closed) forget(r.state);
        else {
          remember(r.state);
          evict(r.state);
        }
        if (r.notes.length > 0) log.event('notes', { device: deviceId, session: msg.header.sessionId, token: r.state.token, notes: r.notes });
        afterApply(r.effects);
        const out = reply(res, r.reply, encoding, started, { token: r.state.token, sign: r.sign });
        // Hashed once the answer is out: off the round trip.
        if (!r.closed) cache.set(r.state, { ...out, msgId: msg.header.msgId, hash: requestHash(encoding, body) });
      });
    } catch (e) {
      if (e instanceof HttpError) {
        const gone = res.destroyed || req.socket?.destroyed === true;
        if (!res.headersSent && !gone) send(res, e.status, { 'content-type': 'text/plain; charset=utf-8', ...e.headers }, `${e.message}\n`);
        if (e.status === 413) req.resume();
        // Timed out or cut off: free the connection once the answer is out (at once when it cannot be sent).
        if (e.status === 408 || gone) {
          if (gone || res.writableFinished) req.socket?.destroy();
          else res.once('finish', () => req.socket?.destroy());
        }
        log.event('http-error', { status: e.status, reason: e.message, url: req.url });
        return;
      }
      if (isStoreUnavailable(e)) {
        // The disk (or the database's size limit) is full: nothing of this message was stored
        // (one transaction), its session is forgotten; the device may try again later.
        log.error('store unavailable: the message was not processed', e, { url: req.url, status: 503 });
        if (!res.headersSent) send(res, 503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '60' }, `the server cannot store anything now (${(e as { code?: string }).code}): nothing of this message was kept, try again later\n`);
        return;
      }
      log.error('request failed', e, { url: req.url });
      if (res.headersSent) return;
      if (known !== undefined) {
        try {
          reply(res, errorReply(known, 500, sessionConfig), encoding, started, { token: known.token, status: 500 });
          return;
        } catch {
          // fall through to plain HTTP
        }
      }
      send(res, 500, { 'content-type': 'text/plain; charset=utf-8' }, 'internal error\n');
    }
  }

  async function sweep(): Promise<void> {
    const t = now();
    for (const s of [...byToken.values()]) {
      if (t - s.lastActivity < idle) continue;
      await withLock(s.deviceId, async () => {
        if (byToken.get(s.token) !== s) return;
        forget(s);
        try {
          const effects = await expireSession(s, t, 'expired');
          await store.apply(effects);
          afterApply(effects);
        } catch (e) {
          log.error('expiring a session', e, { token: s.token });
        }
      });
    }
  }

  const timer = setInterval(() => void sweep(), Math.max(1000, Math.min(idle / 2, 30_000)));
  timer.unref();

  const endpoint = ((req: IncomingMessage, res: ServerResponse) => {
    if (closed) {
      send(res, 503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5' }, 'shutting down\n');
      return;
    }
    handle(req, res).catch((e) => {
      log.error('request failed', e);
      try {
        send(res, 500, { 'content-type': 'text/plain; charset=utf-8' }, 'internal error\n');
      } catch {
        // the socket is gone
      }
    });
  }) as DmEndpoint;
  endpoint.handle = handle;
  endpoint.sweep = sweep;
  Object.defineProperty(endpoint, 'openSessions', { get: () => byToken.size });
  endpoint.close = async () => {
    closed = true;
    clearInterval(timer);
    for (const s of [...byToken.values()]) {
      await withLock(s.deviceId, async () => {
        forget(s);
        try {
          const effects = await expireSession(s, now(), 'expired');
          await store.apply(effects);
        } catch (e) {
          log.error('closing a session', e, { token: s.token });
        }
      });
    }
  };
  return endpoint;
}
