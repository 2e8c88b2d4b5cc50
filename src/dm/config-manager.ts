/**
 * The configuration manager (research note 6.1, WM-ARCH "Configuration Manager2"): one entry point
 * per DM command that checks, routes and answers with a SyncML status.
 *
 * Order for every command:
 * 1. normalise the URI (400 BAD_URI, 414 URI_TOO_LONG, 406 unknown query key);
 * 2. the access policy (425 PERMISSION_DENIED);
 * 3. the DDF AccessType of the node, or of the definition it would get (405; Exec: 406), for
 *    commands on node values (property commands follow DMTND 8.3's property table instead);
 * 4. the handler mounted at the longest prefix (`./FUMO/pkg1` beats `./FUMO`), else the tree;
 * 5. any error becomes a status: a DmError's own, anything else 500.
 */
import type { MgmtTree } from '../syncml/ddf-types.js';
import { OmaAclPolicy, type AccessCommand, type AccessPolicy, type AccessRequest } from './access-policy.js';
import { DmError, isDmError } from './errors.js';
import type { Handler, HandlerContext, NodeData, PendingAlert } from './handler.js';
import { exportTnds, importTnds, isTndsType, parseListQuery, type TndsImportReport } from './tnds.js';
import type { ManagementTree, NodeInfo, NodeValue, ResolvedUri, TreeSnapshot } from './tree.js';
import type { UriLimits } from './uri.js';

/** Commands the configuration manager executes. @public */
export type ConfigCommand = 'Add' | 'Replace' | 'Delete' | 'Get' | 'Exec' | 'Copy';

/** One command on one item. @public */
export interface ExecuteRequest {
  command: ConfigCommand;
  /** Target URI (for Copy: the target), may carry `?prop=` / `?list=`. */
  uri: string;
  /** Copy only: the source URI. */
  sourceUri?: string;
  /** Item data and its Meta Format/Type; `tnds` for an Add/Replace with a TNDS document. */
  data?: NodeData;
  serverId: string;
  /** Exec Correlator. */
  correlator?: string;
  /** Command Meta (e.g. Size of a reassembled large object). */
  meta?: { format?: string; type?: string; size?: number };
}

/** One item of a Results. @public */
export interface ResultItem {
  /** Source LocURI: the node URI (with `?prop=` for a property). */
  uri: string;
  format?: string;
  type?: string;
  value?: NodeValue;
}

/** The outcome of {@link ConfigManager.execute}. @public */
export interface ExecuteResult {
  /** SyncML status: 200, 202 (asynchronous Exec), or an error status. */
  status: number;
  /** Get only: the items, or the TNDS document for `?list=TNDS`. */
  results?: ResultItem[] | MgmtTree;
  /** Generic Alerts handlers queued while running this command. */
  alerts?: PendingAlert[];
  /** Why the command failed (status >= 300). */
  error?: DmError;
}

/** Outcome of committing or rolling back a {@link Transaction}. @public */
export interface TransactionOutcome {
  /** False when some handler's commit/rollback threw (Atomic: 516 for what could not be undone). */
  ok: boolean;
  failures: { mount: string; error: unknown }[];
  alerts: PendingAlert[];
}

/**
 * A set of commands that succeed or fail together (Atomic, large objects). Rollback restores
 * the tree snapshot taken when the transaction opened and calls `rollback` on every handler
 * touched since; commit calls `commit`.
 * @public
 */
export interface Transaction {
  readonly active: boolean;
  commit(): Promise<TransactionOutcome>;
  rollback(): Promise<TransactionOutcome>;
}

/** Options of {@link ConfigManager}. @public */
export interface ConfigManagerOptions {
  tree: ManagementTree;
  /** Default {@link OmaAclPolicy}. */
  policy?: AccessPolicy;
  /** URI limits for incoming commands; default: the tree's (which `installDevDetail` sets). */
  limits?: UriLimits;
}

interface Route {
  mount: string;
  handler: Handler;
}

interface TxState {
  snapshot: TreeSnapshot;
  enlisted: Map<string, Handler>;
  open: boolean;
  alerts: PendingAlert[];
  serverId: string;
}

const COMMANDS: readonly ConfigCommand[] = ['Add', 'Replace', 'Delete', 'Get', 'Exec', 'Copy'];

function notAllowed(message: string): DmError {
  return new DmError('COMMAND_NOT_ALLOWED', message);
}

function toError(e: unknown): DmError {
  if (isDmError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new DmError('COMMAND_FAILED', `command failed: ${message}`, { cause: e });
}

/**
 * Routes DM commands to handlers and the tree, behind the access policy and the DDF.
 *
 * @example
 * ```ts
 * const tree = new ManagementTree();
 * const cm = new ConfigManager({ tree });
 * cm.mount('./Vendor/Light', { get: () => ({ value: 'on' }) });
 * await cm.execute({ command: 'Add', uri: './Vendor/Light', data: { format: 'chr', value: 'off' }, serverId: 's' });
 * const r = await cm.execute({ command: 'Get', uri: './Vendor/Light', serverId: 's' });
 * // r.status === 200, r.results[0].value === 'on'
 * ```
 * @public
 */
export class ConfigManager {
  readonly tree: ManagementTree;
  readonly policy: AccessPolicy;
  private readonly limits: UriLimits | undefined;
  private readonly mounts = new Map<string, Handler>();
  private tx: TxState | null = null;

  constructor(options: ConfigManagerOptions) {
    this.tree = options.tree;
    this.policy = options.policy ?? new OmaAclPolicy();
    this.limits = options.limits;
  }

  /** Mounts `handler` on the subtree at `uri`. Throws INVALID_ARGUMENT when something is mounted there already. */
  mount(uri: string, handler: Handler): void {
    const r = this.tree.resolve(uri);
    if (r.prop !== undefined || r.list !== undefined) throw new DmError('INVALID_ARGUMENT', 'a mount point has no query');
    if (this.mounts.has(r.path)) throw new DmError('INVALID_ARGUMENT', `a handler is already mounted at ${r.path}`);
    this.mounts.set(r.path, handler);
  }

  /** Removes the handler mounted at `uri`; false when there was none. */
  unmount(uri: string): boolean {
    return this.mounts.delete(this.tree.resolve(uri).path);
  }

  /** The handler (and its mount point) that owns a canonical URI: the longest mounted prefix. */
  route(uri: string): { mount: string; handler: Handler } | undefined {
    const path = this.tree.resolve(uri).path;
    let best: Route | undefined;
    for (const [mount, handler] of this.mounts) {
      if (mount === path || mount === '.' || path.startsWith(mount + '/')) {
        if (!best || mount.length > best.mount.length) best = { mount, handler };
      }
    }
    return best;
  }

  /** The transaction in progress, if any. */
  get inTransaction(): boolean {
    return this.tx !== null;
  }

  /**
   * Opens a transaction. Only one may be open: a second call throws DmError COMMAND_FAILED (500,
   * what a nested Atomic answers).
   */
  transaction(): Transaction {
    if (this.tx) throw new DmError('COMMAND_FAILED', 'a transaction is already open (nested Atomic)');
    const state: TxState = { snapshot: this.tree.snapshot(), enlisted: new Map(), open: true, alerts: [], serverId: '' };
    this.tx = state;
    const finish = async (how: 'commit' | 'rollback'): Promise<TransactionOutcome> => {
      if (!state.open) throw new DmError('INVALID_ARGUMENT', 'the transaction is already finished');
      state.open = false;
      this.tx = null;
      const ctx = this.context(state.serverId, undefined, undefined, state.alerts);
      const failures: { mount: string; error: unknown }[] = [];
      const entries = [...state.enlisted];
      if (how === 'rollback') {
        entries.reverse();
        this.tree.restore(state.snapshot);
      }
      for (const [mount, handler] of entries) {
        try {
          await handler[how]?.(ctx);
        } catch (error) {
          failures.push({ mount, error });
        }
      }
      return { ok: failures.length === 0, failures, alerts: state.alerts };
    };
    return {
      get active() { return state.open; },
      commit: () => finish('commit'),
      rollback: () => finish('rollback'),
    };
  }

  private context(serverId: string, req: ExecuteRequest | undefined, data: NodeData | undefined, alerts: PendingAlert[]): HandlerContext {
    const ctx: HandlerContext = { serverId, tree: this.tree, alert: (a) => { alerts.push({ ...a }); } };
    if (req?.correlator !== undefined) ctx.correlator = req.correlator;
    const meta = req?.meta ?? (data && (data.format !== undefined || data.type !== undefined) ? { format: data.format, type: data.type } : undefined);
    if (meta) ctx.meta = meta;
    return ctx;
  }

  /** Calls `begin` the first time a handler is reached inside a transaction. */
  private async enlist(route: Route, ctx: HandlerContext): Promise<void> {
    const tx = this.tx;
    if (!tx || tx.enlisted.has(route.mount)) return;
    if (tx.enlisted.size === 0) tx.serverId = ctx.serverId;
    await route.handler.begin?.(ctx);
    tx.enlisted.set(route.mount, route.handler);
  }

  /**
   * Runs one command and answers its status (never throws). See the module comment for the
   * order of checks; each command's statuses:
   * - all: 400 (malformed URI, Copy without source), 414, 425 (policy), 405 (DDF AccessType,
   *   a `?list=` on anything but Get, a `?prop=` on anything but Get/Replace), 500 (a handler
   *   threw something that is not a DmError);
   * - Get: 200 + results; 404; 406 (property or list variant);
   * - Add: 200; 418, 405 (leaf parent), 404 (no implicit parents), 415, 420; TNDS data: all or nothing;
   * - Replace: 200; 404 (never creates), 405, 406, 418 (rename clash);
   * - Delete: 200; 404, 405 (root, permanent);
   * - Exec: the handler's status (200, 202...); 404; 406 (DDF lacks Exec); 405 (no handler);
   * - Copy: 200; needs Get on the source and Add/Replace on the target; 404, 405 (not leaf to leaf).
   */
  async execute(request: ExecuteRequest): Promise<ExecuteResult> {
    const alerts: PendingAlert[] = [];
    let result: ExecuteResult;
    try {
      result = await this.run(request, alerts);
    } catch (e) {
      const error = toError(e);
      result = { status: error.status ?? 500, error };
    }
    if (alerts.length > 0) result.alerts = alerts;
    return result;
  }

  private resolve(uri: string): ResolvedUri {
    return this.tree.resolve(uri, this.limits ?? this.tree.uriLimits);
  }

  private allowed(req: AccessRequest): void {
    if (!this.policy.allows(req)) {
      throw new DmError('PERMISSION_DENIED', `${req.serverId || 'the server'} may not ${req.command} ${req.uri}${req.property ? `?prop=${req.property}` : ''}`);
    }
  }

  /** DDF AccessType of the node (or the definition it would get): 405 when `command` is not in it. */
  private ddfAllows(command: AccessCommand, path: string): void {
    const access = this.tree.constraintsFor(path)?.accessType;
    if (!access || access.includes(command)) return;
    if (command === 'Exec') throw new DmError('OPTIONAL_FEATURE_NOT_SUPPORTED', `${path} does not support Exec (DDF AccessType)`);
    throw notAllowed(`${path} does not support ${command} (DDF AccessType)`);
  }

  private async run(req: ExecuteRequest, alerts: PendingAlert[]): Promise<ExecuteResult> {
    const cmd = req.command;
    if (!COMMANDS.includes(cmd)) throw new DmError('BAD_MESSAGE', `unknown command ${JSON.stringify(cmd)}`, { status: 400 });
    const r = this.resolve(req.uri);
    if (r.list !== undefined && cmd !== 'Get') throw notAllowed('?list= only works with Get (DMTND 8.4)');
    if (r.prop !== undefined && cmd !== 'Get' && cmd !== 'Replace') throw notAllowed(`properties do not support ${cmd} (DMTND 8.3)`);
    let src: ResolvedUri | undefined;
    if (cmd === 'Copy') {
      if (req.sourceUri === undefined) throw new DmError('BAD_MESSAGE', 'Copy without a source URI', { status: 400 });
      src = this.resolve(req.sourceUri);
      if (src.prop !== undefined || src.list !== undefined) throw notAllowed('Copy works on node values only');
    }
    const access: AccessRequest = { serverId: req.serverId, command: cmd, uri: r.path, tree: this.tree };
    if (r.prop !== undefined) access.property = r.prop;
    if (src) access.sourceUri = src.path;
    this.allowed(access);
    if (r.prop === undefined) {
      this.ddfAllows(cmd, r.path);
      if (src) this.ddfAllows('Get', src.path);
    }
    const route = this.route(r.path);
    const ctx = this.context(req.serverId, req, req.data, alerts);
    switch (cmd) {
      case 'Get': return this.doGet(r, route, ctx);
      case 'Add': return this.doAdd(r, route, req.data ?? {}, ctx, access);
      case 'Replace': return this.doReplace(r, route, req.data ?? {}, ctx);
      case 'Delete': return this.doDelete(r, route, ctx);
      case 'Exec': return this.doExec(r, route, req.data, ctx);
      default: return this.doCopy(src!, r, route, ctx, access);
    }
  }

  // ---- Get ------------------------------------------------------------------------------------

  private async doGet(r: ResolvedUri, route: Route | undefined, ctx: HandlerContext): Promise<ExecuteResult> {
    if (r.prop !== undefined) {
      const g = this.tree.get(`${r.path}?prop=${r.prop}`);
      if (g.kind !== 'value') throw new DmError('COMMAND_FAILED', 'unexpected property answer');
      return { status: 200, results: [{ uri: g.uri, format: g.format, type: g.type, value: g.value }] };
    }
    if (r.list !== undefined) return this.doList(r, ctx);
    if (route?.handler.get) {
      const d = await route.handler.get(r.path, ctx);
      if (d !== undefined) {
        return { status: 200, results: [{ uri: r.path, format: d.format ?? 'chr', type: d.type ?? 'text/plain', value: d.value ?? '' }] };
      }
    }
    const g = this.tree.get(r.path);
    if (g.kind !== 'value') throw new DmError('COMMAND_FAILED', 'unexpected Get answer');
    return { status: 200, results: [{ uri: g.uri, format: g.format, type: g.type, value: g.value }] };
  }

  /**
   * `?list=`: nodes the server may not Get are left out with their subtrees; leaves whose DDF
   * AccessType lacks Get are listed without a value; leaves under a handler with `get` take the
   * handler's value.
   */
  private async doList(r: ResolvedUri, ctx: HandlerContext): Promise<ExecuteResult> {
    const q = parseListQuery(r.list!);
    const include = (info: NodeInfo): boolean => info.uri === r.path
      || this.policy.allows({ serverId: ctx.serverId, command: 'Get', uri: info.uri, tree: this.tree });
    const wantValues = q.kind === 'StructData' || (q.kind === 'TNDS' && q.props.has('Value'));
    const values = new Map<string, NodeValue | null>();
    if (wantValues) {
      const pending: [string, Route][] = [];
      this.tree.walk(r.path, (info) => {
        if (!include(info)) return false;
        if (!info.leaf) return true;
        const access = info.constraints?.accessType;
        if (access && !access.includes('Get')) values.set(info.uri, null);
        else {
          const route = this.route(info.uri);
          if (route?.handler.get) pending.push([info.uri, route]);
        }
        return true;
      });
      for (const [uri, route] of pending) {
        const d = await route.handler.get!(uri, ctx);
        if (d?.value !== undefined) values.set(uri, d.value);
      }
    }
    if (q.kind === 'TNDS') {
      return { status: 200, results: exportTnds(this.tree, r.path, { props: q.props, include, valueFor: (info) => values.get(info.uri) }) };
    }
    const items: ResultItem[] = [];
    this.tree.walk(r.path, (info) => {
      if (!include(info)) return false;
      const item: ResultItem = { uri: info.uri, format: info.format, type: info.type };
      if (q.kind === 'StructData' && info.leaf) {
        const v = values.has(info.uri) ? values.get(info.uri)! : info.value!;
        if (v !== null) item.value = v;
      }
      items.push(item);
      return true;
    });
    return { status: 200, results: items };
  }

  // ---- Add / Replace --------------------------------------------------------------------------

  private async doAdd(r: ResolvedUri, route: Route | undefined, data: NodeData, ctx: HandlerContext, access: AccessRequest): Promise<ExecuteResult> {
    if (data.tnds !== undefined || isTndsType(data.type)) return this.writeTnds('add', r, route, data, ctx, access);
    if (route?.handler.ownsStorage) {
      if (!route.handler.add) throw notAllowed(`${route.mount} does not support Add`);
      await this.enlist(route, ctx);
      await route.handler.add(r.path, data, ctx);
      return { status: 200 };
    }
    const addData = { format: data.format, type: data.type, value: data.value };
    const opts = { creatorAcl: this.policy.aclForNewNode?.(access) };
    this.tree.checkAdd(r.path, addData, opts);
    if (route?.handler.add) {
      await this.enlist(route, ctx);
      await route.handler.add(r.path, data, ctx);
    }
    this.tree.add(r.path, addData, opts);
    return { status: 200 };
  }

  private async doReplace(r: ResolvedUri, route: Route | undefined, data: NodeData, ctx: HandlerContext): Promise<ExecuteResult> {
    if (r.prop !== undefined) {
      // Properties belong to the tree's nodes, whoever handles their values.
      this.tree.replace(`${r.path}?prop=${r.prop}`, { value: data.value ?? '' });
      return { status: 200 };
    }
    if (data.tnds !== undefined || isTndsType(data.type)) return this.writeTnds('replace', r, route, data, ctx, undefined);
    if (route?.handler.ownsStorage) {
      if (!route.handler.replace) throw notAllowed(`${route.mount} does not support Replace`);
      await this.enlist(route, ctx);
      await route.handler.replace(r.path, data, ctx);
      return { status: 200 };
    }
    const replaceData = { format: data.format, type: data.type, value: data.value ?? '' };
    this.tree.checkReplace(r.path, replaceData);
    if (route?.handler.replace) {
      await this.enlist(route, ctx);
      await route.handler.replace(r.path, data, ctx);
    }
    this.tree.replace(r.path, replaceData);
    return { status: 200 };
  }

  /**
   * Add/Replace with a TNDS document at `r`: one status for the whole subtree, all or nothing in
   * the tree (handlers are told node by node afterwards; if one refuses, the tree is restored,
   * handlers already told keep their change unless a transaction rolls them back).
   */
  private async writeTnds(mode: 'add' | 'replace', r: ResolvedUri, route: Route | undefined, data: NodeData,
    ctx: HandlerContext, access: AccessRequest | undefined): Promise<ExecuteResult> {
    if (data.tnds === undefined) {
      throw new DmError('UNSUPPORTED_MEDIA_TYPE', 'TNDS data must be parsed into a MgmtTree before it reaches the configuration manager');
    }
    if (route?.handler.ownsStorage) {
      const fn = mode === 'add' ? route.handler.add : route.handler.replace;
      if (!fn) throw notAllowed(`${route.mount} does not support ${mode === 'add' ? 'Add' : 'Replace'}`);
      await this.enlist(route, ctx);
      await fn.call(route.handler, r.path, data, ctx);
      return { status: 200 };
    }
    const check = (command: 'Add' | 'Replace' | 'Delete', uri: string): void => {
      const rr = this.tree.resolve(uri);
      const req: AccessRequest = { serverId: ctx.serverId, command, uri: rr.path, tree: this.tree };
      if (rr.prop !== undefined) req.property = rr.prop;
      this.allowed(req);
      if (rr.prop === undefined) this.ddfAllows(command, rr.path);
      const owner = this.route(rr.path);
      if (owner?.handler.ownsStorage) throw notAllowed(`TNDS cannot write into ${owner.mount}, whose handler keeps its own nodes`);
    };
    const snap = this.tree.snapshot();
    const report: TndsImportReport = importTnds(this.tree, data.tnds, {
      mode, at: r.path, check, creatorAcl: access ? this.policy.aclForNewNode?.(access) : undefined,
    });
    try {
      const nodeData = (uri: string): NodeData => {
        const info = this.tree.info(uri);
        return info ? { format: info.format, type: info.type, value: info.leaf ? info.value : undefined } : {};
      };
      for (const uri of report.deleted) {
        const h = this.route(uri);
        if (h?.handler.delete) { await this.enlist(h, ctx); await h.handler.delete(uri, ctx); }
      }
      for (const uri of report.replaced) {
        const h = this.route(uri);
        if (h?.handler.replace) { await this.enlist(h, ctx); await h.handler.replace(uri, nodeData(uri), ctx); }
      }
      for (const uri of report.added) {
        const h = this.route(uri);
        if (h?.handler.add) { await this.enlist(h, ctx); await h.handler.add(uri, nodeData(uri), ctx); }
      }
    } catch (e) {
      this.tree.restore(snap);
      throw e;
    }
    return { status: 200 };
  }

  // ---- Delete / Exec / Copy -------------------------------------------------------------------

  private async doDelete(r: ResolvedUri, route: Route | undefined, ctx: HandlerContext): Promise<ExecuteResult> {
    if (route?.handler.ownsStorage) {
      if (!route.handler.delete) throw notAllowed(`${route.mount} does not support Delete`);
      await this.enlist(route, ctx);
      await route.handler.delete(r.path, ctx);
      return { status: 200 };
    }
    this.tree.checkDelete(r.path);
    if (route?.handler.delete) {
      await this.enlist(route, ctx);
      await route.handler.delete(r.path, ctx);
    }
    this.tree.delete(r.path);
    return { status: 200 };
  }

  private async doExec(r: ResolvedUri, route: Route | undefined, data: NodeData | undefined, ctx: HandlerContext): Promise<ExecuteResult> {
    if (!route?.handler.ownsStorage && !this.tree.exists(r.path)) throw new DmError('NOT_FOUND', `no node ${r.path}`);
    if (!route?.handler.exec) throw notAllowed(`nothing executes ${r.path}`);
    await this.enlist(route, ctx);
    const status = await route.handler.exec(r.path, data, ctx);
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new DmError('COMMAND_FAILED', `the handler of ${route.mount} answered Exec with ${String(status)}`);
    }
    return { status };
  }

  private async doCopy(src: ResolvedUri, r: ResolvedUri, route: Route | undefined, ctx: HandlerContext, access: AccessRequest): Promise<ExecuteResult> {
    const srcRoute = this.route(src.path);
    if (route?.handler.copy) {
      const owns = route.handler.ownsStorage === true;
      if (!owns) this.tree.checkCopy(src.path, r.path);
      await this.enlist(route, ctx);
      await route.handler.copy(src.path, r.path, ctx);
      if (!owns) this.tree.copy(src.path, r.path);
      return { status: 200 };
    }
    const plain = (x: Route | undefined): boolean => !x || (!x.handler.ownsStorage && !x.handler.get && !x.handler.add && !x.handler.replace);
    if (plain(route) && plain(srcRoute)) {
      this.tree.copy(src.path, r.path, { creatorAcl: this.policy.aclForNewNode?.({ ...access, command: 'Add' }) });
      return { status: 200 };
    }
    // Generic: read the source like Get, write the target like Add or Replace.
    let value: NodeData | undefined;
    if (srcRoute?.handler.get) value = await srcRoute.handler.get(src.path, ctx);
    if (value === undefined) {
      const g = this.tree.get(src.path);
      if (g.kind !== 'value') throw new DmError('COMMAND_FAILED', 'unexpected Get answer');
      value = { format: g.format, type: g.type, value: g.value };
    }
    if (value.format === 'node') throw notAllowed('Copy copies leaves only (DMREPPRO 4.1.6.4)');
    const data: NodeData = { format: value.format ?? 'chr', type: value.type ?? 'text/plain', value: value.value ?? '' };
    let exists: boolean;
    if (route?.handler.ownsStorage) exists = route.handler.get !== undefined && (await route.handler.get(r.path, ctx)) !== undefined;
    else exists = this.tree.exists(r.path);
    if (exists) return this.doReplace(r, route, data, ctx);
    return this.doAdd(r, route, data, ctx, { ...access, command: 'Add' });
  }
}
