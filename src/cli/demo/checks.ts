/**
 * The demo's honesty: every claim it prints is checked against what the servers recorded (read
 * back through the admin API), and a step whose records differ fails the demo with one line
 * naming the step and what was found.
 *
 * The verifiers are pure functions over the records (jobs, sessions, alerts...), so the failure
 * path is tested without breaking a server: give them records that disagree and they throw.
 */
import type { AuthEvent, JobRecord, NotificationRecord, SessionRecord, StoredAlert, StoredNode } from '../../server/store.js';
import type { JobStatus } from '../../dm/jobs.js';
import { statusText } from '../../syncml/status-codes.js';
import type { Counters } from './trace.js';

/** A claim that the records do not back. */
export class CheckFailure extends Error {
  override readonly name = 'CheckFailure';
}

/** Throws a CheckFailure saying `what` unless `ok` (a function: built only when the check fails). */
export function check(ok: unknown, what: string | (() => string)): asserts ok {
  if (!ok) throw new CheckFailure(typeof what === 'function' ? what() : what);
}

// ---- the step runner ----------------------------------------------------------------------------

export interface Step<C> {
  /** Short name (the summary table, the failure line). */
  name: string;
  /** What it shows, printed as its heading. */
  title: string;
  run(ctx: C): Promise<void>;
}

export interface StepRow extends Counters {
  index: number;
  name: string;
  ms: number;
  result: 'ok' | 'FAILED' | 'skipped';
}

export interface Failure {
  index: number;
  name: string;
  message: string;
}

export interface RunOutcome {
  rows: StepRow[];
  failure?: Failure;
}

export interface RunHooks {
  /** Before step `index` (1-based) of `total`. */
  begin?(index: number, total: number, step: Step<unknown>): void;
  /** Fresh counters for the step (the tracer counts into them). */
  counters(): Counters;
  now(): number;
}

/** The message of anything a step threw: a CheckFailure's text, another error's message. */
export function failureMessage(e: unknown): string {
  if (e instanceof CheckFailure) return e.message;
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return `${typeof code === 'string' && !e.message.startsWith(code) ? `${code}: ` : ''}${e.message}`.replace(/\s+/g, ' ');
  }
  return String(e);
}

/**
 * Runs the steps in order; the first that throws fails the run and the ones after it are
 * skipped. Never throws itself.
 */
export async function runSteps<C>(steps: readonly Step<C>[], ctx: C, hooks: RunHooks): Promise<RunOutcome> {
  const rows: StepRow[] = [];
  let failure: Failure | undefined;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i];
    const index = i + 1;
    if (failure) {
      rows.push({ index, name: step.name, sessions: 0, messages: 0, bytes: 0, ms: 0, result: 'skipped' });
      continue;
    }
    hooks.begin?.(index, steps.length, step as Step<unknown>);
    const c = hooks.counters();
    const t0 = hooks.now();
    let result: StepRow['result'] = 'ok';
    try {
      await step.run(ctx);
    } catch (e) {
      result = 'FAILED';
      failure = { index, name: step.name, message: failureMessage(e) };
    }
    rows.push({ index, name: step.name, ...c, ms: hooks.now() - t0, result });
  }
  return failure ? { rows, failure } : { rows };
}

/** `syncml-dm: demo failed at step 4 (ACL 425): …` */
export function failureLine(f: Failure): string {
  return `syncml-dm: demo failed at step ${f.index} (${f.name}): ${f.message}`;
}

// ---- reading records ------------------------------------------------------------------------------

function code(c: number): string {
  return `${c} ${statusText(c)}`;
}

/** The last Status recorded for the command at `path` of a job (`0`, or `0.1` in a group). */
export function statusAt(job: JobRecord, path: string): JobStatus | undefined {
  for (let i = job.statuses.length - 1; i >= 0; i--) if (job.statuses[i].path === path) return job.statuses[i];
  return undefined;
}

function expectStatus(job: JobRecord, path: string, want: number, what: string): void {
  const s = statusAt(job, path);
  check(s !== undefined, `${what}: job ${job.id} has no Status recorded (state ${job.state})`);
  check(s.code === want, `${what}: the server recorded ${code(s.code)} for job ${job.id}, not ${code(want)}`);
}

/** The value a Get job's Results recorded for `uri`. */
export function resultValue(job: JobRecord, uri: string): string | undefined {
  const r = [...job.results].reverse().find((x) => x.uri === uri);
  return r === undefined ? undefined : r.encoding === 'base64' ? Buffer.from(r.data, 'base64').toString('utf8') : r.data;
}

function expectAnswered(job: JobRecord, what: string): void {
  check(job.state === 'answered', `${what}: job ${job.id} is ${job.state}${job.error ? ` (${job.error})` : ''}, not answered`);
}

function expectValue(job: JobRecord, uri: string, want: string, what: string): void {
  expectAnswered(job, what);
  expectStatus(job, '0', 200, what);
  const v = resultValue(job, uri);
  check(v !== undefined, `${what}: job ${job.id} recorded no Results for ${uri}`);
  check(v === want, `${what}: the server read ${uri} = "${v}", expected "${want}"`);
}

// ---- the verifiers, one per step ------------------------------------------------------------------

export interface Package0Records {
  notification: NotificationRecord | undefined;
  /** The device's authentication events (any order). */
  authEvents: AuthEvent[];
  /** The device's sessions on the server. */
  sessions: SessionRecord[];
  devInfo: Record<string, string>;
  dmVersion: string | undefined;
  /** The DevInfo the client holds. */
  expectDevInfo: Record<string, string>;
}

/** Package 0 answered by a server-initiated session that was challenged (407) and then authenticated (212, md5), with the DevInfo stored. */
export function verifyPackage0Session(r: Package0Records): string[] {
  const n = r.notification;
  check(n !== undefined, 'the server has no record of the package 0 it built');
  check(n.answeredAt !== undefined && n.session !== undefined, `the server recorded package 0 (SessionID ${n.sessionId}) as never answered`);
  const s = r.sessions.find((x) => x.token === n.session);
  check(s !== undefined, `no session ${n.session} recorded for the answer to package 0`);
  check(s.sessionId === n.sessionId, `the session answering package 0 has SessionID ${s.sessionId}, not ${n.sessionId}`);
  check(s.initiator === 'server', `the session answering package 0 is recorded as ${s.initiator ?? 'unknown'}-initiated, not server-initiated (Alert 1200)`);
  check(s.reason === 'completed', `the session answering package 0 ended ${s.reason ?? 'never'}, not completed`);
  const events = r.authEvents.filter((e) => e.session === s.token).sort((a, b) => a.at - b.at);
  const challenge = events.find((e) => e.outcome === 'challenged');
  const accepted = events.find((e) => e.outcome === 'accepted');
  check(challenge !== undefined, 'the server recorded no challenge in the first session (expected 407 with a nonce)');
  check(challenge.code === 407 || challenge.code === 401, `the challenge was answered ${challenge.code}, not 407/401`);
  check(accepted !== undefined && accepted.at >= challenge.at, 'the server recorded no successful authentication after the challenge');
  check(accepted.scheme === 'md5' && accepted.code === 212, `the session was accepted with ${accepted.scheme} ${accepted.code}, not md5 212`);
  for (const [k, v] of Object.entries(r.expectDevInfo)) {
    check(r.devInfo[k] === v, `DevInfo ${k}: the server stored "${r.devInfo[k] ?? '(nothing)'}", the device has "${v}"`);
  }
  check(r.dmVersion === '1.2', `the server recorded DM version ${r.dmVersion ?? '(none)'} for the device, not 1.2`);
  return [
    `package 0 (SessionID ${n.sessionId}) answered by a server-initiated session — server record: notification ${n.id} answered by session ${short(n.session)}`,
    `md5 authentication: challenged with ${challenge.code} (${challenge.reason ?? 'no credentials'}), then accepted with 212 — server auth events`,
    `DevInfo stored by the server: ${Object.entries(r.expectDevInfo).map(([k, v]) => `${k}=${v}`).join(', ')}`,
  ];
}

function short(token: string | undefined): string {
  return token === undefined ? '?' : `${token.slice(0, 8)}…`;
}

/** A Get of DevDetail answered with every leaf the device holds, and the server's tree view updated. */
export function verifyDevDetail(job: JobRecord, deviceValues: Record<string, string>, tree: StoredNode[], authEvents: AuthEvent[]): string[] {
  expectAnswered(job, 'Get ./DevDetail');
  expectStatus(job, '0', 200, 'Get ./DevDetail');
  for (const [uri, v] of Object.entries(deviceValues)) {
    const got = resultValue(job, uri);
    check(got === v, `Get ./DevDetail: the server recorded ${uri} = "${got ?? '(nothing)'}", the device holds "${v}"`);
    const node = tree.find((x) => x.uri === uri);
    check(node !== undefined && node.data === v, `the server's view of the device tree has ${uri} = "${node?.data ?? '(nothing)'}", not "${v}"`);
  }
  const events = authEvents.filter((e) => e.session === job.session);
  check(events.length > 0, `no authentication recorded for the session of job ${job.id}`);
  check(events.every((e) => e.outcome === 'accepted'), `the second session was challenged again (${events.map((e) => `${e.outcome} ${e.code}`).join(', ')}): the nonce from the first was not accepted`);
  return [
    `Get ./DevDetail?list=StructData answered 200 with ${job.results.length} nodes — job ${job.id}: ${Object.entries(deviceValues).map(([u, v]) => `${u.slice(u.lastIndexOf('/') + 1)}=${v}`).join(', ')}`,
    'no challenge this time: the md5 nonce the server issued in the first session was accepted (212)',
  ];
}

export interface AclRecords {
  partnerReplace: JobRecord;
  partnerGet: JobRecord;
  mainReplace: JobRecord;
  mainGet: JobRecord;
}

/** The partner server's Replace of the protected node refused with 425, the main server's accepted. */
export function verifyAclRefusal(r: AclRecords, node: string, values: { original: string; partner: string; main: string }, ids: { main: string; partner: string }): string[] {
  expectAnswered(r.partnerReplace, `${ids.partner} Replace ${node}`);
  expectStatus(r.partnerReplace, '0', 425, `${ids.partner} Replace ${node}`);
  expectValue(r.partnerGet, node, values.original, `${ids.partner} Get ${node} after the refusal`);
  expectAnswered(r.mainReplace, `${ids.main} Replace ${node}`);
  expectStatus(r.mainReplace, '0', 200, `${ids.main} Replace ${node}`);
  expectValue(r.mainGet, node, values.main, `${ids.main} Get ${node}`);
  return [
    `${ids.partner}: Replace ${node} = "${values.partner}" refused with 425 ${statusText(425)} — partner server, job ${r.partnerReplace.id}`,
    `${ids.partner} read it back: still "${values.original}" — job ${r.partnerGet.id}`,
    `${ids.main}: the same Replace ("${values.main}") accepted with 200, read back "${values.main}" — main server, jobs ${r.mainReplace.id} and ${r.mainGet.id}`,
  ];
}

/** An Atomic whose Add fails (418): 507 for the Atomic, 216 for the Replace rolled back, and the node still holds its old value. */
export function verifyAtomicRollback(atomic: JobRecord, get: JobRecord, node: string, oldValue: string): string[] {
  expectAnswered(atomic, 'Atomic');
  expectStatus(atomic, '0', 507, 'Atomic');
  expectStatus(atomic, '0.0', 216, `Atomic: the Replace of ${node}`);
  expectStatus(atomic, '0.1', 418, 'Atomic: the Add of an existing node');
  expectValue(get, node, oldValue, `Get ${node} after the Atomic`);
  return [
    `Atomic answered 507 ${statusText(507)}; its Replace 216 ${statusText(216)}, its Add 418 ${statusText(418)} — job ${atomic.id}`,
    `rolled back: ${node} still reads "${oldValue}" — job ${get.id}`,
  ];
}

export interface FumoRecords {
  campaign: { campaign: string; states: Record<string, number>; jobs: JobRecord[] };
  alerts: StoredAlert[];
  /** The session token that answered the campaign's package 0. */
  triggerSession: string | undefined;
  sessions: SessionRecord[];
}

/** The campaign done with result 200 and State 100, reported by a Generic Alert with its Correlator in a later session. */
export function verifyFumo(r: FumoRecords, expect: { bytes: number; served: number }): string[] {
  const { campaign } = r;
  check(campaign.jobs.length === 1, `campaign ${campaign.campaign} has ${campaign.jobs.length} jobs, expected 1`);
  const job = campaign.jobs[0];
  check(job.state === 'done', `campaign ${campaign.campaign}: job ${job.id} is ${job.state}${job.error ? ` (${job.error})` : ''}, not done`);
  check(campaign.states.done === 1, `campaign ${campaign.campaign} states ${JSON.stringify(campaign.states)}, expected { done: 1 }`);
  const f = job.fumo ?? {};
  check(f.resultCode === 200, `campaign ${campaign.campaign}: result code ${f.resultCode ?? '(none)'}, not 200`);
  check(f.finalState === 100, `campaign ${campaign.campaign}: final State ${f.finalState ?? '(not read)'}, not 100 (update successful)`);
  const alert = r.alerts.find((a) => a.code === 1226 && a.jobId === job.id);
  check(alert !== undefined, `no Generic Alert recorded for job ${job.id}`);
  check(f.correlator !== undefined && alert.correlator === f.correlator, `the Generic Alert's Correlator ${alert.correlator ?? '(none)'} is not the Exec's ${f.correlator ?? '(none)'}`);
  check(alert.session !== undefined && alert.session !== r.triggerSession, 'the Generic Alert did not come in a session of its own');
  const s = r.sessions.find((x) => x.token === alert.session);
  check(s !== undefined && s.initiator === 'client' && s.reason === 'completed', 'the session that reported the Generic Alert is not a completed client-initiated session');
  check(expect.served === expect.bytes, `the package server sent ${expect.served} bytes of ${expect.bytes}`);
  return [
    `campaign ${campaign.campaign}: job ${job.id} done, result ${f.resultCode} (${statusText(200)}), State ${f.finalState} (update successful) — server`,
    `Generic Alert ${alert.type} = ${alert.data} with Correlator ${alert.correlator}, in its own client-initiated session ${short(alert.session)}`,
  ];
}

/** A DM 1.1.2 session, completed, with its job answered. */
export function verifyDm112(sessions: SessionRecord[], dmVersion: string | undefined, replace: JobRecord, get: JobRecord, node: string, value: string): string[] {
  check(sessions.length > 0, 'no session recorded for the DM 1.1.2 device');
  check(sessions.every((s) => s.version === '1.1.2'), `the DM 1.1.2 device's sessions are recorded as ${sessions.map((s) => s.version).join(', ')}`);
  check(sessions.every((s) => s.reason === 'completed'), `the DM 1.1.2 session ended ${sessions.map((s) => s.reason ?? 'never').join(', ')}`);
  check(dmVersion === '1.1.2', `the server recorded DM version ${dmVersion ?? '(none)'} for the DM 1.1.2 device`);
  expectAnswered(replace, `DM 1.1.2 Replace ${node}`);
  expectStatus(replace, '0', 200, `DM 1.1.2 Replace ${node}`);
  expectValue(get, node, value, `DM 1.1.2 Get ${node}`);
  return [
    `session recorded as DM 1.1.2 (VerDTD 1.1, SYNCML:SYNCML1.1), completed; device dmVersion 1.1.2 — server`,
    `Replace ${node} = "${value}" answered 200 and read back — jobs ${replace.id} and ${get.id}`,
  ];
}

export interface LoadRecords {
  devices: string[];
  /** Client-side failures: `device: what`. */
  failures: string[];
  jobs: JobRecord[];
  sessions: SessionRecord[];
}

/** Every simulated device completed its session and its job was answered 200. */
export function verifyLoad(r: LoadRecords): string[] {
  check(r.failures.length === 0, `${r.failures.length} of ${r.devices.length} device sessions failed (first: ${r.failures[0]})`);
  const want = new Set(r.devices);
  const jobs = r.jobs.filter((j) => want.has(j.deviceId));
  check(jobs.length === r.devices.length, `the server has ${jobs.length} jobs for ${r.devices.length} devices`);
  const bad = jobs.filter((j) => j.state !== 'answered' || statusAt(j, '0')?.code !== 200);
  check(bad.length === 0, () => `${bad.length} jobs not answered 200 (first: job ${bad[0].id} ${bad[0].state}${statusAt(bad[0], '0') ? ` ${statusAt(bad[0], '0')!.code}` : ''})`);
  const sessions = r.sessions.filter((s) => want.has(s.deviceId));
  const done = sessions.filter((s) => s.reason === 'completed' && s.authenticated);
  check(done.length === r.devices.length && sessions.length === r.devices.length,
    `the server recorded ${sessions.length} sessions (${done.length} completed and authenticated) for ${r.devices.length} devices`);
  return [`${r.devices.length} devices: ${r.devices.length} sessions completed and authenticated, ${r.devices.length} jobs answered 200, 0 failed — server`];
}

/** The clients' count of sessions matches the servers' records; nothing left in flight. */
export function verifyAudit(clientSessions: number, serverSessions: SessionRecord[], unfinished: JobRecord[], failedJobs: JobRecord[]): string[] {
  check(serverSessions.length === clientSessions, `the clients ran ${clientSessions} sessions, the servers recorded ${serverSessions.length}`);
  const notDone = serverSessions.filter((s) => s.reason !== 'completed');
  check(notDone.length === 0, `${notDone.length} sessions did not complete (first: ${notDone[0]?.deviceId} ${notDone[0]?.reason ?? 'still open'})`);
  check(unfinished.length === 0, `${unfinished.length} jobs still unfinished (first: job ${unfinished[0]?.id} ${unfinished[0]?.state})`);
  check(failedJobs.length === 0, `${failedJobs.length} jobs failed (first: job ${failedJobs[0]?.id}: ${failedJobs[0]?.error ?? ''})`);
  return [`${clientSessions} sessions run by the clients = ${serverSessions.length} recorded by the servers, all completed; no job queued, in flight or failed`];
}
