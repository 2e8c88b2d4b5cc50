/**
 * A growable UTF-8 byte buffer for writing XML. Text is copied from the input bytes with escaping
 * in one pass; only the final result is turned into a string, once.
 */
import { WbxmlError } from '../errors.js';
import { firstInvalidUtf8, utf8Encoder } from '../text.js';

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
  pos = 0;

  constructor(capacity = 4096) {
    this.buf = new Uint8Array(capacity);
  }

  reset(): void {
    this.pos = 0;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Appends bytes as they are (tag names, markup). */
  raw(bytes: Uint8Array): void {
    const n = bytes.length;
    if (this.pos + n > this.buf.length) this.ensure(n);
    if (n < 16) {
      const b = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) b[p++] = bytes[i];
      this.pos = p;
    } else {
      this.buf.set(bytes, this.pos);
      this.pos += n;
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
    const cls = attr ? ATTR_CLASS : TEXT_CLASS;
    // Worst case: every byte becomes a 6-byte reference.
    if (this.pos + (end - start) * 6 > this.buf.length) this.ensure((end - start) * 6);
    const b = this.buf;
    const begin = this.pos;
    let p = begin;
    let high = false;
    for (let i = start; i < end; i++) {
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
  }

  /** The text written so far. */
  toString(): string {
    return lenient.decode(this.buf.subarray(0, this.pos));
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
