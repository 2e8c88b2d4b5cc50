/**
 * Tag names of a code page set looked up straight from UTF-8 bytes (no string made): a small
 * open hash on (length, first byte, last byte), then a byte compare. Used by the XML -> WBXML
 * path, where a Map<string, …> would need every element name decoded first.
 */
import type { CodePageSet } from './code-page.js';
import { utf8Encoder } from './text.js';

interface Entry {
  bytes: Uint8Array;
  /** The bytes as little-endian 32-bit words (zero-padded), compared four bytes at a time. */
  words: Int32Array;
  /** Every (page << 8 | token) with this name. */
  ids: readonly number[];
}

const SIZE = 512;

export class NameTable {
  private readonly buckets: (Entry[] | undefined)[] = new Array(SIZE).fill(undefined);

  constructor(set: CodePageSet) {
    for (const [name, ids] of set.tagTokensAll) {
      const bytes = utf8Encoder.encode(name);
      const h = hash(bytes, 0, bytes.length);
      const words = new Int32Array(Math.ceil(bytes.length / 4));
      for (let i = 0; i < bytes.length; i++) words[i >> 2] |= bytes[i] << ((i & 3) * 8);
      (this.buckets[h] ??= []).push({ bytes, words, ids });
    }
  }

  /** The ids of the name in `b[start, end)`, or undefined. `dv` views the same bytes as `b`. */
  lookup(b: Uint8Array, dv: DataView, start: number, end: number): readonly number[] | undefined {
    const bucket = this.buckets[hash(b, start, end)];
    if (bucket === undefined) return undefined;
    const n = end - start;
    const whole = n >> 2;
    for (let k = 0; k < bucket.length; k++) {
      const entry = bucket[k];
      if (entry.bytes.length !== n) continue;
      const w = entry.words;
      let i = 0;
      while (i < whole && w[i] === dv.getInt32(start + 4 * i, true)) i++;
      if (i < whole) continue;
      const e = entry.bytes;
      let j = whole << 2;
      while (j < n && e[j] === b[start + j]) j++;
      if (j === n) return entry.ids;
    }
    return undefined;
  }
}

function hash(b: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n === 0) return 0;
  return (n * 31 + b[start] * 7 + b[end - 1] * 3 + (n > 2 ? b[start + 2] : 0)) & (SIZE - 1);
}

const tables = new WeakMap<CodePageSet, NameTable>();

/** The (cached) name table of a code page set. */
export function nameTable(set: CodePageSet): NameTable {
  let t = tables.get(set);
  if (!t) tables.set(set, (t = new NameTable(set)));
  return t;
}
