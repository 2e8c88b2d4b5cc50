/**
 * A scripted DM client for server tests: builds the messages a device would send (package 1,
 * answers to server packages, next-message requests, chunked Results) with the syncml builders,
 * without the reference client. Plus a small in-memory effect applier for the pure session tests.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { parse as parseSyncML, serializeToBytes as toBytes } from '../src/syncml/index.js';
import {
  MessageBuilder, SessionMessages, commandStatus, headerStatus, resultsFor, type Command, type Cred, type Item,
  type Results, type Status, type SyncML,
} from '../src/syncml/index.js';
import { basicCredential, md5Credential, hmacDigest, formatHmacHeader, fromBase64 } from '../src/dm/index.js';
import type { PendingJob, JobSpec, JobState, JobStatus, JobResult, FumoProgress } from '../src/dm/jobs.js';
import type { ServerEffect, SessionDevice, ServerSessionState, ServerStepResult } from '../src/dm/server-session.js';
import { step, type ServerStepInput } from '../src/dm/server-session.js';

export type Scheme = 'none' | 'basic' | 'md5' | 'hmac';

export interface ClientOptions {
  deviceId?: string;
  serverUri?: string;
  sessionId?: string;
  version?: '1.2' | '1.1.2';
  user?: string;
  password?: string;
  maxMsgSize?: number;
  maxObjSize?: number;
  devInfo?: Record<string, string>;
}

export const DEVICE = 'IMEI:356938035643809';
export const SERVER = 'http://dm.example.test/omadm';

/** Plays a device: numbers its messages, builds Cred / HMAC, answers server commands. */
export class ScriptedClient {
  readonly deviceId: string;
  readonly user: string;
  readonly password: string;
  readonly out: SessionMessages;
  /** The nonce the server gave us for our credentials (base64). */
  nonce: string | undefined;
  /** The nonce we give the server (base64) in our Status for its SyncHdr. */
  serverNonce: string | undefined;
  respUri: string | undefined;
  devInfo: Record<string, string>;

  constructor(readonly opts: ClientOptions = {}) {
    this.deviceId = opts.deviceId ?? DEVICE;
    this.user = opts.user ?? 'device01';
    this.password = opts.password ?? 'secret';
    this.out = new SessionMessages({
      sessionId: opts.sessionId ?? '1A2B', version: opts.version ?? '1.2', source: { locUri: this.deviceId, locName: this.user },
      target: opts.serverUri ?? SERVER, maxMsgSize: opts.maxMsgSize, maxObjSize: opts.maxObjSize,
    });
    this.devInfo = opts.devInfo ?? { DevId: this.deviceId, Man: 'Example Manufacturer', Mod: 'ExamplePhone 1', DmV: opts.version === '1.1.2' ? '1.1.2' : '1.2', Lang: 'en-US' };
  }

  cred(scheme: Scheme, override?: { password?: string; nonce?: string }): Cred | undefined {
    const pw = override?.password ?? this.password;
    if (scheme === 'basic') return { meta: { type: 'syncml:auth-basic', format: 'b64' }, data: basicCredential(this.user, pw) };
    if (scheme === 'md5') {
      const n = override?.nonce ?? this.nonce ?? '';
      return { meta: { type: 'syncml:auth-md5', format: 'b64' }, data: md5Credential(this.user, pw, fromBase64(n)) };
    }
    return undefined;
  }

  devInfoReplace(): Command {
    return {
      kind: 'Replace', cmdId: '',
      items: Object.entries(this.devInfo).map(([k, v]) => ({ source: { locUri: `./DevInfo/${k}` }, data: v })),
    };
  }

  /** Package 1: Alert 1200/1201, DevInfo, extra commands (Generic Alerts), Final. */
  pkg1(o: { alert?: 1200 | 1201; cred?: Cred; extra?: Command[]; final?: boolean } = {}): SyncML {
    const b = this.out.next(o.cred !== undefined ? { cred: o.cred } : {});
    b.add({ kind: 'Alert', cmdId: '', code: o.alert ?? 1201, items: [] });
    b.add(this.devInfoReplace());
    for (const c of o.extra ?? []) b.add(c);
    b.final(o.final ?? true);
    return b.build();
  }

  /** Reads what the server said about us: the nonce in its Chal, its RespURI. */
  read(server: SyncML): { headerCode: number | undefined; commands: Command[] } {
    if (server.header.respUri) this.respUri = server.header.respUri;
    const hs = server.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef === '0');
    const nn = hs?.chal?.meta?.nextNonce;
    if (nn !== undefined) this.nonce = typeof nn === 'string' ? nn : Buffer.from(nn).toString('base64');
    return { headerCode: hs?.code, commands: server.body.commands.filter((c) => c.kind !== 'Status') };
  }

  /**
   * Answers a server message: Status for its SyncHdr (code `headerCode`, 200 by default, with a
   * Chal for the server when `serverNonce` is set), a Status per command (from `code`), Results for
   * Gets from `tree`. `final`: default = the server's message was final.
   */
  answer(server: SyncML, o: {
    code?: (c: Command) => number; tree?: Record<string, string>; headerCode?: number; final?: boolean; extra?: Command[];
    statusItems?: (c: Command) => Item[] | undefined; nextMessage?: boolean;
  } = {}): SyncML {
    this.read(server);
    const b = this.out.next();
    const hs = headerStatus(server, o.headerCode ?? 200, this.serverNonce !== undefined ? { chal: 'syncml:auth-md5', nextNonce: this.serverNonce } : {});
    b.add(hs);
    const walk = (cmds: Command[]): void => {
      for (const c of cmds) {
        if (c.kind === 'Status' || c.kind === 'Results') continue;
        const code = o.code?.(c) ?? (c.kind === 'Exec' ? 202 : c.kind === 'Add' || c.kind === 'Replace' ? (c.items.some((i) => i.moreData) ? 213 : 200) : 200);
        const items = o.statusItems?.(c);
        b.add(commandStatus(server, c, code, items ? { items } : {}));
        if (c.kind === 'Get' && code === 200) {
          const items2 = c.items.map((it) => ({ source: { locUri: it.target!.locUri }, data: o.tree?.[it.target!.locUri] ?? 'value' }));
          b.add(resultsFor(server, c, items2));
        }
        if (c.kind === 'Atomic' || c.kind === 'Sequence') walk(c.commands);
      }
    };
    walk(server.body.commands);
    if (o.nextMessage) b.add({ kind: 'Alert', cmdId: '', code: 1222, items: [] });
    for (const c of o.extra ?? []) b.add(c);
    b.final(o.final ?? server.body.final);
    return b.build();
  }

  /** A message with just the given commands (and the header Status for `server` when given). */
  message(commands: Command[], o: { server?: SyncML; final?: boolean; cred?: Cred } = {}): SyncML {
    const b = this.out.next(o.cred !== undefined ? { cred: o.cred } : {});
    if (o.server) b.add(headerStatus(o.server, 200));
    for (const c of commands) b.add(c);
    b.final(o.final ?? true);
    return b.build();
  }

  /** The x-syncml-hmac header for a body, with our nonce. */
  hmac(body: Uint8Array, override?: { password?: string; nonce?: string }): string {
    const mac = hmacDigest(this.user, override?.password ?? this.password, fromBase64(override?.nonce ?? this.nonce ?? ''), body);
    return formatHmacHeader({ username: this.user, mac });
  }
}

export function builderFor(sessionId: string): MessageBuilder {
  return new MessageBuilder({ verDTD: '1.2', verProto: 'DM/1.2', sessionId, msgId: '1', target: { locUri: SERVER }, source: { locUri: DEVICE } });
}

export function results(server: SyncML, get: Command & { kind: 'Get' }, items: Item[]): Results {
  return resultsFor(server, get, items);
}

// --- a tiny in-memory store for the pure tests ----------------------------------------------------

export interface MemJob extends PendingJob {
  statuses: JobStatus[];
  results: JobResult[];
  error?: string;
  history: JobState[];
}

/** Applies effects like a store would, enough to drive `step` over several messages and sessions. */
export class MiniStore {
  jobs: MemJob[] = [];
  device: SessionDevice;
  nonces: { value: string; used: boolean }[] = [];
  alerts: Extract<ServerEffect, { type: 'alert' }>[] = [];
  tree = new Map<string, string>();
  devInfo: Record<string, string> = {};
  sessions: Extract<ServerEffect, { type: 'session' }>[] = [];
  notifications: string[] = [];
  effects: ServerEffect[] = [];
  private n = 0;

  constructor(device: Partial<SessionDevice> & { auth: SessionDevice['auth'] }) {
    this.device = { id: DEVICE, known: true, ...device };
  }

  addJob(spec: JobSpec): MemJob {
    const j: MemJob = { id: String(++this.n), spec, state: 'queued', attempts: 0, statuses: [], results: [], history: ['queued'] };
    this.jobs.push(j);
    return j;
  }

  job(id: string): MemJob {
    return this.jobs.find((j) => j.id === id)!;
  }

  pending(): PendingJob[] {
    return this.jobs.filter((j) => j.state === 'queued' || j.state === 'sent' || j.state === 'waiting-alert').map((j) => ({
      id: j.id, spec: j.spec, state: j.state, step: j.step, attempts: j.attempts, session: j.session, fumo: j.fumo,
    }));
  }

  apply(effects: ServerEffect[]): void {
    this.effects.push(...effects);
    for (const e of effects) {
      switch (e.type) {
        case 'job': {
          const j = this.job(e.jobId);
          j.state = e.state;
          j.history.push(e.state);
          if (e.step !== undefined) j.step = e.step;
          if (e.session !== undefined) j.session = e.session;
          if (e.attempts !== undefined) j.attempts = e.attempts;
          if (e.statuses) j.statuses.push(...e.statuses);
          if (e.results) j.results.push(...e.results);
          if (e.fumo) j.fumo = { ...j.fumo, ...e.fumo } as FumoProgress;
          if (e.error !== undefined) j.error = e.error;
          break;
        }
        case 'nonce':
          if (e.purpose === 'client') {
            if (e.action === 'issued') {
              for (const x of this.nonces) x.used = true;
              this.nonces.push({ value: e.value, used: false });
            } else {
              const x = this.nonces.find((y) => y.value === e.value);
              if (x) x.used = true;
            }
            const cur = this.nonces.filter((x) => !x.used).at(-1);
            this.device.auth = { ...this.device.auth, clientNonce: cur?.value };
          } else {
            this.device.auth = { ...this.device.auth, serverNonce: e.value };
          }
          break;
        case 'alert':
          this.alerts.push(e);
          break;
        case 'tree':
          for (const n of e.nodes) this.tree.set(n.uri, n.data);
          break;
        case 'device':
          Object.assign(this.devInfo, e.devInfo ?? {});
          break;
        case 'session':
          this.sessions.push(e);
          break;
        case 'notification':
          this.notifications.push(e.notificationId);
          break;
        default:
      }
    }
  }
}

let counter = 0;
/** Deterministic "random" bytes: distinct on every call. */
export function fakeRandom(n: number): Uint8Array {
  counter++;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (counter * 31 + i * 7) & 0xff;
  out[0] = counter & 0xff;
  out[1] = (counter >> 8) & 0xff;
  return out;
}

/** One pure session: state threaded through `step`, effects applied to a MiniStore. */
export class PureSession {
  state: ServerSessionState | undefined;
  last!: ServerStepResult;
  constructor(readonly store: MiniStore, readonly extra: Partial<ServerStepInput> = {}) {}

  async send(msg: SyncML, o: { body?: Uint8Array; hmac?: string; encoding?: 'xml' | 'wbxml'; notification?: { id: string } } = {}): Promise<ServerStepResult> {
    const r = await step(this.state, msg, {
      device: this.store.device, jobs: this.store.pending(), now: Date.now(), random: fakeRandom,
      transport: { body: o.body ?? new Uint8Array(0), encoding: o.encoding ?? 'xml', hmacHeader: o.hmac },
      respUri: (t) => `${SERVER}?s=${t}`, ...this.extra, ...(o.notification ? { notification: o.notification } : {}),
    });
    this.store.apply(r.effects);
    this.state = r.closed ? undefined : r.state;
    this.last = r;
    return r;
  }
}

export function commandsOf(msg: SyncML): Command[] {
  return msg.body.commands.filter((c) => c.kind !== 'Status');
}

export function statusesOf(msg: SyncML): Status[] {
  return msg.body.commands.filter((c): c is Status => c.kind === 'Status');
}

export function headerCode(msg: SyncML): number | undefined {
  return statusesOf(msg).find((s) => s.cmdRef === '0')?.code;
}

// --- over HTTP -----------------------------------------------------------------------------------


export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
  reply?: SyncML;
  tlsProtocol?: string;
}

/** POSTs bytes; `ca` trusts a test certificate. */
export function post(url: string, body: Uint8Array | string, headers: Record<string, string>, o: { ca?: string | Buffer; maxVersion?: 'TLSv1.1' | 'TLSv1.2' } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const buf = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
    const opts = { method: 'POST', hostname: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, headers: { ...headers, 'content-length': String(buf.length) } };
    const req = u.protocol === 'https:'
      ? httpsRequest({ ...opts, ca: o.ca, maxVersion: o.maxVersion, minVersion: o.maxVersion === 'TLSv1.1' ? 'TLSv1' : undefined, ciphers: o.maxVersion === 'TLSv1.1' ? 'DEFAULT:@SECLEVEL=0' : undefined })
      : httpRequest(opts);
    req.on('response', (res) => {
      const tls = (res.socket as unknown as { getProtocol?: () => string } | null)?.getProtocol?.();
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const out: HttpAnswer = { status: res.statusCode ?? 0, headers: res.headers, bytes };
        if (tls) out.tlsProtocol = tls;
        if (String(res.headers['content-type'] ?? '').startsWith('application/vnd.syncml.dm')) out.reply = parseSyncML(new Uint8Array(bytes), { strict: false });
        resolve(out);
      });
    });
    req.on('error', reject);
    req.end(buf);
  });
}

/** A scripted client that talks HTTP: posts to the endpoint, then to the RespURI it was given. */
export class HttpDevice {
  readonly client: ScriptedClient;
  last?: HttpAnswer;
  constructor(readonly url: string, opts: ClientOptions = {}, readonly http: { encoding?: 'xml' | 'wbxml'; ca?: string | Buffer; hmac?: boolean } = {}) {
    this.client = new ScriptedClient(opts);
  }

  async send(msg: SyncML, o: { hmacOverride?: string; to?: string } = {}): Promise<SyncML> {
    const enc = this.http.encoding ?? 'xml';
    const body = toBytes(msg, { encoding: enc });
    const headers: Record<string, string> = { 'content-type': `application/vnd.syncml.dm+${enc}` };
    if (this.http.hmac && this.client.nonce !== undefined) headers['x-syncml-hmac'] = o.hmacOverride ?? this.client.hmac(body);
    const a = await post(o.to ?? this.client.respUri ?? this.url, body, headers, { ca: this.http.ca });
    this.last = a;
    if (a.reply === undefined) throw new Error(`HTTP ${a.status}: ${a.bytes.toString('utf8')}`);
    this.client.read(a.reply);
    return a.reply;
  }

  /** Answers server messages (statuses, results) until the server ends the session; returns every server message. */
  async run(first: SyncML, answer: Parameters<ScriptedClient['answer']>[1] = {}, max = 20): Promise<SyncML[]> {
    const seen = [first];
    let reply = first;
    for (let i = 0; i < max; i++) {
      const hasCommands = reply.body.commands.some((c) => c.kind !== 'Status');
      if (!hasCommands && reply.body.final) return seen;
      reply = await this.send(this.client.answer(reply, { ...answer, ...(reply.body.final ? {} : { final: false, nextMessage: true }) }));
      seen.push(reply);
    }
    throw new Error('the session did not end');
  }
}

/** Calls the admin API. */
export async function admin(base: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}${path}`, {
    method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

/** A TCP port free on 127.0.0.1 now (for a server started in another process). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}
