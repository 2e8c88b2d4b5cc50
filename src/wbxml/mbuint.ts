/**
 * WBXML's mb_u_int32 (WAP-192 §5.1): big-endian base-128 groups, high bit = "more follows".
 * At most 5 bytes; values above 2^32-1 are refused.
 */
import { WbxmlError } from './errors.js';

/** Writes `v` at `b[p]`, returns the offset after it. The caller reserved 5 bytes. */
export function putMb(b: Uint8Array, p: number, v: number): number {
  if (v < 0x80) { b[p] = v; return p + 1; }
  const n = mbSize(v);
  for (let i = n - 1; i >= 0; i--) {
    const group = Math.floor(v / 2 ** (7 * i)) & 0x7f;
    b[p++] = i > 0 ? group | 0x80 : group;
  }
  return p;
}

/** How many bytes `v` takes. */
export function mbSize(v: number): number {
  let n = 1;
  for (let t = Math.floor(v / 128); t > 0; t = Math.floor(t / 128)) n++;
  return n;
}

/**
 * Reads an mb_u_int32 at `b[p]`; returns the value and the offset after it.
 * @public
 */
export function readMb(b: Uint8Array, p: number): { value: number; next: number } {
  let v = 0;
  for (let i = 0; i < 5; i++) {
    if (p + i >= b.length) throw new WbxmlError('TRUNCATED', p, 'input ends inside a multi-byte integer');
    const c = b[p + i];
    v = v * 128 + (c & 0x7f);
    if (c < 0x80) {
      if (v > 0xffffffff) throw new WbxmlError('BAD_MBUINT', p, 'multi-byte integer above 2^32-1');
      return { value: v, next: p + i + 1 };
    }
  }
  throw new WbxmlError('BAD_MBUINT', p, 'multi-byte integer longer than 5 bytes');
}
