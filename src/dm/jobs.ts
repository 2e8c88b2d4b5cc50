/**
 * Management jobs: what a DM server queues for a device, the commands each step sends, and what
 * the device's answers make of the job (research note §1.6-§1.8, §5.4). Pure data and functions:
 * the server session (`server-session.ts`) runs them, the store keeps them.
 *
 * A job is one of:
 * - `command`: one Get / Add / Replace / Delete / Exec / Copy;
 * - `group`: an Atomic or a Sequence of such commands (and UI alerts), sent whole (DMPRO 2.1);
 * - `ui-alert`: a user interaction alert 1100-1104 (DMPRO 2.5);
 * - `fumo`: a firmware update campaign (FUMO 1.0 §10, research note §5.4), run as steps, one
 *   server package each, so that each step can follow from the Status of the one before.
 *
 * States:
 *
 * | state | meaning |
 * | --- | --- |
 * | `queued` | waits for the next package sent to the device (a FUMO campaign: for its next step) |
 * | `sent` | its commands went out in a session; the device's Statuses are awaited |
 * | `answered` | every command got its Status (and Results): the codes say how it went (terminal) |
 * | `waiting-alert` | FUMO: the Exec was accepted; the Generic Alert with the result is awaited |
 * | `done` | FUMO: the result arrived, it is a success, and the final State was read (terminal) |
 * | `failed` | could not be completed: refused step, FUMO failure result, undeliverable, gave up (terminal) |
 *
 * FUMO steps: `add-instance` (Add `<x>`, Format node; 418 means it exists: fine) → `set-url`
 * (Replace `<x>/<op>/PkgURL`, or `<x>/Update/PkgData` for Update) → on 404 `add-url` (Add it,
 * the device creating missing parents) → `exec` (Exec `<x>/<op>` with a Correlator; 200/202) →
 * `waiting-alert` → the Generic Alert with that Correlator, or whose Source is `<x>` or below it
 * (Windows Mobile names the operation node, WM-GA) → `read-state` (Get `<x>/State`) → `done`
 * when the result code is a success (200, 250-299), else `failed`; both keep the result code and
 * the State read.
 */
import type { Command, Item, Meta } from '../syncml/types.js';
import { uiAlert, type UiAlertOptions } from '../syncml/ui-alert-options.js';
import { FumoAlertType, isFumoSuccess, type GenericAlertEvent } from '../syncml/generic-alert.js';
import { StatusCode, isSuccess } from '../syncml/status-codes.js';
import { fromBase64 } from './base64.js';
import { DmError } from './errors.js';

/** Where a job is (see the file comment). @public */
export type JobState = 'queued' | 'sent' | 'answered' | 'failed' | 'waiting-alert' | 'done';

/** States a job never leaves. @public */
export const TERMINAL_JOB_STATES: readonly JobState[] = Object.freeze(['answered', 'failed', 'done']);

/** True for `answered`, `failed` and `done`. @public */
export function isTerminalJobState(s: JobState): boolean {
  return s === 'answered' || s === 'failed' || s === 'done';
}

/** The management commands a job may send (DMREPPRO 4.1.6). @public */
export type CommandVerb = 'Get' | 'Add' | 'Replace' | 'Delete' | 'Exec' | 'Copy';

/** One management command, one Item. @public */
export interface CommandSpec {
  verb: CommandVerb;
  /** The node (Item Target LocURI): `./DevDetail/SwV`. */
  target: string;
  /** Copy: the node copied (Item Source LocURI). */
  source?: string;
  /** Add / Replace / Exec: text Data. */
  data?: string;
  /** Add / Replace / Exec: binary Data, base64 (sent as bytes: WBXML OPAQUE, or b64 text in XML). */
  dataBase64?: string;
  /** Meta Format (`chr`, `int`, `bool`, `bin`, `node`...). */
  format?: string;
  /** Meta Type (a MIME type, or an MO identifier for interior nodes). */
  type?: string;
  /** Exec: the Correlator the device repeats in its Generic Alert (DM 1.2 only). */
  correlator?: string;
}

/** A user interaction alert 1100-1104 (DMPRO 2.5). @public */
export interface UiAlertSpec {
  code: 1100 | 1101 | 1102 | 1103 | 1104;
  /** Item 2: the text or question. */
  text: string;
  /** Item 1: MINDT, MAXDT, DR, MAXLEN, IT, ET, or the parameter string already formatted. */
  options?: UiAlertOptions | string;
  /** 1103 / 1104: the choices. */
  choices?: string[];
}

/** A member of an Atomic or Sequence: a command, or a UI alert. @public */
export type GroupMember = CommandSpec | { verb: 'Alert'; alert: UiAlertSpec };

/** FUMO operations (FUMO 1.0 §5.1). @public */
export type FumoOperation = 'DownloadAndUpdate' | 'Download' | 'Update';

/** A firmware update campaign for one device (FUMO 1.0 §10). @public */
export interface FumoSpec {
  /** The FUMO instance `<x>`: `./FUMO/fw1`, `./FwUpdate/Pkg1` (Windows Mobile). */
  node: string;
  /** Default `DownloadAndUpdate` (the only one Windows Mobile supports, WM-FW). */
  operation?: FumoOperation;
  /** Download / DownloadAndUpdate: the package or download descriptor URL. */
  pkgUrl?: string;
  /** Update: the package itself, base64 (sent to `<x>/Update/PkgData`, as a large object if need be). */
  pkgDataBase64?: string;
  /** Default `fumo-<job id>`. Not sent to DM 1.1.2 devices (the element is DM 1.2). */
  correlator?: string;
  /** Add `<x>` first (default true; 418 "already exists" is fine). */
  createInstance?: boolean;
}

/** What a job does. @public */
export type JobSpec =
  | { kind: 'command'; command: CommandSpec }
  | { kind: 'group'; group: 'Atomic' | 'Sequence'; commands: GroupMember[] }
  | { kind: 'ui-alert'; alert: UiAlertSpec }
  | { kind: 'fumo'; fumo: FumoSpec };

/** FUMO campaign progress, as recorded. @public */
export interface FumoProgress {
  correlator?: string;
  /** The Generic Alert's result code (FUMO 1.0 §10.2; research note §5.3). */
  resultCode?: number;
  /** Its Type, normalised (`org.openmobilealliance.dm.firmwareupdate.downloadandupdate`). */
  alertType?: string;
  /** Its Item Source. */
  alertSource?: string;
  /** `<x>/State` read after the alert (FUMO 1.0 §10.1: 100 = update successful / no data...). */
  finalState?: number;
}

/** One Status the device returned for a job's command. @public */
export interface JobStatus {
  /** Which command of the step: `0`, `1`...; a group's children `0.0`, `0.1`... */
  path: string;
  /** The step it answers (`send` for single-step jobs, a FUMO step name otherwise). */
  step: string;
  cmd: string;
  code: number;
  msgRef: string;
  cmdRef: string;
  targetRefs?: string[];
  sourceRefs?: string[];
  /** Status Items (a UI alert's answer: the text, the chosen indexes). */
  items?: string[];
}

/** One Results Item the device returned for a Get. @public */
export interface JobResult {
  path: string;
  step: string;
  /** The node (Item Source LocURI). */
  uri: string;
  format?: string;
  type?: string;
  /** Text; base64 when `encoding` is `base64`; JSON for an embedded DevInf / TNDS document. */
  data: string;
  encoding: 'text' | 'base64' | 'json';
}

/** A job as the session sees it: its spec and where it is. @public */
export interface PendingJob {
  id: string;
  spec: JobSpec;
  state: JobState;
  /** The step to send next (or the one in flight); absent: the first. */
  step?: string;
  /** How many times its current step was sent. */
  attempts: number;
  /** Token of the session that last sent it. */
  session?: string;
  fumo?: FumoProgress;
}

/** What the answers to a step make of the job. @public */
export interface StepOutcome {
  state: JobState;
  /** The next step (FUMO). */
  step?: string;
  fumo?: FumoProgress;
  error?: string;
}

const VERBS: readonly string[] = ['Get', 'Add', 'Replace', 'Delete', 'Exec', 'Copy'];
const OPERATIONS: readonly string[] = ['DownloadAndUpdate', 'Download', 'Update'];
const FUMO_TYPES: readonly string[] = [FumoAlertType.DOWNLOAD, FumoAlertType.UPDATE, FumoAlertType.DOWNLOAD_AND_UPDATE];

/** The FUMO MO identifier, the Type of an `<x>` node (FUMO 1.0 §5). */
export const FUMO_MO_TYPE = 'urn:oma:mo:oma-fumo:1.0';

function bad(message: string): DmError {
  return new DmError('INVALID_ARGUMENT', message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown, what: string, optional = false): string | undefined {
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v === '') throw bad(`${what} must be a non-empty string`);
  return v;
}

function optStr(v: unknown, what: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw bad(`${what} must be a string`);
  return v;
}

function nodeUri(v: unknown, what: string): string {
  const s = str(v, what)!;
  // DMTND 8.1: device URIs are relative (`./x` or `x`), never absolute paths.
  if (s.startsWith('/')) throw bad(`${what} '${s}' must be a device URI (./... ), not an absolute path`);
  return s;
}

function checkCommand(v: unknown, where: string): CommandSpec {
  if (!isObject(v)) throw bad(`${where} must be an object`);
  const verb = v.verb;
  if (typeof verb !== 'string' || !VERBS.includes(verb)) throw bad(`${where}.verb must be one of ${VERBS.join(', ')}`);
  const c: CommandSpec = { verb: verb as CommandVerb, target: nodeUri(v.target, `${where}.target`) };
  if (verb === 'Copy') c.source = nodeUri(v.source, `${where}.source`);
  else if (v.source !== undefined) throw bad(`${where}.source is only for Copy`);
  const data = optStr(v.data, `${where}.data`);
  const b64 = optStr(v.dataBase64, `${where}.dataBase64`);
  if (data !== undefined && b64 !== undefined) throw bad(`${where}: give data or dataBase64, not both`);
  if ((data !== undefined || b64 !== undefined) && !['Add', 'Replace', 'Exec'].includes(verb)) throw bad(`${where}: ${verb} carries no data`);
  if (b64 !== undefined) {
    try {
      fromBase64(b64);
    } catch {
      throw bad(`${where}.dataBase64 is not base64`);
    }
    c.dataBase64 = b64;
  }
  if (data !== undefined) c.data = data;
  const format = optStr(v.format, `${where}.format`);
  const type = optStr(v.type, `${where}.type`);
  if (format !== undefined) c.format = format;
  if (type !== undefined) c.type = type;
  const corr = optStr(v.correlator, `${where}.correlator`);
  if (corr !== undefined) {
    if (verb !== 'Exec') throw bad(`${where}.correlator is only for Exec`);
    c.correlator = corr;
  }
  return c;
}

function checkUiAlert(v: unknown, where: string): UiAlertSpec {
  if (!isObject(v)) throw bad(`${where} must be an object`);
  const code = v.code;
  if (code !== 1100 && code !== 1101 && code !== 1102 && code !== 1103 && code !== 1104) throw bad(`${where}.code must be 1100-1104`);
  if (typeof v.text !== 'string') throw bad(`${where}.text must be a string`);
  const a: UiAlertSpec = { code, text: v.text };
  if (v.options !== undefined) {
    if (typeof v.options !== 'string' && !isObject(v.options)) throw bad(`${where}.options must be an object or a string`);
    a.options = v.options as UiAlertOptions | string;
  }
  if (v.choices !== undefined) {
    if (!Array.isArray(v.choices) || !v.choices.every((c) => typeof c === 'string')) throw bad(`${where}.choices must be a list of strings`);
    a.choices = v.choices as string[];
  }
  // Let the builder check the rest (choices only for 1103/1104, option values).
  try {
    uiAlert({ ...a, choices: a.choices });
  } catch (e) {
    throw bad(`${where}: ${(e as Error).message}`);
  }
  return a;
}

function checkFumo(v: unknown): FumoSpec {
  if (!isObject(v)) throw bad('fumo must be an object');
  const f: FumoSpec = { node: nodeUri(v.node, 'fumo.node').replace(/\/+$/, '') };
  const op = v.operation ?? 'DownloadAndUpdate';
  if (typeof op !== 'string' || !OPERATIONS.includes(op)) throw bad(`fumo.operation must be one of ${OPERATIONS.join(', ')}`);
  f.operation = op as FumoOperation;
  if (op === 'Update') {
    f.pkgDataBase64 = str(v.pkgDataBase64, 'fumo.pkgDataBase64 (the package, for Update)');
    try {
      fromBase64(f.pkgDataBase64!);
    } catch {
      throw bad('fumo.pkgDataBase64 is not base64');
    }
  } else {
    f.pkgUrl = str(v.pkgUrl, `fumo.pkgUrl (for ${op})`);
  }
  const corr = optStr(v.correlator, 'fumo.correlator');
  if (corr !== undefined) f.correlator = corr;
  if (v.createInstance !== undefined) {
    if (typeof v.createInstance !== 'boolean') throw bad('fumo.createInstance must be true or false');
    f.createInstance = v.createInstance;
  }
  return f;
}

/**
 * Checks a job spec that came as JSON (the admin API) and returns it typed.
 *
 * @example
 * ```ts
 * parseJobSpec({ kind: 'command', command: { verb: 'Get', target: './DevDetail/SwV' } });
 * parseJobSpec({ kind: 'fumo', fumo: { node: './FUMO/fw1', pkgUrl: 'https://fw.example.net/1.2.bin' } });
 * ```
 * @throws DmError `INVALID_ARGUMENT` naming the field
 * @public
 */
export function parseJobSpec(v: unknown): JobSpec {
  if (!isObject(v)) throw bad('a job spec must be an object');
  switch (v.kind) {
    case 'command':
      return { kind: 'command', command: checkCommand(v.command, 'command') };
    case 'group': {
      if (v.group !== 'Atomic' && v.group !== 'Sequence') throw bad("group must be 'Atomic' or 'Sequence'");
      if (!Array.isArray(v.commands) || v.commands.length === 0) throw bad('a group needs a non-empty commands list');
      const commands: GroupMember[] = v.commands.map((c, i) => {
        const where = `commands[${i}]`;
        if (isObject(c) && c.verb === 'Alert') return { verb: 'Alert' as const, alert: checkUiAlert(c.alert, `${where}.alert`) };
        return checkCommand(c, where);
      });
      return { kind: 'group', group: v.group, commands };
    }
    case 'ui-alert':
      return { kind: 'ui-alert', alert: checkUiAlert(v.alert, 'alert') };
    case 'fumo':
      return { kind: 'fumo', fumo: checkFumo(v.fumo) };
    default:
      throw bad("kind must be 'command', 'group', 'ui-alert' or 'fumo'");
  }
}

/** The first step of a job. @public */
export function firstStep(spec: JobSpec): string {
  if (spec.kind !== 'fumo') return 'send';
  return spec.fumo.createInstance === false ? 'set-url' : 'add-instance';
}

/** What a step needs to know about the session. @public */
export interface StepContext {
  /** DM 1.1.2 has no Correlator element. */
  version: '1.2' | '1.1.2';
}

function item(target: string, data?: string | Uint8Array, meta?: Meta): Item {
  const it: Item = { target: { locUri: target } };
  if (meta !== undefined && Object.keys(meta).length > 0) it.meta = meta;
  if (data !== undefined) it.data = data;
  return it;
}

function commandOf(c: CommandSpec, ctx: StepContext): Command {
  const meta: Meta = {};
  if (c.format !== undefined) meta.format = c.format;
  if (c.type !== undefined) meta.type = c.type;
  let data: string | Uint8Array | undefined = c.data;
  if (c.dataBase64 !== undefined) {
    data = fromBase64(c.dataBase64);
    meta.format ??= 'bin';
  }
  switch (c.verb) {
    case 'Get':
    case 'Delete':
      return { kind: c.verb, cmdId: '', items: [item(c.target, undefined, meta)] };
    case 'Copy':
      return { kind: 'Copy', cmdId: '', items: [{ ...item(c.target, undefined, meta), source: { locUri: c.source! } }] };
    case 'Exec': {
      const e: Command = { kind: 'Exec', cmdId: '', items: [item(c.target, data, meta)] };
      if (c.correlator !== undefined && ctx.version === '1.2') e.correlator = c.correlator;
      return e;
    }
    default:
      return { kind: c.verb, cmdId: '', items: [item(c.target, data, meta)] };
  }
}

function alertOf(a: UiAlertSpec): Command {
  return uiAlert({ code: a.code, text: a.text, options: a.options, choices: a.choices });
}

/** The FUMO leaf a campaign writes: `<x>/<op>/PkgURL`, or `<x>/Update/PkgData`. */
function fumoPayloadNode(f: FumoSpec): string {
  const op = f.operation ?? 'DownloadAndUpdate';
  return op === 'Update' ? `${f.node}/Update/PkgData` : `${f.node}/${op}/PkgURL`;
}

function fumoPayload(f: FumoSpec): { data: string | Uint8Array; meta: Meta } {
  if ((f.operation ?? 'DownloadAndUpdate') === 'Update') return { data: fromBase64(f.pkgDataBase64 ?? ''), meta: { format: 'bin' } };
  return { data: f.pkgUrl ?? '', meta: { format: 'chr' } };
}

/** The Correlator of a FUMO campaign. @public */
export function fumoCorrelator(job: Pick<PendingJob, 'id' | 'spec'>): string | undefined {
  if (job.spec.kind !== 'fumo') return undefined;
  return job.spec.fumo.correlator ?? `fumo-${job.id}`;
}

/**
 * The commands a job sends for `step` (cmdId '': the message builder numbers them).
 * @throws DmError `INVALID_ARGUMENT` for a step the job does not have
 * @public
 */
export function stepCommands(job: PendingJob, step: string, ctx: StepContext): Command[] {
  const spec = job.spec;
  switch (spec.kind) {
    case 'command':
      return [commandOf(spec.command, ctx)];
    case 'ui-alert':
      return [alertOf(spec.alert)];
    case 'group': {
      const commands = spec.commands.map((m) => ('alert' in m ? alertOf(m.alert) : commandOf(m, ctx)));
      return [{ kind: spec.group, cmdId: '', commands } as Command];
    }
    case 'fumo': {
      const f = spec.fumo;
      const op = f.operation ?? 'DownloadAndUpdate';
      switch (step) {
        case 'add-instance':
          return [{ kind: 'Add', cmdId: '', items: [item(f.node, undefined, { format: 'node', type: FUMO_MO_TYPE })] }];
        case 'set-url':
        case 'add-url': {
          const p = fumoPayload(f);
          return [{ kind: step === 'set-url' ? 'Replace' : 'Add', cmdId: '', items: [item(fumoPayloadNode(f), p.data, p.meta)] }];
        }
        case 'exec': {
          const e: Command = { kind: 'Exec', cmdId: '', items: [item(`${f.node}/${op}`)] };
          const corr = fumoCorrelator(job);
          // WM-FW: "FUMO requires that the Correlator be specified in the Exec command"; DM 1.1.2
          // has no such element, so the alert is matched by its Source there.
          if (ctx.version === '1.2' && corr !== undefined) e.correlator = corr;
          return [e];
        }
        case 'read-state':
          return [{ kind: 'Get', cmdId: '', items: [item(`${f.node}/State`)] }];
        default:
          throw bad(`a FUMO campaign has no step '${step}'`);
      }
    }
  }
}

/** The code that decides a command: the last Status for it that is not 213 (a chunk). */
function finalCode(statuses: readonly JobStatus[], path: string): number | undefined {
  let code: number | undefined;
  for (const s of statuses) if (s.path === path && s.code !== StatusCode.CHUNKED_ITEM_ACCEPTED) code = s.code;
  return code;
}

const ok = (c: number | undefined): boolean => c !== undefined && isSuccess(c);

/**
 * What the device's answers to a step make of the job: `answered` for the single-step kinds; the
 * next FUMO step, `waiting-alert`, `done` or `failed` for a campaign.
 * @public
 */
export function stepOutcome(job: PendingJob, step: string, statuses: readonly JobStatus[], results: readonly JobResult[]): StepOutcome {
  if (job.spec.kind !== 'fumo') return { state: 'answered' };
  const code = finalCode(statuses, '0');
  const f = job.spec.fumo;
  switch (step) {
    case 'add-instance':
      // 418: the instance exists. Anything else is not fatal either: devices that create FUMO
      // instances themselves refuse the Add (405) and the Replace below tells whether <x> is usable.
      return { state: 'queued', step: 'set-url' };
    case 'set-url':
      if (ok(code)) return { state: 'queued', step: 'exec' };
      if (code === StatusCode.NOT_FOUND) return { state: 'queued', step: 'add-url' };
      return { state: 'failed', error: `Replace ${fumoPayloadNode(f)} answered ${code ?? 'nothing'}` };
    case 'add-url':
      if (ok(code)) return { state: 'queued', step: 'exec' };
      return { state: 'failed', error: `Add ${fumoPayloadNode(f)} answered ${code ?? 'nothing'}` };
    case 'exec':
      // 202: accepted for asynchronous processing (the usual answer); 200: ran at once. Either
      // way the Generic Alert reports the result (FUMO 1.0 §10.2).
      if (ok(code)) return { state: 'waiting-alert', step: 'waiting-alert' };
      return { state: 'failed', error: `Exec ${f.node}/${f.operation ?? 'DownloadAndUpdate'} answered ${code ?? 'nothing'}` };
    case 'read-state': {
      const r = results.find((x) => x.path === '0');
      const n = r !== undefined && r.encoding === 'text' ? Number.parseInt(r.data.trim(), 10) : Number.NaN;
      const fumo: FumoProgress = {};
      if (Number.isInteger(n)) fumo.finalState = n;
      const rc = job.fumo?.resultCode;
      if (rc !== undefined && isFumoSuccess(rc)) return { state: 'done', fumo };
      return { state: 'failed', fumo, error: `the device reported FUMO result ${rc ?? 'unknown'}` };
    }
    default:
      return { state: 'failed', error: `unknown FUMO step '${step}'` };
  }
}

/**
 * Whether a Generic Alert event reports this FUMO campaign: a FUMO result Type and the
 * campaign's Correlator; without a Correlator in the alert (DM 1.1.2, devices that drop it), a
 * Source equal to `<x>` or below it. An alert carrying another Correlator is not this campaign's.
 * @public
 */
export function fumoAlertMatches(job: Pick<PendingJob, 'id' | 'spec'>, event: Pick<GenericAlertEvent, 'type' | 'source' | 'target' | 'correlator'>): boolean {
  if (job.spec.kind !== 'fumo' || !FUMO_TYPES.includes(event.type)) return false;
  const corr = fumoCorrelator(job);
  if (event.correlator !== undefined && event.correlator !== '') return event.correlator === corr;
  const node = job.spec.fumo.node;
  const at = event.source ?? event.target;
  if (at === undefined) return false;
  const u = at.trim().replace(/\/+$/, '');
  return u === node || u.startsWith(node + '/');
}

/**
 * What a matching Generic Alert makes of a campaign: the result recorded, then `read-state`.
 * @public
 */
export function fumoAlertOutcome(event: Pick<GenericAlertEvent, 'type' | 'source' | 'data'>): StepOutcome {
  const text = typeof event.data === 'string' ? event.data.trim() : '';
  const code = /^\d+$/.test(text) ? Number(text) : undefined;
  const fumo: FumoProgress = { alertType: event.type };
  if (code !== undefined) fumo.resultCode = code;
  if (event.source !== undefined) fumo.alertSource = event.source;
  return { state: 'queued', step: 'read-state', fumo };
}
