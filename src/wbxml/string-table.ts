/**
 * The encoder's string table, built in linear time. Literal names (and a string public ID) get
 * their offsets as they are met; text goes out as STR_I first and, when the document is finished,
 * every text longer than 3 bytes that occurs at least twice (libwbxml's rule) moves into the table
 * in one pass over the body. libwbxml's own table construction is roughly cubic (7 minutes for a
 * 900 KB message); this is a hash count plus one copy.
 */
import { putMb } from './mbuint.js';
import { STR_T } from './tokens.js';
import { utf8Encoder } from './text.js';

const MIN_LENGTH = 4;

export class StringTableBuilder {
  private table = new Uint8Array(256);
  private size = 0;
  private readonly offsets = new Map<string, number>();
  /** (token offset, first byte, end byte) of every STR_I in the body. */
  private refs = new Int32Array(96);
  private refCount = 0;

  reset(): void {
    this.size = 0;
    this.offsets.clear();
    this.refCount = 0;
  }

  /** Table offset of `s`, adding it if new (names of literal tags and attributes, public IDs). */
  literal(s: string): number {
    let off = this.offsets.get(s);
    if (off === undefined) {
      off = this.append(utf8Encoder.encode(s));
      this.offsets.set(s, off);
    }
    return off;
  }

  private append(bytes: Uint8Array): number {
    const need = this.size + bytes.length + 1;
    if (need > this.table.length) {
      const next = new Uint8Array(Math.max(need, this.table.length * 2));
      next.set(this.table.subarray(0, this.size));
      this.table = next;
    }
    const off = this.size;
    this.table.set(bytes, off);
    this.table[off + bytes.length] = 0;
    this.size = need;
    return off;
  }

  /** Records an STR_I written at `token` whose bytes are body[from, to). */
  text(token: number, from: number, to: number): void {
    if (to - from < MIN_LENGTH) return;
    if (this.refCount * 3 + 3 > this.refs.length) {
      const next = new Int32Array(this.refs.length * 2);
      next.set(this.refs);
      this.refs = next;
    }
    const r = this.refs;
    const i = this.refCount++ * 3;
    r[i] = token;
    r[i + 1] = from;
    r[i + 2] = to;
  }

  /** Moves recorded positions after `at` by `delta` (the body was spliced there). */
  shift(at: number, delta: number): void {
    const r = this.refs;
    for (let i = 0; i < this.refCount * 3; i += 3) {
      if (r[i] > at) r[i] += delta;
      if (r[i + 1] > at) r[i + 1] += delta;
      if (r[i + 2] >= at) r[i + 2] += delta;
    }
  }

  /** Returns the body with repeated strings replaced by STR_T references (never longer). */
  rewrite(body: Uint8Array, length: number): Uint8Array {
    const r = this.refs;
    const n = this.refCount;
    const keys: string[] = new Array(n);
    const counts = new Map<string, number>();
    for (let k = 0; k < n; k++) {
      const key = binaryKey(body, r[k * 3 + 1], r[k * 3 + 2]);
      keys[k] = key;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const out = new Uint8Array(length);
    let o = 0;
    let copied = 0;
    for (let k = 0; k < n; k++) {
      const key = keys[k];
      if ((counts.get(key) ?? 0) < 2) continue;
      const token = r[k * 3], from = r[k * 3 + 1], to = r[k * 3 + 2];
      let off = this.offsets.get(key);
      if (off === undefined) {
        off = this.append(body.subarray(from, to));
        this.offsets.set(key, off);
      }
      out.set(body.subarray(copied, token), o);
      o += token - copied;
      out[o++] = STR_T;
      o = putMb(out, o, off);
      copied = to + 1; // skip the NUL
    }
    out.set(body.subarray(copied, length), o);
    o += length - copied;
    return out.subarray(0, o);
  }

  bytes(): Uint8Array {
    return this.table.subarray(0, this.size);
  }
}

/**
 * One JS string per byte sequence, used only as a Map key. Literal names are keyed by their text,
 * so a key equals a literal's only when both are ASCII, which is what reuse needs.
 */
function binaryKey(b: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i += 4096) {
    s += String.fromCharCode.apply(null, b.subarray(i, Math.min(to, i + 4096)) as unknown as number[]);
  }
  return s;
}
