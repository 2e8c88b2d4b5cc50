/**
 * Byte -> string decoding for the charsets WBXML documents use. Strings are decoded only when a
 * caller asks; short ones in a JS loop (TextDecoder has a flat ~90 ns call cost on Node 20, a loop
 * wins below ~16 bytes), long ones with TextDecoder.
 */
import { WbxmlError } from './errors.js';
import { CHARSET_ISO_8859_1, CHARSET_US_ASCII, CHARSET_UTF_8 } from './tokens.js';

// Below this many bytes (ASCII) JS beats a native decoder call on Node 20.
const SHORT = 16;
const lenientUtf8 = new TextDecoder('utf-8');
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A faster UTF-8 decoder for the platform (e.g. Node's `Buffer#utf8Slice`), injected by edges. */
export type Utf8DecodeHook = (bytes: Uint8Array, start: number, end: number) => string;
let hook: Utf8DecodeHook | undefined;

/**
 * Installs a platform-specific UTF-8 decoder for strings of 16 bytes and more (it must replace
 * invalid sequences with U+FFFD, as TextDecoder does; strict mode re-checks those). The core never
 * imports `node:` modules; Node edges may pass `(b, s, e) => Buffer.prototype.utf8Slice.call(b, s, e)`.
 * @public
 */
export function configureTextDecoding(decode: Utf8DecodeHook | undefined): void {
  hook = decode;
}

/** Decodes UTF-8; invalid sequences throw `BAD_ENCODING` (strict) or become U+FFFD. */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number, strict: boolean): string {
  if (end - start < SHORT) {
    let or = 0;
    for (let i = start; i < end; i++) or |= bytes[i];
    if (or < 0x80) return asciiShort(bytes, start, end);
  }
  return decodeUtf8Long(bytes, start, end, strict);
}

/**
 * An ASCII string of under 16 bytes. One fromCharCode call with the bytes as arguments is ~40%
 * faster than appending characters one by one (no intermediate strings).
 */
function asciiShort(b: Uint8Array, s: number, e: number): string {
  switch (e - s) {
    case 0: return '';
    case 1: return String.fromCharCode(b[s]);
    case 2: return String.fromCharCode(b[s], b[s + 1]);
    case 3: return String.fromCharCode(b[s], b[s + 1], b[s + 2]);
    case 4: return String.fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3]);
    case 5: return String.fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4]);
    case 6: return String.fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5]);
    case 7: return String.fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6]);
    default: return String.fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7]) + asciiShort(b, s + 8, e);
  }
}

function decodeUtf8Long(bytes: Uint8Array, start: number, end: number, strict: boolean): string {
  if (hook !== undefined || nodeUtf8 !== undefined) {
    // Both replace invalid sequences with U+FFFD: a string without one was valid UTF-8; one with
    // one goes through the strict decoder, which tells a real U+FFFD from a replacement.
    const s = hook !== undefined ? hook(bytes, start, end) : nodeUtf8!.call(bytes, start, end);
    if (!strict || s.indexOf('\ufffd') < 0) return s;
  }
  const view = bytes.subarray(start, end);
  if (!strict) return lenientUtf8.decode(view);
  try {
    return strictUtf8.decode(view);
  } catch {
    const at = firstInvalidUtf8(bytes, start, end);
    throw new WbxmlError('BAD_ENCODING', at, `invalid UTF-8 byte ${hex(bytes[at])} in a string`);
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence, or `end`. */
export function firstInvalidUtf8(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const b = bytes[i];
    if (b < 0x80) { i++; continue; }
    let need: number, min: number;
    if (b >= 0xc2 && b <= 0xdf) { need = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { need = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; min = 0x10000; }
    else return i;
    if (i + need >= end) return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return end;
}

const INTERN_MASK = 4095;
const interned: (string | undefined)[] = new Array(INTERN_MASK + 1).fill(undefined);

/**
 * Bytes the caller has seen are all below 0x80: the same text in every supported charset, and
 * valid, so no decoding and no check (Node: a one-byte string straight from the bytes).
 */
export function decodeAscii(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n < SHORT) {
    // Short values repeat (status codes, element names in Cmd, Format, Type, URIs): one string
    // each, from a small cache, allocates nothing and leaves the parsed message smaller.
    let h = n;
    for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
    const slot = (h ^ (h >>> 15)) & INTERN_MASK;
    const seen = interned[slot];
    if (seen !== undefined && seen.length === n) {
      let i = 0;
      while (i < n && seen.charCodeAt(i) === bytes[start + i]) i++;
      if (i === n) return seen;
    }
    const s = asciiShort(bytes, start, end);
    interned[slot] = s;
    return s;
  }
  if (nodeLatin1 !== undefined) return nodeLatin1.call(bytes, start, end);
  return lenientUtf8.decode(bytes.subarray(start, end));
}

/** Decodes `bytes[start,end)` in the given charset (IANA MIBenum). */
export function decodeText(bytes: Uint8Array, start: number, end: number, charset: number, strict: boolean): string {
  if (charset === CHARSET_UTF_8) return decodeUtf8(bytes, start, end, strict);
  if (charset === CHARSET_ISO_8859_1) return decodeLatin1(bytes, start, end);
  if (charset === CHARSET_US_ASCII) {
    let s = '';
    for (let i = start; i < end; i++) {
      const b = bytes[i];
      if (b >= 0x80) {
        if (strict) throw new WbxmlError('BAD_ENCODING', i, `byte ${hex(b)} is not US-ASCII`);
        s += '\ufffd';
      } else s += String.fromCharCode(b);
    }
    return s;
  }
  throw new WbxmlError('UNSUPPORTED_CHARSET', -1, `charset MIBenum ${charset} is not supported`);
}

function decodeLatin1(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  // fromCharCode.apply in chunks keeps argument counts well below engine limits.
  for (let i = start; i < end; i += 4096) {
    const j = Math.min(end, i + 4096);
    s += String.fromCharCode.apply(null, bytes.subarray(i, j) as unknown as number[]);
  }
  return s;
}

/** Transcodes latin-1 or ASCII text to UTF-8 bytes (used when converting to XML). */
export function latin1ToUtf8(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return utf8Encoder.encode(decodeLatin1(bytes, start, end));
}

export const utf8Encoder = new TextEncoder();

type Slice = (this: Uint8Array, start: number, end: number) => string;
// Node and Bun make one-byte strings from bytes ~30x faster with Buffer#latin1Slice than
// TextDecoder decodes UTF-8, and Buffer#utf8Slice decodes short strings ~30% faster than
// TextDecoder. Found on globalThis (no import), so the core still runs anywhere.
const nodeBuffer = (globalThis as { Buffer?: { prototype?: { latin1Slice?: Slice; utf8Slice?: Slice } } }).Buffer?.prototype;
const nodeLatin1: Slice | undefined = nodeBuffer?.latin1Slice;
const nodeUtf8: Slice | undefined = nodeBuffer?.utf8Slice;
const asciiDecoder = new TextDecoder('latin1');
/** Whether ASCII bytes become strings much faster than UTF-8 decoding here (Node, Bun). */
export const hasOneByteFastPath = nodeLatin1 !== undefined;

/**
 * A string from UTF-8 bytes the caller produced. `ascii` = the caller knows every byte is < 0x80,
 * which lets the one-byte fast path run.
 */
export function bytesToString(bytes: Uint8Array, start: number, end: number, ascii: boolean): string {
  if (ascii) {
    if (nodeLatin1 !== undefined) return nodeLatin1.call(bytes, start, end);
    return asciiDecoder.decode(bytes.subarray(start, end));
  }
  return lenientUtf8.decode(bytes.subarray(start, end));
}

function hex(b: number): string {
  return '0x' + b.toString(16).toUpperCase().padStart(2, '0');
}
