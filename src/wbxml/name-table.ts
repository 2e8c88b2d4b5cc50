/**
 * Tag names of a code page set looked up straight from UTF-8 bytes (no string made), used by the
 * XML -> WBXML path, where a Map<string, …> would need every element name decoded first.
 *
 * Open addressing over (length, first word): each slot keeps the name's bytes as zero-padded
 * little-endian words, so a lookup is one hash, and for names up to 32 bytes (all built-in ones) a
 * compare of at most eight words read straight from the input.
 */
import type { CodePageSet } from './code-page.js';
import { utf8Encoder } from './text.js';

const WORDS = 8; // names up to 32 bytes (the longest built-in: 23) compare by words; longer ones byte by byte

export class NameTable {
  /** Slots - 1; the table is a power of two at least twice the names (short probe runs). */
  private readonly mask: number;
  /** 32 - log2(slots): the hash's top bits pick the slot. */
  private readonly shift: number;
  private readonly lengths: Int32Array;
  private readonly words: Int32Array;
  private readonly names: (Uint8Array | undefined)[];
  private readonly ids: (readonly number[] | undefined)[];

  constructor(set: CodePageSet) {
    let slots = 64;
    while (slots < 2 * set.tagTokensAll.size) slots *= 2;
    this.mask = slots - 1;
    this.shift = 32 - Math.log2(slots);
    this.lengths = new Int32Array(slots).fill(-1);
    this.words = new Int32Array(slots * WORDS);
    this.names = new Array(slots).fill(undefined);
    this.ids = new Array(slots).fill(undefined);
    for (const [name, ids] of set.tagTokensAll) {
      const bytes = utf8Encoder.encode(name);
      const w = new Int32Array(WORDS);
      for (let i = 0; i < bytes.length && i < WORDS * 4; i++) w[i >> 2] |= bytes[i] << ((i & 3) * 8);
      let slot = hash(bytes.length, w[0]) >>> this.shift;
      while (this.lengths[slot] >= 0) slot = (slot + 1) & this.mask;
      this.lengths[slot] = bytes.length;
      this.words.set(w, slot * WORDS);
      this.names[slot] = bytes;
      this.ids[slot] = ids;
    }
  }

  /** The ids of the name in `b[start, end)`, or undefined. `dv` views the same bytes as `b`. */
  lookup(b: Uint8Array, dv: DataView, start: number, end: number): readonly number[] | undefined {
    const n = end - start;
    // A name is followed by at least '>' in a well-formed tag, but words may not run past the input.
    if (n === 0 || n > WORDS * 4 || start + ((n + 3) & ~3) > b.length) return this.slowLookup(b, start, end);
    const full = n >> 2;
    const rem = n & 3;
    const mask = rem === 0 ? 0 : (1 << (rem * 8)) - 1;
    const w0 = full > 0 ? dv.getInt32(start, true) : dv.getInt32(start, true) & mask;
    const lengths = this.lengths;
    const words = this.words;
    const m = this.mask;
    for (let slot = hash(n, w0) >>> this.shift; ; slot = (slot + 1) & m) {
      const len = lengths[slot];
      if (len < 0) return undefined;
      if (len !== n || words[slot * WORDS] !== w0) continue;
      let i = 1;
      for (; i < full; i++) if (words[slot * WORDS + i] !== dv.getInt32(start + 4 * i, true)) break;
      if (i < full) continue;
      if (full > 0 && rem !== 0 && words[slot * WORDS + full] !== (dv.getInt32(start + 4 * full, true) & mask)) continue;
      return this.ids[slot];
    }
  }

  /** Names longer than the word compare covers, or at the very end of the input. */
  private slowLookup(b: Uint8Array, start: number, end: number): readonly number[] | undefined {
    const n = end - start;
    for (let slot = 0; slot <= this.mask; slot++) {
      const name = this.names[slot];
      if (name === undefined || name.length !== n) continue;
      let j = 0;
      while (j < n && name[j] === b[start + j]) j++;
      if (j === n) return this.ids[slot];
    }
    return undefined;
  }
}

/** Multiplicative hashing: the top bits depend on every byte of the first word and on the length. */
function hash(n: number, w0: number): number {
  return Math.imul(w0 ^ (n << 24), 0x9e3779b1);
}

const tables = new WeakMap<CodePageSet, NameTable>();

/** The (cached) name table of a code page set. */
export function nameTable(set: CodePageSet): NameTable {
  let t = tables.get(set);
  if (!t) tables.set(set, (t = new NameTable(set)));
  return t;
}
