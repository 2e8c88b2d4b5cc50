/**
 * Receiving large objects (DMPRO 2.2; research note 1.4): an object bigger than a message travels
 * as chunks, one per message, each an Item with `<MoreData/>` except the last; `Meta/Size` (the
 * whole object's size in bytes) comes on the first chunk only. The receiver answers every
 * non-final chunk with 213, reassembles, compares with Size (424 on a mismatch, nothing is
 * executed) and only then executes the command once with the whole value.
 *
 * One object is open at a time: DMPRO forbids any other command or Item between two chunks. When
 * one arrives anyway, the open object is dropped and the receiver sends Alert 1225 (NO END OF
 * DATA) with the original Target/Source ({@link LargeObjectAssembler.interrupt}).
 *
 * Decisions where the specification is silent:
 * - Size counts the object as transmitted: bytes for OPAQUE data, the UTF-8 bytes of the text
 *   otherwise (for `b64` the base64 text, which is what the chunks carry).
 * - Text chunks are joined as bytes and decoded once at the end, so the value is exactly the
 *   concatenated text; chunks that were bytes (even one) give bytes.
 * - A first chunk without Size is accepted (no mismatch check at the end); `maxObjSize` still caps
 *   what is buffered (413).
 * - Once the received bytes pass Size or `maxObjSize` the object is refused at once (424 / 413)
 *   rather than buffered to the end; its later chunks get the same code, without executing the
 *   final one, until the last chunk or an interruption closes it.
 */
import type { Item, Meta } from '../syncml/types.js';
import { isDmError } from './errors.js';
import type { NodeValue } from './tree.js';

/** What is known of an object when its first chunk arrives. @public */
export interface LargeObjectInfo {
  /** The command carrying it (`Replace`, `Add`, `Exec`). */
  command: string;
  target?: string;
  source?: string;
  /** Meta/Size of the first chunk, if any. */
  size?: number;
  format?: string;
  type?: string;
}

/**
 * Where chunks are kept while they arrive; the default keeps them in memory. An implementation
 * may write to a file (a firmware image does not belong in the heap); throwing a `DmError` with
 * status 420 from `append` answers "device full".
 * @public
 */
export interface LargeObjectBuffer {
  /** A new object starts (any previous one was finished or discarded). */
  begin(info: LargeObjectInfo): void | Promise<void>;
  append(chunk: Uint8Array): void | Promise<void>;
  /** The whole object; the buffer is then empty. */
  finish(): Uint8Array | Promise<Uint8Array>;
  /** Drops what was received. */
  discard(): void | Promise<void>;
}

/** The default {@link LargeObjectBuffer}: chunks in memory, joined once by `finish`. @public */
export class MemoryLargeObjectBuffer implements LargeObjectBuffer {
  private chunks: Uint8Array[] = [];
  private length = 0;

  begin(): void {
    this.chunks = [];
    this.length = 0;
  }

  append(chunk: Uint8Array): void {
    this.chunks.push(chunk.slice());
    this.length += chunk.length;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) { out.set(c, at); at += c.length; }
    this.begin();
    return out;
  }

  discard(): void {
    this.begin();
  }
}

/** What one chunk led to. @public */
export type ChunkOutcome =
  /** Not the last chunk: answer 213. */
  | { kind: 'buffered' }
  /** Answer `status` (413 too large, 424 size mismatch, 400 not text or bytes, 420/500 buffer failure); nothing executes. */
  | { kind: 'refused'; status: number }
  /** The last chunk: execute the command once with `value` (Format/Type/Size of the first chunk). */
  | { kind: 'complete'; value: NodeValue; size?: number; format?: string; type?: string };

/** The Target/Source of an object dropped before its last chunk, for Alert 1225. @public */
export interface InterruptedObject {
  target?: string;
  source?: string;
}

/** Options of {@link LargeObjectAssembler}. @public */
export interface LargeObjectAssemblerOptions {
  buffer?: LargeObjectBuffer;
  /** Largest object accepted, in bytes (the MaxObjSize the device announces); above: 413. */
  maxObjSize?: number;
}

type State =
  | { kind: 'idle' }
  | { kind: 'receiving'; info: LargeObjectInfo; received: number; sawBytes: boolean }
  | { kind: 'refused'; info: LargeObjectInfo; status: number };

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

function refused(status: number): ChunkOutcome {
  return { kind: 'refused', status };
}

/**
 * The receiving side of large objects, across messages: the DPU keeps one per session and feeds
 * it every Item that has `moreData` or continues the open object.
 *
 * @example
 * ```ts
 * const lo = new LargeObjectAssembler({ maxObjSize: 1 << 20 });
 * await lo.accept('Replace', { target: { locUri: './F/PkgData' }, meta: { size: 6 }, data: 'abc', moreData: true }, { size: 6 });
 * // { kind: 'buffered' }  -> Status 213, next message:
 * await lo.accept('Replace', { target: { locUri: './F/PkgData' }, data: 'def' }, {});
 * // { kind: 'complete', value: 'abcdef', size: 6 }
 * ```
 * @public
 */
export class LargeObjectAssembler {
  private readonly buffer: LargeObjectBuffer;
  private readonly maxObjSize: number | undefined;
  private state: State = { kind: 'idle' };

  constructor(options: LargeObjectAssemblerOptions = {}) {
    this.buffer = options.buffer ?? new MemoryLargeObjectBuffer();
    this.maxObjSize = options.maxObjSize;
  }

  /** True while chunks of an accepted object are expected. */
  get receiving(): boolean {
    return this.state.kind === 'receiving';
  }

  /** True while a chunk sequence is open (being received, or refused but not yet finished). */
  get open(): boolean {
    return this.state.kind !== 'idle';
  }

  /** True when `item` of a `command` continues the open object (same command, Target and Source). */
  continues(command: string, item: Item): boolean {
    if (this.state.kind === 'idle') return false;
    const { info } = this.state;
    return info.command === command && item.target?.locUri === info.target && item.source?.locUri === info.source;
  }

  /**
   * Takes a chunk: the first one of an object (`item.moreData` set, nothing open) or the next one
   * of the open object (check {@link continues} first; anything else must {@link interrupt}).
   * `meta` is the Item's Meta over the command's.
   */
  async accept(command: string, item: Item, meta: Meta | undefined): Promise<ChunkOutcome> {
    const more = item.moreData === true;
    if (this.state.kind === 'idle') {
      const info: LargeObjectInfo = { command };
      if (item.target?.locUri !== undefined) info.target = item.target.locUri;
      if (item.source?.locUri !== undefined) info.source = item.source.locUri;
      if (meta?.size !== undefined) info.size = meta.size;
      if (meta?.format !== undefined) info.format = meta.format;
      if (meta?.type !== undefined) info.type = meta.type;
      if (this.maxObjSize !== undefined && info.size !== undefined && info.size > this.maxObjSize) {
        // Refused before anything is buffered.
        if (more) this.state = { kind: 'refused', info, status: 413 };
        return refused(413);
      }
      try {
        await this.buffer.begin(info);
      } catch (e) {
        return this.fail(info, more, e);
      }
      this.state = { kind: 'receiving', info, received: 0, sawBytes: false };
    }
    const st = this.state;
    if (st.kind === 'refused') {
      if (!more) this.state = { kind: 'idle' };
      return refused(st.status);
    }
    if (st.kind !== 'receiving') return refused(500);
    const data = item.data;
    let chunk: Uint8Array;
    if (data === undefined) chunk = new Uint8Array(0);
    else if (typeof data === 'string') chunk = utf8.encode(data);
    else if (data instanceof Uint8Array) { chunk = data; st.sawBytes = true; }
    else return this.drop(st.info, more, 400); // a parsed document cannot be a chunk
    st.received += chunk.length;
    if (this.maxObjSize !== undefined && st.received > this.maxObjSize) return this.drop(st.info, more, 413);
    if (st.info.size !== undefined && st.received > st.info.size) return this.drop(st.info, more, 424);
    let whole: Uint8Array;
    try {
      await this.buffer.append(chunk);
      if (more) return { kind: 'buffered' };
      whole = await this.buffer.finish();
    } catch (e) {
      return this.fail(st.info, more, e);
    }
    this.state = { kind: 'idle' };
    const { info } = st;
    if (info.size !== undefined && whole.length !== info.size) return refused(424);
    const out: ChunkOutcome = { kind: 'complete', value: st.sawBytes ? whole : utf8Decoder.decode(whole) };
    if (info.size !== undefined) out.size = info.size;
    if (info.format !== undefined) out.format = info.format;
    if (info.type !== undefined) out.type = info.type;
    return out;
  }

  /**
   * Drops the open object because something else arrived. Returns its Target/Source when it was
   * being received (the caller sends Alert 1225), undefined when nothing was open or the object
   * had already been refused (its chunks were answered with the refusal already).
   */
  async interrupt(): Promise<InterruptedObject | undefined> {
    const st = this.state;
    this.state = { kind: 'idle' };
    if (st.kind !== 'receiving') return undefined;
    await this.discardQuietly();
    const out: InterruptedObject = {};
    if (st.info.target !== undefined) out.target = st.info.target;
    if (st.info.source !== undefined) out.source = st.info.source;
    return out;
  }

  /** Forgets any open object without reporting it (session end, abort, user cancel). */
  async reset(): Promise<void> {
    const wasReceiving = this.state.kind === 'receiving';
    this.state = { kind: 'idle' };
    if (wasReceiving) await this.discardQuietly();
  }

  private async discardQuietly(): Promise<void> {
    try {
      await this.buffer.discard();
    } catch {
      // A buffer that cannot clean up must not fail the command that interrupted it.
    }
  }

  private async drop(info: LargeObjectInfo, more: boolean, status: number): Promise<ChunkOutcome> {
    await this.discardQuietly();
    this.state = more ? { kind: 'refused', info, status } : { kind: 'idle' };
    return refused(status);
  }

  private fail(info: LargeObjectInfo, more: boolean, e: unknown): Promise<ChunkOutcome> {
    const status = isDmError(e) && e.status !== undefined && e.status >= 400 && e.status <= 599 ? e.status : 500;
    return this.drop(info, more, status);
  }
}
