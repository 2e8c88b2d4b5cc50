/**
 * The DM client session as a state machine without I/O (docs/session-protocol.md; DMPRO 2.3-2.4;
 * research note §1-§2): what the device sends, what it makes of each server message, and when the
 * session ends. The edges (`src/client/dm-client.ts`) carry the messages, run the DPU and apply
 * the effects; every protocol rule is here, testable with hand-built messages.
 *
 * ```
 * startClientSession(config, trigger)      -> { state, outgoing: package 1 }
 * receive(state, serverMessage, transport) -> { state, toExecute? | outgoing? | done?, effects }
 *   toExecute: give it to the DPU, then
 * afterExecution(state, dpuResult)         -> { state, outgoing? | done?, effects }
 * abortSession(state)                      -> { state, outgoing: Alert 1223 }
 * ```
 *
 * Rules, in the order `receive` applies them:
 * 1. A message of another SessionID ends the session (`protocol-error`); nothing is answered.
 * 2. The server's SyncHdr Meta MaxMsgSize / MaxObjSize bound what the client sends from now on;
 *    a RespURI is where the next message goes (DMREPPRO 4.1.1.17).
 * 3. The server's credentials, when the account has server credentials (SRVCRED): md5 / basic
 *    Cred in its SyncHdr, or its `x-syncml-hmac` header. The first success answers its SyncHdr
 *    212 with a Chal carrying the nonce for the next session (HMAC: 200 and a new nonce on every
 *    message); a missing / wrong one 407 / 401 with a Chal and a fresh nonce, and then none of
 *    its commands runs: each is answered with the same 407 / 401 (DMSEC; the contract's §7). A
 *    server without valid credentials and without commands is not answered (DMPRO 2.4: no
 *    message with only a challenge); after two failed challenges the session ends.
 * 4. Our SyncHdr's Status: 212 = authenticated for the session (no more Cred); 200 = this message
 *    (md5: Cred with the new nonce on the next message; HMAC: every message); 401 / 407 with a
 *    Chal = package 1 again (Alert, DevInfo, the pending Generic Alerts) with credentials of the
 *    Chal's scheme and nonce, same SessionID, next MsgID, to the RespURI; 401 / 407 without Chal,
 *    or the server refusing the credentials twice, ends the session (`authentication-failed`);
 *    505 / 513 end it with `version-not-supported` (the edge may fall back to DM 1.1.2); any
 *    other error code ends it (`refused`).
 * 5. A NextNonce in a Chal is used for the next credentials; it is persisted for the account
 *    (effect `store-nonce`) only when the server is authenticated or none is required (research
 *    note §2.2: do not overwrite the stored nonce with one from an unauthenticated peer).
 * 6. Statuses of the Generic Alerts we sent: 200 / 202 acknowledge them (effect
 *    `alerts-acknowledged`); 401 / 407 leave them pending (they go again with package 1); other
 *    codes refuse them (`alerts-refused`, `retry` true for 5xx).
 * 7. Alert 1223 from the server ends the session without an answer (DMPRO 2.3).
 * 8. Everything else goes to the DPU (`toExecute`).
 *
 * `afterExecution` builds the reply: the Status of the server's SyncHdr first, the DPU's Status /
 * Results / Alerts, new Generic Alerts (DM 1.2 only), packed under the server's MaxMsgSize by the
 * {@link Packer} (Results larger than its MaxObjSize are not sent: their Get answers 413). `Final`
 * only on the last message of our package, and never while the server's package is unfinished
 * (a non-final server message without Alert 1222 is answered with Alert 1222). When the reply would
 * hold nothing but a successful SyncHdr Status, nothing is sent and the session ends (`completed`;
 * DMPRO 2.3.1).
 *
 * A state is consumed by the step that takes it: the multi-message outbox (a {@link Packer})
 * advances in place, so keep the returned state and do not step an old one again.
 */
import { AlertCode } from '../syncml/alert-codes.js';
import { answer, headerStatus, isHeaderStatus, MessageBuilder, type HeaderStatusExtras } from '../syncml/builder.js';
import { genericAlert, type GenericAlertRequest } from '../syncml/generic-alert.js';
import { Packer } from '../syncml/packer.js';
import { serializeToBytes } from '../syncml/serialize.js';
import { StatusCode } from '../syncml/status-codes.js';
import type { Alert, Command, Cred, Replace, Results, Status, SyncHdr, SyncML } from '../syncml/types.js';
import { randomNonce } from './auth.js';
import {
  AUTH_TYPE, checkServerCredentials, clientCredential, hmacHeaderValue, nonceFromMeta, schemeOf,
  type AuthScheme, type AuthSecret, type NonceForm, type ServerCheck,
} from './client-auth.js';
import type { DpuResult } from './dpu.js';
import { DmError } from './errors.js';
import type { PendingAlert } from './handler.js';

/** A Generic Alert waiting for the server's acknowledgement, with an id the edge persists. @public */
export interface GenericAlertRecord {
  id: string;
  alert: GenericAlertRequest;
}

/** What a session needs to know (the edge reads most of it from the DMAcc account). @public */
export interface ClientSessionConfig {
  /** DevInfo DevId: the SyncHdr Source LocURI. */
  deviceId: string;
  /** The server URI: SyncHdr Target LocURI (DMAcc AppAddr Addr). */
  serverUri: string;
  /** Where package 1 is posted; default `serverUri`. */
  url?: string;
  /** DMAcc ServerID (for messages and effects only). */
  serverId: string;
  /** Default `1.2`. `1.1.2`: VerDTD 1.1, VerProto DM/1.1, no Generic Alerts. */
  version?: '1.2' | '1.1.2';
  /** Default `wbxml`. */
  encoding?: 'wbxml' | 'xml';
  /** How the client authenticates (DMAcc CLCRED). `name` is also the SyncHdr Source LocName. */
  clientAuth: AuthSecret & { scheme: AuthScheme };
  /** What the server must authenticate with (SRVCRED); absent or scheme `none`: not checked. */
  serverAuth?: AuthSecret & { scheme: AuthScheme };
  /** Nonce form of md5 / HMAC credentials (default `bytes`; see client-auth.ts). */
  nonceForm?: NonceForm;
  /** The `./DevInfo` leaves sent in package 1 (`devInfoItems(tree)`). */
  devInfo: readonly { uri: string; value: string }[];
  /** The largest message this device accepts (MetInf MaxMsgSize in every SyncHdr). */
  maxMsgSize?: number;
  /** The largest object this device accepts (MetInf MaxObjSize). */
  maxObjSize?: number;
  /** The server's MaxMsgSize assumed before it announces one; default unlimited. */
  peerMaxMsgSize?: number;
  /** Generic Alerts to send in package 1 (DM 1.2 only). */
  alerts?: readonly GenericAlertRecord[];
  /** Random bytes (session id, server nonces); default `globalThis.crypto`. */
  random?: (n: number) => Uint8Array;
  /** SessionID of a client-initiated session; default random 16-bit upper-case hex. */
  sessionId?: string;
  /** How many times package 1 may be sent again after a challenge; default 3. */
  maxAuthRestarts?: number;
}

/** Why a session was started. @public */
export type SessionTrigger =
  /** The device decided (user, timer): Alert 1201. */
  | { kind: 'client' }
  /** A package 0 arrived: Alert 1200 with its SessionID (DMNOTI 6.2). */
  | { kind: 'server'; sessionId: string; serverNonce?: Uint8Array }
  /** A client-initiated session to report Generic Alerts (FUMO results): Alert 1201. */
  | { kind: 'report' };

/** What the transport knows about a received message. @public */
export interface TransportInfo {
  /** The `x-syncml-hmac` response header, if any. */
  hmacHeader?: string;
  /** The exact body bytes (what an HMAC covers). */
  body?: Uint8Array;
}

/** A message for the transport. @public */
export interface OutgoingMessage {
  message: SyncML;
  /** Where to POST it: the server's last RespURI, else the account address. */
  url: string;
  encoding: 'wbxml' | 'xml';
  /** `application/vnd.syncml.dm+wbxml` or `+xml`. */
  contentType: string;
  /** 1 for package 1 (and its repetitions after a challenge), 3, 5… for replies. */
  package: number;
  final: boolean;
  /**
   * Present once HMAC is in use: the `x-syncml-hmac` header value over the serialized body.
   * Call it with the exact bytes sent.
   */
  hmacFor?: (body: Uint8Array) => string;
}

/** Why a session ended. @public */
export type SessionEndReason =
  | 'completed' | 'server-aborted' | 'client-aborted' | 'authentication-failed' | 'server-authentication-failed'
  | 'version-not-supported' | 'refused' | 'protocol-error';

/** The end of a session. @public */
export interface SessionDone {
  reason: SessionEndReason;
  /** The status code that ended it, when one did. */
  code?: number;
  message: string;
}

/** A side effect for the edge to carry out (all data). @public */
export type ClientSessionEffect =
  /** Persist the nonce of the account: `client` = CLCRED (we use it), `server` = SRVCRED (we gave it). */
  | { kind: 'store-nonce'; which: 'client' | 'server'; nonce: Uint8Array }
  /** The nonce form that worked differs from the configured one: remember it for this server. */
  | { kind: 'nonce-form'; form: NonceForm }
  /** The server accepted our credentials, for the session (212) or this message (200). */
  | { kind: 'client-authenticated'; scope: 'session' | 'message'; scheme: AuthScheme }
  /** The server challenged us (401 / 407). */
  | { kind: 'client-challenged'; code: number; scheme: AuthScheme }
  /** The server's credentials were checked. */
  | { kind: 'server-authenticated'; ok: boolean; check: ServerCheck; scheme: AuthScheme }
  | { kind: 'alerts-acknowledged'; ids: string[]; code: number }
  | { kind: 'alerts-refused'; ids: string[]; code: number; retry: boolean }
  /** Handlers queued Generic Alerts during this session: persist them until acknowledged. */
  | { kind: 'alerts-queued'; alerts: GenericAlertRecord[] }
  | { kind: 'warning'; message: string };

/** The result of every step. @public */
export interface StepResult {
  state: ClientSessionState;
  /** The server message for the DPU; call {@link afterExecution} with its result. */
  toExecute?: SyncML;
  outgoing?: OutgoingMessage;
  effects: ClientSessionEffect[];
  done?: SessionDone;
}

/** The session's state (treat as opaque; see the module comment on reuse). @public */
export interface ClientSessionState {
  readonly config: Readonly<ClientSessionConfig>;
  readonly sessionId: string;
  readonly version: '1.2' | '1.1.2';
  readonly encoding: 'wbxml' | 'xml';
  readonly trigger: SessionTrigger;
  phase: 'waiting' | 'executing' | 'aborting' | 'ended';
  /** MsgID of the next message we send. */
  nextMsgId: number;
  url: string;
  package: number;
  lastSent: { msgId: string; cred: boolean; hmac: boolean; final: boolean };
  received?: SyncML;
  /** The server check of the message being executed (decides our SyncHdr Status). */
  serverCheck?: ServerCheck | 'not-required' | 'session';
  client: {
    scheme: AuthScheme;
    auth: AuthSecret;
    form: NonceForm;
    formSwitched: boolean;
    sessionAuthenticated: boolean;
    refusals: number;
    restarts: number;
  };
  server: {
    scheme: AuthScheme;
    auth: AuthSecret;
    verified: boolean;
    failures: number;
    /** The nonce our last Chal gave the server. */
    issued?: Uint8Array;
  };
  peer: { maxMsgSize: number; maxObjSize?: number };
  /** Unacknowledged Generic Alerts of this session. */
  alerts: GenericAlertRecord[];
  /** `msgId:cmdId` of a sent Generic Alert -> its record ids. */
  sentAlerts: Map<string, string[]>;
  alertSeq: number;
  /** Our package's commands still to send. */
  outbox?: Packer;
  /** Alerts in the outbox -> their record ids (by identity of the pushed command). */
  outboxAlerts: Map<Command, string[]>;
}

const CONTENT_TYPE = { wbxml: 'application/vnd.syncml.dm+wbxml', xml: 'application/vnd.syncml.dm+xml' } as const;

function contentTypeOf(encoding: 'wbxml' | 'xml'): string {
  return CONTENT_TYPE[encoding];
}

function randomSessionId(random?: (n: number) => Uint8Array): string {
  for (;;) {
    const b = randomNonce(2, random);
    const n = (b[0] << 8) | b[1];
    if (n !== 0) return n.toString(16).toUpperCase();
  }
}

function end(state: ClientSessionState, effects: ClientSessionEffect[], reason: SessionEndReason, message: string, code?: number): StepResult {
  state.phase = 'ended';
  state.outbox = undefined;
  const done: SessionDone = { reason, message };
  if (code !== undefined) done.code = code;
  return { state, effects, done };
}

function hasCommands(msg: SyncML): boolean {
  return msg.body.commands.some((c) => c.kind !== 'Status');
}

function containsAbort(cmds: readonly Command[]): boolean {
  return cmds.some((c) => (c.kind === 'Alert' && c.code === AlertCode.SESSION_ABORT)
    || ((c.kind === 'Atomic' || c.kind === 'Sequence') && containsAbort(c.commands)));
}

function positive(n: number | undefined, name: string): number | undefined {
  if (n === undefined) return undefined;
  if (!(n > 0)) throw new DmError('INVALID_ARGUMENT', `${name} must be a positive number`);
  return n;
}

/**
 * Starts a session and builds package 1: SyncHdr (VerDTD, VerProto, SessionID, MsgID 1, Target =
 * server URI, Source = device id + LocName, Cred when the scheme allows one now, Meta
 * MaxMsgSize / MaxObjSize), Alert 1200 (server-initiated, the notified SessionID) or 1201,
 * Replace of every DevInfo leaf (one Item each, Source LocURI = node URI), the pending Generic
 * Alerts (DM 1.2), Final.
 *
 * @example
 * ```ts
 * let { state, outgoing } = startClientSession(config, { kind: 'client' });
 * // POST serialize(outgoing.message) to outgoing.url ...
 * ```
 * @throws DmError INVALID_ARGUMENT for a config without device id, server URI or DevInfo
 * @public
 */
export function startClientSession(config: ClientSessionConfig, trigger: SessionTrigger = { kind: 'client' }): StepResult {
  if (!config || typeof config.deviceId !== 'string' || config.deviceId === '') throw new DmError('INVALID_ARGUMENT', 'a session needs the device id');
  if (typeof config.serverUri !== 'string' || config.serverUri === '') throw new DmError('INVALID_ARGUMENT', 'a session needs the server URI');
  if (!Array.isArray(config.devInfo)) throw new DmError('INVALID_ARGUMENT', 'a session needs the DevInfo leaves (package 1 carries them)');
  const version = config.version ?? '1.2';
  if (version !== '1.2' && version !== '1.1.2') throw new DmError('INVALID_ARGUMENT', `version must be '1.2' or '1.1.2'`);
  const encoding = config.encoding ?? 'wbxml';
  positive(config.maxMsgSize, 'maxMsgSize');
  positive(config.maxObjSize, 'maxObjSize');
  let sessionId: string;
  if (trigger.kind === 'server') {
    if (typeof trigger.sessionId !== 'string' || trigger.sessionId === '') throw new DmError('INVALID_ARGUMENT', 'a server-initiated session needs the notified SessionID');
    sessionId = trigger.sessionId;
  } else {
    sessionId = config.sessionId ?? randomSessionId(config.random);
  }
  const sa = config.serverAuth;
  const serverScheme = sa && sa.scheme !== 'none' ? sa.scheme : 'none';
  const serverNonce = trigger.kind === 'server' && trigger.serverNonce !== undefined ? trigger.serverNonce : sa?.nonce;
  const state: ClientSessionState = {
    config,
    sessionId,
    version,
    encoding,
    trigger,
    phase: 'waiting',
    nextMsgId: 1,
    url: config.url ?? config.serverUri,
    package: 1,
    lastSent: { msgId: '0', cred: false, hmac: false, final: false },
    client: {
      scheme: config.clientAuth.scheme,
      auth: { name: config.clientAuth.name, secret: config.clientAuth.secret, nonce: emptyToUndefined(config.clientAuth.nonce) },
      form: config.nonceForm ?? 'bytes',
      formSwitched: false,
      sessionAuthenticated: false,
      refusals: 0,
      restarts: 0,
    },
    server: {
      scheme: serverScheme,
      auth: { name: sa?.name ?? config.serverId, secret: sa?.secret ?? '', nonce: serverNonce },
      verified: false,
      failures: 0,
    },
    peer: { maxMsgSize: positive(config.peerMaxMsgSize, 'peerMaxMsgSize') ?? Infinity },
    alerts: version === '1.2' ? [...(config.alerts ?? [])] : [],
    sentAlerts: new Map(),
    alertSeq: 0,
    outboxAlerts: new Map(),
  };
  const effects: ClientSessionEffect[] = [];
  const outgoing = packageOne(state, undefined, effects);
  return { state, outgoing, effects };
}

function emptyToUndefined(n: Uint8Array | undefined): Uint8Array | undefined {
  return n === undefined || n.length === 0 ? undefined : n;
}

// ---- building messages --------------------------------------------------------------------------

function header(state: ClientSessionState, cred: Cred | undefined): SyncHdr {
  const c = state.config;
  const h: SyncHdr = {
    verDTD: state.version === '1.2' ? '1.2' : '1.1',
    verProto: state.version === '1.2' ? 'DM/1.2' : 'DM/1.1',
    sessionId: state.sessionId,
    msgId: String(state.nextMsgId),
    target: { locUri: c.serverUri },
    source: { locUri: c.deviceId },
  };
  if (state.client.auth.name !== '') h.source.locName = state.client.auth.name;
  if (cred !== undefined) h.cred = cred;
  if (c.maxMsgSize !== undefined || c.maxObjSize !== undefined) {
    h.meta = {};
    if (c.maxMsgSize !== undefined) h.meta.maxMsgSize = c.maxMsgSize;
    if (c.maxObjSize !== undefined) h.meta.maxObjSize = c.maxObjSize;
  }
  return h;
}

/** The Cred our next message carries (see rule 4 of the module comment). */
function nextCred(state: ClientSessionState): Cred | undefined {
  const c = state.client;
  if (c.sessionAuthenticated) return undefined;
  return clientCredential(c.scheme, c.auth, c.form);
}

function newBuilder(state: ClientSessionState): MessageBuilder {
  return new MessageBuilder(header(state, nextCred(state)));
}

function newPacker(state: ClientSessionState): Packer {
  return new Packer({ encoding: state.encoding, maxMsgSize: state.peer.maxMsgSize, maxObjSize: state.peer.maxObjSize, verDTD: state.version === '1.2' ? '1.2' : '1.1' });
}

/** Turns a filled builder into the outgoing message and records what was sent. */
function send(state: ClientSessionState, b: MessageBuilder, packed: { command: Command; cmdId: string }[], final: boolean): OutgoingMessage {
  b.final(final);
  const message = b.build();
  const msgId = message.header.msgId;
  for (const p of packed) {
    const ids = state.outboxAlerts.get(p.command);
    if (ids !== undefined) state.sentAlerts.set(`${msgId}:${p.cmdId}`, ids);
  }
  const c = state.client;
  const useHmac = c.scheme === 'hmac' && c.auth.nonce !== undefined;
  state.lastSent = { msgId, cred: message.header.cred !== undefined, hmac: useHmac, final };
  state.nextMsgId++;
  state.phase = 'waiting';
  const out: OutgoingMessage = {
    message, url: state.url, encoding: state.encoding, contentType: contentTypeOf(state.encoding), package: state.package, final,
  };
  if (useHmac) {
    const auth: AuthSecret = { ...c.auth };
    const form = c.form;
    out.hmacFor = (body) => hmacHeaderValue(auth, body, form);
  }
  return out;
}

/** Fills the next message of the outbox after what `b` already holds. */
function fill(state: ClientSessionState, b: MessageBuilder, effects: ClientSessionEffect[]): { final: boolean; packed: { command: Command; cmdId: string }[] } {
  const packer = state.outbox ?? (state.outbox = newPacker(state));
  const packed: { command: Command; cmdId: string }[] = [];
  for (let guard = 0; guard < 1000; guard++) {
    try {
      const r = packer.nextMessage(b);
      packed.push(...r.packed);
      return { final: r.final, packed };
    } catch (e) {
      // A command that fits in no message under the server's MaxMsgSize: drop it, say so, go on.
      const dropped = packer.shift();
      if (dropped === undefined) throw e;
      effects.push({ kind: 'warning', message: `${dropped.command.kind} not sent: ${(e as Error).message}` });
    }
  }
  throw new DmError('COMMAND_FAILED', 'the outbox did not drain');
}

function genericAlertCommand(record: GenericAlertRecord): Alert {
  return genericAlert({ ...record.alert, cmdId: '' });
}

/** Queues Generic Alerts in the outbox, remembering which records each Alert carries. */
function pushAlerts(state: ClientSessionState, records: readonly GenericAlertRecord[], effects: ClientSessionEffect[]): void {
  if (state.version !== '1.2') return; // DM 1.1.2 has no Generic Alert: they wait for a 1.2 session.
  const packer = state.outbox ?? (state.outbox = newPacker(state));
  for (const r of records) {
    let cmd: Alert;
    try {
      cmd = genericAlertCommand(r);
      packer.push(cmd);
    } catch (e) {
      effects.push({ kind: 'warning', message: `Generic Alert ${r.id} cannot be sent: ${(e as Error).message}` });
      continue;
    }
    state.outboxAlerts.set(cmd, [r.id]);
  }
}

/** Package 1 (again after a challenge: then `after` is the server message to answer). */
function packageOne(state: ClientSessionState, after: SyncML | undefined, effects: ClientSessionEffect[]): OutgoingMessage {
  state.package = 1;
  state.outbox = newPacker(state);
  state.outboxAlerts = new Map();
  const b = newBuilder(state);
  // DMPRO 2.4 step 3: the repeated package 1 also answers the server's SyncHdr.
  if (after !== undefined && after.header.noResp !== true) b.add(serverHeaderStatus(state, after, effects));
  const alert: Alert = {
    kind: 'Alert', cmdId: '', code: state.trigger.kind === 'server' ? AlertCode.SERVER_INITIATED_MGMT : AlertCode.CLIENT_INITIATED_MGMT, items: [],
  };
  const replace: Replace = {
    kind: 'Replace', cmdId: '', items: state.config.devInfo.map((d) => ({ source: { locUri: d.uri }, data: d.value })),
  };
  state.outbox.push(alert);
  if (replace.items.length > 0) state.outbox.push(replace);
  pushAlerts(state, state.alerts, effects);
  const { final, packed } = fill(state, b, effects);
  return send(state, b, packed, final);
}

/**
 * Our Status for the server's SyncHdr (rule 3): 200 without server authentication; 212 + Chal
 * the first time it authenticates; 200 + Chal with a new nonce on every HMAC message; 401 / 407 +
 * Chal with a fresh nonce when its credentials are wrong / missing.
 */
function serverHeaderStatus(state: ClientSessionState, received: SyncML, effects: ClientSessionEffect[]): Status {
  const check = state.serverCheck ?? 'not-required';
  const s = state.server;
  if (check === 'not-required' || check === 'session') return headerStatus(received, StatusCode.OK);
  const scheme = s.scheme as Exclude<AuthScheme, 'none'>;
  const extras: HeaderStatusExtras = { chal: AUTH_TYPE[scheme] };
  let code: number;
  if (check === 'ok') code = scheme === 'hmac' ? StatusCode.OK : StatusCode.AUTHENTICATION_ACCEPTED;
  else code = check === 'missing' ? StatusCode.MISSING_CREDENTIALS : StatusCode.INVALID_CREDENTIALS;
  if (scheme !== 'basic') {
    // A nonce is used once: a new one for the server's next credentials (next session after 212,
    // next message with HMAC, the retry after a challenge). Persisted now: the server stores it
    // when this Status reaches it.
    const nonce = randomNonce(16, state.config.random);
    s.issued = nonce;
    s.auth = { ...s.auth, nonce };
    extras.nextNonce = nonce;
    effects.push({ kind: 'store-nonce', which: 'server', nonce });
  }
  return headerStatus(received, code, extras);
}

// ---- receiving ----------------------------------------------------------------------------------

function checkServer(state: ClientSessionState, msg: SyncML, transport: TransportInfo): ServerCheck | 'not-required' | 'session' {
  const s = state.server;
  if (s.scheme === 'none') return 'not-required';
  if (s.scheme !== 'hmac' && s.verified) return 'session';
  return checkServerCredentials(s.scheme, s.auth, { cred: msg.header.cred, hmacHeader: transport.hmacHeader, body: transport.body });
}

function ourHeaderStatus(state: ClientSessionState, msg: SyncML): Status | undefined {
  let found: Status | undefined;
  for (const c of msg.body.commands) {
    if (isHeaderStatus(c)) {
      if (c.msgRef === state.lastSent.msgId) return c;
      found ??= c;
    }
  }
  return found;
}

/** Rule 6: the server's Statuses for our Generic Alerts. */
function alertStatuses(state: ClientSessionState, msg: SyncML, effects: ClientSessionEffect[]): void {
  const acked = new Map<number, string[]>();
  for (const c of msg.body.commands) {
    if (c.kind !== 'Status' || c.cmd !== 'Alert') continue;
    const key = `${c.msgRef}:${c.cmdRef}`;
    const ids = state.sentAlerts.get(key);
    if (ids === undefined) continue;
    if (c.code === StatusCode.INVALID_CREDENTIALS || c.code === StatusCode.MISSING_CREDENTIALS) continue;
    state.sentAlerts.delete(key);
    state.alerts = state.alerts.filter((a) => !ids.includes(a.id));
    if (c.code === StatusCode.OK || c.code === StatusCode.ACCEPTED) {
      const l = acked.get(c.code) ?? [];
      l.push(...ids);
      acked.set(c.code, l);
    } else {
      effects.push({ kind: 'alerts-refused', ids, code: c.code, retry: c.code >= 500 });
    }
  }
  for (const [code, ids] of acked) effects.push({ kind: 'alerts-acknowledged', ids, code });
}

/**
 * Takes a server message (see the module comment for the rules). `transport.body` and
 * `transport.hmacHeader` matter only when the server authenticates with HMAC.
 * @throws DmError PROTOCOL_ERROR when called while the previous message is being executed or after the end
 * @public
 */
export function receive(state: ClientSessionState, incoming: SyncML, transport: TransportInfo = {}): StepResult {
  if (state.phase === 'ended') throw new DmError('PROTOCOL_ERROR', 'the session has ended');
  if (state.phase === 'executing') throw new DmError('PROTOCOL_ERROR', 'call afterExecution for the previous message first');
  const effects: ClientSessionEffect[] = [];
  if (state.phase === 'aborting') return end(state, effects, 'client-aborted', 'the client aborted the session (Alert 1223)');
  if (!incoming?.header || !incoming.body || !Array.isArray(incoming.body.commands)) {
    return end(state, effects, 'protocol-error', 'the server sent something that is not a SyncML message');
  }
  const h = incoming.header;
  if (h.sessionId !== state.sessionId) {
    return end(state, effects, 'protocol-error', `the server answered SessionID ${h.sessionId}, not ${state.sessionId}`);
  }
  state.received = incoming;
  // Rule 2.
  if (h.meta?.maxMsgSize !== undefined && h.meta.maxMsgSize > 0) state.peer.maxMsgSize = h.meta.maxMsgSize;
  if (h.meta?.maxObjSize !== undefined && h.meta.maxObjSize >= 0) state.peer.maxObjSize = h.meta.maxObjSize;
  if (typeof h.respUri === 'string' && h.respUri.trim() !== '') state.url = h.respUri.trim();
  // Rule 3 (decided now, answered in whichever message we send next).
  const check = checkServer(state, incoming, transport);
  state.serverCheck = check;
  const trusted = check === 'not-required' || check === 'session' || check === 'ok';
  if (check === 'ok' || check === 'missing' || check === 'invalid') {
    effects.push({ kind: 'server-authenticated', ok: check === 'ok', check, scheme: state.server.scheme });
  }
  if (check === 'ok') state.server.verified = true;
  // Rule 4-5: our own authentication.
  const hs = ourHeaderStatus(state, incoming);
  const code = hs?.code ?? StatusCode.OK;
  const chal = hs?.chal;
  if (chal !== undefined) {
    const wanted = schemeOf(chal.meta?.type);
    if (wanted !== 'none') state.client.scheme = wanted;
    const nonce = nonceFromMeta(chal.meta?.nextNonce);
    if (nonce !== undefined) {
      state.client.auth = { ...state.client.auth, nonce };
      if (trusted) effects.push({ kind: 'store-nonce', which: 'client', nonce });
    }
  }
  const c = state.client;
  if (code === StatusCode.INVALID_CREDENTIALS || code === StatusCode.MISSING_CREDENTIALS) {
    effects.push({ kind: 'client-challenged', code, scheme: c.scheme });
    if (chal === undefined) return end(state, effects, 'authentication-failed', `the server answered ${code} without a challenge`, code);
    if (code === StatusCode.INVALID_CREDENTIALS && (state.lastSent.cred || state.lastSent.hmac)) {
      c.refusals++;
      if (c.refusals >= 2) return end(state, effects, 'authentication-failed', `the server refused the credentials ${c.refusals} times`, code);
      // The first refusal of md5 / HMAC over the decoded nonce: try the base64-text form once
      // (servers built on libdmclient hash the text; research note §2.3).
      if ((c.scheme === 'md5' || c.scheme === 'hmac') && c.form === 'bytes' && !c.formSwitched) {
        c.form = 'text';
        c.formSwitched = true;
      }
    }
    c.restarts++;
    if (c.restarts > (state.config.maxAuthRestarts ?? 3)) return end(state, effects, 'authentication-failed', `still challenged after ${c.restarts - 1} new packages 1`, code);
    if (c.scheme === 'none' || c.auth.name === '') return end(state, effects, 'authentication-failed', 'the server wants credentials the account does not have', code);
    c.sessionAuthenticated = false;
    return { state, effects, outgoing: packageOne(state, incoming, effects) };
  }
  if (code === StatusCode.AUTHENTICATION_ACCEPTED || code === StatusCode.OK) {
    const sentCredentials = state.lastSent.cred || state.lastSent.hmac;
    if (code === StatusCode.AUTHENTICATION_ACCEPTED) c.sessionAuthenticated = true;
    if (sentCredentials || code === StatusCode.AUTHENTICATION_ACCEPTED) {
      effects.push({ kind: 'client-authenticated', scope: code === StatusCode.AUTHENTICATION_ACCEPTED ? 'session' : 'message', scheme: c.scheme });
      if (c.formSwitched && sentCredentials) {
        effects.push({ kind: 'nonce-form', form: c.form });
        c.formSwitched = false;
      }
    }
  } else if (code === StatusCode.DTD_VERSION_NOT_SUPPORTED || code === StatusCode.PROTOCOL_VERSION_NOT_SUPPORTED) {
    return end(state, effects, 'version-not-supported', `the server does not take DM ${state.version} (${code})`, code);
  } else if (code >= 300) {
    return end(state, effects, 'refused', `the server answered our SyncHdr with ${code}`, code);
  }
  // Rule 3, refused: answer every command with the same code, execute nothing.
  if (!trusted) {
    const s = state.server;
    s.failures++;
    if (!hasCommands(incoming)) return end(state, effects, 'server-authentication-failed', 'the server did not authenticate and sent no commands');
    if (s.failures > 2) return end(state, effects, 'server-authentication-failed', `the server failed to authenticate ${s.failures} times`);
    const refusal = check === 'missing' ? StatusCode.MISSING_CREDENTIALS : StatusCode.INVALID_CREDENTIALS;
    const statuses = answer(incoming, () => refusal, null);
    const b = newBuilder(state);
    if (h.noResp !== true) b.add(serverHeaderStatus(state, incoming, effects));
    beginReply(state);
    state.outbox!.push(...statuses);
    const { packed, final } = fill(state, b, effects);
    return { state, effects, outgoing: send(state, b, packed, final && incoming.body.final) };
  }
  // Rule 6 and 7.
  alertStatuses(state, incoming, effects);
  if (containsAbort(incoming.body.commands)) return end(state, effects, 'server-aborted', 'the server aborted the session (Alert 1223)');
  state.phase = 'executing';
  return { state, effects, toExecute: incoming };
}

// ---- after the DPU ------------------------------------------------------------------------------

/** A new outbox for a reply; a new package number when our last message closed a package. */
function beginReply(state: ClientSessionState): void {
  if (state.lastSent.final) state.package += 2;
  state.outbox = newPacker(state);
  state.outboxAlerts = new Map();
}

function pendingToRecord(state: ClientSessionState, p: PendingAlert): GenericAlertRecord {
  state.alertSeq++;
  const alert: GenericAlertRequest = { type: p.type, data: p.data ?? '' };
  if (p.format !== undefined) alert.format = p.format;
  if (p.mark !== undefined) alert.mark = p.mark;
  if (p.source !== undefined) alert.source = p.source;
  if (p.correlator !== undefined) alert.correlator = p.correlator;
  return { id: `${state.sessionId}-${state.nextMsgId}-${state.alertSeq}`, alert };
}

/**
 * Results whose objects the server cannot take (larger than its MaxObjSize) are dropped and their
 * Get answered 413 instead (DMPRO 2.2: the object MUST NOT be sent).
 */
function dropOversized(state: ClientSessionState, responses: Command[], effects: ClientSessionEffect[]): Command[] {
  if (state.peer.maxObjSize === undefined) return responses;
  const out: Command[] = [];
  const refused: Results[] = [];
  for (const r of responses) {
    if (r.kind === 'Results') {
      try {
        newPacker(state).push(r);
      } catch {
        refused.push(r);
        continue;
      }
    }
    out.push(r);
  }
  if (refused.length === 0) return out;
  return out.map((c) => {
    if (c.kind !== 'Status' || c.cmd !== 'Get') return c;
    const r = refused.find((x) => x.cmdRef === c.cmdRef && (x.msgRef === undefined || x.msgRef === c.msgRef));
    if (r === undefined) return c;
    effects.push({ kind: 'warning', message: `Results of Get ${c.cmdRef} exceed the server's MaxObjSize ${state.peer.maxObjSize}: answered 413` });
    return { ...c, code: StatusCode.REQUEST_ENTITY_TOO_LARGE };
  });
}

/**
 * Builds the reply to the message {@link receive} handed to the DPU, from the DPU's result.
 * @throws DmError PROTOCOL_ERROR when no message is being executed
 * @public
 */
export function afterExecution(state: ClientSessionState, result: DpuResult): StepResult {
  if (state.phase !== 'executing' || state.received === undefined) throw new DmError('PROTOCOL_ERROR', 'no server message is being executed');
  const effects: ClientSessionEffect[] = [];
  const received = state.received;
  if (result.aborted) return end(state, effects, 'server-aborted', 'the server aborted the session (Alert 1223)');
  const records = result.pendingAlerts.map((p) => pendingToRecord(state, p));
  if (records.length > 0) {
    effects.push({ kind: 'alerts-queued', alerts: records });
    if (state.version === '1.2') state.alerts.push(...records);
  }
  const responses = dropOversized(state, result.responses, effects);
  const others = result.alerts.filter((a) => a.code !== AlertCode.GENERIC_ALERT);
  const serverFinal = received.body.final;
  // A non-final server message with Alert 1222 is the server asking for the rest of our package,
  // not a package of its own that continues (DMPRO 2.1).
  const serverDone = serverFinal || result.nextMessageRequested;
  const continuing = state.outbox !== undefined && state.outbox.hasMore();
  if (!continuing) beginReply(state);
  const outbox = state.outbox!;
  const b = newBuilder(state);
  const allStatuses = responses.every((c) => c.kind === 'Status');
  // Answers to the server's flow-control message go out at once, ahead of the rest of our
  // package (Statuses may stand between the chunks of a large object; DMPRO 2.2 forbids only new
  // commands and Items there).
  const direct = continuing && allStatuses;
  if (!direct && responses.length > 0) outbox.push(...responses);
  if (others.length > 0) outbox.push(...others);
  pushAlerts(state, records, effects);
  const onlyStatuses = !continuing && allStatuses && others.length === 0 && records.length === 0;
  if (!serverDone && onlyStatuses) {
    // DMPRO 2.1: ask for the next message of the server's package.
    outbox.push({ kind: 'Alert', cmdId: '', code: AlertCode.NEXT_MESSAGE, items: [] });
  }
  if (!outbox.hasMore()) {
    // DMPRO 2.3.1: a message holding only a successful SyncHdr Status is never sent.
    state.outbox = undefined;
    return end(state, effects, 'completed', 'the server sent no more commands');
  }
  if (received.header.noResp !== true) b.add(serverHeaderStatus(state, received, effects));
  if (direct) for (const r of responses) b.add(r);
  const { final, packed } = fill(state, b, effects);
  return { state, effects, outgoing: send(state, b, packed, final && serverDone) };
}

/**
 * Aborts the session with Alert 1223 (DMPRO 2.3), answering the server's last SyncHdr first. The
 * server answers with Statuses only; {@link receive} then ends the session (`client-aborted`).
 * @public
 */
export function abortSession(state: ClientSessionState): StepResult {
  const effects: ClientSessionEffect[] = [];
  if (state.phase === 'ended') throw new DmError('PROTOCOL_ERROR', 'the session has ended');
  const b = newBuilder(state);
  const received = state.received;
  if (received !== undefined && received.header.noResp !== true && state.phase === 'executing') b.add(serverHeaderStatus(state, received, effects));
  b.add({ kind: 'Alert', cmdId: '', code: AlertCode.SESSION_ABORT, items: [] });
  state.outbox = undefined;
  const out = send(state, b, [], true);
  state.phase = 'aborting';
  return { state, effects, outgoing: out };
}

/**
 * Serializes an outgoing message and computes its transport headers (`Content-Type`, and
 * `x-syncml-hmac` over these exact bytes when HMAC is in use).
 * @public
 */
export function encodeOutgoing(out: OutgoingMessage): { body: Uint8Array; headers: Record<string, string> } {
  const body = serializeToBytes(out.message, { encoding: out.encoding });
  const headers: Record<string, string> = { 'content-type': out.contentType, accept: out.contentType };
  if (out.hmacFor) headers['x-syncml-hmac'] = out.hmacFor(body);
  return { body, headers };
}

/**
 * The most Status/Results an Atomic may answer with under the server's MaxMsgSize, for the DPU's
 * `maxResponseCommands` (DMREPPRO: an Atomic's responses must fit in one message). A Status is
 * counted at 160 bytes (XML) / 48 bytes (WBXML) after a 600 / 200-byte header, which errs on the
 * safe side for the refs a DPU Status carries.
 * @public
 */
export function maxResponseCommands(maxMsgSize: number, encoding: 'wbxml' | 'xml'): number | undefined {
  if (!Number.isFinite(maxMsgSize)) return undefined;
  const [head, per] = encoding === 'xml' ? [600, 160] : [200, 48];
  return Math.max(1, Math.floor((maxMsgSize - head) / per));
}
