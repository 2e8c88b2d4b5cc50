/**
 * Where the serializer's walker writes: one small interface, two implementations. The WBXML sink
 * drives a WbxmlWriter with precomputed token ids; the XML sink writes pre-encoded names into an
 * XmlOutput, following `wbxmlToXml`'s rules exactly (xmlns on the root and wherever the code page
 * changes, CDATA for OPAQUE that is XML text, base64 otherwise, the same indentation), so that
 * both encodings of a message are the same document.
 */
import type { CodePageSet } from '../wbxml/code-page.js';
import { base64Into, base64Length } from '../wbxml/base64.js';
import { firstInvalidUtf8 } from '../wbxml/text.js';
import { WbxmlWriter, type WbxmlVersion } from '../wbxml/writer.js';
import { XmlOutput } from '../wbxml/xml/output.js';

/** The walker's view of an output. Ids are `page << 8 | token` of the current code page set. */
export interface Sink {
  /** Opens an element by id (a LITERAL / plain name when the set lacks the id). */
  start(id: number): void;
  /** Opens an element by name (looked up in the set, page `page` preferred). */
  startName(name: string, page: number): void;
  /** Opens an element the code pages do not know. */
  startLiteral(name: string): void;
  /** An attribute of the element just opened. */
  attr(name: string, value: string): void;
  end(): void;
  text(s: string): void;
  /** `start(id)`, `text(s)`, `end()`. */
  leaf(id: number, s: string): void;
  /** An element without content. */
  empty(id: number): void;
  /** Binary data: OPAQUE, or in XML CDATA (when it is XML text) / base64. */
  bytes(b: Uint8Array): void;
  /** A nested document (DevInf, MgmtTree) with its own code pages starts here. */
  beginNested(set: CodePageSet, names: CodePageSet): void;
  endNested(): void;
  /** The element id of `name` in the current set, preferring `page`; -1 when unknown. */
  lookup(name: string, page: number): number;
}

/** Valid UTF-8 made only of characters XML can carry: tab, LF, CR and U+0020 up, no U+FFFE/U+FFFF. */
export function isXmlText(b: Uint8Array): boolean {
  let high = false;
  const n = b.length;
  for (let i = 0; i < n; i++) {
    const c = b[i];
    if (c < 0x20) {
      if (c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
    } else if (c >= 0x80) high = true;
  }
  if (!high) return true;
  if (firstInvalidUtf8(b, 0, n) !== n) return false;
  for (let i = 0; i + 2 < n; i++) {
    if (b[i] === 0xef && b[i + 1] === 0xbf && (b[i + 2] === 0xbe || b[i + 2] === 0xbf)) return false;
  }
  return true;
}

function lookupIn(set: CodePageSet, name: string, page: number): number {
  const ids = set.tagTokensAll.get(name);
  if (ids === undefined) return -1;
  for (let i = 0; i < ids.length; i++) if (ids[i] >> 8 === page) return ids[i];
  return ids[0];
}

/** Which ids a set defines, as a lookup table. */
const validCache = new WeakMap<CodePageSet, Uint8Array>();
function validIds(set: CodePageSet): Uint8Array {
  let v = validCache.get(set);
  if (v) return v;
  v = new Uint8Array(0x10000);
  set.tagNames.forEach((names, page) => names?.forEach((n, t) => { if (n !== undefined) v![(page << 8) | t] = 1; }));
  validCache.set(set, v);
  return v;
}

// ---------------------------------------------------------------------------------------------

export interface WbxmlSinkOptions {
  version?: WbxmlVersion;
  stringTable?: boolean;
  initialCapacity?: number;
}

export class WbxmlSink implements Sink {
  w: WbxmlWriter;
  private set: CodePageSet;
  private valid: Uint8Array;
  /** Names of ids (for literals of ids the set lacks): the superset the walker's ids come from. */
  private names: CodePageSet;
  private readonly stack: { w: WbxmlWriter; set: CodePageSet; valid: Uint8Array; names: CodePageSet }[] = [];

  /** `writer`, when given, is reused (reset): it must write `set` with these options. */
  constructor(set: CodePageSet, names: CodePageSet, private readonly options: WbxmlSinkOptions, writer?: WbxmlWriter) {
    this.set = set;
    this.names = names;
    this.valid = validIds(set);
    this.w = writer !== undefined ? writer.reset() : WbxmlSink.writer(set, options);
  }

  static writer(set: CodePageSet, options: WbxmlSinkOptions): WbxmlWriter {
    return new WbxmlWriter({
      codePages: set, version: options.version ?? '1.2', stringTable: options.stringTable ?? false,
      initialCapacity: options.initialCapacity ?? 2048, maxDepth: 1 << 20,
    });
  }

  start(id: number): void {
    if (this.valid[id] === 1) this.w.startToken(id >> 8, id & 0xff);
    else this.w.startLiteral(this.names.tagNames[id >> 8]?.[id & 0xff] ?? `unknown-${id}`);
  }

  startName(name: string, page: number): void {
    const id = lookupIn(this.set, name, page);
    if (id >= 0) this.w.startToken(id >> 8, id & 0xff);
    else this.w.startLiteral(name);
  }

  startLiteral(name: string): void {
    this.w.startLiteral(name);
  }

  attr(name: string, value: string): void {
    this.w.attribute(name, value);
  }

  end(): void {
    this.w.end();
  }

  text(s: string): void {
    this.w.text(s);
  }

  leaf(id: number, s: string): void {
    const w = this.w;
    if (this.valid[id] === 1) w.startToken(id >> 8, id & 0xff);
    else this.start(id);
    if (s.length > 0) w.text(s);
    w.end();
  }

  empty(id: number): void {
    this.start(id);
    this.w.end();
  }

  bytes(b: Uint8Array): void {
    this.w.opaque(b);
  }

  beginNested(set: CodePageSet, names: CodePageSet): void {
    this.stack.push({ w: this.w, set: this.set, valid: this.valid, names: this.names });
    this.set = set;
    this.names = names;
    this.valid = validIds(set);
    this.w = new WbxmlWriter({
      codePages: set, version: this.options.version ?? '1.2', stringTable: this.options.stringTable ?? false,
      initialCapacity: 512, maxDepth: 1 << 20,
    });
  }

  endNested(): void {
    const doc = this.w.finish();
    const outer = this.stack.pop()!;
    this.w = outer.w;
    this.set = outer.set;
    this.valid = outer.valid;
    this.names = outer.names;
    this.w.opaque(doc);
  }

  lookup(name: string, page: number): number {
    return lookupIn(this.set, name, page);
  }

  finish(): Uint8Array {
    return this.w.finish();
  }
}

// ---------------------------------------------------------------------------------------------

const enc = new TextEncoder();

interface XmlNames {
  open: (Uint8Array | undefined)[];
  close: (Uint8Array | undefined)[];
  xmlns: (Uint8Array | undefined)[];
}
const xmlNamesCache = new WeakMap<CodePageSet, XmlNames>();
function xmlNames(set: CodePageSet): XmlNames {
  let t = xmlNamesCache.get(set);
  if (t) return t;
  t = { open: new Array(0x10000), close: new Array(0x10000), xmlns: [] };
  set.tagNames.forEach((names, page) => names?.forEach((n, tok) => {
    if (n === undefined) return;
    t!.open[(page << 8) | tok] = enc.encode('<' + n);
    t!.close[(page << 8) | tok] = enc.encode('</' + n + '>');
  }));
  set.pageNamespaces.forEach((ns, page) => { if (ns !== undefined) t!.xmlns[page] = enc.encode(` xmlns="${ns}"`); });
  xmlNamesCache.set(set, t);
  return t;
}

const CDATA_OPEN = enc.encode('<![CDATA[');
const CDATA_CLOSE = enc.encode(']]>');
const CDATA_CR = enc.encode(']]>&#13;<![CDATA[');
const CDATA_SPLIT = enc.encode(']]]]><![CDATA[>');
const XML_NAME = /^[\p{L}_:][\p{L}\p{N}_.:\u00B7-]*$/u;

export interface XmlSinkOptions {
  indent?: boolean | number;
}

export class XmlSink implements Sink {
  readonly out: XmlOutput;
  private set: CodePageSet;
  private t: XmlNames;
  private names: CodePageSet;
  private readonly unit: string;
  /** Depth of the element being written (0 = none open). */
  private d = 0;
  /** Depth of the root of the current (nested) document. */
  private rootDepth = 1;
  private pageAt: number[] = [-1];
  private hadChild: number[] = [0];
  private closeAt: Uint8Array[] = [];
  /** The start tag is open (`<Name` written, `>` not yet): an end makes it `<Name/>`. */
  private pending = false;
  private first: boolean;
  private readonly stack: { set: CodePageSet; t: XmlNames; names: CodePageSet; rootDepth: number }[] = [];

  constructor(set: CodePageSet, names: CodePageSet, options: XmlSinkOptions, out = new XmlOutput(4096)) {
    this.set = set;
    this.names = names;
    this.t = xmlNames(set);
    const ind = options.indent;
    this.unit = ind === true ? '  ' : typeof ind === 'number' && ind > 0 ? ' '.repeat(Math.min(ind, 16)) : '';
    this.out = out;
    this.first = out.pos === 0;
  }

  private openTag(): void {
    if (this.pending) {
      this.out.ascii('>');
      this.pending = false;
    }
  }

  private newline(level: number): void {
    const out = this.out;
    out.ascii('\n');
    for (let i = 0; i < level; i++) out.ascii(this.unit);
  }

  /** Opens `<name` (bytes given or a name string) at the next depth on `page` (-1 = literal). */
  private push(open: Uint8Array | undefined, name: string, page: number): void {
    if (this.pending) this.openTag();
    const d = ++this.d;
    if (this.unit !== '' && !this.first) this.newline(d - 1);
    this.first = false;
    this.hadChild[d - 1] = 1;
    this.hadChild[d] = 0;
    const out = this.out;
    if (open !== undefined) out.raw(open);
    else {
      if (!XML_NAME.test(name)) throw new RangeError(`'${name}' is not an XML name`);
      out.ascii('<');
      out.string(name, false);
    }
    if (page >= 0) {
      if (d === this.rootDepth || page !== this.pageAt[d - 1]) {
        const ns = this.t.xmlns[page];
        if (ns !== undefined) out.raw(ns);
      }
      this.pageAt[d] = page;
    } else this.pageAt[d] = this.pageAt[d - 1];
    this.pending = true;
  }

  start(id: number): void {
    const open = this.t.open[id];
    if (open !== undefined) {
      this.push(open, '', id >> 8);
      this.closeAt[this.d] = this.t.close[id]!;
    } else {
      const name = this.names.tagNames[id >> 8]?.[id & 0xff] ?? `unknown-${id}`;
      this.startLiteral(name);
    }
  }

  startName(name: string, page: number): void {
    const id = lookupIn(this.set, name, page);
    if (id >= 0) this.start(id);
    else this.startLiteral(name);
  }

  startLiteral(name: string): void {
    this.push(undefined, name, -1);
    this.closeAt[this.d] = enc.encode(`</${name}>`);
  }

  attr(name: string, value: string): void {
    if (!XML_NAME.test(name)) throw new RangeError(`'${name}' is not an XML attribute name`);
    const out = this.out;
    out.ascii(' ');
    out.string(name, false);
    out.ascii('="');
    out.string(value, true);
    out.ascii('"');
  }

  end(): void {
    const d = this.d;
    const out = this.out;
    if (this.pending) {
      out.ascii('/>');
      this.pending = false;
    } else {
      if (this.unit !== '' && this.hadChild[d] === 1) this.newline(d - 1);
      out.raw(this.closeAt[d]);
    }
    this.d = d - 1;
  }

  text(s: string): void {
    if (s.length === 0) return;
    if (this.pending) this.openTag();
    this.out.string(s, false, true, -1);
  }

  leaf(id: number, s: string): void {
    this.start(id);
    if (s.length > 0) {
      this.openTag();
      this.out.string(s, false, true, -1);
    }
    this.end();
  }

  empty(id: number): void {
    this.start(id);
    this.end();
  }

  bytes(b: Uint8Array): void {
    if (this.pending) this.openTag();
    const out = this.out;
    if (isXmlText(b)) {
      // As wbxmlToXml: CDATA, with CR as a character reference (XML parsers normalise line
      // ends inside CDATA too) and `]]>` split across two sections.
      out.raw(CDATA_OPEN);
      let from = 0;
      for (let i = 0; i < b.length; i++) {
        const c = b[i];
        if (c === 0x0d) {
          out.raw(b.subarray(from, i));
          out.raw(CDATA_CR);
          from = i + 1;
        } else if (c === 0x3e && i >= 2 && b[i - 1] === 0x5d && b[i - 2] === 0x5d) {
          out.raw(b.subarray(from, i - 2));
          out.raw(CDATA_SPLIT);
          from = i + 1;
        }
      }
      out.raw(b.subarray(from));
      out.raw(CDATA_CLOSE);
      return;
    }
    out.ensure(base64Length(b.length));
    out.pos = base64Into(b, 0, b.length, out.buf, out.pos);
  }

  beginNested(set: CodePageSet, names: CodePageSet): void {
    this.stack.push({ set: this.set, t: this.t, names: this.names, rootDepth: this.rootDepth });
    this.set = set;
    this.names = names;
    this.t = xmlNames(set);
    this.rootDepth = this.d + 1;
  }

  endNested(): void {
    const s = this.stack.pop()!;
    this.set = s.set;
    this.t = s.t;
    this.names = s.names;
    this.rootDepth = s.rootDepth;
  }

  lookup(name: string, page: number): number {
    return lookupIn(this.set, name, page);
  }
}
