/**
 * UTF-8 helpers for the XML scanner: validation of one sequence, code point encoding, lazy
 * line:column computation and human-readable descriptions of a byte position for messages.
 * Everything here is allocation-free except the message helpers, which run only when throwing.
 */
import { WbxmlError, hexByte, type WbxmlErrorCode, type XmlPosition } from '../errors.js';

/** Byte length of a UTF-8 BOM at the start of `b`, 0 when none. */
export function bomLength(b: Uint8Array): number {
  return b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
}

/**
 * 1-based line and column of byte `offset` in `b` (scanned from the start, after a BOM). Lines end
 * at LF, CR or CRLF; columns count UTF-16 code units. Invalid UTF-8 counts one unit per lead byte.
 */
export function positionIn(b: Uint8Array, offset: number): XmlPosition {
  const stop = Math.min(Math.max(offset, 0), b.length);
  let line = 1;
  let column = 1;
  let i = bomLength(b);
  while (i < stop) {
    const c = b[i++];
    if (c === 0x0a) {
      line++;
      column = 1;
    } else if (c === 0x0d) {
      line++;
      column = 1;
      if (i < stop && b[i] === 0x0a) i++;
    } else if (c < 0x80) column++;
    else if (c >= 0xf0) column += 2; // astral: a surrogate pair
    else if (c >= 0xc0) column++;
    // continuation bytes 0x80-0xBF add nothing
  }
  return { line, column };
}

/** Mask of the code point in a {@link utf8At} result. */
export const UTF8_CP_MASK = 0x1fffff;
/** Shift of the sequence length in a {@link utf8At} result. */
export const UTF8_LEN_SHIFT = 21;

/** Throws a {@link WbxmlError} positioned in `b`. */
export function fail(b: Uint8Array, code: WbxmlErrorCode, offset: number, message: string): never {
  throw new WbxmlError(code, offset, message, positionIn(b, offset));
}

/**
 * Validates the UTF-8 sequence whose lead byte (>= 0x80) is at `b[p]`, with `end` the exclusive
 * bound. Returns `(length << 21) | codePoint` (see {@link UTF8_CP_MASK}, {@link UTF8_LEN_SHIFT}). Throws `BAD_ENCODING` for malformed,
 * overlong, surrogate or truncated sequences and `INVALID_XML_CHAR` for U+FFFE / U+FFFF.
 */
export function utf8At(b: Uint8Array, p: number, end: number): number {
  const c = b[p];
  let cp: number;
  if (c >= 0xc2 && c <= 0xdf) {
    if (p + 1 < end) {
      const c1 = b[p + 1];
      if ((c1 & 0xc0) === 0x80) {
        return (2 << 21) | ((c & 0x1f) << 6) | (c1 & 0x3f);
      }
    }
  } else if (c >= 0xe0 && c <= 0xef) {
    if (p + 2 < end) {
      const c1 = b[p + 1];
      const c2 = b[p + 2];
      if ((c1 & 0xc0) === 0x80 && (c2 & 0xc0) === 0x80) {
        cp = ((c & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (c2 & 0x3f);
        if (cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff)) {
          if (cp >= 0xfffe) {
            fail(b, 'INVALID_XML_CHAR', p, `U+${cp.toString(16).toUpperCase()} is not a valid XML character`);
          }
          return (3 << 21) | cp;
        }
      }
    }
  } else if (c >= 0xf0 && c <= 0xf4) {
    if (p + 3 < end) {
      const c1 = b[p + 1];
      const c2 = b[p + 2];
      const c3 = b[p + 3];
      if ((c1 & 0xc0) === 0x80 && (c2 & 0xc0) === 0x80 && (c3 & 0xc0) === 0x80) {
        cp = ((c & 0x07) << 18) | ((c1 & 0x3f) << 12) | ((c2 & 0x3f) << 6) | (c3 & 0x3f);
        if (cp >= 0x10000 && cp <= 0x10ffff) {
          return (4 << 21) | cp;
        }
      }
    }
  }
  return badUtf8(b, p, end);
}

function badUtf8(b: Uint8Array, p: number, end: number): never {
  const c = b[p];
  let what: string;
  if (c < 0xc0) what = `unexpected continuation byte ${hexByte(c)}`;
  else if (c === 0xc0 || c === 0xc1 || c > 0xf4) what = `byte ${hexByte(c)} cannot appear in UTF-8`;
  else {
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    if (p + need > end) what = `truncated UTF-8 sequence at ${hexByte(c)}`;
    else {
      let s = '';
      for (let i = 0; i < need; i++) s += (i ? ' ' : '') + hexByte(b[p + i]);
      what = `invalid UTF-8 sequence ${s}`;
    }
  }
  return fail(b, 'BAD_ENCODING', p, what);
}

/** Writes code point `cp` as UTF-8 at `dst[o]`; returns the new position. */
export function putUtf8(dst: Uint8Array, o: number, cp: number): number {
  if (cp < 0x80) {
    dst[o++] = cp;
  } else if (cp < 0x800) {
    dst[o++] = 0xc0 | (cp >> 6);
    dst[o++] = 0x80 | (cp & 0x3f);
  } else if (cp < 0x10000) {
    dst[o++] = 0xe0 | (cp >> 12);
    dst[o++] = 0x80 | ((cp >> 6) & 0x3f);
    dst[o++] = 0x80 | (cp & 0x3f);
  } else {
    dst[o++] = 0xf0 | (cp >> 18);
    dst[o++] = 0x80 | ((cp >> 12) & 0x3f);
    dst[o++] = 0x80 | ((cp >> 6) & 0x3f);
    dst[o++] = 0x80 | (cp & 0x3f);
  }
  return o;
}

/** XML 1.0 NameStartChar for a non-ASCII code point. */
export function isNameStartCp(cp: number): boolean {
  return (cp >= 0xc0 && cp <= 0xd6) || (cp >= 0xd8 && cp <= 0xf6) || (cp >= 0xf8 && cp <= 0x2ff)
    || (cp >= 0x370 && cp <= 0x37d) || (cp >= 0x37f && cp <= 0x1fff) || cp === 0x200c || cp === 0x200d
    || (cp >= 0x2070 && cp <= 0x218f) || (cp >= 0x2c00 && cp <= 0x2fef) || (cp >= 0x3001 && cp <= 0xd7ff)
    || (cp >= 0xf900 && cp <= 0xfdcf) || (cp >= 0xfdf0 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0xeffff);
}

/** XML 1.0 NameChar for a non-ASCII code point. */
export function isNameCp(cp: number): boolean {
  return isNameStartCp(cp) || cp === 0xb7 || (cp >= 0x300 && cp <= 0x36f) || cp === 0x203f || cp === 0x2040;
}

/** A short description of what is at `b[p]` for error messages: `'x'`, `U+0001`, `byte 0xFF`, `end of input`. */
export function describeAt(b: Uint8Array, p: number, end: number = b.length): string {
  if (p >= end || p < 0) return 'end of input';
  const c = b[p];
  if (c >= 0x20 && c < 0x7f) return c === 0x27 ? `"'"` : `'${String.fromCharCode(c)}'`;
  if (c < 0x80) {
    const names: Record<number, string> = { 9: 'tab', 10: 'line feed', 13: 'carriage return' };
    return names[c] ?? `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  try {
    const cp = utf8At(b, p, end) & UTF8_CP_MASK;
    return `'${String.fromCodePoint(cp)}' (U+${cp.toString(16).toUpperCase().padStart(4, '0')})`;
  } catch {
    return `byte ${hexByte(c)}`;
  }
}

/** Describes `b[s,e)` for messages, shortened when long. */
export function sliceForMessage(b: Uint8Array, s: number, e: number): string {
  const cut = e - s > 60;
  const text = new TextDecoder().decode(b.subarray(s, cut ? s + 60 : e));
  return cut ? text + '...' : text;
}
