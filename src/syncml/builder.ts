/**
 * Building messages: CmdID numbering, body order, and the Status / Results that answer a
 * received message (research note §1.2, §1.3, §2.2).
 *
 * Rules kept here, so sessions do not have to:
 * - CmdIDs are `1, 2, …` in the order commands are added, a container's children numbered right
 *   after it (document order); never `0` (MS-MDM 2.2.3.2), unique in the message. A command that
 *   comes with a CmdID keeps it and the counter skips it.
 * - The SyncHdr Status is the first command of the body whatever the order of `add` (MS-MDM
 *   2.2.6.1); a Results comes right after the Status of the command it answers when that Status is
 *   in the same message (DMPRO 2.3.1). Nothing else is reordered.
 * - No Status for a Results answered 200 (DMREPPRO 4.1.5.1), for a command with NoResp, for a
 *   Status, or for anything in a message whose SyncHdr has NoResp.
 */
import type {
  Atomic, Chal, Command, Cred, Get, Item, Meta, Results, Sequence, Source, Status, Sync, SyncHdr, SyncML, Target,
} from './types.js';
import { SyncMLError } from './errors.js';

function bad(message: string, path = ''): SyncMLError {
  return new SyncMLError('INVALID_ARGUMENT', message, { path });
}

type Container = Atomic | Sequence | Sync;

function isContainer(c: Command): c is Container {
  return c.kind === 'Atomic' || c.kind === 'Sequence' || c.kind === 'Sync';
}

/** The SyncHdr Status (CmdRef `0`, Cmd `SyncHdr`). */
export function isHeaderStatus(c: Command): c is Status {
  return c.kind === 'Status' && c.cmdRef === '0' && c.cmd === 'SyncHdr';
}

interface Undo {
  ids: string[];
  counter: number;
}

/**
 * One message being built: numbers CmdIDs and puts the body in the order the protocol wants.
 *
 * @example
 * ```ts
 * const b = new MessageBuilder(header);
 * b.add(headerStatus(received, 212));
 * b.add({ kind: 'Get', cmdId: '', items: [{ target: { locUri: './DevDetail/SwV' } }] }); // -> '2'
 * const bytes = serialize(b.final().build(), { encoding: 'wbxml' });
 * ```
 * @public
 */
export class MessageBuilder {
  readonly header: SyncHdr;
  private readonly list: Command[] = [];
  private readonly used = new Set<string>();
  private readonly undo: Undo[] = [];
  private counter = 1;
  private isFinal = false;

  constructor(header: SyncHdr) {
    if (header === null || typeof header !== 'object') throw bad('a MessageBuilder needs a SyncHdr');
    this.header = { ...header };
  }

  /**
   * Adds a command (a copy of it: the argument is not changed) and returns its CmdID. Commands
   * with `cmdId` '' or missing get the next free number; their children too.
   * @throws SyncMLError `INVALID_ARGUMENT` for a CmdID `0`, or one already used in this message
   */
  add(cmd: Command): string {
    const local = new Set<string>();
    const state = { n: this.counter };
    const numbered = this.assign(cmd, local, state, 'SyncBody');
    this.undo.push({ ids: [...local], counter: this.counter });
    for (const id of local) this.used.add(id);
    this.counter = state.n;
    this.list.push(numbered);
    return numbered.cmdId;
  }

  /** Adds several commands; returns their CmdIDs. */
  addAll(cmds: readonly Command[]): string[] {
    return cmds.map((c) => this.add(c));
  }

  /**
   * The copy of `cmd` that {@link add} would add now, numbered, without adding it: measure it,
   * then `add` it (its CmdIDs are kept) or drop it.
   */
  number<T extends Command>(cmd: T): T {
    return this.assign(cmd, new Set<string>(), { n: this.counter }, 'SyncBody') as T;
  }

  /** Takes back the last command added (its CmdIDs become free again). */
  pop(): Command | undefined {
    const u = this.undo.pop();
    if (u === undefined) return undefined;
    for (const id of u.ids) this.used.delete(id);
    this.counter = u.counter;
    return this.list.pop();
  }

  /** Sets or clears `Final` (the last message of a package). */
  final(on = true): this {
    this.isFinal = on;
    return this;
  }

  get isFinalMessage(): boolean {
    return this.isFinal;
  }

  /** The commands in the order they were added (numbered). */
  get commands(): readonly Command[] {
    return this.list;
  }

  get length(): number {
    return this.list.length;
  }

  /** The message: SyncHdr Status first, Results after their Status, the rest in order added. */
  build(): SyncML {
    return { header: { ...this.header }, body: { commands: order(this.list), final: this.isFinal } };
  }

  private assign(cmd: Command, local: Set<string>, state: { n: number }, path: string): Command {
    if (cmd === null || typeof cmd !== 'object' || typeof (cmd as { kind?: unknown }).kind !== 'string') {
      throw bad('a command must be an object with a kind', path);
    }
    const here = `${path}/${cmd.kind}`;
    let id = cmd.cmdId as string | undefined;
    if (id === undefined || id === '') {
      let n = state.n;
      while (this.used.has(String(n)) || local.has(String(n))) n++;
      id = String(n);
      state.n = n + 1;
    } else {
      if (typeof id !== 'string') throw bad(`CmdID must be a string, got ${typeof id}`, here);
      if (id === '0') throw bad('CmdID 0 is not allowed (MS-MDM 2.2.3.2: it would read as the SyncHdr)', here);
      if (this.used.has(id) || local.has(id)) throw bad(`CmdID '${id}' is already used in this message`, here);
    }
    local.add(id);
    const copy = { ...cmd, cmdId: id } as Command;
    if (isContainer(cmd)) {
      if (!Array.isArray(cmd.commands)) throw bad(`${cmd.kind} needs a commands list`, here);
      (copy as Container).commands = cmd.commands.map((c) => this.assign(c, local, state, here));
    }
    return copy;
  }
}

/** The body order: SyncHdr Statuses first; Results right after the last Status of their command. */
function order(list: readonly Command[]): Command[] {
  const head: Command[] = [];
  const rest: Command[] = [];
  for (const c of list) (isHeaderStatus(c) ? head : rest).push(c);
  // Results whose command's Status is in this message move after that Status.
  const after = new Map<Command, Results[]>();
  const moved = new Set<Command>();
  for (const r of rest) {
    if (r.kind !== 'Results') continue;
    let anchor: Status | undefined;
    for (const s of rest) {
      if (s.kind === 'Status' && s.cmdRef === r.cmdRef && s.cmd !== 'Results' && (r.msgRef === undefined || s.msgRef === r.msgRef)) anchor = s;
    }
    if (anchor === undefined) continue;
    moved.add(r);
    let l = after.get(anchor);
    if (l === undefined) after.set(anchor, (l = []));
    l.push(r);
  }
  const out = head;
  for (const c of rest) {
    if (moved.has(c)) continue;
    out.push(c);
    const l = after.get(c);
    if (l !== undefined) out.push(...l);
  }
  return out;
}

// --- answering a received message -------------------------------------------------------------

/** Extras of the SyncHdr Status. @public */
export interface HeaderStatusExtras {
  /** A challenge: a Chal, or its scheme (`syncml:auth-md5`, Format `b64`). */
  chal?: Chal | string;
  /** The nonce the peer must use next (md5 / HMAC), put in the Chal's Meta. */
  nextNonce?: string | Uint8Array;
  /** Credentials in the Status (rare; DM servers authenticate in their own SyncHdr). */
  cred?: Cred;
}

/**
 * The Status of the received message's SyncHdr: CmdRef `0`, Cmd `SyncHdr`, MsgRef = its MsgID,
 * TargetRef = its Target, SourceRef = its Source (DMPRO 2.4 examples). `cmdId` is '' (the
 * MessageBuilder numbers it).
 *
 * @example
 * ```ts
 * headerStatus(received, 407, { chal: 'syncml:auth-md5', nextNonce: nonceB64 });
 * ```
 * @throws SyncMLError `INVALID_ARGUMENT` for `nextNonce` without `chal`
 * @public
 */
export function headerStatus(received: SyncML, code: number, extras: HeaderStatusExtras = {}): Status {
  const h = received?.header;
  if (h === undefined || h === null) throw bad('headerStatus needs the received message');
  const s: Status = { kind: 'Status', cmdId: '', msgRef: h.msgId, cmdRef: '0', cmd: 'SyncHdr', code };
  if (h.target?.locUri !== undefined) s.targetRefs = [h.target.locUri];
  if (h.source?.locUri !== undefined) s.sourceRefs = [h.source.locUri];
  if (extras.cred !== undefined) s.cred = extras.cred;
  let chal: Chal | undefined;
  if (typeof extras.chal === 'string') chal = { meta: { type: extras.chal, format: 'b64' } };
  else if (extras.chal !== undefined) chal = { meta: { ...extras.chal.meta } };
  if (extras.nextNonce !== undefined) {
    if (chal === undefined) throw bad('nextNonce travels in a Chal: give chal (its scheme) too');
    chal.meta.nextNonce = extras.nextNonce;
  }
  if (chal !== undefined) s.chal = chal;
  return s;
}

/** Extras of a command's Status. @public */
export interface CommandStatusExtras {
  items?: Item[];
  /** Default: the Target LocURI of each of the command's Items (none: omitted). */
  targetRefs?: string[];
  /** Default: the Source LocURI of each of the command's Items. */
  sourceRefs?: string[];
}

function itemsOf(c: Command): Item[] {
  const items = (c as { items?: unknown }).items;
  return Array.isArray(items) ? (items as Item[]) : [];
}

/**
 * The Status of one received command: MsgRef = the received MsgID, CmdRef = its CmdID ('' when it
 * had none: Windows answers those 400 with a blank CmdRef), Cmd = its element name, TargetRef /
 * SourceRef = its Items' Target / Source (as `dm/dpu.ts` writes them).
 * @public
 */
export function commandStatus(received: SyncML, command: Command, code: number, extras: CommandStatusExtras = {}): Status {
  const s: Status = {
    kind: 'Status', cmdId: '', msgRef: received.header.msgId, cmdRef: typeof command.cmdId === 'string' ? command.cmdId : '', cmd: command.kind, code,
  };
  const items = itemsOf(command);
  const targetRefs = extras.targetRefs ?? items.map((it) => it?.target?.locUri).filter((u): u is string => typeof u === 'string');
  const sourceRefs = extras.sourceRefs ?? items.map((it) => it?.source?.locUri).filter((u): u is string => typeof u === 'string');
  if (targetRefs.length > 0) s.targetRefs = targetRefs;
  if (sourceRefs.length > 0) s.sourceRefs = sourceRefs;
  if (extras.items !== undefined && extras.items.length > 0) s.items = extras.items;
  return s;
}

/**
 * The Results of a received Get: MsgRef, CmdRef, the Items (each MUST name its node in
 * `Source/LocURI`, DMREPPRO 4.1.6.12). Add it after the Get's Status (the MessageBuilder keeps
 * it there).
 * @throws SyncMLError `INVALID_ARGUMENT` for no Items or an Item without Source LocURI
 * @public
 */
export function resultsFor(received: SyncML, get: Get, items: Item[], extras: { meta?: Meta } = {}): Results {
  if (!Array.isArray(items) || items.length === 0) throw bad('Results needs at least one Item');
  items.forEach((it, i) => {
    if (typeof it?.source?.locUri !== 'string') throw bad(`Results Item[${i + 1}] has no Source/LocURI (the node it reports)`);
  });
  const r: Results = { kind: 'Results', cmdId: '', msgRef: received.header.msgId, cmdRef: get.cmdId ?? '', items };
  if (extras.meta !== undefined) r.meta = extras.meta;
  return r;
}

/**
 * What to answer one received command with: a code, a code with Items / refs, or `null` for no
 * Status at all.
 * @public
 */
export type StatusDecision = number | ({ code: number } & CommandStatusExtras) | null;

/** What {@link answer} tells the decision function besides the command. @public */
export interface AnswerContext {
  /** The Atomic / Sequence / Sync the command is in. */
  parent?: Command;
  /** For a container: the codes decided for its children (null: none), in order. */
  childCodes?: (number | null)[];
}

/** The SyncHdr's part in {@link answer}: a code, a code with extras, or null for no header Status. @public */
export type HeaderDecision = number | ({ code: number } & HeaderStatusExtras) | null;

/**
 * The Statuses answering a whole received message, in the order the protocol wants: the SyncHdr
 * Status first, then one per command in document order (a container before its children).
 *
 * `decide` is called once for every command except Statuses, NoResp ones included (so it can
 * execute them), children before their container (so an Atomic's code can follow from its
 * children's). Dropped whatever `decide` says: Statuses for NoResp commands, for Results answered
 * 200, everything when the SyncHdr has NoResp. Results for Gets are not made here: add
 * {@link resultsFor} to the builder (it goes after the Get's Status).
 *
 * @example
 * ```ts
 * const statuses = answer(pkg1, (cmd) => (cmd.kind === 'Alert' || cmd.kind === 'Replace' ? 200 : 406), 212);
 * statuses.forEach((s) => builder.add(s));
 * ```
 * @throws SyncMLError `INVALID_ARGUMENT` when `decide` returns undefined or something else than a decision
 * @public
 */
export function answer(
  received: SyncML,
  decide: (command: Command, context: AnswerContext) => StatusDecision,
  header: HeaderDecision = 200,
): Status[] {
  const out: Status[] = [];
  const noResp = received.header.noResp === true;
  if (header !== null && !noResp) {
    out.push(typeof header === 'number' ? headerStatus(received, header) : headerStatus(received, header.code, header));
  }
  const walk = (cmds: readonly Command[], parent: Command | undefined, sink: Status[]): (number | null)[] => {
    const codes: (number | null)[] = [];
    for (const c of cmds) {
      if (c === null || typeof c !== 'object') continue;
      if (c.kind === 'Status') continue;
      const inner: Status[] = [];
      const ctx: AnswerContext = {};
      if (parent !== undefined) ctx.parent = parent;
      if (isContainer(c) && Array.isArray(c.commands)) ctx.childCodes = walk(c.commands, c, inner);
      const d = decide(c, ctx);
      let code: number | null = null;
      if (d === null) code = null;
      else if (typeof d === 'number') code = d;
      else if (typeof d === 'object' && d !== undefined && typeof d.code === 'number') code = d.code;
      else throw bad(`the decision for ${c.kind} ${c.cmdId ? `#${c.cmdId}` : '(no CmdID)'} is ${String(d)}; return a code, { code }, or null for no Status`);
      codes.push(code);
      const skip = code === null || c.noResp === true || (c.kind === 'Results' && code === 200);
      if (!skip && !noResp) sink.push(commandStatus(received, c, code!, typeof d === 'object' && d !== null ? d : {}));
      sink.push(...inner);
    }
    return codes;
  };
  walk(received.body.commands, undefined, out);
  return out;
}

// --- one side of a session --------------------------------------------------------------------

/** What {@link SessionMessages} needs. @public */
export interface SessionMessagesOptions {
  sessionId: string;
  /** `1.2` (VerDTD 1.2, VerProto DM/1.2; default) or `1.1.2` (VerDTD 1.1, VerProto DM/1.1). */
  version?: '1.2' | '1.1.2';
  /** Us: the device id (client) or the server URI (server). */
  source: string | Source;
  /** The peer. */
  target: string | Target;
  respUri?: string;
  /** Credentials for the next messages (change them with `session.cred = …`). */
  cred?: Cred;
  /** The largest message we accept (MetInf MaxMsgSize, sent in every header). */
  maxMsgSize?: number;
  /** The largest object we accept (MetInf MaxObjSize). */
  maxObjSize?: number;
  /** Other Meta for the header (merged under maxMsgSize / maxObjSize). */
  meta?: Meta;
  /** MsgID of the first message (default 1). */
  firstMsgId?: number;
}

/**
 * One side of a DM session: SessionID, MsgIDs `1, 2, …`, and the header fields, turned into a
 * {@link MessageBuilder} per message.
 *
 * @example
 * ```ts
 * const out = new SessionMessages({ sessionId: '1A2B', source: 'IMEI:356938035643809', target: 'https://dm.example.net/omadm', maxMsgSize: 16384 });
 * const b = out.next(); // MsgID 1
 * b.add({ kind: 'Alert', cmdId: '', code: 1201, items: [] });
 * ```
 * @public
 */
export class SessionMessages {
  readonly sessionId: string;
  readonly version: '1.2' | '1.1.2';
  source: Source;
  target: Target;
  respUri: string | undefined;
  cred: Cred | undefined;
  meta: Meta | undefined;
  private msgNo: number;

  constructor(options: SessionMessagesOptions) {
    const o = options;
    if (o === null || typeof o !== 'object') throw bad('SessionMessages needs options');
    if (typeof o.sessionId !== 'string' || o.sessionId === '') throw bad('sessionId must be a non-empty string');
    const version = o.version ?? '1.2';
    if (version !== '1.2' && version !== '1.1.2') throw bad(`version must be '1.2' or '1.1.2', got '${String(version)}'`);
    this.sessionId = o.sessionId;
    this.version = version;
    this.source = typeof o.source === 'string' ? { locUri: o.source } : { ...o.source };
    this.target = typeof o.target === 'string' ? { locUri: o.target } : { ...o.target };
    this.respUri = o.respUri;
    this.cred = o.cred;
    let meta: Meta | undefined = o.meta === undefined ? undefined : { ...o.meta };
    if (o.maxMsgSize !== undefined) meta = { ...meta, maxMsgSize: o.maxMsgSize };
    if (o.maxObjSize !== undefined) meta = { ...meta, maxObjSize: o.maxObjSize };
    this.meta = meta;
    const first = o.firstMsgId ?? 1;
    if (!Number.isInteger(first) || first < 1) throw bad('firstMsgId must be a positive integer');
    this.msgNo = first;
  }

  get verDTD(): string {
    return this.version === '1.2' ? '1.2' : '1.1';
  }

  get verProto(): string {
    return this.version === '1.2' ? 'DM/1.2' : 'DM/1.1';
  }

  /** The MsgID the next message gets. */
  get nextMsgId(): string {
    return String(this.msgNo);
  }

  /** The header the next message will have (without taking its MsgID). */
  peekHeader(): SyncHdr {
    const h: SyncHdr = {
      verDTD: this.verDTD, verProto: this.verProto, sessionId: this.sessionId, msgId: String(this.msgNo),
      target: { ...this.target }, source: { ...this.source },
    };
    if (this.respUri !== undefined) h.respUri = this.respUri;
    if (this.cred !== undefined) h.cred = this.cred;
    if (this.meta !== undefined) h.meta = { ...this.meta };
    return h;
  }

  /** A builder for the next message (takes the next MsgID). `overrides` change this header only. */
  next(overrides: Partial<Pick<SyncHdr, 'cred' | 'respUri' | 'meta' | 'noResp'>> = {}): MessageBuilder {
    const h = { ...this.peekHeader(), ...overrides };
    for (const k of Object.keys(h) as (keyof SyncHdr)[]) if (h[k] === undefined) delete h[k];
    this.msgNo++;
    return new MessageBuilder(h);
  }
}
