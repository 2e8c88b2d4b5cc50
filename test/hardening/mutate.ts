/** Byte mutations of real messages, shared by the fuzzers. */
import fc from 'fast-check';

/** One change to a byte string: a bit flipped, a byte set, inserted or deleted, the tail cut, a run doubled. */
export interface ByteEdit {
  at: number;
  op: 'flip' | 'set' | 'insert' | 'delete' | 'cut' | 'dup';
  v: number;
}

/** One to six edits. */
export const byteEdits: fc.Arbitrary<ByteEdit[]> = fc.array(
  fc.record({ at: fc.nat(), op: fc.constantFrom<ByteEdit['op']>('flip', 'set', 'insert', 'delete', 'cut', 'dup'), v: fc.integer({ min: 0, max: 255 }) }),
  { minLength: 1, maxLength: 6 },
);

/** `base` with `edits` applied in order (positions wrap around the current length). */
export function mutateBytes(base: Uint8Array, edits: readonly ByteEdit[]): Uint8Array {
  let b = Array.from(base);
  for (const e of edits) {
    const at = b.length ? e.at % b.length : 0;
    if (e.op === 'flip') b[at] ^= 1 << (e.v & 7);
    else if (e.op === 'set') b[at] = e.v;
    else if (e.op === 'insert') b.splice(at, 0, e.v);
    else if (e.op === 'delete') b.splice(at, 1);
    else if (e.op === 'cut') b = b.slice(0, at);
    else b.splice(at, 0, ...b.slice(at, at + 1 + (e.v & 15)));
  }
  return new Uint8Array(b);
}
