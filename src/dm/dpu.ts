/**
 * The Data Processing Unit (WM-ARCH step 7; research note 6.1): the device side's command
 * executor. It walks the SyncBody of a server message command by command, sends each request to
 * the configuration manager (which checks access rights and routes it to the handler owning the
 * subtree) and produces the response commands: a Status for every command, and Results after the
 * Status of every successful Get.
 *
 * It does not look at the SyncHdr (authentication and the header's Status are the session's job)
 * and it neither numbers nor packs: every command it returns has `cmdId: ''`, for the session's
 * message builder to number and split under MaxMsgSize.
 *
 * Status rules (codes as plain numbers; research notes 1.3-1.9):
 *
 * | situation | Status |
 * | --- | --- |
 * | Add/Replace/Delete/Copy/Get/Exec | what the configuration manager answers, per Item (200, 202, 404, 405, 418, 425...) |
 * | command without CmdID | 400, CmdRef `''` |
 * | command with no Item | 412 |
 * | Item without Target | 400 |
 * | Item data that is a DevInf (or a non-TNDS MgmtTree) | 415 |
 * | Item data above `maxObjSize` (whole or chunked, Size announced or counted) | 413 |
 * | non-final large-object chunk | 213 |
 * | reassembled size differs from Meta/Size | 424 (nothing executed) |
 * | chunk inside Sequence/Atomic | 400 (DMPRO 2.1: they must fit in one message) |
 * | Sequence | 200 once execution began; after a child got 214 or 304 the other children 215 |
 * | Atomic, all children succeed | 200 |
 * | Atomic, a child fails | the child its code, earlier children 216 (516 when their handler's rollback failed), later children 215, the Atomic 507 |
 * | Get, Exec or Atomic inside Atomic | that child 500, the Atomic 507, the other children 215; nothing runs |
 * | Atomic's responses above `maxResponseCommands` | 517, children rolled back (216) |
 * | Alert 1222 | 200 (`nextMessageRequested`) |
 * | Alert 1223 | no response at all (`aborted`), nothing in the message executes |
 * | Alert 1100-1104 | see `ui-alert.ts`: 200, 304, 214, 408, 406, 412, 416 |
 * | user cancelled (214) | every later command of the session 215 (`cancelled`) |
 * | any other Alert code | 406 |
 * | Sync, Map, Put, Search, Move, Results | 406 |
 * | Status inside Sequence/Atomic; element the DTD does not define under SyncBody/Sequence/Atomic | 400 |
 * | an unexpected exception while running a command | 500 for that command |
 *
 * Decisions where the specifications are silent or disagree:
 * - Results from a server: DMREPPRO only forbids answering a Results with Status 200; a DM client
 *   never sends Get, so a server's Results is unsolicited and gets 406 (optional feature not
 *   supported) rather than silence.
 * - Alert 1223: DMPRO says the client SHOULD NOT answer an abort, so a message carrying one (at
 *   any depth) executes nothing, answers nothing, drops an open large object silently, and only
 *   reports the server's Statuses.
 * - Exec inside Atomic: OMA forbids it (DMREPPRO 4.1.6.6), MS-MDM's content model allows it; we
 *   follow OMA (500 + 507). Sequence inside Atomic is allowed when its children obey the same rules.
 * - An illegal child (Get, Exec, Atomic) or an undefined element is found before anything runs,
 *   so nothing is executed and no transaction is opened: the other children get 215.
 * - Atomic stops at its first failing child (nothing after it could survive the rollback); a
 *   UI alert answered "No" (304) or cancelled (214) counts as failing.
 * - A Status covering several Items lists every Item's Target/Source in TargetRef/SourceRef
 *   (SyncML allows several); Items with different codes get one Status each (MS-MDM 2.2.6.1).
 * - A Get answers one Results holding every Item that succeeded, after the Get's Status(es).
 * - The container's own Status comes before its children's, in command order.
 * - Generic Alerts handlers queue during an Atomic that is rolled back are dropped (what they
 *   report did not happen); those queued by the rollback itself are kept.
 * - Atomic commit: when a handler's `commit` throws, the children routed to it get 500 and the
 *   Atomic 507 (the tree keeps the other changes).
 * - A handler's rollback failure is mapped to the children routed (by Target) to that handler's
 *   mount; if none was, every rolled-back child gets 516.
 * - SyncHdr `NoResp` suppresses every Status of the message (Results are still sent).
 * - Between two chunks of a large object, only the server's Statuses and Alert 1222 (flow control)
 *   leave the object open; any other command or Item drops it with Alert 1225.
 *
 * @example
 * ```ts
 * const dpu = new Dpu({ configManager: cm, serverId: 'dm.example.net', maxObjSize: 1 << 20 });
 * const r = await dpu.process(parse(bytes));
 * // r.responses: Status/Results with cmdId '' -> the session numbers them and packs its reply
 * ```
 */
import type { MgmtTree } from '../syncml/ddf-types.js';
import type { Alert, Atomic, Command, Item, Meta, Results, Sequence, Status, SyncML, UnknownElement } from '../syncml/types.js';
import type { ConfigCommand, ConfigManager, ExecuteRequest, ResultItem, Transaction } from './config-manager.js';
import { DmError, isDmError } from './errors.js';
import type { NodeData, PendingAlert } from './handler.js';
import { LargeObjectAssembler, type InterruptedObject, type LargeObjectBuffer } from './large-object.js';
import { isTndsType, TNDS_XML_TYPE } from './tnds.js';
import { isUiAlertCode, realTimers, runUiAlert, type Timers, type UserInteraction } from './ui-alert.js';

/** Options of {@link Dpu}. @public */
export interface DpuOptions {
  configManager: ConfigManager;
  /** The server identity commands run as (DMAcc ServerID): ACLs are evaluated for it. */
  serverId: string;
  /** The embedder's user interface for alerts 1100-1104; absent = the device has no UI (406). */
  ui?: UserInteraction;
  /** Waiting for MAXDT. Default: setTimeout-based; tests pass a fake. */
  timers?: Timers;
  /** Seconds to wait for the user when a UI alert has no MAXDT; default: as long as the UI takes. */
  uiTimeout?: number;
  /** Largest object (bytes) this device accepts, announced to the server as MaxObjSize. 413 above. */
  maxObjSize?: number;
  /** Where large-object chunks are kept while they arrive (default: memory). */
  largeObjects?: LargeObjectBuffer;
  /**
   * Most Status/Results an Atomic may answer with (its own Status included). An Atomic whose
   * responses exceed it is rolled back and answers 517 (DMREPPRO: the responses of an Atomic must
   * fit in one message). The DPU cannot measure bytes: the session derives this from the
   * server's MaxMsgSize (e.g. room left after the header divided by the size of one Status).
   * Default: unlimited.
   */
  maxResponseCommands?: number;
}

/** What one server message led to. @public */
export interface DpuResult {
  /** Status (and Results right after the Status of their Get), in command order, cmdId ''. */
  responses: Command[];
  /**
   * Alerts the device must send, cmdId '': 1225 NO END OF DATA for an interrupted large object,
   * then one Generic Alert (1226) per entry of `pendingAlerts`.
   */
  alerts: Alert[];
  /** The Generic Alerts handlers queued, as data (the 1226 Alerts in `alerts` are made from them). */
  pendingAlerts: PendingAlert[];
  /** The server aborted the session (Alert 1223): send nothing back. */
  aborted: boolean;
  /** The server asked for the next message of our package (Alert 1222). */
  nextMessageRequested: boolean;
  /** Statuses the server sent (answers to our commands), for the session to match. */
  receivedStatuses: Status[];
  /** A large object is being received: more chunks are expected in the next message. */
  expectingMoreData: boolean;
  /** The user cancelled: nothing more should be processed this session (Windows: 214 semantics). */
  cancelled: boolean;
}

type Signal = 'next' | 'stop';

interface MessageRun {
  msgId: string;
  /** SyncHdr NoResp. */
  noResp: boolean;
  alerts: Alert[];
  pending: PendingAlert[];
  nextMessage: boolean;
}

interface AtomicRun {
  failed: boolean;
  /** Every Status emitted inside the Atomic, with the handler mounts its Items were routed to. */
  entries: { status: Status; mounts: string[] }[];
  pending: PendingAlert[];
}

interface Scope {
  out: Command[];
  atomic?: AtomicRun;
  /** Inside Sequence or Atomic. */
  nested: boolean;
}

interface StatusExtra {
  targetRefs?: string[];
  sourceRefs?: string[];
  items?: Item[];
  mounts?: string[];
}

interface ItemOutcome {
  code: number;
  target?: string;
  source?: string;
  mounts: string[];
}

type ItemCommand = Extract<Command, { kind: ConfigCommand }>;

const ITEM_COMMANDS: ReadonlySet<string> = new Set<ConfigCommand>(['Add', 'Replace', 'Delete', 'Copy', 'Exec', 'Get']);
const CHUNKABLE: ReadonlySet<string> = new Set(['Add', 'Replace', 'Exec']);
/** Children DMREPPRO 4.1.6.3 does not allow inside Atomic (WM-STD: 500 for them, 507 for the Atomic). */
const NOT_IN_ATOMIC: ReadonlySet<string> = new Set(['Get', 'Exec', 'Atomic']);

const utf8 = new TextEncoder();

function failing(code: number): boolean {
  return code >= 300 || code === 214;
}

function statusOf(e: unknown): number {
  return isDmError(e) && e.status !== undefined && e.status >= 400 && e.status <= 599 ? e.status : 500;
}

function isItemCommand(cmd: Command): cmd is ItemCommand {
  return ITEM_COMMANDS.has(cmd.kind);
}

function itemsOf(cmd: Command): Item[] {
  const items = (cmd as { items?: unknown }).items;
  return Array.isArray(items) ? (items as Item[]) : [];
}

function refsOf(cmd: Command): StatusExtra {
  if (!isItemCommand(cmd)) return {};
  const targetRefs: string[] = [];
  const sourceRefs: string[] = [];
  for (const it of itemsOf(cmd)) {
    if (it?.target?.locUri !== undefined) targetRefs.push(it.target.locUri);
    if (it?.source?.locUri !== undefined) sourceRefs.push(it.source.locUri);
  }
  return { targetRefs, sourceRefs };
}

function childrenOf(cmd: Command): Command[] {
  return cmd && (cmd.kind === 'Atomic' || cmd.kind === 'Sequence') && Array.isArray(cmd.commands) ? cmd.commands : [];
}

function hasAbort(cmd: Command): boolean {
  if (cmd?.kind === 'Alert') return cmd.code === 1223;
  return childrenOf(cmd).some(hasAbort);
}

/** Children that make an Atomic illegal, with their code (Sequence children are checked too). */
function atomicViolations(cmds: Command[], out: Map<Command, number>): void {
  for (const c of cmds) {
    if (NOT_IN_ATOMIC.has(c?.kind)) out.set(c, 500);
    else if (c?.kind === 'Sequence') {
      if ((c.unknown?.length ?? 0) > 0) out.set(c, 400);
      atomicViolations(childrenOf(c), out);
    }
  }
}

/** Meta of an Item over its command's, field by field (the parser writes absent fields as undefined). */
function mergeMeta(cmd: Meta | undefined, item: Meta | undefined): Meta | undefined {
  if (!cmd) return item;
  if (!item) return cmd;
  const m: Meta = {};
  const format = item.format ?? cmd.format;
  const type = item.type ?? cmd.type;
  const size = item.size ?? cmd.size;
  if (format !== undefined) m.format = format;
  if (type !== undefined) m.type = type;
  if (size !== undefined) m.size = size;
  return m;
}

function isMgmtTree(d: unknown): d is MgmtTree {
  return typeof d === 'object' && d !== null && (d as { kind?: unknown }).kind === 'MgmtTree';
}

/** Item Data + Meta as the configuration manager wants it, or the Status refusing it. */
function nodeDataOf(item: Item, meta: Meta | undefined): NodeData | number {
  const nd: NodeData = {};
  if (meta?.format !== undefined) nd.format = meta.format;
  if (meta?.type !== undefined) nd.type = meta.type;
  const d = item.data;
  if (d === undefined) return nd;
  if (typeof d === 'string' || d instanceof Uint8Array) {
    nd.value = d;
    return nd;
  }
  if (isMgmtTree(d) && (nd.type === undefined || isTndsType(nd.type))) {
    nd.tnds = d;
    nd.type ??= TNDS_XML_TYPE;
    return nd;
  }
  return 415; // a DevInf, or a DDF where a value was expected
}

function byteSize(v: NodeData['value']): number {
  if (v === undefined) return 0;
  return typeof v === 'string' ? utf8.encode(v).length : v.length;
}

function resultItem(ri: ResultItem): Item {
  const item: Item = { source: { locUri: ri.uri } };
  // Bytes travel as OPAQUE (WBXML) or base64 (XML): Format bin whatever the node's was (b64 is
  // what base64 *text* is called).
  const format = ri.value instanceof Uint8Array ? 'bin' : ri.format;
  const meta: Meta = {};
  if (format !== undefined && format !== 'chr') meta.format = format;
  if (ri.type !== undefined && ri.type !== '' && ri.type !== 'text/plain') meta.type = ri.type;
  if (meta.format !== undefined || meta.type !== undefined) item.meta = meta;
  if (ri.value !== undefined) item.data = ri.value;
  return item;
}

function resultItems(results: ResultItem[] | MgmtTree, uri: string): Item[] {
  if (Array.isArray(results)) return results.map(resultItem);
  return [{ source: { locUri: uri }, meta: { format: 'xml', type: TNDS_XML_TYPE }, data: results }];
}

/** Generic Alert (DMPRO 2.3.7): Meta Type and Format are required. One Alert per alert. */
function genericAlert(p: PendingAlert): Alert {
  const meta: Meta = { type: p.type, format: p.format ?? 'chr' };
  if (p.mark !== undefined) meta.mark = p.mark;
  const item: Item = { meta, data: p.data ?? '' };
  if (p.source !== undefined) item.source = { locUri: p.source };
  const a: Alert = { kind: 'Alert', cmdId: '', code: 1226, items: [item] };
  if (p.correlator !== undefined) a.correlator = p.correlator;
  return a;
}

/** Alert 1225 NO END OF DATA with the dropped object's Target/Source (DMPRO 2.2). */
function noEndOfData(lost: InterruptedObject): Alert {
  const item: Item = {};
  if (lost.target !== undefined) item.target = { locUri: lost.target };
  if (lost.source !== undefined) item.source = { locUri: lost.source };
  return { kind: 'Alert', cmdId: '', code: 1225, items: [item] };
}

function unknownCmdId(el: UnknownElement): string {
  for (const c of el.children ?? []) {
    if (typeof c !== 'string' && c.name === 'CmdID') return c.children.filter((x): x is string => typeof x === 'string').join('').trim();
  }
  return '';
}

function positiveInt(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1) throw new DmError('INVALID_ARGUMENT', `${name} must be a positive integer`);
  return value;
}

/**
 * The device's command executor. Keep one per session: it remembers a large object whose chunks
 * span messages and whether the user cancelled. Calls to {@link process} run one after another.
 * @public
 */
export class Dpu {
  /** MaxObjSize to announce in the SyncHdr Meta, if any. */
  readonly maxObjSize: number | undefined;
  private readonly cm: ConfigManager;
  private readonly serverId: string;
  private readonly ui: UserInteraction | undefined;
  private readonly timers: Timers;
  private readonly uiTimeout: number | undefined;
  private readonly maxResponseCommands: number | undefined;
  private readonly lo: LargeObjectAssembler;
  private cancelled = false;
  private queue: Promise<unknown> = Promise.resolve();

  /** Throws DmError INVALID_ARGUMENT for a limit that is not a positive integer. */
  constructor(options: DpuOptions) {
    this.cm = options.configManager;
    this.serverId = options.serverId;
    this.ui = options.ui;
    this.timers = options.timers ?? realTimers;
    this.uiTimeout = options.uiTimeout;
    this.maxObjSize = positiveInt(options.maxObjSize, 'maxObjSize');
    this.maxResponseCommands = positiveInt(options.maxResponseCommands, 'maxResponseCommands');
    this.lo = new LargeObjectAssembler({ buffer: options.largeObjects, maxObjSize: this.maxObjSize });
  }

  /** Executes one server message. Never throws for anything the message contains. */
  process(message: SyncML): Promise<DpuResult> {
    const p = this.queue.then(() => this.processNow(message));
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Forgets the session: a pending large object (without Alert 1225) and a user cancel. */
  reset(): Promise<void> {
    const p = this.queue.then(async () => {
      this.cancelled = false;
      await this.lo.reset();
    });
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async processNow(message: SyncML): Promise<DpuResult> {
    const run: MessageRun = {
      msgId: String(message?.header?.msgId ?? ''), noResp: message?.header?.noResp === true,
      alerts: [], pending: [], nextMessage: false,
    };
    const commands: Command[] = Array.isArray(message?.body?.commands) ? message.body.commands : [];
    const received: Status[] = [];
    const top: Scope = { out: [], nested: false };
    const result = (aborted: boolean): DpuResult => ({
      responses: aborted ? [] : top.out,
      alerts: aborted ? [] : [...run.alerts, ...run.pending.map(genericAlert)],
      pendingAlerts: aborted ? [] : run.pending,
      aborted,
      nextMessageRequested: !aborted && run.nextMessage,
      receivedStatuses: received,
      expectingMoreData: !aborted && this.lo.receiving,
      cancelled: this.cancelled,
    });
    for (const c of commands) if (c?.kind === 'Status') received.push(c);
    try {
      if (commands.some(hasAbort)) {
        await this.lo.reset();
        return result(true);
      }
      let sawCommand = false;
      for (const cmd of commands) {
        if (cmd?.kind === 'Status') continue;
        sawCommand = true;
        if (this.cancelled) {
          await this.lo.reset();
          this.skip(cmd, top, run);
        } else {
          await this.exec(cmd, top, run);
        }
      }
      for (const el of message?.body?.unknown ?? []) this.emitUnknown(el, top, run);
      // A package that ends with no chunk while one is awaited will never complete it.
      if (!sawCommand && message?.body?.final === true && this.lo.open) await this.interruptLarge(run);
    } catch {
      // Only a defect in this file gets here; what was answered so far stands.
    }
    return result(false);
  }

  // ---- statuses -------------------------------------------------------------------------------

  private emit(scope: Scope, run: MessageRun, cmd: { cmdId?: string; kind?: string; noResp?: boolean }, code: number, extra: StatusExtra = {}): Status {
    const s: Status = { kind: 'Status', cmdId: '', msgRef: run.msgId, cmdRef: cmd.cmdId ?? '', cmd: cmd.kind ?? '', code };
    if (extra.targetRefs && extra.targetRefs.length > 0) s.targetRefs = extra.targetRefs;
    if (extra.sourceRefs && extra.sourceRefs.length > 0) s.sourceRefs = extra.sourceRefs;
    if (extra.items && extra.items.length > 0) s.items = extra.items;
    if (scope.atomic) {
      scope.atomic.entries.push({ status: s, mounts: extra.mounts ?? [] });
      if (failing(code)) scope.atomic.failed = true;
    }
    if (cmd.noResp !== true && !run.noResp) scope.out.push(s);
    return s;
  }

  /** 400 for an element the DTD does not define under SyncBody, Sequence or Atomic (WM-STD). */
  private emitUnknown(el: UnknownElement, scope: Scope, run: MessageRun): void {
    this.emit(scope, run, { cmdId: unknownCmdId(el), kind: el.name }, 400);
  }

  /** Answers a command that is not executed (215, or `codeOf`) and all its children. */
  private skip(cmd: Command, scope: Scope, run: MessageRun, codeOf: (c: Command) => number = () => 215): void {
    if (!cmd || cmd.kind === 'Status') return;
    this.emit(scope, run, cmd, cmd.cmdId ? codeOf(cmd) : 400, refsOf(cmd));
    for (const c of childrenOf(cmd)) this.skip(c, scope, run, codeOf);
    if (cmd.kind === 'Atomic' || cmd.kind === 'Sequence') for (const el of cmd.unknown ?? []) this.emitUnknown(el, scope, run);
  }

  // ---- commands -------------------------------------------------------------------------------

  /** Runs one command; an unexpected exception becomes 500 for it (its partial answers dropped). */
  private async exec(cmd: Command, scope: Scope, run: MessageRun): Promise<Signal> {
    const local: Command[] = [];
    const inner: Scope = { ...scope, out: local };
    try {
      return await this.dispatch(cmd, inner, run);
    } catch {
      local.length = 0;
      this.emit(inner, run, cmd ?? {}, 500, cmd ? refsOf(cmd) : {});
      return 'next';
    } finally {
      scope.out.push(...local);
    }
  }

  private async dispatch(cmd: Command, scope: Scope, run: MessageRun): Promise<Signal> {
    // Item commands check per Item whether they continue an open large object; anything else ends
    // it, except Alert 1222, which is flow control between messages, not a new command or Item.
    const flowControl = cmd.kind === 'Alert' && cmd.code === 1222;
    if (this.lo.open && !flowControl && (!isItemCommand(cmd) || !cmd.cmdId)) await this.interruptLarge(run);
    if (!cmd.cmdId) {
      this.emit(scope, run, cmd, 400, refsOf(cmd));
      return 'next';
    }
    switch (cmd.kind) {
      case 'Add': case 'Replace': case 'Delete': case 'Copy': case 'Exec': case 'Get':
        return this.itemCommand(cmd, scope, run);
      case 'Alert': return this.alert(cmd, scope, run);
      case 'Sequence': return this.sequence(cmd, scope, run);
      case 'Atomic': return this.atomic(cmd, scope, run);
      case 'Status': // only inside Sequence/Atomic: top-level ones never get here
        this.emit(scope, run, cmd, 400);
        return 'next';
      default: // Sync, Map, Put, Search, Move, Results: not DM client commands
        this.emit(scope, run, cmd, 406, refsOf(cmd));
        return 'next';
    }
  }

  private async interruptLarge(run: MessageRun): Promise<void> {
    const lost = await this.lo.interrupt();
    if (lost) run.alerts.push(noEndOfData(lost));
  }

  // ---- Add / Replace / Delete / Copy / Exec / Get ---------------------------------------------

  private async itemCommand(cmd: ItemCommand, scope: Scope, run: MessageRun): Promise<Signal> {
    const items = itemsOf(cmd);
    if (items.length === 0) {
      if (this.lo.open) await this.interruptLarge(run);
      this.emit(scope, run, cmd, 412);
      return 'next';
    }
    const outcomes: ItemOutcome[] = [];
    const results: Item[] = [];
    for (const item of items) outcomes.push(await this.item(cmd, item ?? {}, scope, run, results));
    const first = outcomes[0].code;
    if (outcomes.every((o) => o.code === first)) {
      const extra: StatusExtra = { targetRefs: [], sourceRefs: [], mounts: [] };
      for (const o of outcomes) {
        if (o.target !== undefined) extra.targetRefs!.push(o.target);
        if (o.source !== undefined) extra.sourceRefs!.push(o.source);
        extra.mounts!.push(...o.mounts);
      }
      this.emit(scope, run, cmd, first, extra);
    } else {
      for (const o of outcomes) {
        this.emit(scope, run, cmd, o.code, {
          targetRefs: o.target !== undefined ? [o.target] : [], sourceRefs: o.source !== undefined ? [o.source] : [], mounts: o.mounts,
        });
      }
    }
    if (cmd.kind === 'Get' && results.length > 0) {
      const r: Results = { kind: 'Results', cmdId: '', msgRef: run.msgId, cmdRef: cmd.cmdId, items: results };
      scope.out.push(r);
    }
    return 'next';
  }

  private async item(cmd: ItemCommand, item: Item, scope: Scope, run: MessageRun, results: Item[]): Promise<ItemOutcome> {
    const out: ItemOutcome = { code: 500, mounts: [] };
    if (item.target?.locUri !== undefined) out.target = item.target.locUri;
    if (item.source?.locUri !== undefined) out.source = item.source.locUri;
    try {
      out.code = await this.itemCode(cmd, item, scope, run, results, out);
    } catch {
      out.code = 500;
    }
    return out;
  }

  private async itemCode(cmd: ItemCommand, item: Item, scope: Scope, run: MessageRun, results: Item[], out: ItemOutcome): Promise<number> {
    const chunkable = CHUNKABLE.has(cmd.kind);
    const meta = mergeMeta(cmd.meta, item.meta);
    if (this.lo.open) {
      if (chunkable && !scope.nested && this.lo.continues(cmd.kind, item)) return this.chunk(cmd, item, meta, scope, run, out);
      await this.interruptLarge(run);
    }
    if (out.target === undefined) return 400;
    if (item.moreData === true && chunkable) {
      if (scope.nested) return 400; // DMPRO 2.1: a Sequence or Atomic fits in one message
      return this.chunk(cmd, item, meta, scope, run, out);
    }
    let data: NodeData | undefined;
    if (chunkable) {
      const nd = nodeDataOf(item, meta);
      if (typeof nd === 'number') return nd;
      if (this.maxObjSize !== undefined && byteSize(nd.value) > this.maxObjSize) return 413;
      if (cmd.kind !== 'Exec' || item.data !== undefined || nd.format !== undefined || nd.type !== undefined) data = nd;
    }
    return this.execute(cmd, out, data, meta, scope, run, results);
  }

  private async chunk(cmd: ItemCommand, item: Item, meta: Meta | undefined, scope: Scope, run: MessageRun, out: ItemOutcome): Promise<number> {
    const o = await this.lo.accept(cmd.kind, item, meta);
    if (o.kind === 'buffered') return 213;
    if (o.kind === 'refused') return o.status;
    const data: NodeData = { value: o.value };
    const whole: Meta = {};
    if (o.format !== undefined) data.format = whole.format = o.format;
    if (o.type !== undefined) data.type = whole.type = o.type;
    if (o.size !== undefined) whole.size = o.size;
    return this.execute(cmd, out, data, whole, scope, run, []);
  }

  private async execute(cmd: ItemCommand, out: ItemOutcome, data: NodeData | undefined, meta: Meta | undefined,
    scope: Scope, run: MessageRun, results: Item[]): Promise<number> {
    const uri = out.target!;
    const req: ExecuteRequest = { command: cmd.kind, uri, serverId: this.serverId };
    if (data) req.data = data;
    if (cmd.kind === 'Copy' && out.source !== undefined) req.sourceUri = out.source;
    if (cmd.kind === 'Exec' && cmd.correlator !== undefined) req.correlator = cmd.correlator;
    if (CHUNKABLE.has(cmd.kind) && meta && (meta.format !== undefined || meta.type !== undefined || meta.size !== undefined)) {
      const m: NonNullable<ExecuteRequest['meta']> = {};
      if (meta.format !== undefined) m.format = meta.format;
      if (meta.type !== undefined) m.type = meta.type;
      if (meta.size !== undefined) m.size = meta.size;
      req.meta = m;
    }
    const r = await this.cm.execute(req);
    out.mounts = this.mountsOf(uri);
    if (r.alerts && r.alerts.length > 0) (scope.atomic?.pending ?? run.pending).push(...r.alerts);
    if (cmd.kind === 'Get' && r.status < 300 && r.results !== undefined) results.push(...resultItems(r.results, uri));
    return r.status;
  }

  private mountsOf(uri: string): string[] {
    try {
      const m = this.cm.route(uri)?.mount;
      return m !== undefined ? [m] : [];
    } catch {
      return [];
    }
  }

  // ---- Alert ----------------------------------------------------------------------------------

  private async alert(cmd: Alert, scope: Scope, run: MessageRun): Promise<Signal> {
    if (cmd.code === 1222) {
      run.nextMessage = true;
      this.emit(scope, run, cmd, 200);
      return 'next';
    }
    if (!isUiAlertCode(cmd.code)) {
      // 1223 never gets here (the whole message is dropped); 1200/1201/1224-1226 are sent by clients.
      this.emit(scope, run, cmd, 406);
      return 'next';
    }
    const o = await runUiAlert(cmd, this.ui, { timers: this.timers, defaultTimeout: this.uiTimeout });
    this.emit(scope, run, cmd, o.status, { items: o.items });
    if (o.status === 214) {
      this.cancelled = true;
      await this.lo.reset();
      return 'stop';
    }
    return o.status === 304 ? 'stop' : 'next';
  }

  // ---- Sequence / Atomic ----------------------------------------------------------------------

  private async sequence(cmd: Sequence, scope: Scope, run: MessageRun): Promise<Signal> {
    this.emit(scope, run, cmd, 200);
    const inner: Scope = { ...scope, nested: true };
    let stopped = false;
    for (const child of childrenOf(cmd)) {
      if (stopped || this.cancelled || scope.atomic?.failed) this.skip(child, inner, run);
      else if ((await this.exec(child, inner, run)) === 'stop') stopped = true;
    }
    for (const el of cmd.unknown ?? []) this.emitUnknown(el, inner, run);
    return 'next';
  }

  private async atomic(cmd: Atomic, scope: Scope, run: MessageRun): Promise<Signal> {
    const own = this.emit(scope, run, cmd, 200);
    const inner: Scope = { out: [], nested: true };
    const children = childrenOf(cmd);
    try {
      if (scope.atomic) {
        // Nested Atomic reached some way the pre-scan did not see: refuse it all the same.
        own.code = 500;
        scope.atomic.failed = true;
        for (const c of children) this.skip(c, { ...inner, atomic: scope.atomic }, run);
        return 'next';
      }
      const violations = new Map<Command, number>();
      atomicViolations(children, violations);
      if (violations.size > 0 || (cmd.unknown?.length ?? 0) > 0) {
        own.code = 507;
        for (const c of children) this.skip(c, inner, run, (x) => violations.get(x) ?? 215);
        for (const el of cmd.unknown ?? []) this.emitUnknown(el, inner, run);
        return 'next';
      }
      let tx: Transaction;
      try {
        tx = this.cm.transaction();
      } catch (e) {
        own.code = statusOf(e);
        for (const c of children) this.skip(c, inner, run);
        return 'next';
      }
      const as: AtomicRun = { failed: false, entries: [], pending: [] };
      inner.atomic = as;
      try {
        for (const child of children) {
          if (as.failed || this.cancelled) this.skip(child, inner, run);
          else await this.exec(child, inner, run);
        }
        const answered = inner.out.filter((c) => c.kind === 'Status').length + (cmd.noResp === true || run.noResp ? 0 : 1);
        const tooLarge = !as.failed && this.maxResponseCommands !== undefined && answered > this.maxResponseCommands;
        if (as.failed || tooLarge) {
          const outcome = await tx.rollback();
          this.markRolledBack(as, outcome.failures.map((f) => f.mount));
          own.code = tooLarge ? 517 : 507;
          run.pending.push(...outcome.alerts);
        } else {
          const outcome = await tx.commit();
          if (!outcome.ok) {
            const bad = new Set(outcome.failures.map((f) => f.mount));
            for (const e of as.entries) if (!failing(e.status.code) && e.mounts.some((m) => bad.has(m))) e.status.code = 500;
            own.code = 507;
          }
          run.pending.push(...as.pending, ...outcome.alerts);
        }
      } finally {
        if (tx.active) await tx.rollback().catch(() => undefined);
      }
      return 'next';
    } finally {
      scope.out.push(...inner.out);
    }
  }

  /** After a rollback: what had succeeded becomes 216, or 516 where the handler could not undo it. */
  private markRolledBack(as: AtomicRun, failedMounts: string[]): void {
    const failed = new Set(failedMounts);
    const located = as.entries.some((e) => e.mounts.some((m) => failed.has(m)));
    for (const e of as.entries) {
      const c = e.status.code;
      if (failing(c) || c === 213 || c === 215) continue;
      const notUndone = failed.size > 0 && (!located || e.mounts.some((m) => failed.has(m)));
      e.status.code = notUndone ? 516 : 216;
      delete e.status.items;
    }
  }
}
