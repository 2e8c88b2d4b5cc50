/**
 * Filling messages under the peer's MaxMsgSize (DMPRO 2.1-2.2; research note §1.3, §1.4).
 *
 * The packer holds the commands a side still has to send and, for each message, puts as many of
 * them as fit into a {@link MessageBuilder}, in order:
 * - A message never exceeds MaxMsgSize: every size is measured by serializing (`size.ts`), and
 *   each filled message is serialized once more to check.
 * - Atomic, Sequence (and DS Sync, Map, Search, Status, and the UI alerts, whose Items are
 *   positional) go whole or not at all (DMPRO 2.1: every command must fit in one message).
 * - A command made of independent Items (Add, Replace, Delete, Copy, Move, Get, Put, Exec,
 *   Results, Alert 1224 / 1226) that does not fit is cut between Items into several commands of
 *   the same kind, each with its own CmdID.
 * - An Item too large for any message travels as a Large Object (`chunk.ts`): one chunk per
 *   message, the message ends after a chunk with MoreData, the next message starts with the next
 *   chunk. Only Items that cannot fit whole in a fresh message are cut: one that merely does not
 *   fit in what is left of this message waits for the next.
 * - In XML, binary Data that is cut is first written as text: as itself when it is UTF-8 text
 *   (the serializer would write CDATA), else as base64 text with Format `b64`, cut at multiples of
 *   4 characters. Cutting the bytes would let some chunks come out as CDATA and others as base64.
 *   Meta/Size and MaxObjSize then count that text (what the receiver counts).
 *
 * The packer knows nothing of sessions: the caller adds the SyncHdr Status (and whatever else
 * must be in the message) to the builder first, then calls {@link Packer.nextMessage}.
 */
import type { Command, Item, Meta } from './types.js';
import { SyncMLError } from './errors.js';
import { type MessageBuilder, isHeaderStatus } from './builder.js';
import { chunkEnd, chunkItem, dataSize, isBase64Text } from './chunk.js';
import { commandSize, measureMessage } from './size.js';
import { toBase64 } from '../wbxml/base64.js';
import { isXmlText } from './sink.js';

/** Options of the {@link Packer}. @public */
export interface PackerOptions {
  encoding: 'wbxml' | 'xml';
  /** The peer's MaxMsgSize (bytes; `Infinity` when it announced none). */
  maxMsgSize: number;
  /** The peer's MaxObjSize: larger objects are refused at `push` (the sender MUST NOT send them). */
  maxObjSize?: number;
  /** The VerDTD of the messages (checked against each builder's header when given). */
  verDTD?: string;
}

/** One command (or part of one) put into a message. @public */
export interface PackedCommand {
  /** The command as pushed. */
  command: Command;
  /** Its position among every command pushed so far (0-based). */
  index: number;
  /** What went into the message, numbered. */
  sent: Command;
  cmdId: string;
  /**
   * For a command cut between Items or carrying a chunk: the original Items it holds,
   * `[start, end)`. Absent when the command went whole.
   */
  items?: { start: number; end: number };
  /** When its last Item is a Large Object chunk: which part of the object's Data it holds. */
  chunk?: { item: number; start: number; end: number; total: number; last: boolean };
}

/** What {@link Packer.nextMessage} did. @public */
export interface PackResult {
  /** No command is left: this message ends the package (the builder's Final is set to this). */
  final: boolean;
  /** The serialized size of the message (default serialize options). */
  size: number;
  /** What went in, in order. */
  packed: PackedCommand[];
}

interface Entry {
  cmd: Command;
  index: number;
  splittable: boolean;
  /** Next Item to send. */
  pos: number;
  /** Unit offset in the Data of Item `pos` (0: not started). */
  off: number;
  /** Items as they travel (binary Data turned to text in XML when cut). */
  items: Item[];
  /** Total units of the Item being cut. */
  total: number;
}

const ITEM_KINDS = new Set(['Add', 'Replace', 'Delete', 'Copy', 'Move', 'Get', 'Put', 'Exec', 'Results']);

function splittable(c: Command): boolean {
  if (ITEM_KINDS.has(c.kind)) return true;
  return c.kind === 'Alert' && (c.code === 1226 || c.code === 1224);
}

function itemsOf(c: Command): Item[] {
  const items = (c as { items?: unknown }).items;
  return Array.isArray(items) ? (items as Item[]) : [];
}

/** Packer.nextMessage measures all the queue at once up to this many commands. */
const FAST_PATH_MAX_COMMANDS = 64;

/** A lower bound of the bytes the command's Data take (a string's UTF-16 length is at most its UTF-8 length). */
function dataAtLeast(c: Command): number {
  let n = 0;
  for (const it of itemsOf(c)) {
    const d = it?.data;
    if (typeof d === 'string' || d instanceof Uint8Array) n += d.length;
  }
  const inner = (c as { commands?: unknown }).commands;
  if (Array.isArray(inner)) for (const x of inner as Command[]) n += dataAtLeast(x);
  return n;
}

function commandMeta(c: Command): Meta | undefined {
  return c.kind === 'Alert' || c.kind === 'Status' ? undefined : (c as { meta?: Meta }).meta;
}

function describe(c: Command, index: number): string {
  return `${c.kind}${c.cmdId ? ` #${c.cmdId}` : ''} (pushed ${index + 1}${c.kind === 'Atomic' || c.kind === 'Sequence' ? `, ${c.commands.length} commands` : ''})`;
}

function bad(message: string, path = ''): SyncMLError {
  return new SyncMLError('INVALID_ARGUMENT', message, { path });
}

/**
 * Packs queued commands into messages under the peer's MaxMsgSize.
 *
 * @example
 * ```ts
 * const packer = new Packer({ encoding: 'wbxml', maxMsgSize: peerMaxMsgSize, maxObjSize: peerMaxObjSize });
 * packer.push(...commands);
 * do {
 *   const b = session.next();
 *   b.add(headerStatus(received, 200));
 *   const { final, packed } = packer.nextMessage(b); // b.final(final) is set
 *   send(serialize(b.build(), { encoding: 'wbxml' }));
 *   remember(packed); // CmdIDs the peer's Statuses will refer to
 * } while (packer.hasMore()); // (between messages: wait for the peer's answer / Alert 1222)
 * ```
 * @public
 */
export class Packer {
  readonly encoding: 'wbxml' | 'xml';
  readonly maxMsgSize: number;
  readonly maxObjSize: number | undefined;
  readonly verDTD: string | undefined;
  private readonly queue: Entry[] = [];
  private pushed = 0;

  constructor(options: PackerOptions) {
    const o = options;
    if (o === null || typeof o !== 'object' || (o.encoding !== 'wbxml' && o.encoding !== 'xml')) throw bad("options.encoding must be 'wbxml' or 'xml'");
    if (typeof o.maxMsgSize !== 'number' || !(o.maxMsgSize > 0)) throw bad(`maxMsgSize must be a positive number, got ${String(o.maxMsgSize)}`);
    if (o.maxObjSize !== undefined && (typeof o.maxObjSize !== 'number' || !(o.maxObjSize >= 0))) throw bad(`maxObjSize must be a non-negative number, got ${String(o.maxObjSize)}`);
    this.encoding = o.encoding;
    this.maxMsgSize = o.maxMsgSize;
    this.maxObjSize = o.maxObjSize;
    this.verDTD = o.verDTD;
  }

  /**
   * Queues commands to send, in order. Every object (Item Data) is checked against the peer's
   * MaxObjSize first; nothing is queued when one is larger.
   * @throws SyncMLError `INVALID_ARGUMENT` naming the command and Item whose object is too large
   */
  push(...commands: Command[]): void {
    const entries: Entry[] = [];
    commands.forEach((cmd, i) => {
      if (cmd === null || typeof cmd !== 'object' || typeof (cmd as { kind?: unknown }).kind !== 'string') throw bad('a command must be an object with a kind');
      const index = this.pushed + i;
      this.checkObjects(cmd, index, `SyncBody/${cmd.kind}`);
      const items = itemsOf(cmd);
      entries.push({ cmd, index, splittable: splittable(cmd) && items.length > 0, pos: 0, off: 0, items: items.slice(), total: 0 });
    });
    this.pushed += commands.length;
    this.queue.push(...entries);
  }

  /** Commands (or parts of one) are still to be sent. */
  hasMore(): boolean {
    return this.queue.length > 0;
  }

  /** How many pushed commands are not (completely) sent. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Drops the next command to send and returns it: after {@link nextMessage} refused it as too
   * large for any message, so the caller can answer for it (an Atomic: 517) and go on.
   */
  shift(): { command: Command; index: number } | undefined {
    const e = this.queue.shift();
    return e === undefined ? undefined : { command: e.cmd, index: e.index };
  }

  /**
   * Fills `builder` with as many queued commands as fit under MaxMsgSize, counting its header,
   * what it already holds and `Final`; sets its Final flag; returns what went in.
   *
   * A command that cannot fit in any message (an Atomic or Sequence larger than MaxMsgSize minus
   * the header, an Item that cannot be cut) ends the message before it; when it is the first
   * thing to pack, a SyncMLError naming it is thrown (nothing was added to the builder) and it
   * stays at the head of the queue: call {@link shift} to drop it, answer for it, go on.
   * @throws SyncMLError `INVALID_ARGUMENT`
   */
  nextMessage(builder: MessageBuilder): PackResult {
    const header = builder.header;
    const verDTD = header.verDTD;
    if (this.verDTD !== undefined && this.verDTD !== verDTD) throw bad(`the builder's VerDTD is ${verDTD}, the packer's ${this.verDTD}`);
    const enc = this.encoding;
    const max = this.maxMsgSize;
    const all = this.packAllIfTheyFit(builder);
    if (all !== undefined) return all;
    const base = measureMessage(header, builder.build().body.commands, enc);
    if (base > max) {
      throw bad(`the message holds ${base} bytes before anything is packed, over MaxMsgSize ${max}: push those commands (Statuses, Results) into the packer instead`);
    }
    // What a fresh message of this session costs before its commands: the header, the SyncHdr
    // Status(es) it will carry again, Final. A command larger than the rest cannot go whole.
    const fresh = max - measureMessage(header, builder.commands.filter(isHeaderStatus), enc);
    const ctx: Fill = { builder, room: max - base, fresh, packed: [], snapshots: [], verDTD, stop: false };
    while (this.queue.length > 0 && !ctx.stop) {
      const e = this.queue[0];
      try {
        if (e.splittable) this.fillItems(e, ctx);
        else this.fillWhole(e, ctx);
      } catch (err) {
        // A command that can never be sent: refused only when it comes first, so that what this
        // call packed is returned (its CmdIDs are needed) and the next call reports it.
        if (ctx.packed.length === 0) throw err;
        ctx.stop = true;
      }
    }
    // Check the message as it will be serialized; take back what does not fit (WBXML literal
    // tables can add a byte the per-command sizes do not see).
    let final = this.queue.length === 0;
    builder.final(final);
    let size = measureMessage(header, builder.build().body.commands, enc, final);
    while (size > max && ctx.packed.length > 0) {
      builder.pop();
      ctx.packed.pop();
      this.restore(ctx.snapshots.pop()!);
      final = false;
      builder.final(false);
      size = measureMessage(header, builder.build().body.commands, enc, false);
    }
    if (size > max) throw bad(`the message is ${size} bytes, over MaxMsgSize ${max}`);
    return { final, size, packed: ctx.packed };
  }

  // --- internals --------------------------------------------------------------------------------

  /**
   * The common case, measured once: nothing queued has been cut yet and all of it fits whole,
   * with Final. The commands go in exactly as the greedy fill below would put them; when they do
   * not fit, the builder is left as it was and undefined is returned.
   */
  private packAllIfTheyFit(builder: MessageBuilder): PackResult | undefined {
    const q = this.queue;
    // Tried only when it may succeed: a long queue, or Data alone over MaxMsgSize, would make every
    // message of a long package serialize all that is left first.
    if (q.length === 0 || q.length > FAST_PATH_MAX_COMMANDS || !q.every((e) => e.pos === 0 && e.off === 0)) return undefined;
    let data = 0;
    for (const e of q) data += dataAtLeast(e.cmd);
    if (data > this.maxMsgSize) return undefined;
    const mark = builder.length;
    const wasFinal = builder.isFinalMessage;
    const packed: PackedCommand[] = [];
    for (const e of this.queue) {
      const sent = e.splittable ? this.piece(e, e.items.slice(), builder) : builder.number(e.cmd);
      const cmdId = builder.add(sent);
      packed.push({ command: e.cmd, index: e.index, sent: builder.commands[builder.length - 1], cmdId });
    }
    builder.final(true);
    const size = measureMessage(builder.header, builder.build().body.commands, this.encoding, true);
    if (size <= this.maxMsgSize) {
      this.queue.length = 0;
      return { final: true, size, packed };
    }
    while (builder.length > mark) builder.pop();
    builder.final(wasFinal);
    return undefined;
  }

  private checkObjects(cmd: Command, index: number, path: string): void {
    const limit = this.maxObjSize;
    if (limit === undefined) return;
    const items = itemsOf(cmd);
    items.forEach((it, i) => {
      const n = this.objectSize(it);
      if (n !== undefined && n > limit) {
        throw bad(`Item[${i + 1}] of ${describe(cmd, index)} is a ${n}-byte object, over the peer's MaxObjSize ${limit} (it must not be sent)`, `${path}/Item[${i + 1}]`);
      }
    });
    if (cmd.kind === 'Atomic' || cmd.kind === 'Sequence' || cmd.kind === 'Sync') {
      for (const c of cmd.commands ?? []) this.checkObjects(c, index, `${path}/${c.kind}`);
    }
  }

  /** The object's size as it travels in this encoding (XML: binary Data as base64 text unless it is text). */
  private objectSize(item: Item): number | undefined {
    const d = item?.data;
    if (this.encoding === 'xml' && d instanceof Uint8Array && !isXmlText(d)) return Math.ceil(d.length / 3) * 4;
    return dataSize(d);
  }

  private snapshot(e: Entry): Snapshot {
    return { entry: e, pos: e.pos, off: e.off, total: e.total, items: e.items };
  }

  /** Puts an entry back as it was at `s` (at the head of the queue). */
  private restore(s: Snapshot): void {
    if (this.queue[0] !== s.entry) this.queue.unshift(s.entry);
    const e = s.entry;
    e.pos = s.pos;
    e.off = s.off;
    e.total = s.total;
    e.items = s.items;
  }

  private record(ctx: Fill, e: Entry, sent: Command, snap: Snapshot, extra: Partial<PackedCommand>): void {
    const cmdId = ctx.builder.add(sent);
    ctx.snapshots.push(snap);
    const p: PackedCommand = { command: e.cmd, index: e.index, sent: ctx.builder.commands[ctx.builder.length - 1], cmdId, ...extra };
    ctx.packed.push(p);
  }

  /** A command that goes whole: it fits, or waits for the next message, or can never fit. */
  private fillWhole(e: Entry, ctx: Fill): void {
    const numbered = ctx.builder.number(e.cmd);
    const size = commandSize(numbered, { encoding: this.encoding, verDTD: ctx.verDTD });
    if (size <= ctx.room) {
      const snap = this.snapshot(e);
      this.queue.shift();
      this.record(ctx, e, numbered, snap, {});
      ctx.room -= size;
      return;
    }
    if (size <= ctx.fresh && ctx.room < ctx.fresh) { ctx.stop = true; return; }
    throw bad(`${describe(e.cmd, e.index)} needs ${size} bytes; a message under MaxMsgSize ${this.maxMsgSize} has room for ${ctx.fresh} after its header${e.cmd.kind === 'Atomic' || e.cmd.kind === 'Sequence' ? ' (an Atomic or Sequence cannot be split)' : ''}`, `SyncBody/${e.cmd.kind}`);
  }

  /** The command `e` with these Items, as a numbered piece. */
  private piece(e: Entry, items: Item[], builder: MessageBuilder): Command {
    const c = { ...e.cmd, cmdId: e.cmd.cmdId, items } as Command;
    // A piece of a cut command is a new command: it gets a CmdID of its own.
    if (e.pos > 0 || e.off > 0 || items.length < e.items.length) (c as { cmdId: string }).cmdId = '';
    return builder.number(c);
  }

  private cost(c: Command, ctx: Fill): number {
    return commandSize(c, { encoding: this.encoding, verDTD: ctx.verDTD });
  }

  /** A command of independent Items: whole, cut between Items, or with a Large Object chunk last. */
  private fillItems(e: Entry, ctx: Fill): void {
    const enc = { encoding: this.encoding, verDTD: ctx.verDTD };
    const snap = this.snapshot(e);
    const startPos = e.pos;
    const taken: Item[] = [];
    // Greedy by Items: each Item's share measured as (piece with it) - (piece without Items),
    // then the piece measured whole once more.
    const skeleton = this.piece(e, [], ctx.builder);
    const base = commandSize(skeleton, enc);
    let q = e.pos;
    if (e.off === 0) {
      let used = base;
      for (; q < e.items.length; q++) {
        const share = commandSize({ ...skeleton, items: [e.items[q]] } as Command, enc) - base;
        if (used + share > ctx.room) break;
        used += share;
        taken.push(e.items[q]);
      }
      // Exact check: the serializer may spell a command's Meta/Type differently with other Items.
      while (taken.length > 0 && this.cost(this.piece(e, taken, ctx.builder), ctx) > ctx.room) { taken.pop(); q--; }
    }
    if (q >= e.items.length) {
      // Everything left fits.
      const sent = this.piece(e, taken, ctx.builder);
      const size = this.cost(sent, ctx);
      this.queue.shift();
      this.record(ctx, e, sent, snap, startPos > 0 ? { items: { start: startPos, end: q } } : {});
      ctx.room -= size;
      return;
    }
    // Item q does not fit in what is left. It is cut only when it cannot fit whole in a fresh
    // message (or when this message is as fresh as they come); otherwise it waits.
    const continuing = e.off > 0;
    const wholeAlone = continuing ? Infinity : commandSize({ ...skeleton, items: [e.items[q]] } as Command, enc);
    if (!continuing && wholeAlone <= ctx.fresh && (taken.length > 0 || ctx.room < ctx.fresh)) {
      if (taken.length > 0) this.emitPart(e, taken, q, ctx, snap);
      ctx.stop = true;
      return;
    }
    if (!continuing) {
      const prepared = this.prepare(e.items[q]);
      if (prepared === undefined) {
        if (taken.length > 0) this.emitPart(e, taken, q, ctx, snap);
        else if (ctx.room < ctx.fresh) { /* the next message may have the room */ } else throw this.tooLarge(e, q, wholeAlone, ctx);
        ctx.stop = true;
        return;
      }
      e.items = e.items.slice();
      e.items[q] = prepared.item;
      e.total = prepared.total;
    }
    const chunk = this.fitChunk(e, q, taken, ctx);
    if (chunk === undefined) {
      // Not even one unit of Data fits after what is here.
      this.restore(snap);
      if (taken.length > 0) this.emitPart(e, taken, q, ctx, snap);
      else if (ctx.room >= ctx.fresh) throw this.tooLarge(e, q, wholeAlone, ctx, true);
      ctx.stop = true;
      return;
    }
    const { end, item: ci, last } = chunk;
    const start = e.off;
    const sent = this.piece(e, [...taken, ci], ctx.builder);
    const size = this.cost(sent, ctx);
    if (last) { e.pos = q + 1; e.off = 0; } else { e.pos = q; e.off = end; }
    const done = last && e.pos >= e.items.length;
    if (done) this.queue.shift();
    this.record(ctx, e, sent, snap, { items: { start: startPos, end: q + 1 }, chunk: { item: q, start, end, total: e.total, last } });
    ctx.room -= size;
    // After a chunk with MoreData nothing else may go in this message (DMPRO 2.2).
    if (!last) ctx.stop = true;
  }

  /** Puts Items [e.pos, q) in the message as a piece of the command; the rest waits. */
  private emitPart(e: Entry, taken: Item[], q: number, ctx: Fill, snap: Snapshot): void {
    const sent = this.piece(e, taken, ctx.builder);
    const start = e.pos;
    e.pos = q;
    e.off = 0;
    this.record(ctx, e, sent, snap, { items: { start, end: q } });
    ctx.room -= this.cost(sent, ctx);
  }

  private tooLarge(e: Entry, q: number, size: number, ctx: Fill, cuttable = false): SyncMLError {
    const why = cuttable ? 'not even one byte of its Data fits beside the rest of the command' : 'it cannot be cut (its Data is not text or bytes)';
    return bad(`Item[${q + 1}] of ${describe(e.cmd, e.index)} needs ${Number.isFinite(size) ? size : 'more'} bytes and ${why}; a message under MaxMsgSize ${this.maxMsgSize} has room for ${ctx.fresh} after its header`, `SyncBody/${e.cmd.kind}/Item[${q + 1}]`);
  }

  /** The Item as its chunks will carry it; undefined when its Data cannot be cut. */
  private prepare(item: Item): { item: Item; total: number } | undefined {
    const d = item.data;
    if (typeof d === 'string') return { item, total: dataSize(d)! };
    if (!(d instanceof Uint8Array)) return undefined;
    if (this.encoding === 'wbxml') return { item, total: d.length };
    // XML: one representation for every chunk (see the file comment).
    if (isXmlText(d)) {
      const text = new TextDecoder().decode(d);
      return { item: { ...item, data: text }, total: d.length };
    }
    const b64 = toBase64(d);
    return { item: { ...item, meta: { ...item.meta, format: 'b64' }, data: b64 }, total: b64.length };
  }

  /**
   * The largest chunk of Item q (from `e.off`) that fits after `taken`: the rest of the Data when
   * it fits (no MoreData), else the longest prefix with MoreData. Undefined when not one unit fits.
   */
  private fitChunk(e: Entry, q: number, taken: Item[], ctx: Fill): { end: number; item: Item; last: boolean } | undefined {
    const item = e.items[q];
    const data = item.data as string | Uint8Array;
    const len = data.length;
    const align = isBase64Text(item, commandMeta(e.cmd)) ? 4 : 1;
    const start = e.off;
    const size = (end: number, last: boolean): number => this.cost(this.piece(e, [...taken, chunkItem(item, start, end, e.total, last)], ctx.builder), ctx);
    if (size(len, true) <= ctx.room) return { end: len, item: chunkItem(item, start, len, e.total, true), last: true };
    const emptyCost = size(start, false);
    if (emptyCost >= ctx.room) return undefined;
    // Every unit of Data costs at least a byte, so the budget is at most the room left; a budget
    // that reaches the end of the Data is the last chunk, handled above.
    const hi = ctx.room - emptyCost;
    const endFor = (k: number): number => chunkEnd(data, start, k, align);
    // A budget too small for one code point (or one base64 group) gives an empty chunk: counted as
    // fitting, so that `fits` holds on a prefix of [0, hi] (the chunk's end grows with the budget).
    const fits = (k: number): boolean => {
      const end = endFor(k);
      return end === start || (end < len && size(end, false) <= ctx.room);
    };
    // The answer is usually a few bytes under `hi`: look there first.
    let lo = 0;
    let top = hi;
    const guess = hi - 8;
    if (guess > 0) {
      if (fits(guess)) lo = guess;
      else top = guess - 1;
    }
    while (lo < top) {
      const mid = Math.ceil((lo + top) / 2);
      if (fits(mid)) lo = mid;
      else top = mid - 1;
    }
    const end = endFor(lo);
    if (end <= start || end >= len) return undefined;
    return { end, item: chunkItem(item, start, end, e.total, false), last: false };
  }
}

interface Snapshot {
  entry: Entry;
  pos: number;
  off: number;
  total: number;
  items: Item[];
}

interface Fill {
  builder: MessageBuilder;
  room: number;
  fresh: number;
  packed: PackedCommand[];
  snapshots: Snapshot[];
  verDTD: string;
  stop: boolean;
}

