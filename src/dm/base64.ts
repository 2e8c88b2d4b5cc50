/**
 * Base64 (RFC 4648 section 4) without Buffer or atob, so the protocol layer runs in browsers, Deno
 * and Bun. DM carries nonces, credentials and MACs as base64 (DMREPPRO 4.1.1.2: Format `b64`).
 */
import { DmError } from './errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const ENCODE = new Uint8Array(64);
for (let i = 0; i < 64; i++) ENCODE[i] = ALPHABET.charCodeAt(i);

const INVALID = -1;
const SPACE = -2;
const PAD = -3;
/** Character code -> 6-bit value, or one of INVALID / SPACE / PAD. */
const DECODE = new Int8Array(256).fill(INVALID);
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
for (const c of [0x20, 0x09, 0x0a, 0x0d, 0x0c]) DECODE[c] = SPACE;
DECODE[0x3d] = PAD;

const ascii = new TextDecoder();

/**
 * Standard padded base64 of `bytes`.
 * @public
 */
export function toBase64(bytes: Uint8Array): string {
  const n = bytes.length;
  const out = new Uint8Array(Math.ceil(n / 3) * 4);
  let o = 0;
  let i = 0;
  for (const whole = n - (n % 3); i < whole; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out[o++] = ENCODE[v >>> 18];
    out[o++] = ENCODE[(v >>> 12) & 63];
    out[o++] = ENCODE[(v >>> 6) & 63];
    out[o++] = ENCODE[v & 63];
  }
  if (n - i === 1) {
    const v = bytes[i] << 16;
    out[o++] = ENCODE[v >>> 18];
    out[o++] = ENCODE[(v >>> 12) & 63];
    out[o++] = 0x3d;
    out[o++] = 0x3d;
  } else if (n - i === 2) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out[o++] = ENCODE[v >>> 18];
    out[o++] = ENCODE[(v >>> 12) & 63];
    out[o++] = ENCODE[(v >>> 6) & 63];
    out[o++] = 0x3d;
  }
  // All output bytes are ASCII, for which UTF-8 decoding is the identity and much faster than
  // building the string one character at a time.
  return ascii.decode(out);
}

/** Options of {@link fromBase64}. */
export interface FromBase64Options {
  /**
   * Accept only canonical RFC 4648 text: no whitespace, exact `=` padding, zero pad bits.
   * Default false: whitespace (space, tab, CR, LF, FF) is skipped and padding may be missing,
   * because peers line-wrap and trim nonces.
   */
  strict?: boolean;
}

function bad(message: string, offset: number): DmError {
  return new DmError('BAD_BASE64', message, { offset });
}

/**
 * Decodes standard-alphabet base64. Throws DmError `BAD_BASE64` (with the character offset) for
 * characters outside the alphabet, misplaced `=`, or a dangling single character.
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
  let i = 0;
  for (; i < n; i++) {
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
    } else if (v === SPACE && !strict) {
      continue;
    } else {
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
