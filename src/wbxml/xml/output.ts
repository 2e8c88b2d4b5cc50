/**
 * A growable UTF-8 byte buffer for writing XML. Text is copied from the input bytes with escaping
 * in one pass; only the final result is turned into a string, once.
 */
import { WbxmlError } from '../errors.js';
import { bytesToString, firstInvalidUtf8, hasOneByteFastPath, utf8Encoder } from '../text.js';

/** Which character classes need work when copied into XML text: 1 = escape, 2 = invalid. */
const TEXT_CLASS = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) TEXT_CLASS[c] = 2;
TEXT_CLASS[0x09] = 0; // tab and LF are kept as they are
TEXT_CLASS[0x0a] = 0;
TEXT_CLASS[0x0d] = 1; // CR is written as &#13; or XML parsers would turn CRLF into LF
TEXT_CLASS[0x26] = 1; // &
TEXT_CLASS[0x3c] = 1; // <
TEXT_CLASS[0x3e] = 1; // > (needed after "]]"; escaping it always is simpler)
const ATTR_CLASS = TEXT_CLASS.slice();
ATTR_CLASS[0x22] = 1; // "
ATTR_CLASS[0x09] = 1; // attribute values normalise tab/LF to spaces: keep them as references
ATTR_CLASS[0x0a] = 1;

const ESCAPES: Record<number, Uint8Array> = {
  0x26: utf8Encoder.encode('&amp;'),
  0x3c: utf8Encoder.encode('&lt;'),
  0x3e: utf8Encoder.encode('&gt;'),
  0x22: utf8Encoder.encode('&quot;'),
  0x0d: utf8Encoder.encode('&#13;'),
  0x0a: utf8Encoder.encode('&#10;'),
  0x09: utf8Encoder.encode('&#9;'),
};
const REPLACEMENT = utf8Encoder.encode('\ufffd');
const lenient = new TextDecoder('utf-8');

export class XmlOutput {
  buf: Uint8Array;
  private dv: DataView;
  pos = 0;
  /** Every byte written so far is ASCII (then the string is made by the one-byte fast path). */
  allAscii = true;
  /** Byte ranges [start, end) that hold non-ASCII text, in order (pairs). */
  private wide: number[] = [];

  constructor(capacity = 4096) {
    this.buf = new Uint8Array(capacity);
    this.dv = new DataView(this.buf.buffer);
  }

  /** Replaces the buffer (to let go of a very large one). */
  setBuffer(buf: Uint8Array): void {
    this.buf = buf;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = 0;
  }

  reset(): void {
    this.pos = 0;
    this.allAscii = true;
    this.wide.length = 0;
  }

  /** Records that bytes [start, end) hold non-ASCII text. */
  private markWide(start: number, end: number): void {
    this.allAscii = false;
    const w = this.wide;
    // Neighbouring runs merge: fewer pieces when the string is assembled.
    if (w.length > 0 && start - w[w.length - 1] < 64) w[w.length - 1] = end;
    else w.push(start, end);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }

  /**
   * Appends ASCII markup pre-packed as little-endian 32-bit words (`n` bytes). Writing whole words
   * is about twice as fast as a byte loop for tag names; the bytes past `n` in the last word land
   * in spare capacity and are overwritten by whatever comes next.
   */
  words(w: Int32Array, n: number): void {
    const len = w.length;
    if (this.pos + len * 4 > this.buf.length) this.ensure(len * 4);
    const dv = this.dv;
    const p = this.pos;
    for (let j = 0; j < len; j++) dv.setInt32(p + 4 * j, w[j], true);
    this.pos = p + n;
  }

  /** Appends one ASCII byte. */
  byte(c: number): void {
    if (this.pos >= this.buf.length) this.ensure(1);
    this.buf[this.pos++] = c;
  }

  /** Appends bytes known to be ASCII as they are (pre-encoded tag names, markup). */
  rawAscii(bytes: Uint8Array): void {
    const n = bytes.length;
    if (this.pos + n > this.buf.length) this.ensure(n);
    if (n < 24) {
      const b = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) b[p++] = bytes[i];
      this.pos = p;
    } else {
      this.buf.set(bytes, this.pos);
      this.pos += n;
    }
  }

  /** Appends UTF-8 bytes as they are (CDATA content). */
  raw(bytes: Uint8Array): void {
    const at = this.pos;
    this.rawAscii(bytes);
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] >= 0x80) { this.markWide(at, this.pos); break; }
    }
  }

  /** Appends an ASCII string as it is (markup only: no escaping). */
  ascii(s: string): void {
    const n = s.length;
    if (this.pos + n > this.buf.length) this.ensure(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Appends any string, escaped as XML text (or as an attribute value). */
  string(s: string, attr = false, strict = true, offset = -1): void {
    const bytes = utf8Encoder.encode(s);
    this.text(bytes, 0, bytes.length, attr, strict, offset);
  }

  /**
   * Copies UTF-8 text bytes with XML escaping. Characters XML 1.0 cannot carry (C0 controls
   * other than tab, LF, CR) are an error in strict mode and U+FFFD otherwise; so is invalid UTF-8.
   * `offset` is where the text is in the WBXML input, for the error.
   */
  text(src: Uint8Array, start: number, end: number, attr: boolean, strict: boolean, offset: number): void {
    // Worst case: every byte becomes a 6-byte reference.
    if (this.pos + (end - start) * 6 > this.buf.length) this.ensure((end - start) * 6);
    const cls = attr ? ATTR_CLASS : TEXT_CLASS;
    const b = this.buf;
    let p = this.pos;
    let hi = 0;
    let i = start;
    // Plain ASCII text needs no work but the copy: this loop is all most strings see.
    for (; i < end; i++) {
      const c = src[i];
      if (cls[c] !== 0) break;
      b[p++] = c;
      hi |= c;
    }
    if (i === end && hi < 0x80) {
      this.pos = p;
      return;
    }
    this.textRest(src, start, i, end, p, hi >= 0x80, attr, strict, offset);
  }

  /** The rest of `text()` from `i` on: escapes, invalid characters, UTF-8 validation. */
  private textRest(src: Uint8Array, start: number, i: number, end: number, p: number, high: boolean, attr: boolean, strict: boolean, offset: number): void {
    const cls = attr ? ATTR_CLASS : TEXT_CLASS;
    const b = this.buf;
    const begin = this.pos;
    for (; i < end; i++) {
      const c = src[i];
      const k = cls[c];
      if (k === 0) {
        b[p++] = c;
        if (c >= 0x80) high = true;
      } else if (k === 1) {
        const e = ESCAPES[c];
        for (let j = 0; j < e.length; j++) b[p++] = e[j];
      } else {
        if (strict) {
          throw new WbxmlError('INVALID_XML_CHAR', offset >= 0 ? offset + (i - start) : -1, `character U+${c.toString(16).toUpperCase().padStart(4, '0')} cannot be written in XML`);
        }
        for (let j = 0; j < 3; j++) b[p++] = REPLACEMENT[j];
        high = true;
      }
    }
    if (high) {
      const bad = firstInvalidUtf8(src, start, end);
      if (bad !== end || hasNonCharacters(src, start, end)) {
        if (strict) {
          const at = bad !== end ? bad : start;
          throw new WbxmlError('BAD_ENCODING', offset >= 0 ? offset + (at - start) : -1, `invalid UTF-8 or a non-character in text`);
        }
        // Lenient: write the run again from a copy with replacement characters.
        const clean = utf8Encoder.encode(lenient.decode(src.subarray(start, end)).replace(/[\ufffe\uffff]/g, '\ufffd'));
        this.pos = begin;
        this.text(clean, 0, clean.length, attr, false, -1);
        return;
      }
      this.markWide(begin, p);
    }
    this.pos = p;
  }

  /** Replaces `remove` bytes at `at` with `insert` (small in-place patches: a Type or Format text). */
  splice(at: number, remove: number, insert: Uint8Array): void {
    const delta = insert.length - remove;
    if (delta > 0) this.ensure(delta);
    this.buf.copyWithin(at + insert.length, at + remove, this.pos);
    this.buf.set(insert, at);
    this.pos += delta;
    const w = this.wide;
    for (let i = 0; i < w.length; i++) if (w[i] > at) w[i] += delta;
    for (let i = 0; i < insert.length; i++) {
      if (insert[i] >= 0x80) { this.markWideAt(at, at + insert.length); break; }
    }
  }

  /** markWide for a range that may sit before already recorded ones. */
  private markWideAt(start: number, end: number): void {
    this.allAscii = false;
    const w = this.wide;
    let i = 0;
    while (i < w.length && w[i] < start) i += 2;
    w.splice(i, 0, start, end);
  }

  /** The text written so far. */
  toString(): string {
    if (this.allAscii || !hasOneByteFastPath) return bytesToString(this.buf, 0, this.pos, this.allAscii);
    // ASCII stretches by the one-byte fast path, non-ASCII runs by the UTF-8 decoder; the engine
    // joins the pieces (a rope) without copying them again.
    const w = this.wide;
    let s = '';
    let from = 0;
    for (let i = 0; i < w.length; i += 2) {
      if (w[i] > from) s += bytesToString(this.buf, from, w[i], true);
      s += bytesToString(this.buf, w[i], w[i + 1], false);
      from = w[i + 1];
    }
    if (this.pos > from) s += bytesToString(this.buf, from, this.pos, true);
    return s;
  }

  /** A copy of the bytes written so far. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** U+FFFE / U+FFFF (EF BF BE / EF BF BF) are not XML characters. */
function hasNonCharacters(src: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i + 2 < end; i++) {
    if (src[i] === 0xef && src[i + 1] === 0xbf && (src[i + 2] === 0xbe || src[i + 2] === 0xbf)) return true;
  }
  return false;
}
