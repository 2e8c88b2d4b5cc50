/** Base64 (RFC 4648 §4) in plain JS, so the core needs neither Buffer nor btoa. */
import { WbxmlError } from './errors.js';
import { bytesToString } from './text.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const ENC = new Uint8Array(64);
for (let i = 0; i < 64; i++) ENC[i] = ALPHABET.charCodeAt(i);

/** Base64 of `bytes[start,end)` as ASCII bytes written into `out` at `o`; returns the new offset. */
export function base64Into(bytes: Uint8Array, start: number, end: number, out: Uint8Array, o: number): number {
  let i = start;
  for (; i + 2 < end; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out[o++] = ENC[v >> 18];
    out[o++] = ENC[(v >> 12) & 63];
    out[o++] = ENC[(v >> 6) & 63];
    out[o++] = ENC[v & 63];
  }
  const rest = end - i;
  if (rest === 1) {
    const v = bytes[i] << 16;
    out[o++] = ENC[v >> 18];
    out[o++] = ENC[(v >> 12) & 63];
    out[o++] = 61;
    out[o++] = 61;
  } else if (rest === 2) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out[o++] = ENC[v >> 18];
    out[o++] = ENC[(v >> 12) & 63];
    out[o++] = ENC[(v >> 6) & 63];
    out[o++] = 61;
  }
  return o;
}

/** Length of the base64 text of n bytes. */
export function base64Length(n: number): number {
  return Math.ceil(n / 3) * 4;
}

/** Base64 text of `bytes`. @public */
export function toBase64(bytes: Uint8Array): string {
  const out = new Uint8Array(base64Length(bytes.length));
  base64Into(bytes, 0, bytes.length, out, 0);
  return bytesToString(out, 0, out.length, true);
}

/** Options of {@link fromBase64}. @public */
export interface FromBase64Options {
  /**
   * Accept only canonical RFC 4648 text: no whitespace, exact `=` padding, zero pad bits.
   * Default false: whitespace (space, tab, CR, LF, FF) is skipped and padding may be missing,
   * because peers line-wrap and trim nonces.
   */
  strict?: boolean;
}

const INVALID = -1;
const SPACE = -2;
const PAD = -3;
/** Character code -> 6-bit value, or one of INVALID / SPACE / PAD. */
const DECODE = new Int8Array(256).fill(INVALID);
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
for (const c of [0x20, 0x09, 0x0a, 0x0d, 0x0c]) DECODE[c] = SPACE;
DECODE[0x3d] = PAD;

/**
 * Decodes standard-alphabet base64. Throws `WbxmlError` `BAD_ENCODING` whose `offset` is the
 * character offset of the problem: a character outside the alphabet, a misplaced `=`, a dangling
 * single character (and, in strict mode, whitespace, missing padding or non-zero pad bits).
 * @public
 */
export function fromBase64(text: string, options: FromBase64Options = {}): Uint8Array {
  const strict = options.strict === true;
  const n = text.length;
  const out = new Uint8Array(Math.floor((n * 3) / 4) + 3);
  let o = 0;
  let acc = 0; // bits of the current group
  let groupLen = 0; // characters of the current group (0..3)
  let pads = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const v = c < 256 ? DECODE[c] : INVALID;
    if (v >= 0) {
      if (pads > 0) throw bad('base64 data after padding', i);
      acc = (acc << 6) | v;
      if (++groupLen === 4) {
        out[o++] = acc >>> 16;
        out[o++] = (acc >>> 8) & 0xff;
        out[o++] = acc & 0xff;
        acc = 0;
        groupLen = 0;
      }
    } else if (v === PAD) {
      // '=' may only complete a group of 2 or 3 data characters (RFC 4648 section 4).
      if (groupLen < 2 || groupLen + pads >= 4) throw bad('misplaced base64 padding', i);
      pads++;
    } else if (v !== SPACE || strict) {
      throw bad(`invalid base64 character ${JSON.stringify(text[i])}`, i);
    }
  }
  if (groupLen === 1) throw bad('base64 text ends with a single dangling character', n - 1);
  if (groupLen > 1) {
    if (strict && groupLen + pads !== 4) throw bad('base64 padding missing', n);
    // Strict mode wants the unused low bits of the last character to be zero (canonical form).
    const spare = groupLen === 2 ? acc & 0x0f : acc & 0x03;
    if (strict && spare !== 0) throw bad('non-zero base64 pad bits', n - 1 - pads);
    if (groupLen === 2) {
      out[o++] = acc >>> 4;
    } else {
      out[o++] = acc >>> 10;
      out[o++] = (acc >>> 2) & 0xff;
    }
  }
  return out.slice(0, o);
}

function bad(message: string, offset: number): WbxmlError {
  return new WbxmlError('BAD_ENCODING', offset, message);
}
