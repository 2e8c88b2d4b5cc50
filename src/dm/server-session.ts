/**
 * The DM server session as a state machine without I/O (docs/session-protocol.md; research note
 * §1-§3): one client message in, one server message out, and the effects the edge must make
 * durable before it answers.
 *
 * ```
 * const r = await step(state, parse(body, { strict: false }), { device, jobs, transport, now, random, config });
 * await store.apply(r.effects);               // durable first
 * respond(serialize(r.reply, { encoding }));  // then the answer
 * ```
 *
 * What one step does, in order:
 * 1. Version: VerDTD 1.2 / VerProto DM/1.2, or 1.1 / DM/1.1 (DM 1.1.2); the session answers in
 *    the version it was opened in. Anything else: 505 (VerDTD) or 513 (VerProto) and no session.
 * 2. Session: a message carrying Alert 1200/1201 opens one (a new one replaces an open session
 *    with the same SessionID when its MsgID is 1); any other message needs an open session, else
 *    the answer is SyncHdr 408 + Alert 1223 (the server no longer knows it: idle timeout, restart).
 *    MsgIDs must grow: a MsgID not above the last one is answered 400 and not processed.
 * 3. Authentication (`server-auth.ts`): until the client is authenticated (every message with
 *    HMAC), a failure is answered with Status only (401/407 + Chal with a fresh nonce, the same
 *    code for every command); the third failure gets 401 without Chal and closes the session.
 *    Success: 212 (basic, md5; md5 with the nonce for the next session) or 200 + NextNonce (HMAC).
 * 4. The client's commands: Status and Results go to the jobs that sent the commands they answer
 *    (chunked Results through a LargeObjectAssembler: 213 per non-final chunk); Alert 1200/1201,
 *    1222, 1223 and Generic Alerts / Client Events (1226 / 1224, stored, FUMO results matched to
 *    their campaign) are answered 200; Replace of `./DevInfo/*` is the device's inventory (200);
 *    a command without CmdID gets 400 with an empty CmdRef (WM-STD); anything else 406.
 * 5. The reply:
 *    - the client aborted (1223): Status only + Final, the session ends;
 *    - our package is not finished (a large object goes in chunks): its next message;
 *    - the client's package is not finished (no Final): Statuses + Alert 1222, no Final;
 *    - else the jobs: FUMO campaigns' next steps first, then the queue in order, as many as fit in
 *      one message under the client's MaxMsgSize (a job larger than that goes alone, as a large
 *      object over several messages); no job left: Status + Final only, and the session ends.
 *
 * The state is owned by the session: pass the returned state to the next step and drop the old
 * one (it holds a Packer and a LargeObjectAssembler, which move on). It is not serialisable: a
 * server that restarts loses its open sessions (their jobs are sent again in the next session).
 *
 * Decisions where the specifications are silent:
 * - A session the server no longer knows is answered SyncHdr 408 (Request timeout) + Alert 1223.
 * - The next-message response always carries Alert 1222 (DMPRO lets it be omitted when other
 *   commands are there; Statuses are not commands the client must execute, so it is kept).
 * - A failed authentication counts, 407 included: three messages without valid credentials close.
 * - Unknown devices are challenged like known ones (no enumeration) unless `allowUnknownDevices`.
 * - A command the server sent that gets no Status by the end of the client's package stays in
 *   flight; at the end of the session its job is queued again (Windows sometimes answers only the
 *   SyncHdr, research note §6.5); after `maxJobAttempts` sends it fails. A Results without a
 *   Status counts as the Get's 200.
 * - The client refusing the server's credentials (401/407 for our SyncHdr) means it executed
 *   nothing: the commands of that message are sent again with the new nonce.
 */
import type { Alert, Chal, Command, Item, Meta, Results, Source, Status, SyncML } from '../syncml/types.js';
import { MessageBuilder, SessionMessages, answer, commandStatus, headerStatus, isHeaderStatus } from '../syncml/builder.js';
import { Packer } from '../syncml/packer.js';
import { commandSize, measureMessage } from '../syncml/size.js';
import { readGenericAlerts, type GenericAlertEvent } from '../syncml/generic-alert.js';
import { StatusCode } from '../syncml/status-codes.js';
import { AlertCode } from '../syncml/alert-codes.js';
import { toBase64 } from './base64.js';
import { LargeObjectAssembler } from './large-object.js';
import {
  challengeFor, checkClientAuth, nonceBytes, nonceText, serverCred, serverSchemeOf, usesNonce, type AuthScheme, type DeviceAuth,
} from './server-auth.js';
import {
  firstStep, fumoAlertMatches, fumoAlertOutcome, fumoCorrelator, stepCommands, stepOutcome,
  type FumoProgress, type JobResult, type JobState, type JobStatus, type PendingJob, type StepOutcome,
} from './jobs.js';

// --- inputs and outputs -----------------------------------------------------------------------

/** The device as the session needs it. @public */
export interface SessionDevice {
  /** DevId: the SyncHdr Source LocURI. */
  id: string;
  /** False: the store has no such device (it is challenged, or accepted with `allowUnknownDevices`). */
  known: boolean;
  auth: DeviceAuth;
}

/** Settings of the server's sessions. @public */
export interface ServerSessionConfig {
  /** The server's URI (SyncHdr Source of its messages). Default: the Target the client addressed. */
  serverUri?: string;
  /** The server's user name when a device has no `serverId` (SRVCRED AAuthName). Default `syncml-dm`. */
  serverId?: string;
  /** The largest message the server accepts (its MaxMsgSize). Default 1 MiB. */
  maxMsgSize?: number;
  /** The largest object the server accepts (its MaxObjSize; chunked Results above get 413). Default 16 MiB. */
  maxObjSize?: number;
  /** Failed authentications before the session closes. Default 3. */
  maxAuthFailures?: number;
  /** Accept md5 / HMAC digests over the nonce's base64 text as well (research note §2.3). Default true. */
  acceptStringNonce?: boolean;
  /** Accept devices the store does not know, without authentication. Default false. */
  allowUnknownDevices?: boolean;
  /** The scheme unknown devices are challenged with. Default md5. */
  unknownDeviceScheme?: Exclude<AuthScheme, 'none'>;
  /** Jobs sent in one server package at most. Default 16. */
  maxJobsPerPackage?: number;
  /** Times a job step is sent without an answer before it fails. Default 3. */
  maxJobAttempts?: number;
  /** Nonce length in bytes. Default 16. */
  nonceBytes?: number;
}

/** How the message came. @public */
export interface ServerStepTransport {
  /** The `x-syncml-hmac` request header, if any. */
  hmacHeader?: string;
  /** The exact body (HMAC is computed over it). */
  body: Uint8Array;
  /** The request's encoding: the reply uses the same. */
  encoding: 'wbxml' | 'xml';
}

/** Everything a step needs besides the state and the message. @public */
export interface ServerStepInput {
  device: SessionDevice;
  /**
   * The device's jobs that are not finished (queued, sent, waiting-alert), oldest first. Jobs the
   * session already handled are recognised by id.
   */
  jobs: readonly PendingJob[];
  transport: ServerStepTransport;
  /** Milliseconds since the epoch. */
  now: number;
  /** Cryptographically random bytes (nonces, session tokens). */
  random: (n: number) => Uint8Array;
  config?: ServerSessionConfig;
  /** The RespURI for a session token (the session URL the client posts its next message to). */
  respUri?: (token: string) => string;
  /** A package 0 sent for this SessionID (or its byte-swapped form) that this session answers. */
  notification?: { id: string };
}

/** Why a session ended. @public */
export type ServerSessionEndReason =
  | 'completed' | 'client-abort' | 'server-abort' | 'auth-failed' | 'expired' | 'replaced' | 'unknown-session'
  | 'version-not-supported' | 'error';

/** A generic alert or client event as stored: the event, its Data as text. @public */
export interface AlertRecord extends Omit<GenericAlertEvent, 'data'> {
  /** 1226 Generic Alert, 1224 Client Event. */
  code: number;
  /** Text, or base64 when `encoding` is `base64`. */
  data: string;
  encoding: 'text' | 'base64' | 'json';
}

/** A node value the device reported (DevInfo, Results): the device's tree as the server last saw it. @public */
export interface TreeNode {
  uri: string;
  format?: string;
  type?: string;
  data: string;
  encoding: 'text' | 'base64' | 'json';
}

/** One command sent for a job: where its Status will point. @public */
export interface SentRef {
  msgId: string;
  cmdId: string;
  path: string;
}

/** Data the edge makes durable (in one transaction) before it sends the reply. @public */
export type ServerEffect =
  | { type: 'session'; action: 'start' | 'update' | 'end'; token: string; deviceId: string; sessionId: string; at: number;
      version?: '1.2' | '1.1.2'; initiator?: 'client' | 'server'; reason?: ServerSessionEndReason; authenticated?: boolean;
      messagesIn?: number; messagesOut?: number }
  | { type: 'device'; deviceId: string; at: number; version: '1.2' | '1.1.2'; devInfo?: Record<string, string> }
  | { type: 'auth'; deviceId: string; token: string; at: number; scheme: AuthScheme | 'unknown-device';
      outcome: 'accepted' | 'challenged' | 'refused'; code: number; reason?: string; match?: 'bytes' | 'string' }
  | { type: 'nonce'; deviceId: string; at: number; purpose: 'client' | 'server'; action: 'issued' | 'consumed' | 'received'; value: string }
  | { type: 'job'; jobId: string; at: number; state: JobState; step?: string; session?: string; attempts?: number;
      sent?: SentRef[]; statuses?: JobStatus[]; results?: JobResult[]; fumo?: FumoProgress; error?: string }
  | { type: 'tree'; deviceId: string; at: number; nodes: TreeNode[] }
  | { type: 'alert'; deviceId: string; token: string; at: number; alert: AlertRecord; jobId?: string }
  | { type: 'notification'; notificationId: string; token: string; at: number };

/** What a step returns. @public */
export interface ServerStepResult {
  state: ServerSessionState;
  /** The server's message. */
  reply: SyncML;
  /** Make these durable before sending the reply. */
  effects: ServerEffect[];
  /** HMAC sessions: sign the serialized reply with these (the `x-syncml-hmac` response header). */
  sign?: { username: string; password: string; nonce: Uint8Array };
  /** The session is over: forget the state after sending the reply. */
  closed: boolean;
  /** Things worth a log line (tolerated defects, refusals). */
  notes: string[];
}

// --- state ------------------------------------------------------------------------------------

interface SentCommand {
  jobId: string;
  path: string;
  step: string;
  cmd: string;
  msgId: string;
}

interface InflightJob {
  job: PendingJob;
  step: string;
  attempts: number;
  keys: string[];
  /** Commands still in the packer (not all sent yet). */
  unsent: number;
  statuses: JobStatus[];
  results: JobResult[];
  /** A FUMO result that arrived before the Exec's Status was evaluated. */
  alert?: StepOutcome;
}

/** The session's state (see the file comment: owned, not serialisable). @public */
export interface ServerSessionState {
  /** Random; the RespURI carries it, the store keys the session by it. */
  token: string;
  deviceId: string;
  sessionId: string;
  version: '1.2' | '1.1.2';
  phase: 'auth' | 'open' | 'closed';
  initiator: 'client' | 'server';
  serverUri: string;
  startedAt: number;
  lastActivity: number;
  /** Last MsgID received (number), last MsgID sent. */
  clientMsgNo: number;
  serverMsgNo: number;
  messagesIn: number;
  messagesOut: number;
  clientMaxMsgSize?: number;
  clientMaxObjSize?: number;
  auth: {
    scheme: AuthScheme | 'unknown-device';
    failures: number;
    /** The nonce issued in this session that the client must use next (md5 / HMAC challenges). */
    nonce?: string;
    /** The client accepted the server's credentials for the session (212). */
    serverAccepted: boolean;
    serverFailures: number;
    /** The latest nonce the client gave the server. */
    serverNonce?: string;
  };
  /** Commands sent and not yet answered, by `msgId#cmdId`. */
  sent: Record<string, SentCommand>;
  inflight: Record<string, InflightJob>;
  /** Jobs the queue must not give again in this session. */
  handled: string[];
  /** Jobs for the next package (FUMO next steps, commands to send again). */
  next: PendingJob[];
  packer?: Packer;
  /** Per packer push index: the job and command path. */
  pushed: { jobId: string; path: string }[];
  /** Chunked Results being received, and what they answer. */
  lo: LargeObjectAssembler;
  loRef?: { jobId?: string; path: string; step: string };
  /** The session sent its device effect (first authenticated message). */
  seen: boolean;
}

interface Config extends Required<Omit<ServerSessionConfig, 'serverUri'>> {
  serverUri?: string;
}

function withDefaults(c: ServerSessionConfig | undefined): Config {
  return {
    serverUri: c?.serverUri,
    serverId: c?.serverId ?? 'syncml-dm',
    maxMsgSize: c?.maxMsgSize ?? 1 << 20,
    maxObjSize: c?.maxObjSize ?? 16 << 20,
    maxAuthFailures: c?.maxAuthFailures ?? 3,
    acceptStringNonce: c?.acceptStringNonce ?? true,
    allowUnknownDevices: c?.allowUnknownDevices ?? false,
    unknownDeviceScheme: c?.unknownDeviceScheme ?? 'md5',
    maxJobsPerPackage: c?.maxJobsPerPackage ?? 16,
    maxJobAttempts: c?.maxJobAttempts ?? 3,
    nonceBytes: c?.nonceBytes ?? 16,
  };
}

/** One step's working set. */
interface Run {
  state: ServerSessionState;
  incoming: SyncML;
  input: ServerStepInput;
  cfg: Config;
  effects: ServerEffect[];
  notes: string[];
  /** Statuses for the client's commands, in order. */
  statuses: Status[];
  /** Alerts the server adds (1225, 1222, 1223). */
  alerts: Alert[];
  abort: 'client' | 'server' | undefined;
  /** The client refused our credentials in this message. */
  serverRejected: boolean;
  devInfo: Record<string, string> | undefined;
  tree: TreeNode[];
}

// --- small helpers ----------------------------------------------------------------------------

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** `1.2` / `1.1.2` from VerDTD and VerProto (the namespace does not tell: research note §4.7). */
function versionOf(verDTD: string | undefined, verProto: string | undefined): { version?: '1.2' | '1.1.2'; refuse?: number } {
  const d = (verDTD ?? '').trim();
  const p = (verProto ?? '').trim().toUpperCase();
  if (p !== 'DM/1.2' && p !== 'DM/1.1') return { refuse: StatusCode.PROTOCOL_VERSION_NOT_SUPPORTED };
  if (d !== '1.2' && d !== '1.1') return { refuse: StatusCode.DTD_VERSION_NOT_SUPPORTED };
  // VerProto decides: a DM/1.2 body under VerDTD 1.1 happens (research note §4.7).
  return { version: p === 'DM/1.2' ? '1.2' : '1.1.2' };
}

/** Trims a URI and the white space around its slashes (`./ DevDetail/HwV`, research note §6.5). */
function cleanUri(u: string): string {
  return u.trim().replace(/\s*\/\s*/g, '/');
}

function msgNumber(id: string | undefined): number | undefined {
  const t = String(id ?? '').trim();
  return /^\d+$/.test(t) ? Number(t) : undefined;
}

function sessionAlert(msg: SyncML): Alert | undefined {
  for (const c of msg.body?.commands ?? []) {
    if (c.kind === 'Alert' && (c.code === AlertCode.SERVER_INITIATED_MGMT || c.code === AlertCode.CLIENT_INITIATED_MGMT)) return c;
  }
  return undefined;
}

function dataRecord(d: Item['data']): { data: string; encoding: 'text' | 'base64' | 'json' } {
  if (d === undefined) return { data: '', encoding: 'text' };
  if (typeof d === 'string') return { data: d, encoding: 'text' };
  if (d instanceof Uint8Array) return { data: toBase64(d), encoding: 'base64' };
  return { data: JSON.stringify(d), encoding: 'json' };
}

function itemsText(items: Item[] | undefined): string[] | undefined {
  if (items === undefined || items.length === 0) return undefined;
  return items.map((it) => dataRecord(it?.data).data);
}

function effect(run: Run, e: ServerEffect): void {
  run.effects.push(e);
}

function newNonce(run: Run): string {
  const value = toBase64(run.input.random(run.cfg.nonceBytes));
  effect(run, { type: 'nonce', deviceId: run.state.deviceId, at: run.input.now, purpose: 'client', action: 'issued', value });
  return value;
}

// --- the step ---------------------------------------------------------------------------------

/**
 * Runs one client message through the session. See the file comment.
 *
 * @example
 * ```ts
 * const r = await step(undefined, pkg1, {
 *   device: { id: 'IMEI:356938035643809', known: true, auth: { scheme: 'md5', clientName: 'dev', clientSecret: 's', clientNonce: 'MTIzNA==' } },
 *   jobs: [{ id: '1', spec: { kind: 'command', command: { verb: 'Get', target: './DevDetail/SwV' } }, state: 'queued', attempts: 0 }],
 *   transport: { body, encoding: 'xml' }, now: Date.now(), random: (n) => crypto.getRandomValues(new Uint8Array(n)),
 * });
 * ```
 * @public
 */
export async function step(prev: ServerSessionState | undefined, incoming: SyncML, input: ServerStepInput): Promise<ServerStepResult> {
  const cfg = withDefaults(input.config);
  const h = incoming.header;
  const deviceId = cleanUri(h.source?.locUri ?? '');
  const v = versionOf(h.verDTD, h.verProto);
  if (v.version === undefined) {
    return oneOff(incoming, input, cfg, v.refuse!, 'version-not-supported', [`VerDTD ${h.verDTD} / VerProto ${h.verProto} not supported`]);
  }
  if (typeof h.sessionId !== 'string' || h.sessionId === '') {
    // The tolerant parser lets an empty SessionID through; no session can be keyed by it.
    return oneOff(incoming, input, cfg, StatusCode.BAD_REQUEST, 'error', ['the SyncHdr has no SessionID: 400']);
  }
  const opening = sessionAlert(incoming);
  let state = prev !== undefined && prev.phase !== 'closed' ? prev : undefined;
  const pre: ServerEffect[] = [];
  const preNotes: string[] = [];
  if (state !== undefined && (state.deviceId !== deviceId || state.sessionId !== h.sessionId)) state = undefined;
  let replacing: ServerSessionState | undefined;
  if (state !== undefined && opening !== undefined && String(h.msgId ?? '').trim() === '1' && state.clientMsgNo >= 1) {
    // The client started the session again with the same SessionID. The open session ends only
    // once the new package 1 authenticates: anyone can send a package 1 with a device's id and
    // SessionID, and an unauthenticated request must not end (or take over) another's session.
    replacing = state;
    state = undefined;
  }
  if (state === undefined) {
    if (opening === undefined) {
      return oneOff(incoming, input, cfg, StatusCode.REQUEST_TIMEOUT, 'unknown-session', ['no open session for this message: 408 + Alert 1223'], true);
    }
    state = newState(incoming, input, cfg, v.version, deviceId, opening);
    pre.push({ type: 'session', action: 'start', token: state.token, deviceId, sessionId: state.sessionId, at: input.now, version: state.version, initiator: state.initiator });
  }
  const run: Run = {
    state, incoming, input, cfg, effects: pre, notes: preNotes, statuses: [], alerts: [], abort: undefined,
    serverRejected: false, devInfo: undefined, tree: [],
  };
  state.lastActivity = input.now;
  state.messagesIn++;

  const n = msgNumber(h.msgId);
  if (n !== undefined) {
    if (n <= state.clientMsgNo) {
      run.notes.push(`MsgID ${h.msgId} is not above the last one (${state.clientMsgNo}): answered 400, not processed`);
      return finish(run, replyOnly(run, StatusCode.BAD_REQUEST, undefined, true));
    }
    if (n > state.clientMsgNo + 1 && state.clientMsgNo > 0) run.notes.push(`MsgID jumped from ${state.clientMsgNo} to ${n}`);
    state.clientMsgNo = n;
  } else {
    state.clientMsgNo++;
    run.notes.push(`MsgID '${h.msgId}' is not a number`);
  }
  const meta = h.meta;
  if (meta?.maxMsgSize !== undefined && meta.maxMsgSize > 0) state.clientMaxMsgSize = meta.maxMsgSize;
  if (meta?.maxObjSize !== undefined && meta.maxObjSize >= 0) state.clientMaxObjSize = meta.maxObjSize;

  // Authentication.
  const auth = authenticate(run);
  if (!auth.ok) return finish(run, authFailureReply(run, auth.code, auth.chal));
  if (replacing !== undefined && replacing.phase !== 'closed') {
    run.effects.push(...endEffects(replacing, input.now, 'replaced'));
    run.notes.push('a new package 1 replaced the open session');
  }
  const firstAuthenticated = !state.seen;
  state.seen = true;
  if (firstAuthenticated && opening?.code === AlertCode.SERVER_INITIATED_MGMT) {
    if (input.notification !== undefined) effect(run, { type: 'notification', notificationId: input.notification.id, token: state.token, at: input.now });
    else run.notes.push('Alert 1200 without a pending package 0 for this SessionID');
  }

  // The client's commands.
  await processCommands(run);
  if (firstAuthenticated || run.devInfo !== undefined) {
    effect(run, { type: 'device', deviceId, at: input.now, version: state.version, ...(run.devInfo ? { devInfo: run.devInfo } : {}) });
  }
  if (run.tree.length > 0) effect(run, { type: 'tree', deviceId, at: input.now, nodes: run.tree });

  const clientFinal = incoming.body.final === true;
  if (clientFinal || run.abort !== undefined) await evaluateJobs(run, clientFinal);
  return finish(run, compose(run, auth.code, auth.chal));
}

function newState(incoming: SyncML, input: ServerStepInput, cfg: Config, version: '1.2' | '1.1.2', deviceId: string, opening: Alert): ServerSessionState {
  const h = incoming.header;
  return {
    token: hex(input.random(16)),
    deviceId,
    sessionId: h.sessionId,
    version,
    phase: 'auth',
    initiator: opening.code === AlertCode.SERVER_INITIATED_MGMT ? 'server' : 'client',
    serverUri: cfg.serverUri ?? (h.target?.locUri?.trim() || 'syncml-dm'),
    startedAt: input.now,
    lastActivity: input.now,
    clientMsgNo: 0,
    serverMsgNo: 0,
    messagesIn: 0,
    messagesOut: 0,
    auth: { scheme: input.device.known ? input.device.auth.scheme : cfg.allowUnknownDevices ? 'none' : 'unknown-device', failures: 0, serverAccepted: false, serverFailures: 0, serverNonce: input.device.auth.serverNonce },
    sent: {},
    inflight: {},
    handled: [],
    next: [],
    pushed: [],
    lo: new LargeObjectAssembler({ maxObjSize: cfg.maxObjSize }),
    seen: false,
  };
}

// --- authentication ---------------------------------------------------------------------------

function authenticate(run: Run): { ok: boolean; code: number; chal?: Chal } {
  const { state, input, cfg, incoming } = run;
  const scheme = state.auth.scheme;
  if (state.phase === 'open' && scheme !== 'hmac') return { ok: true, code: StatusCode.OK };
  const tried = state.auth.nonce ?? input.device.auth.clientNonce;
  let result: ReturnType<typeof checkClientAuth>;
  if (scheme === 'unknown-device') {
    const sent = incoming.header.cred !== undefined || (input.transport.hmacHeader ?? '').trim() !== '';
    result = sent ? { ok: false, code: 401, reason: 'unknown device' } : { ok: false, code: 407, reason: 'unknown device, no credentials' };
  } else {
    result = checkClientAuth({
      auth: { ...input.device.auth, scheme }, header: incoming.header, hmacHeader: input.transport.hmacHeader,
      body: input.transport.body, nonce: tried, acceptStringNonce: cfg.acceptStringNonce,
    });
  }
  const base = { type: 'auth' as const, deviceId: state.deviceId, token: state.token, at: input.now, scheme };
  const challengeScheme: AuthScheme = scheme === 'unknown-device' ? cfg.unknownDeviceScheme : scheme;
  // DMPRO 2.4 / session contract: a nonce is used once; the server replaces it whenever it
  // challenges or accepts.
  const burn = (): void => {
    if (tried !== undefined && usesNonce(challengeScheme)) {
      effect(run, { type: 'nonce', deviceId: state.deviceId, at: input.now, purpose: 'client', action: 'consumed', value: tried });
    }
    state.auth.nonce = undefined;
  };
  if (result.ok) {
    burn();
    const first = state.phase !== 'open';
    state.phase = 'open';
    let code: number = StatusCode.OK;
    let chal: Chal | undefined;
    if (scheme === 'hmac') {
      // DMSEC: with HMAC the SyncHdr Status is 200 with a new nonce on every message.
      state.auth.nonce = newNonce(run);
      chal = challengeFor('hmac', state.auth.nonce);
    } else if (scheme === 'md5') {
      code = StatusCode.AUTHENTICATION_ACCEPTED;
      chal = challengeFor('md5', newNonce(run)); // for the next session
    } else if (scheme === 'basic') {
      code = StatusCode.AUTHENTICATION_ACCEPTED;
    }
    if (first) effect(run, { ...base, outcome: 'accepted', code, ...(result.match ? { match: result.match } : {}) });
    if (first) effect(run, { type: 'session', action: 'update', token: state.token, deviceId: state.deviceId, sessionId: state.sessionId, at: input.now, authenticated: true });
    return { ok: true, code, chal };
  }
  burn();
  state.auth.failures++;
  run.notes.push(`authentication failed (${result.reason}), ${state.auth.failures} of ${cfg.maxAuthFailures}`);
  if (state.auth.failures >= cfg.maxAuthFailures) {
    effect(run, { ...base, outcome: 'refused', code: StatusCode.INVALID_CREDENTIALS, reason: result.reason });
    return { ok: false, code: StatusCode.INVALID_CREDENTIALS };
  }
  const nonce = usesNonce(challengeScheme) ? newNonce(run) : undefined;
  state.auth.nonce = nonce;
  effect(run, { ...base, outcome: 'challenged', code: result.code, reason: result.reason });
  return { ok: false, code: result.code, chal: challengeFor(challengeScheme, nonce) };
}

/** 401/407: Status only, one per command with the same code (DMPRO 2.4); closes at the limit. */
function authFailureReply(run: Run, code: number, chal: Chal | undefined): SyncML {
  const { state, incoming, input } = run;
  const closing = state.auth.failures >= run.cfg.maxAuthFailures;
  const statuses = answer(incoming, () => code, chal === undefined ? code : { code, chal });
  // NoResp on the SyncHdr asks for no Status at all; a refused message is answered anyway (with
  // the challenge): an empty SyncBody is not a SyncML message (found by the endpoint fuzzer).
  if (statuses.length === 0) statuses.push(headerStatus(incoming, code, chal === undefined ? {} : { chal }));
  const b = builder(run, false);
  for (const s of statuses) b.add(s);
  b.final(true);
  if (closing) {
    state.phase = 'closed';
    run.effects.push(...endEffects(state, input.now, 'auth-failed'));
  }
  return b.build();
}

// --- the client's commands --------------------------------------------------------------------

async function processCommands(run: Run): Promise<void> {
  const { incoming, state } = run;
  const cmds = incoming.body.commands;
  const hs = cmds.find((c): c is Status => c.kind === 'Status' && c.cmdRef.trim() === '0');
  if (hs !== undefined) onHeaderStatus(run, hs);
  for (const cmd of cmds) {
    if (cmd === null || typeof cmd !== 'object') continue;
    // A large object in progress is dropped by anything but Statuses, Alert 1222 and its next chunk.
    if (state.lo.open && cmd.kind !== 'Status' && !(cmd.kind === 'Alert' && cmd.code === AlertCode.NEXT_MESSAGE) && cmd.kind !== 'Results') {
      await interruptLarge(run);
    }
    if (cmd.kind === 'Status') {
      if (cmd !== hs) onStatus(run, cmd);
      continue;
    }
    if (cmd.cmdId === '' || cmd.cmdId === undefined) {
      // WM-STD: a command without CmdID is answered 400 with an empty CmdRef.
      run.statuses.push(commandStatus(incoming, cmd, StatusCode.BAD_REQUEST));
      run.notes.push(`${cmd.kind} without CmdID: 400`);
      continue;
    }
    switch (cmd.kind) {
      case 'Results':
        await onResults(run, cmd);
        break;
      case 'Alert':
        onAlert(run, cmd);
        break;
      case 'Replace':
        onReplace(run, cmd);
        break;
      default:
        // DMPRO 2.3.1: a client sends only Replace (DevInfo), Alert, Status and Results.
        run.statuses.push(commandStatus(incoming, cmd, StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED));
        run.notes.push(`${cmd.kind} from a client: 406`);
    }
  }
  if (incoming.body.final === true && state.lo.open) await interruptLarge(run);
}

function onHeaderStatus(run: Run, s: Status): void {
  const { state, input } = run;
  const next = nonceText(s.chal?.meta?.nextNonce);
  if (next !== undefined && next !== '') {
    state.auth.serverNonce = next;
    effect(run, { type: 'nonce', deviceId: state.deviceId, at: input.now, purpose: 'server', action: 'received', value: next });
  }
  if (s.code === StatusCode.AUTHENTICATION_ACCEPTED) state.auth.serverAccepted = true;
  if (s.code === StatusCode.INVALID_CREDENTIALS || s.code === StatusCode.MISSING_CREDENTIALS) {
    // Session contract §7: the client refused our credentials and executed none of our commands.
    run.serverRejected = true;
    state.auth.serverAccepted = false;
    state.auth.serverFailures++;
    run.notes.push(`the client refused the server's credentials (${s.code}), ${state.auth.serverFailures} of ${run.cfg.maxAuthFailures}`);
    for (const id of Object.keys(state.inflight)) requeue(run, id, `the device refused the server's credentials (${s.code})`);
    const secret = input.device.auth.serverSecret;
    if (state.auth.serverFailures >= run.cfg.maxAuthFailures || secret === undefined || secret === '') run.abort = 'server';
  }
}

/** Puts a job in flight back to the session's next package. */
function requeue(run: Run, jobId: string, why: string): void {
  const { state } = run;
  const f = state.inflight[jobId];
  if (f === undefined) return;
  delete state.inflight[jobId];
  for (const k of f.keys) delete state.sent[k];
  state.next.push({ ...f.job, state: 'queued', step: f.step, attempts: f.attempts });
  effect(run, { type: 'job', jobId, at: run.input.now, state: 'queued', step: f.step, error: why });
}

function findSent(state: ServerSessionState, msgRef: string | undefined, cmdRef: string): { key: string; ref: SentCommand } | undefined {
  const c = cmdRef.trim();
  if (msgRef !== undefined && msgRef.trim() !== '') {
    const key = `${msgRef.trim()}#${c}`;
    const ref = state.sent[key];
    // A MsgRef names the message: no guessing (the Status of our Alert 1222 has the CmdID of a
    // job's command in another message).
    return ref !== undefined ? { key, ref } : undefined;
  }
  // MS-MDM 2.2.7.8: a Results without MsgRef; take the latest message that had this CmdID.
  let best: { key: string; ref: SentCommand } | undefined;
  for (const [key, ref] of Object.entries(state.sent)) {
    if (key.endsWith(`#${c}`) && (best === undefined || Number(ref.msgId) > Number(best.ref.msgId))) best = { key, ref };
  }
  return best;
}

function onStatus(run: Run, s: Status): void {
  if (run.serverRejected) return;
  const found = findSent(run.state, s.msgRef, s.cmdRef);
  if (found === undefined) {
    run.notes.push(`Status ${s.code} for ${s.cmd} ${s.msgRef}#${s.cmdRef}: no such command in flight`);
    return;
  }
  const f = run.state.inflight[found.ref.jobId];
  if (f === undefined) return;
  const st: JobStatus = { path: found.ref.path, step: found.ref.step, cmd: s.cmd || found.ref.cmd, code: s.code, msgRef: found.ref.msgId, cmdRef: s.cmdRef };
  if (s.targetRefs !== undefined) st.targetRefs = s.targetRefs;
  if (s.sourceRefs !== undefined) st.sourceRefs = s.sourceRefs;
  const items = itemsText(s.items);
  if (items !== undefined) st.items = items;
  f.statuses.push(st);
}

function treeNode(uri: string, item: Item, data: Item['data'], meta: Meta | undefined): TreeNode {
  const n: TreeNode = { uri, ...dataRecord(data) };
  const m = item.meta ?? meta;
  if (m?.format !== undefined) n.format = m.format;
  if (m?.type !== undefined) n.type = m.type;
  return n;
}

async function onResults(run: Run, r: Results): Promise<void> {
  const { state, incoming } = run;
  const found = run.serverRejected ? undefined : findSent(state, r.msgRef, r.cmdRef);
  const f = found !== undefined ? state.inflight[found.ref.jobId] : undefined;
  if (found !== undefined && f !== undefined && !f.statuses.some((s) => s.path === found.ref.path && s.msgRef === found.ref.msgId)) {
    // Windows sends Results whose Get got no Status of its own: read it as the Get's 200.
    f.statuses.push({ path: found.ref.path, step: found.ref.step, cmd: 'Get', code: StatusCode.OK, msgRef: found.ref.msgId, cmdRef: r.cmdRef });
  }
  let code: number = StatusCode.OK;
  for (const item of r.items ?? []) {
    const uri = cleanUri(item?.source?.locUri ?? item?.target?.locUri ?? '');
    let data: Item['data'] = item?.data;
    let meta = item?.meta ?? r.meta;
    const chunked = item?.moreData === true || state.lo.open;
    if (chunked) {
      if (state.lo.open && !state.lo.continues('Results', item)) await interruptLarge(run);
      if (!state.lo.open) state.loRef = found !== undefined ? { jobId: found.ref.jobId, path: found.ref.path, step: found.ref.step } : { path: '', step: '' };
      const out = await state.lo.accept('Results', item, { ...r.meta, ...item.meta });
      if (out.kind === 'buffered') { code = StatusCode.CHUNKED_ITEM_ACCEPTED; continue; }
      if (out.kind === 'refused') {
        code = out.status;
        run.notes.push(`chunked Results for ${uri} refused: ${out.status}`);
        if (f !== undefined) f.statuses.push({ path: found!.ref.path, step: found!.ref.step, cmd: 'Results', code: out.status, msgRef: found!.ref.msgId, cmdRef: r.cmdRef });
        continue;
      }
      data = out.value;
      meta = { ...meta, ...(out.format !== undefined ? { format: out.format } : {}), ...(out.type !== undefined ? { type: out.type } : {}) };
      state.loRef = undefined;
    }
    if (uri === '') continue;
    const node = treeNode(uri, chunked ? { meta } : item, data, meta);
    run.tree.push(node);
    if (f !== undefined) f.results.push({ path: found!.ref.path, step: found!.ref.step, ...node });
  }
  if (found === undefined) run.notes.push(`Results for ${r.msgRef ?? '?'}#${r.cmdRef}: no such Get in flight (values kept in the tree)`);
  // DMREPPRO 4.1.5.1: no Status for a Results answered 200.
  if (code !== StatusCode.OK) run.statuses.push(commandStatus(incoming, r, code));
}

async function interruptLarge(run: Run): Promise<void> {
  const { state } = run;
  const lost = await state.lo.interrupt();
  const ref = state.loRef;
  state.loRef = undefined;
  if (lost === undefined) return;
  // DMPRO 2.2: Alert 1225 carrying the original Target/Source.
  const item: Item = {};
  if (lost.target !== undefined) item.target = { locUri: lost.target };
  if (lost.source !== undefined) item.source = { locUri: lost.source };
  run.alerts.push({ kind: 'Alert', cmdId: '', code: AlertCode.NO_END_OF_DATA, items: [item] });
  run.notes.push(`large object ${lost.source ?? lost.target ?? ''} interrupted: Alert 1225`);
  const f = ref?.jobId !== undefined ? state.inflight[ref.jobId] : undefined;
  if (f !== undefined && ref !== undefined) {
    f.statuses.push({ path: ref.path, step: ref.step, cmd: 'Results', code: AlertCode.NO_END_OF_DATA, msgRef: '', cmdRef: '' });
  }
}

function onAlert(run: Run, a: Alert): void {
  const { incoming, state, input } = run;
  switch (a.code) {
    case AlertCode.SERVER_INITIATED_MGMT:
    case AlertCode.CLIENT_INITIATED_MGMT:
    case AlertCode.NEXT_MESSAGE:
    case AlertCode.NO_END_OF_DATA:
      run.statuses.push(commandStatus(incoming, a, StatusCode.OK));
      if (a.code === AlertCode.NO_END_OF_DATA) run.notes.push('the client reported Alert 1225 (no end of data)');
      return;
    case AlertCode.SESSION_ABORT:
      run.statuses.push(commandStatus(incoming, a, StatusCode.OK));
      run.abort = 'client';
      return;
    case AlertCode.GENERIC_ALERT:
    case AlertCode.CLIENT_EVENT: {
      const events = readGenericAlerts(a);
      if (events.length === 0) {
        run.statuses.push(commandStatus(incoming, a, StatusCode.INCOMPLETE_COMMAND));
        return;
      }
      for (const ev of events) {
        const jobId = a.code === AlertCode.GENERIC_ALERT ? matchFumo(run, ev) : undefined;
        effect(run, { type: 'alert', deviceId: state.deviceId, token: state.token, at: input.now, alert: alertRecord(a.code, ev), ...(jobId !== undefined ? { jobId } : {}) });
      }
      run.statuses.push(commandStatus(incoming, a, StatusCode.OK));
      return;
    }
    default:
      // DMREPPRO 4.1.6.2: 406 for an Alert the recipient cannot process (UI alerts go server to client).
      run.statuses.push(commandStatus(incoming, a, StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED));
      run.notes.push(`Alert ${a.code} from a client: 406`);
  }
}

function alertRecord(code: number, ev: GenericAlertEvent): AlertRecord {
  const rec: AlertRecord = { code, type: ev.type, rawType: ev.rawType, format: ev.format, mark: ev.mark, ...dataRecord(ev.data) };
  if (ev.source !== undefined) rec.source = cleanUri(ev.source);
  if (ev.target !== undefined) rec.target = cleanUri(ev.target);
  if (ev.correlator !== undefined) rec.correlator = ev.correlator;
  return rec;
}

/** Matches a FUMO result alert to its campaign; returns the job id. */
function matchFumo(run: Run, raw: GenericAlertEvent): string | undefined {
  const { state, input } = run;
  const ev = { ...raw, source: raw.source !== undefined ? cleanUri(raw.source) : undefined, target: raw.target !== undefined ? cleanUri(raw.target) : undefined };
  // A campaign whose Exec is in flight (the alert came with the Exec's Status).
  for (const f of Object.values(state.inflight)) {
    if (f.job.spec.kind === 'fumo' && f.step === 'exec' && fumoAlertMatches(f.job, ev)) {
      f.alert = fumoAlertOutcome(ev);
      return f.job.id;
    }
  }
  for (const j of input.jobs) {
    // (The job may have been sent earlier in this session: `handled` does not exclude it here.)
    if (j.state !== 'waiting-alert' || state.inflight[j.id] !== undefined || state.next.some((x) => x.id === j.id)) continue;
    if (!fumoAlertMatches(j, ev)) continue;
    const out = fumoAlertOutcome(ev);
    const fumo = { ...j.fumo, correlator: fumoCorrelator(j), ...out.fumo };
    if (!state.handled.includes(j.id)) state.handled.push(j.id);
    state.next.push({ ...j, state: 'queued', step: out.step, attempts: 0, fumo });
    effect(run, { type: 'job', jobId: j.id, at: input.now, state: 'queued', step: out.step, attempts: 0, fumo });
    return j.id;
  }
  return undefined;
}

function onReplace(run: Run, r: Command & { kind: 'Replace' }): void {
  let any = false;
  for (const item of r.items ?? []) {
    const uri = cleanUri(item?.source?.locUri ?? item?.target?.locUri ?? '');
    if (uri === '') continue;
    any = true;
    const node = treeNode(uri, item, item.data, r.meta);
    run.tree.push(node);
    const m = /^(?:\.\/)?DevInfo\/([^/]+)$/i.exec(uri);
    if (m !== null && node.encoding === 'text') (run.devInfo ??= {})[m[1]] = node.data.trim();
  }
  run.statuses.push(commandStatus(run.incoming, r, any ? StatusCode.OK : StatusCode.INCOMPLETE_COMMAND));
}

// --- jobs -------------------------------------------------------------------------------------

/** At the end of the client's package: the jobs whose every command was answered move on. */
async function evaluateJobs(run: Run, clientFinal: boolean): Promise<void> {
  const { state, input } = run;
  for (const [id, f] of Object.entries(state.inflight)) {
    if (f.unsent > 0) continue;
    const answered = f.keys.every((k) => {
      const ref = state.sent[k];
      return ref === undefined || f.statuses.some((s) => s.msgRef === ref.msgId && s.path === ref.path);
    });
    if (!answered) {
      if (clientFinal) run.notes.push(`job ${id}: ${f.keys.length} commands sent, not all answered yet`);
      continue;
    }
    let out = stepOutcome({ ...f.job, fumo: { ...f.job.fumo, ...f.alert?.fumo } }, f.step, f.statuses, f.results);
    const fumo: FumoProgress | undefined = f.job.spec.kind === 'fumo' ? { correlator: fumoCorrelator(f.job), ...f.job.fumo, ...out.fumo } : undefined;
    if (out.state === 'waiting-alert' && f.alert !== undefined) {
      out = f.alert;
      Object.assign(fumo!, f.alert.fumo);
    }
    delete state.inflight[id];
    for (const k of f.keys) delete state.sent[k];
    const e: ServerEffect = { type: 'job', jobId: id, at: input.now, state: out.state, statuses: f.statuses, results: f.results };
    if (out.step !== undefined) e.step = out.step;
    if (fumo !== undefined) e.fumo = fumo;
    if (out.error !== undefined) e.error = out.error;
    if (out.state === 'queued') {
      e.attempts = 0;
      state.next.push({ ...f.job, state: 'queued', step: out.step, attempts: 0, fumo });
    }
    effect(run, e);
  }
}

/** Picks the jobs for a new package and queues their commands in a Packer; returns how many it took or failed. */
function dispatch(run: Run, encoding: 'wbxml' | 'xml'): number {
  const { state, input, cfg } = run;
  // The session's own jobs first (FUMO next steps, commands to send again), then the queue.
  const candidates: PendingJob[] = state.next;
  const owned = new Set(candidates.map((j) => j.id));
  state.next = [];
  const taken = new Set([...state.handled, ...owned]);
  for (const j of input.jobs) {
    if (taken.has(j.id)) continue;
    if (j.state === 'queued' || (j.state === 'sent' && j.session !== state.token)) candidates.push(j);
  }
  if (candidates.length === 0) return 0;
  const max = state.clientMaxMsgSize ?? Infinity;
  const verDTD = state.version === '1.2' ? '1.2' : '1.1';
  // A packer's push indexes start at 0: `pushed` follows the packer.
  if (state.packer === undefined) state.pushed = [];
  const packer = state.packer ?? new Packer({ encoding, maxMsgSize: max, maxObjSize: state.clientMaxObjSize, verDTD });
  const probe = new MessageBuilder({ verDTD, verProto: 'DM/1.2', sessionId: '1', msgId: '1', target: { locUri: 't' }, source: { locUri: 's' } });
  // Room for commands in one message: what the client takes minus a header with its Statuses.
  let room = max - 1024;
  let count = 0;
  let progress = 0;
  // A job not sent now: the session keeps its own ones; the queue gives the others again.
  const later = (j: PendingJob): void => {
    if (owned.has(j.id)) state.next.push(j);
  };
  for (const j of candidates) {
    if (count >= cfg.maxJobsPerPackage) {
      later(j);
      continue;
    }
    if (j.attempts >= cfg.maxJobAttempts) {
      progress++;
      state.handled.push(j.id);
      effect(run, { type: 'job', jobId: j.id, at: input.now, state: 'failed', error: `sent ${j.attempts} times without a complete answer` });
      continue;
    }
    const stepName = j.step !== undefined && j.step !== 'waiting-alert' ? j.step : firstStep(j.spec);
    let cmds: Command[];
    try {
      cmds = stepCommands(j, stepName, { version: state.version });
    } catch (e) {
      progress++;
      state.handled.push(j.id);
      effect(run, { type: 'job', jobId: j.id, at: input.now, state: 'failed', error: (e as Error).message });
      continue;
    }
    let size = 0;
    for (const c of cmds) size += commandSize(probe.number(c), { encoding, verDTD });
    if (count > 0 && size > room) {
      // Does not fit beside the others: the next package (only a lone job may span messages).
      later(j);
      continue;
    }
    try {
      packer.push(...cmds);
    } catch (e) {
      // DMPRO 2.2: an object above the client's MaxObjSize must not be sent.
      progress++;
      state.handled.push(j.id);
      effect(run, { type: 'job', jobId: j.id, at: input.now, state: 'failed', error: `not sent: ${(e as Error).message}` });
      continue;
    }
    cmds.forEach((_, i) => state.pushed.push({ jobId: j.id, path: String(i) }));
    state.handled.push(j.id);
    state.inflight[j.id] = { job: j, step: stepName, attempts: j.attempts + 1, keys: [], unsent: cmds.length, statuses: [], results: [] };
    count++;
    progress++;
    room -= size;
  }
  if (packer.hasMore()) state.packer = packer;
  return progress;
}

/** Fills `b` from the packer; records where each command went. */
function pack(run: Run, b: MessageBuilder): void {
  const { state, input } = run;
  const packer = state.packer;
  if (packer === undefined) return;
  const max = packer.maxMsgSize;
  if (measureMessage(b.header, [...b.commands], packer.encoding, true) > max) {
    // The smallest message that could carry commands later: the header, its Status, a Status for Alert 1222.
    const hs = b.commands.find(isHeaderStatus);
    const probe: Status = { kind: 'Status', cmdId: '2', msgRef: hs?.msgRef ?? '1', cmdRef: '9', cmd: 'Alert', code: StatusCode.OK };
    const minimal = measureMessage(b.header, hs !== undefined ? [hs, probe] : [probe], packer.encoding, false);
    if (minimal <= max) {
      // Our Statuses alone fill the message: the commands go in the next one of this package.
      run.notes.push('the Statuses fill the message: commands follow in the next message of the package');
      return;
    }
    // Not even a header and its Status fit: no command can ever be sent in this session.
    const why = `the device's MaxMsgSize ${max} is smaller than a message header`;
    run.notes.push(why);
    const ids = new Set(state.pushed.map((p) => p.jobId));
    for (const id of ids) if (state.inflight[id] !== undefined) failInflight(run, id, `not sent: ${why}`);
    state.packer = undefined;
    return;
  }
  const msgId = b.header.msgId;
  const newly = new Map<string, SentRef[]>();
  for (;;) {
    let packed;
    try {
      packed = packer.nextMessage(b).packed;
    } catch (e) {
      const dropped = packer.shift();
      if (dropped === undefined) break;
      const who = state.pushed[dropped.index];
      if (who !== undefined) failInflight(run, who.jobId, `not sent: ${(e as Error).message}`);
      continue;
    }
    for (const p of packed) {
      const who = state.pushed[p.index];
      if (who === undefined) continue;
      const f = state.inflight[who.jobId];
      if (f === undefined) continue;
      const refs = newly.get(who.jobId) ?? [];
      newly.set(who.jobId, refs);
      const walk = (c: Command, path: string): void => {
        const key = `${msgId}#${c.cmdId}`;
        state.sent[key] = { jobId: who.jobId, path, step: f.step, cmd: c.kind, msgId };
        f.keys.push(key);
        refs.push({ msgId, cmdId: c.cmdId, path });
        if (c.kind === 'Atomic' || c.kind === 'Sequence') c.commands.forEach((child, i) => walk(child, `${path}.${i}`));
      };
      walk(p.sent, who.path);
      if (p.chunk === undefined || p.chunk.last) f.unsent--;
    }
    break;
  }
  if (!packer.hasMore()) state.packer = undefined;
  for (const [jobId, sent] of newly) {
    const f = state.inflight[jobId];
    const first = f.keys.length === sent.length;
    const e: ServerEffect = { type: 'job', jobId, at: input.now, state: 'sent', step: f.step, session: state.token, sent };
    if (first) e.attempts = f.attempts;
    effect(run, e);
  }
}

function failInflight(run: Run, jobId: string, error: string): void {
  const f = run.state.inflight[jobId];
  if (f !== undefined) {
    delete run.state.inflight[jobId];
    for (const k of f.keys) delete run.state.sent[k];
  }
  effect(run, { type: 'job', jobId, at: run.input.now, state: 'failed', error });
}

// --- replies ----------------------------------------------------------------------------------

function builder(run: Run, withCred: boolean): MessageBuilder {
  const { state, input, cfg } = run;
  const auth = input.device.auth;
  const serverId = auth.serverId ?? cfg.serverId;
  const cred = withCred && !state.auth.serverAccepted && state.phase === 'open' ? serverCred(auth, serverId, state.auth.serverNonce) : undefined;
  const source: Source = { locUri: state.serverUri };
  // WM-SEC: MD5 server-auth messages carry LocURI and LocName.
  if (cred !== undefined) source.locName = serverId;
  const out = new SessionMessages({
    sessionId: state.sessionId, version: state.version, source, target: { locUri: state.deviceId },
    respUri: input.respUri?.(state.token), maxMsgSize: cfg.maxMsgSize, maxObjSize: cfg.maxObjSize,
    firstMsgId: state.serverMsgNo + 1, cred,
  });
  state.serverMsgNo++;
  state.messagesOut++;
  return out.next();
}

/** A reply holding only the SyncHdr Status (and the statuses gathered so far). */
function replyOnly(run: Run, code: number, chal: Chal | undefined, final: boolean): SyncML {
  const b = builder(run, false);
  b.add(headerStatus(run.incoming, code, chal === undefined ? {} : { chal }));
  for (const s of run.statuses) b.add(s);
  b.final(final);
  return b.build();
}

function compose(run: Run, code: number, chal: Chal | undefined): SyncML {
  const { state, incoming, input } = run;
  const encoding = input.transport.encoding;
  const b = builder(run, true);
  const continuing = state.packer !== undefined;
  b.add(headerStatus(incoming, code, chal === undefined ? {} : { chal }));
  addStatuses(run, b, encoding);
  for (const a of run.alerts) b.add(a);
  if (run.abort !== undefined) {
    // DMPRO 2.3: after an abort, Status for the SyncHdr and the Alert, no new commands.
    if (run.abort === 'server') b.add({ kind: 'Alert', cmdId: '', code: AlertCode.SESSION_ABORT, items: [] });
    b.final(true);
    close(run, run.abort === 'client' ? 'client-abort' : 'server-abort');
    return b.build();
  }
  if (continuing) {
    // Our package goes on (a large object in chunks, or commands the Statuses left no room for).
    pack(run, b);
    if (state.packer !== undefined) b.final(false);
    // Only Statuses left over from the message before: the client has nothing to answer, go on below.
    if (state.packer !== undefined || b.commands.some((c) => c.kind !== 'Status')) return b.build();
  }
  if (incoming.body.final !== true) {
    // DMPRO 2.1: the client's package is not over: the Next Message response, no Final.
    b.add({ kind: 'Alert', cmdId: '', code: AlertCode.NEXT_MESSAGE, items: [] });
    b.final(false);
    return b.build();
  }
  // Jobs that fail while being packed (too large for any message) leave room: try the queue again.
  const before = b.length;
  for (;;) {
    const progress = dispatch(run, encoding);
    if (state.packer !== undefined) pack(run, b);
    if (progress === 0 || state.packer !== undefined || b.length > before) break;
  }
  const hasCommands = b.commands.some((c) => c.kind !== 'Status');
  if (state.packer === undefined) b.final(true);
  if (!hasCommands && state.packer === undefined) {
    // Status + Final only: the session is over (DMPRO 2.3.1).
    close(run, 'completed');
  }
  return b.build();
}

/**
 * The Statuses for the client's message, as many as fit the client's MaxMsgSize (with the Alerts
 * that follow them); the others go through the packer into the next messages of our package
 * (DMPRO 2.1: no message above MaxMsgSize, however many commands the client sent).
 */
function addStatuses(run: Run, b: MessageBuilder, encoding: 'wbxml' | 'xml'): void {
  const { state } = run;
  const max = state.clientMaxMsgSize ?? Infinity;
  if (!Number.isFinite(max)) {
    for (const s of run.statuses) b.add(s);
    return;
  }
  const verDTD = state.version === '1.2' ? '1.2' : '1.1';
  const measure = () => measureMessage(b.header, [...b.commands, ...run.alerts], encoding, true);
  // Most answers fit whole: one measurement instead of one per Status.
  const mark = b.length;
  for (const s of run.statuses) b.add(s);
  if (measure() <= max) return;
  while (b.length > mark) b.pop();
  let size = measure();
  let i = 0;
  for (; i < run.statuses.length; i++) {
    const s = run.statuses[i];
    size += commandSize(b.number(s), { encoding, verDTD });
    b.add(s);
    if (size <= max) continue;
    size = measure();
    if (size <= max) continue;
    b.pop();
    break;
  }
  if (i === run.statuses.length) return;
  if (state.packer === undefined) {
    state.pushed = [];
    state.packer = new Packer({ encoding, maxMsgSize: max, maxObjSize: state.clientMaxObjSize, verDTD });
  }
  const rest = run.statuses.slice(i);
  state.packer.push(...rest);
  // No job behind these entries: holes in `pushed`, which follows the packer's indexes.
  state.pushed.length += rest.length;
  run.notes.push(`${rest.length} Statuses do not fit the device's MaxMsgSize ${max}: they follow in the next message of the package`);
}

function close(run: Run, reason: ServerSessionEndReason): void {
  run.state.phase = 'closed';
  run.effects.push(...endEffects(run.state, run.input.now, reason));
}

/**
 * The effects of ending a session: jobs in flight are queued again (their commands got no
 * complete answer), the session row closed.
 * @public
 */
export function endEffects(state: ServerSessionState, now: number, reason: ServerSessionEndReason): ServerEffect[] {
  const out: ServerEffect[] = [];
  for (const [id, f] of Object.entries(state.inflight)) {
    const got = f.keys.filter((k) => f.statuses.some((s) => `${s.msgRef}#${s.cmdRef}` === k)).length;
    out.push({ type: 'job', jobId: id, at: now, state: 'queued', step: f.step, error: `session ended (${reason}) with ${got} of ${f.keys.length} commands answered` });
  }
  for (const j of state.next) {
    // FUMO next steps and commands to send again wait for the next session.
    out.push({ type: 'job', jobId: j.id, at: now, state: 'queued', ...(j.step !== undefined ? { step: j.step } : {}) });
  }
  state.inflight = {};
  state.sent = {};
  state.next = [];
  state.packer = undefined;
  state.phase = 'closed';
  out.push({
    type: 'session', action: 'end', token: state.token, deviceId: state.deviceId, sessionId: state.sessionId, at: now, reason,
    messagesIn: state.messagesIn, messagesOut: state.messagesOut,
  });
  return out;
}

/**
 * Ends a session the edge gives up on (idle timeout, server shutdown): its jobs in flight are
 * queued again. Returns the effects to make durable.
 * @public
 */
export async function expireSession(state: ServerSessionState, now: number, reason: ServerSessionEndReason = 'expired'): Promise<ServerEffect[]> {
  await state.lo.reset();
  return endEffects(state, now, reason);
}

function finish(run: Run, reply: SyncML): ServerStepResult {
  const { state, input } = run;
  const closed = state.phase === 'closed';
  if (!closed) {
    effect(run, { type: 'session', action: 'update', token: state.token, deviceId: state.deviceId, sessionId: state.sessionId, at: input.now, messagesIn: state.messagesIn, messagesOut: state.messagesOut });
  }
  const out: ServerStepResult = { state, reply, effects: run.effects, closed, notes: run.notes };
  const auth = input.device.auth;
  // DMSEC: a server authenticating with HMAC signs each of its messages (once the client is in).
  if (serverSchemeOf(auth) === 'hmac' && state.phase !== 'auth') {
    out.sign = { username: auth.serverId ?? run.cfg.serverId, password: auth.serverSecret!, nonce: nonceBytes(state.auth.serverNonce) };
  }
  return out;
}

/** A reply without a session: a refused version, or a message for a session the server does not have. */
function oneOff(incoming: SyncML, input: ServerStepInput, cfg: Config, code: number, reason: ServerSessionEndReason, notes: string[], abort = false): ServerStepResult {
  const h = incoming.header;
  const v = versionOf(h.verDTD, h.verProto).version ?? '1.2';
  const deviceId = cleanUri(h.source?.locUri ?? '') || 'unknown';
  const sessionId = h.sessionId?.trim() ? h.sessionId : '0';
  const state = newState(incoming, input, cfg, v, deviceId, { kind: 'Alert', cmdId: '', code: 1201, items: [] });
  state.sessionId = sessionId;
  state.phase = 'closed';
  const out = new SessionMessages({
    sessionId, version: v, source: { locUri: state.serverUri }, target: { locUri: deviceId },
    maxMsgSize: cfg.maxMsgSize, maxObjSize: cfg.maxObjSize,
  });
  const b = out.next();
  b.add(headerStatus(incoming, code));
  if (abort) b.add({ kind: 'Alert', cmdId: '', code: AlertCode.SESSION_ABORT, items: [] });
  b.final(true);
  return { state, reply: b.build(), effects: [], closed: true, notes: [...notes, `session ${reason}`] };
}

/**
 * The answer to a message that could not be parsed, in a session the edge identified (by its
 * RespURI token): SyncHdr Status `code` (400 by default) and Final; the session stays as it was,
 * so the client may send the message again.
 * @public
 */
export function errorReply(state: ServerSessionState, code: number = StatusCode.BAD_REQUEST, config?: ServerSessionConfig): SyncML {
  const cfg = withDefaults(config);
  const out = new SessionMessages({
    sessionId: state.sessionId, version: state.version, source: { locUri: state.serverUri }, target: { locUri: state.deviceId },
    maxMsgSize: cfg.maxMsgSize, maxObjSize: cfg.maxObjSize, firstMsgId: state.serverMsgNo + 1,
  });
  state.serverMsgNo++;
  state.messagesOut++;
  const b = out.next();
  b.add({
    kind: 'Status', cmdId: '', msgRef: String(state.clientMsgNo + 1), cmdRef: '0', cmd: 'SyncHdr', code,
    targetRefs: [state.serverUri], sourceRefs: [state.deviceId],
  });
  b.final(true);
  return b.build();
}
