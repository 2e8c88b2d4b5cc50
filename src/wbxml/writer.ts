/**
 * A streaming WBXML encoder: elements, text, opaque data and entities are appended to one
 * growable buffer (doubling, so appends are amortised O(1)). Code pages switch lazily, just before
 * the first tag that needs another page, as libwbxml, Horde and the SyncML RTK do.
 */
import type { CodePageRegistry, CodePageSet } from './code-page.js';
import { defaultRegistry } from './code-pages/index.js';
import { WbxmlError } from './errors.js';
import { StringTableBuilder } from './string-table.js';
import { putMb } from './mbuint.js';
import { utf8Encoder } from './text.js';
import {
  CHARSET_UTF_8, END, ENTITY, LITERAL, OPAQUE, STR_I, SWITCH_PAGE, TAG_ATTRS, TAG_CONTENT,
} from './tokens.js';

/** WBXML versions the encoder writes. @public */
export type WbxmlVersion = '1.1' | '1.2' | '1.3';

/** Options of {@link WbxmlWriter}. @public */
export interface WbxmlWriterOptions {
  /** The document type. Default `SyncML 1.2`. */
  codePages?: CodePageSet | string;
  /** Where a code-page name is looked up. Default: the built-in registry. */
  registry?: CodePageRegistry;
  /** WBXML version of the header. Default `1.2` (what the SyncML RTK and SyncEvolution send). */
  version?: WbxmlVersion;
  /**
   * How the public ID is written: `auto` (default) = the number when the document type has one,
   * else its string through the string table; `string` = always by string table (Horde's way);
   * `unknown` = 0x01 (kXML2's way; readers then need to sniff or be told).
   */
  publicId?: 'auto' | 'string' | 'unknown';
  /**
   * Move text that occurs at least twice (and is longer than 3 bytes) into a string table, built
   * in one linear pass when the document is finished. Default false: DM peers mostly send none.
   */
  stringTable?: boolean;
  /** First buffer size in bytes. Default 2048. */
  initialCapacity?: number;
  /** Deepest nesting accepted. Default 64. */
  maxDepth?: number;
}

const VERSION_BYTE: Record<WbxmlVersion, number> = { '1.1': 0x01, '1.2': 0x02, '1.3': 0x03 };

/** @public */
export class WbxmlWriter {
  /** The document type being written. */
  readonly codePages: CodePageSet;
  private buf: Uint8Array;
  private pos = 0;
  private page = 0;
  private depth = 0;
  /** Offset of the last tag byte while its element has no content yet, else -1. */
  private pendingTag = -1;
  /** Inside an attribute list that still needs its END. */
  private attrsOpen = false;
  private readonly versionByte: number;
  private readonly publicIdMode: 'auto' | 'string' | 'unknown';
  private readonly useTable: boolean;
  private readonly maxDepth: number;
  private table: StringTableBuilder;

  constructor(options: WbxmlWriterOptions = {}) {
    const registry = options.registry ?? defaultRegistry;
    const cp = options.codePages ?? 'SyncML 1.2';
    const set = typeof cp === 'string' ? registry.get(cp) ?? registry.byPublicIdString(cp) : cp;
    if (!set) throw new WbxmlError('INVALID_ARGUMENT', -1, `no code page set named '${String(cp)}'`);
    this.codePages = set;
    const v = options.version ?? '1.2';
    const vb = VERSION_BYTE[v];
    if (vb === undefined) throw new WbxmlError('INVALID_ARGUMENT', -1, `WBXML version '${String(v)}' is not 1.1, 1.2 or 1.3`);
    this.versionByte = vb;
    this.publicIdMode = options.publicId ?? 'auto';
    this.useTable = options.stringTable ?? false;
    this.maxDepth = options.maxDepth ?? 64;
    this.buf = new Uint8Array(Math.max(64, options.initialCapacity ?? 2048));
    this.table = new StringTableBuilder();
    this.reset();
  }

  /** Starts a new document with the same options. */
  reset(): this {
    this.pos = 0;
    this.page = 0;
    this.depth = 0;
    this.pendingTag = -1;
    this.attrsOpen = false;
    this.table.reset();
    if (this.publicIdMode === 'string' || (this.publicIdMode === 'auto' && !(this.codePages.publicId > 1))) {
      this.table.literal(this.codePages.publicIdString);
    }
    return this;
  }

  /** Current depth (open elements). */
  get openElements(): number {
    return this.depth;
  }

  /** The code page of the last tag written (where a name lookup starts). */
  get currentPage(): number {
    return this.page;
  }

  /** Bytes written to the body so far. */
  get bodyLength(): number {
    return this.pos;
  }

  private grow(need: number): void {
    let cap = this.buf.length * 2;
    while (cap < this.pos + need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /**
   * Replaces `remove` bytes of the body at body offset `at` with `insert`: the XML bridge uses it
   * to change a Meta/Type already written once it meets the nested document that Type describes.
   */
  spliceBody(at: number, remove: number, insert: Uint8Array): void {
    const delta = insert.length - remove;
    if (at < 0 || at + remove > this.pos) throw new WbxmlError('INVALID_ARGUMENT', at, 'splice outside the body');
    if (delta > 0) this.ensure(delta);
    this.buf.copyWithin(at + insert.length, at + remove, this.pos);
    this.buf.set(insert, at);
    this.pos += delta;
    if (this.pendingTag > at) this.pendingTag += delta;
    if (this.useTable) this.table.shift(at, delta);
  }

  /** A view of body bytes written so far (valid until the next write). */
  bodyView(start: number, end: number): Uint8Array {
    return this.buf.subarray(start, Math.min(end, this.pos));
  }

  /** Closes a pending attribute list and marks the open element as having content. */
  private content(): void {
    if (this.attrsOpen) {
      if (this.pos + 1 > this.buf.length) this.grow(1);
      this.buf[this.pos++] = END;
      this.attrsOpen = false;
    }
    this.pendingTag = -1;
  }

  /**
   * Opens an element by code page and token. The content bit is set now and cleared by `end()` if
   * nothing is written inside, so `start(); end()` costs one byte.
   */
  startToken(page: number, token: number): this {
    if (this.depth === 0 && this.pos > 0) throw new WbxmlError('INVALID_ARGUMENT', this.pos, 'a document has one root element');
    this.content();
    if (this.depth >= this.maxDepth) throw new WbxmlError('DEPTH_LIMIT', this.pos, `element nesting deeper than maxDepth (${this.maxDepth})`);
    if (this.pos + 3 > this.buf.length) this.grow(3);
    const b = this.buf;
    if (page !== this.page) {
      b[this.pos++] = SWITCH_PAGE;
      b[this.pos++] = page;
      this.page = page;
    }
    this.pendingTag = this.pos;
    b[this.pos++] = token | TAG_CONTENT;
    this.depth++;
    return this;
  }

  /**
   * Opens an element by name. `page` directs the lookup when a name exists on several pages
   * (DDF's `Format` vs MetInf's); otherwise the current page wins, then the lowest page.
   * A name the code pages lack is written as a LITERAL through the string table.
   */
  start(name: string, page?: number): this {
    const ids = this.codePages.tagTokensAll.get(name);
    if (ids === undefined) return this.startLiteral(name);
    let id = ids[0];
    const want = page ?? this.page;
    for (let i = 0; i < ids.length; i++) if (ids[i] >> 8 === want) { id = ids[i]; break; }
    return this.startToken(id >> 8, id & 0xff);
  }

  /** Opens an element whose name is not in the code pages: LITERAL + string-table index. */
  startLiteral(name: string): this {
    if (this.depth === 0 && this.pos > 0) throw new WbxmlError('INVALID_ARGUMENT', this.pos, 'a document has one root element');
    if (name.length === 0 || name.includes('\0')) throw new WbxmlError('INVALID_ARGUMENT', this.pos, 'a literal tag name must be a non-empty string without NUL');
    this.content();
    if (this.depth >= this.maxDepth) throw new WbxmlError('DEPTH_LIMIT', this.pos, `element nesting deeper than maxDepth (${this.maxDepth})`);
    const idx = this.table.literal(name);
    this.ensure(6);
    this.pendingTag = this.pos;
    this.buf[this.pos++] = LITERAL | TAG_CONTENT;
    this.mb(idx);
    this.depth++;
    return this;
  }

  /**
   * Adds an attribute to the element just opened (before any content). Names known to the
   * attribute code page use their token; others are written as LITERAL.
   */
  attribute(name: string, value: string): this {
    if (this.pendingTag < 0) throw new WbxmlError('INVALID_ARGUMENT', this.pos, 'attribute() must follow start() before any content');
    const starts = this.codePages.attrStarts;
    let token = -1;
    for (let p = 0; p < starts.length && token < 0; p++) {
      const page = starts[p];
      if (!page) continue;
      for (let t = 5; t < page.length; t++) {
        const a = page[t];
        if (a && a.name === name && !a.valuePrefix) { token = t; break; }
      }
    }
    if (!this.attrsOpen) {
      this.buf[this.pendingTag] |= TAG_ATTRS;
      this.attrsOpen = true;
    }
    if (token >= 0) {
      this.ensure(1);
      this.buf[this.pos++] = token;
    } else {
      const idx = this.table.literal(name);
      this.ensure(6);
      this.buf[this.pos++] = LITERAL;
      this.mb(idx);
    }
    if (value.length > 0) this.writeString(value);
    return this;
  }

  /** Closes the innermost open element. */
  end(): this {
    if (this.depth === 0) throw new WbxmlError('INVALID_ARGUMENT', this.pos, 'end() with no element open');
    if (this.attrsOpen) {
      // The attribute list is closed; the element stays empty.
      this.ensure(1);
      this.buf[this.pos++] = END;
      this.attrsOpen = false;
    }
    if (this.pendingTag >= 0) {
      this.buf[this.pendingTag] &= ~TAG_CONTENT;
      this.pendingTag = -1;
    } else {
      this.ensure(1);
      this.buf[this.pos++] = END;
    }
    this.depth--;
    return this;
  }

  /** `start(name)`, `text(value)`, `end()`. */
  element(name: string, value?: string): this {
    this.start(name);
    if (value !== undefined) this.text(value);
    return this.end();
  }

  /** Writes text as STR_I (or STR_T when string tables are on and the text repeats). */
  text(value: string): this {
    if (value.length === 0) return this;
    this.inContent();
    this.writeString(value);
    return this;
  }

  /** Writes text given as UTF-8 bytes (no NUL allowed), without decoding it. */
  textUtf8(bytes: Uint8Array, start = 0, end = bytes.length): this {
    const z = bytes.indexOf(0, start);
    if (z >= 0 && z < end) throw new WbxmlError('INVALID_ARGUMENT', this.pos, 'text contains U+0000, which WBXML strings cannot carry');
    return this.textNoNul(bytes, start, end);
  }

  /**
   * `textUtf8` for bytes the caller knows hold no NUL (the XML scanner refuses U+0000 in text):
   * one copy, no scan.
   * @internal
   */
  textNoNul(bytes: Uint8Array, start: number, end: number): this {
    if (end <= start) return this;
    this.inContent();
    const n = end - start;
    if (this.pos + n + 2 > this.buf.length) this.grow(n + 2);
    const b = this.buf;
    const at = this.pos;
    b[at] = STR_I;
    let p = at + 1;
    if (n < 64) {
      for (let i = start; i < end; i++) b[p++] = bytes[i];
    } else {
      b.set(bytes.subarray(start, end), p);
      p += n;
    }
    b[p] = 0;
    this.pos = p + 1;
    if (this.useTable) this.table.text(at, at + 1, p);
    return this;
  }

  /** Writes OPAQUE data (binary content, or a nested WBXML document). */
  opaque(bytes: Uint8Array): this {
    this.inContent();
    const n = bytes.length;
    this.ensure(n + 6);
    this.buf[this.pos++] = OPAQUE;
    this.mb(n);
    this.buf.set(bytes, this.pos);
    this.pos += n;
    return this;
  }

  /** Writes a character as an ENTITY token. */
  entity(codePoint: number): this {
    if (!(Number.isInteger(codePoint) && codePoint >= 0 && codePoint <= 0x10ffff) || (codePoint >= 0xd800 && codePoint <= 0xdfff)) {
      throw new WbxmlError('INVALID_ARGUMENT', this.pos, `${codePoint} is not a Unicode scalar value`);
    }
    this.inContent();
    this.ensure(6);
    this.buf[this.pos++] = ENTITY;
    this.mb(codePoint);
    return this;
  }

  private inContent(): void {
    if (this.depth === 0) throw new WbxmlError('INVALID_ARGUMENT', this.pos, 'content outside the root element');
    if (this.pendingTag >= 0 || this.attrsOpen) this.content();
  }

  private ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private mb(v: number): void {
    this.pos = putMb(this.buf, this.pos, v);
  }

  private writeString(s: string): void {
    const n = s.length;
    this.ensure(n * 3 + 2);
    const b = this.buf;
    const at = this.pos;
    b[this.pos++] = STR_I;
    const from = this.pos;
    let p = from;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80 || c === 0) break;
      b[p++] = c;
    }
    if (i < n) {
      const r = utf8Encoder.encodeInto(i === 0 ? s : s.slice(i), b.subarray(p));
      const stop = p + r.written;
      for (let k = p; k < stop; k++) {
        if (b[k] === 0) throw new WbxmlError('INVALID_ARGUMENT', at, 'text contains U+0000, which WBXML strings cannot carry');
      }
      p = stop;
    }
    b[p] = 0;
    this.pos = p + 1;
    if (this.useTable) this.table.text(at, from, p);
  }

  /**
   * Finishes the document and returns it as a new array (header, string table, body).
   * The writer can be `reset()` and reused.
   */
  finish(): Uint8Array {
    if (this.depth !== 0) throw new WbxmlError('INVALID_ARGUMENT', this.pos, `finish() with ${this.depth} element(s) open`);
    if (this.pos === 0) throw new WbxmlError('INVALID_ARGUMENT', 0, 'finish() before a root element was written');
    const body = this.useTable ? this.table.rewrite(this.buf, this.pos) : this.buf.subarray(0, this.pos);
    const tbl = this.table.bytes();
    const header = new Uint8Array(16);
    let h = 0;
    header[h++] = this.versionByte;
    let pid: number;
    if (this.publicIdMode === 'unknown') pid = 0x01;
    else if (this.publicIdMode === 'auto' && this.codePages.publicId > 1) pid = this.codePages.publicId;
    else pid = 0;
    h = putMb(header, h, pid);
    if (pid === 0) h = putMb(header, h, 0); // the public ID string is always the table's first entry
    header[h++] = CHARSET_UTF_8;
    h = putMb(header, h, tbl.length);
    const out = new Uint8Array(h + tbl.length + body.length);
    out.set(header.subarray(0, h), 0);
    out.set(tbl, h);
    out.set(body, h + tbl.length);
    return out;
  }
}
