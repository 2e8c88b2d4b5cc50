/**
 * FUMO, the firmware update management object (OMA-TS-DM-FUMO-V1_0; MO `urn:oma:mo:oma-fumo:1.0`;
 * research note §5): the `<x>` instances under a mount point, `Exec` on `Download`, `Update` and
 * `DownloadAndUpdate` accepted with 202, the State machine (`fumo-states.ts`), and the final
 * Generic Alert. This file does no I/O: an accepted Exec becomes a {@link FumoJob} (data) that the
 * device's edge runs after the session (`src/client/dm-client.ts`: download, install, report).
 *
 * Tree of one instance (FUMO §5; research note §5.1):
 *
 * ```
 * <mount>/<x>                  node  Type urn:oma:mo:oma-fumo:1.0
 *   PkgName, PkgVersion        chr   Get, Replace (Add accepted too)
 *   Download/PkgURL            chr   Download: Exec, Get; PkgURL: Replace, Get
 *   Update/PkgData             bin   Update: Exec, Get; PkgData: Replace (a package delivered in DM)
 *   DownloadAndUpdate/PkgURL   chr
 *   State                      int   Get only
 *   Ext/<y>                    chr   vendor leaves (this library reads Ext/PkgSize, Ext/PkgSHA256)
 * ```
 *
 * Status of an Exec on an operation node:
 *
 * | situation | Status |
 * | --- | --- |
 * | accepted: a job is handed to `onJob`, State moves to 30 (download) or 50 (update) | 202 |
 * | no such instance | 404 |
 * | a job of this instance is running (State 30 or 60) | 405 |
 * | Exec Update without a package on the device (State not 40, 70 or 90) | 405 |
 * | the operation is not offered by the profile (Windows: DownloadAndUpdate only) | 406 |
 * | no Correlator and the profile requires one (Windows Mobile, WM-FW) | 412 |
 *
 * Decisions where FUMO is silent:
 * - The handler keeps its nodes itself (`ownsStorage`): an instance a server Adds gets its whole
 *   skeleton at once (State 10, the three operation nodes, their PkgURL / PkgData leaves), so a
 *   later `Replace .../PkgURL` finds its node. An `Add` of such a pre-created leaf while it is
 *   still empty sets it (200) instead of answering 418, because servers do both.
 * - An empty PkgURL does not refuse the Exec: the job fails with result 411 (Malformed or bad
 *   URL) in the Generic Alert, which is where FUMO reports download problems.
 * - Busy (State 30 or 60) refuses Exec, Replace and Delete on the instance with 405.
 * - Instances installed by the device (`installFumo({ instances })`) are permanent: a server
 *   cannot delete them.
 */
import type { MgmtTree } from '../syncml/ddf-types.js';
import { FumoAlertType, isFumoSuccess, type GenericAlertRequest } from '../syncml/generic-alert.js';
import type { ConfigManager } from './config-manager.js';
import { applyDdf, ddfNode } from './ddf-tree.js';
import { DmError } from './errors.js';
import { checkTransition, fumoStateInfo, FumoState, type FumoStateValue } from './fumo-states.js';
import type { Handler, HandlerContext, NodeData } from './handler.js';
import { importTnds } from './tnds.js';
import type { ManagementTree, NodeScope } from './tree.js';
import { decodeSegment, encodeSegment } from './uri.js';

/** MO identifier of a FUMO instance. @public */
export const FUMO_MO_TYPE = 'urn:oma:mo:oma-fumo:1.0';

/** The three operations a server can Exec. @public */
export type FumoOperation = 'Download' | 'Update' | 'DownloadAndUpdate';

const OPERATIONS: readonly FumoOperation[] = ['Download', 'Update', 'DownloadAndUpdate'];

/**
 * Where FUMO lives and what it offers: `oma` (default: `./FUMO`, all three operations, the alert
 * Source is the `<x>` node) or `windows` (Windows Mobile's FwUpdate CSP: `./FwUpdate`,
 * DownloadAndUpdate only, a Correlator required, the alert Source is the operation node; WM-FW, WM-GA).
 * @public
 */
export type FumoProfile = 'oma' | 'windows';

/** An accepted Exec, for the device's edge to run (data only). @public */
export interface FumoJob {
  /** URI of the `<x>` instance. */
  instance: string;
  operation: FumoOperation;
  /** The PkgURL of the operation (Download / DownloadAndUpdate); '' when the server set none. */
  pkgUrl?: string;
  /** The Exec's Correlator, repeated in the final Generic Alert (FUMO §10.2). */
  correlator?: string;
  pkgName?: string;
  pkgVersion?: string;
  /** From `<x>/Ext/PkgSize` (bytes), when the server set it. */
  expectedSize?: number;
  /** From `<x>/Ext/PkgSHA256` (hex), when the server set it. */
  expectedSha256?: string;
  /** Item Source of the final Generic Alert: the instance (OMA) or the operation node (Windows). */
  alertSource: string;
  /** The server that sent the Exec. */
  serverId: string;
}

/** Options of {@link FumoHandler} and {@link installFumo}. @public */
export interface FumoOptions {
  /** Default `./FUMO` (`./FwUpdate` for the Windows profile). */
  mount?: string;
  /** Default `oma`. */
  profile?: FumoProfile;
  /** Operations offered (default: the profile's). Exec on another answers 406. */
  operations?: readonly FumoOperation[];
  /** Refuse an Exec without Correlator with 412 (default: true for the Windows profile). */
  requireCorrelator?: boolean;
  /** ACL of the mount node; default `Add=*&Delete=*&Exec=*&Get=*&Replace=*`. */
  acl?: string;
  /** Called (synchronously, during the DPU run) for every accepted Exec. */
  onJob?: (job: FumoJob) => void;
  /**
   * A package delivered inside DM (`Replace <x>/Update/PkgData`, reassembled by the DPU when it
   * came as a large object): keep it for a later Exec Update. Absent: such a Replace answers 406.
   */
  onPackageData?: (instance: string, data: Uint8Array) => void;
  /** Called after every State change (for traces and tests). */
  onStateChange?: (instance: string, from: number, to: number) => void;
}

/** A device-installed instance: its name, with optional package name and version. @public */
export type FumoInstanceInit = string | { name: string; pkgName?: string; pkgVersion?: string };

const DEFAULT_ACL = 'Add=*&Delete=*&Exec=*&Get=*&Replace=*';
const EXT_SIZE = 'Ext/PkgSize';
const EXT_SHA256 = 'Ext/PkgSHA256';

/** The Generic Alert Type that reports an operation (FUMO §10.2). @public */
export function fumoAlertType(operation: FumoOperation): string {
  return operation === 'Download' ? FumoAlertType.DOWNLOAD
    : operation === 'Update' ? FumoAlertType.UPDATE : FumoAlertType.DOWNLOAD_AND_UPDATE;
}

/**
 * The final Generic Alert of a job (FUMO §10.2; research note §5.4): Type per operation, Source =
 * the instance (or the operation node, Windows), Format `int`, Data = the result code, Mark
 * `informational` on success and `critical` on failure (a failure SHOULD NOT be informational;
 * Koneki uses critical), Correlator only when the Exec had one.
 *
 * @example
 * ```ts
 * const alert = genericAlert(fumoResultAlert(job, FumoResult.UPDATE_FAILED)); // Data 410, mark critical
 * ```
 * @public
 */
export function fumoResultAlert(job: Pick<FumoJob, 'operation' | 'alertSource' | 'correlator'>, resultCode: number): GenericAlertRequest {
  if (!Number.isInteger(resultCode) || resultCode < 200 || resultCode > 599) {
    throw new DmError('INVALID_ARGUMENT', `FUMO result code ${resultCode} is outside 200..599`);
  }
  const a: GenericAlertRequest = {
    type: fumoAlertType(job.operation),
    format: 'int',
    mark: isFumoSuccess(resultCode) ? 'informational' : 'critical',
    source: job.alertSource,
    data: resultCode,
  };
  if (job.correlator !== undefined) a.correlator = job.correlator;
  return a;
}

/** The FUMO DDF for a mount point (see the module comment for the layout). @public */
export function fumoDdf(mount = './FUMO', options: { profile?: FumoProfile; acl?: string } = {}): MgmtTree {
  const i = mount.lastIndexOf('/');
  if (mount === '.' || i < 0) throw new DmError('INVALID_ARGUMENT', 'FUMO cannot be mounted at the root');
  const path = mount.slice(0, i) || '.';
  const name = decodeSegment(mount.slice(i + 1));
  const chr = (n: string, occurrence: 'One' | 'ZeroOrOne' = 'ZeroOrOne') =>
    ddfNode(n, { access: ['Add', 'Get', 'Replace'], format: 'chr', occurrence: { kind: occurrence }, scope: 'Dynamic' });
  const op = (n: string, children: ReturnType<typeof ddfNode>[]) =>
    ddfNode(n, { access: ['Exec', 'Get'], format: 'node', occurrence: { kind: 'ZeroOrOne' }, scope: 'Dynamic' }, children);
  const windows = options.profile === 'windows';
  const ops = [
    ...(windows ? [] : [op('Download', [chr('PkgURL', 'One')])]),
    ...(windows ? [] : [op('Update', [ddfNode('PkgData', { access: ['Add', 'Replace'], format: 'bin', occurrence: { kind: 'ZeroOrOne' }, scope: 'Dynamic' })])]),
    op('DownloadAndUpdate', [chr('PkgURL', 'One')]),
  ];
  return {
    kind: 'MgmtTree', verDTD: '1.2', nodes: [
      ddfNode(name, { access: ['Add', 'Get'], format: 'node', occurrence: { kind: 'One' }, scope: 'Permanent', path, acl: options.acl ?? DEFAULT_ACL }, [
        ddfNode('', { access: ['Add', 'Delete', 'Get', 'Replace'], format: 'node', type: FUMO_MO_TYPE, occurrence: { kind: 'ZeroOrMore' }, scope: 'Dynamic' }, [
          chr('PkgName'),
          chr('PkgVersion'),
          ...ops,
          ddfNode('State', { access: ['Get'], format: 'int', occurrence: { kind: 'One' }, scope: 'Dynamic' }),
          ddfNode('Ext', { access: ['Add', 'Get'], format: 'node', occurrence: { kind: 'ZeroOrOne' }, scope: 'Dynamic' }, [
            ddfNode('', { access: ['Add', 'Delete', 'Get', 'Replace'], format: 'chr', occurrence: { kind: 'ZeroOrMore' }, scope: 'Dynamic' }),
          ]),
        ]),
      ]),
    ],
  };
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : v instanceof Uint8Array ? new TextDecoder().decode(v) : '';
}

function busy(message: string): DmError {
  return new DmError('COMMAND_NOT_ALLOWED', message);
}

/**
 * The FUMO handler (a CSP mounted on the FUMO subtree). Use {@link installFumo} to declare the
 * DDF and mount it; keep the returned handler to move States from the job runner.
 * @public
 */
export class FumoHandler implements Handler {
  readonly ownsStorage = true;
  readonly mount: string;
  readonly profile: FumoProfile;
  readonly operations: readonly FumoOperation[];
  readonly requireCorrelator: boolean;
  private readonly options: FumoOptions;
  private tree: ManagementTree | undefined;

  constructor(options: FumoOptions = {}) {
    this.options = options;
    this.profile = options.profile ?? 'oma';
    const windows = this.profile === 'windows';
    this.mount = options.mount ?? (windows ? './FwUpdate' : './FUMO');
    this.operations = options.operations ?? (windows ? ['DownloadAndUpdate'] : OPERATIONS);
    this.requireCorrelator = options.requireCorrelator ?? windows;
  }

  /** Binds the handler to the tree it works on (installFumo does it). */
  attach(tree: ManagementTree): void {
    this.tree = tree;
    (this as { mount: string }).mount = tree.resolve(this.mount).path;
  }

  private get t(): ManagementTree {
    if (!this.tree) throw new DmError('INVALID_ARGUMENT', 'the FUMO handler is not attached to a tree (use installFumo)');
    return this.tree;
  }

  /** Instance URIs under the mount, in tree order. */
  instances(): string[] {
    const names = this.t.info(this.mount)?.children ?? [];
    return names.map((n) => `${this.mount}/${encodeSegment(n)}`);
  }

  /** The State of an instance (10 when the leaf is missing or unreadable). */
  state(instance: string): FumoStateValue {
    const v = Number.parseInt(text(this.t.info(`${instance}/State`)?.value), 10);
    return (fumoStateInfo(v)?.value ?? FumoState.IDLE) as FumoStateValue;
  }

  /**
   * Moves an instance's State (device-side, no access checks), checking the transition table.
   * Throws DmError INVALID_ARGUMENT for a transition the table does not allow, 404 for no instance.
   */
  setState(instance: string, to: number): void {
    const tree = this.t;
    if (!tree.exists(instance)) throw new DmError('NOT_FOUND', `no FUMO instance ${instance}`);
    const from = this.state(instance);
    if (from === to) return;
    checkTransition(from, to);
    tree.replace(`${instance}/State`, { value: String(to) });
    this.options.onStateChange?.(instance, from, to);
  }

  /** Creates an instance device-side with its whole skeleton (State 10). Returns its URI. */
  createInstance(name: string, init: { pkgName?: string; pkgVersion?: string; scope?: NodeScope } = {}): string {
    const uri = `${this.mount}/${encodeSegment(name)}`;
    const tree = this.t;
    const snap = tree.snapshot();
    try {
      tree.add(uri, { format: 'node', type: FUMO_MO_TYPE, scope: init.scope ?? 'dynamic' });
      this.fillSkeleton(uri, init);
    } catch (e) {
      tree.restore(snap);
      throw e;
    }
    return uri;
  }

  /** Adds what an instance lacks of its skeleton (after an Add or a TNDS import). */
  private fillSkeleton(uri: string, init: { pkgName?: string; pkgVersion?: string } = {}): void {
    const tree = this.t;
    const leaf = (rel: string, value: string | Uint8Array, format: 'chr' | 'bin' | 'int' = 'chr') => {
      if (!tree.exists(`${uri}/${rel}`)) tree.add(`${uri}/${rel}`, { format, value });
    };
    leaf('PkgName', init.pkgName ?? '');
    leaf('PkgVersion', init.pkgVersion ?? '');
    for (const op of this.nodeOperations()) {
      if (op === 'Update') leaf('Update/PkgData', new Uint8Array(0), 'bin');
      else leaf(`${op}/PkgURL`, '');
    }
    leaf('State', String(FumoState.IDLE), 'int');
  }

  /** Operation nodes the DDF declares for this profile. */
  private nodeOperations(): FumoOperation[] {
    return this.profile === 'windows' ? ['DownloadAndUpdate'] : [...OPERATIONS];
  }

  /** Splits a canonical URI under the mount: the instance URI and the rest (`Download/PkgURL`). */
  private locate(uri: string): { instance: string; rest: string } | undefined {
    if (!uri.startsWith(this.mount + '/')) return undefined;
    const tail = uri.slice(this.mount.length + 1);
    const slash = tail.indexOf('/');
    const name = slash < 0 ? tail : tail.slice(0, slash);
    return { instance: `${this.mount}/${name}`, rest: slash < 0 ? '' : tail.slice(slash + 1) };
  }

  private refuseWhenBusy(instance: string, what: string): void {
    if (!this.t.exists(instance)) return;
    const s = this.state(instance);
    if (fumoStateInfo(s)?.busy) throw busy(`${instance} is busy (State ${s}, ${fumoStateInfo(s)!.meaning}): cannot ${what}`);
  }

  // ---- Handler ----------------------------------------------------------------------------------

  add(uri: string, data: NodeData, ctx: HandlerContext): void {
    this.tree = ctx.tree;
    const tree = ctx.tree;
    if (uri === this.mount) throw new DmError('ALREADY_EXISTS', `${uri} exists`);
    const at = this.locate(uri);
    if (!at) throw new DmError('NOT_FOUND', `${uri} is not below ${this.mount}`);
    if (data.tnds !== undefined) {
      this.refuseWhenBusy(at.instance, 'import into it');
      importTnds(tree, data.tnds, { mode: 'add', at: uri });
      if (tree.exists(at.instance)) this.fillSkeleton(at.instance);
      return;
    }
    if (at.rest === '') {
      if (tree.exists(uri)) throw new DmError('ALREADY_EXISTS', `${uri} exists`);
      if (data.format !== undefined && data.format !== 'node') {
        throw new DmError('UNSUPPORTED_MEDIA_TYPE', `a FUMO instance is an interior node, not ${data.format}`);
      }
      this.createInstance(decodeSegment(uri.slice(this.mount.length + 1)));
      return;
    }
    this.refuseWhenBusy(at.instance, `add ${at.rest}`);
    const snap = tree.snapshot();
    try {
      if (!tree.exists(at.instance)) this.createInstance(decodeSegment(at.instance.slice(this.mount.length + 1)));
      const info = tree.info(uri);
      if (info) {
        const empty = info.leaf && (info.value === undefined || (typeof info.value === 'string' ? info.value === '' : info.value.length === 0));
        if (!empty || at.rest === 'State') throw new DmError('ALREADY_EXISTS', `${uri} exists`);
        this.write(uri, at, data, tree);
        return;
      }
      tree.add(uri, { format: data.format, type: data.type, value: data.value });
    } catch (e) {
      tree.restore(snap);
      throw e;
    }
  }

  replace(uri: string, data: NodeData, ctx: HandlerContext): void {
    this.tree = ctx.tree;
    const at = this.locate(uri);
    if (!at) throw new DmError('COMMAND_NOT_ALLOWED', `${uri} cannot be replaced`);
    this.refuseWhenBusy(at.instance, `replace ${at.rest || 'it'}`);
    if (data.tnds !== undefined) {
      importTnds(ctx.tree, data.tnds, { mode: 'replace', at: uri });
      if (ctx.tree.exists(at.instance)) this.fillSkeleton(at.instance);
      return;
    }
    if (!ctx.tree.exists(uri)) throw new DmError('NOT_FOUND', `no node ${uri}`);
    this.write(uri, at, data, ctx.tree);
  }

  /** Sets a leaf's value; PkgData goes to the embedder instead of the tree. */
  private write(uri: string, at: { instance: string; rest: string }, data: NodeData, tree: ManagementTree): void {
    if (at.rest === 'Update/PkgData') {
      if (!this.options.onPackageData) throw new DmError('OPTIONAL_FEATURE_NOT_SUPPORTED', 'this device does not take packages delivered in DM (PkgData)');
      const v = data.value;
      const bytes = v === undefined ? new Uint8Array(0) : typeof v === 'string' ? new TextEncoder().encode(v) : v;
      this.options.onPackageData(at.instance, bytes);
      // FUMO §10.1: a package delivered in DM passes Download Progressing to Download Complete.
      if (this.state(at.instance) !== FumoState.DOWNLOAD_PROGRESSING) this.setState(at.instance, FumoState.DOWNLOAD_PROGRESSING);
      this.setState(at.instance, FumoState.DOWNLOAD_COMPLETE);
      return;
    }
    const r: { value: NodeData['value'] & {}; format?: string; type?: string } = { value: data.value ?? '' };
    if (data.format !== undefined) r.format = data.format;
    if (data.type !== undefined) r.type = data.type;
    tree.replace(uri, r);
  }

  delete(uri: string, ctx: HandlerContext): void {
    this.tree = ctx.tree;
    const at = this.locate(uri);
    if (!at) throw new DmError('COMMAND_NOT_ALLOWED', `${uri} cannot be deleted`);
    this.refuseWhenBusy(at.instance, 'delete it');
    ctx.tree.delete(uri);
  }

  exec(uri: string, _data: NodeData | undefined, ctx: HandlerContext): number {
    this.tree = ctx.tree;
    const tree = ctx.tree;
    const at = this.locate(uri);
    if (!at || !tree.exists(uri)) throw new DmError('NOT_FOUND', `no node ${uri}`);
    const operation = OPERATIONS.find((o) => o === at.rest);
    if (!operation) throw new DmError('OPTIONAL_FEATURE_NOT_SUPPORTED', `${uri} is not a FUMO operation node`);
    if (!this.operations.includes(operation)) {
      throw new DmError('OPTIONAL_FEATURE_NOT_SUPPORTED', `this device does not offer FUMO ${operation}`);
    }
    if (this.requireCorrelator && (ctx.correlator === undefined || ctx.correlator === '')) {
      throw new DmError('BAD_MESSAGE', `FUMO ${operation} needs a Correlator on this device (WM-FW)`, { status: 412 });
    }
    const state = this.state(at.instance);
    const info = fumoStateInfo(state)!;
    if (info.busy) throw busy(`${at.instance} is busy (State ${state}, ${info.meaning})`);
    if (operation === 'Update' && !info.hasData) {
      throw busy(`${at.instance} has no package to install (State ${state}, ${info.meaning})`);
    }
    const job: FumoJob = {
      instance: at.instance,
      operation,
      alertSource: this.profile === 'windows' ? uri : at.instance,
      serverId: ctx.serverId,
    };
    if (operation !== 'Update') job.pkgUrl = text(tree.info(`${uri}/PkgURL`)?.value).trim();
    if (ctx.correlator !== undefined) job.correlator = ctx.correlator;
    const read = (rel: string): string | undefined => {
      const v = tree.info(`${at.instance}/${rel}`)?.value;
      const s = text(v).trim();
      return s === '' ? undefined : s;
    };
    const pkgName = read('PkgName');
    const pkgVersion = read('PkgVersion');
    if (pkgName !== undefined) job.pkgName = pkgName;
    if (pkgVersion !== undefined) job.pkgVersion = pkgVersion;
    const size = read(EXT_SIZE);
    if (size !== undefined && /^\d+$/.test(size)) job.expectedSize = Number(size);
    const sha = read(EXT_SHA256);
    if (sha !== undefined && /^[0-9a-fA-F]{64}$/.test(sha)) job.expectedSha256 = sha.toLowerCase();
    // The job is accepted: the instance is busy from now on (a second Exec gets 405).
    this.setState(at.instance, operation === 'Update' ? FumoState.READY_TO_UPDATE : FumoState.DOWNLOAD_PROGRESSING);
    this.options.onJob?.(job);
    return 202;
  }
}

/** Options of {@link installFumo}. @public */
export interface InstallFumoOptions extends FumoOptions {
  /** Instances the device creates itself (permanent), e.g. `['pkg1']`. Existing ones are kept. */
  instances?: readonly FumoInstanceInit[];
}

/**
 * Declares the FUMO DDF at the mount point, mounts a {@link FumoHandler} there and creates the
 * device's own instances. Safe to call again on a tree restored from storage (existing instances
 * and their States are kept).
 *
 * @example
 * ```ts
 * const fumo = installFumo(cm, { instances: ['pkg1'], onJob: (job) => jobs.push(job) });
 * // server: Replace ./FUMO/pkg1/DownloadAndUpdate/PkgURL, Exec ./FUMO/pkg1/DownloadAndUpdate -> 202
 * ```
 * @public
 */
export function installFumo(cm: ConfigManager, options: InstallFumoOptions = {}): FumoHandler {
  const handler = new FumoHandler(options);
  const tree = cm.tree;
  const mount = tree.resolve(handler.mount).path;
  if (!tree.exists(mount) || tree.definitionOf(mount) === undefined) {
    applyDdf(tree, fumoDdf(mount, { profile: handler.profile, acl: options.acl }));
  }
  handler.attach(tree);
  cm.mount(mount, handler);
  for (const init of options.instances ?? []) {
    const spec = typeof init === 'string' ? { name: init } : init;
    const uri = `${mount}/${encodeSegment(spec.name)}`;
    if (!tree.exists(uri)) handler.createInstance(spec.name, { pkgName: spec.pkgName, pkgVersion: spec.pkgVersion, scope: 'permanent' });
  }
  return handler;
}

