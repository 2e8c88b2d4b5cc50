/**
 * WBXML -> XML text in one streaming pass: tokens are read from the input and their bytes copied
 * (escaped) into one UTF-8 output buffer; nothing is decoded to a JS string until the end.
 *
 * Nested documents (DevInf, DDF in `Data`, decided by the governing Meta/Type as libwbxml does)
 * are inlined. OPAQUE that is UTF-8 text becomes CDATA (so XML -> WBXML gives OPAQUE back);
 * binary OPAQUE becomes base64 and a governing `<Format>bin</Format>` becomes `b64`: the XML we
 * write is always well-formed.
 */
import type { CodePageSet } from './code-page.js';
import { base64Into, base64Length } from './base64.js';
import { WbxmlError } from './errors.js';
import { WbxmlReader, rebase, unknownTagName, type WbxmlReaderOptions } from './reader.js';
import { firstInvalidUtf8, utf8Encoder } from './text.js';
import { CHARSET_UTF_8, TokenKind } from './tokens.js';
import { XmlOutput } from './xml/output.js';

/** Options of {@link wbxmlToXml}. @public */
export interface WbxmlToXmlOptions extends WbxmlReaderOptions {
  /** `false` (default): compact. `true`: two spaces per level; a number: that many spaces. */
  indent?: boolean | number;
  /** Write `<?xml version="1.0" encoding="UTF-8"?>`. Default true. */
  xmlDeclaration?: boolean;
  /** Write a DOCTYPE with the document type's public and system IDs. Default true. */
  doctype?: boolean;
  /** `inline` (default): nested DevInf/DDF documents become XML elements; `opaque`: left as data. */
  nested?: 'inline' | 'opaque';
  /**
   * When a nested document is inlined, its governing Type `…+wbxml` becomes `…+xml` (the
   * content is now XML). Default true; libwbxml does the same.
   */
  rewriteNestedType?: boolean;
}

interface TagBytes {
  open: (Uint8Array | undefined)[][];
  close: (Uint8Array | undefined)[][];
  xmlns: (Uint8Array | undefined)[];
}

const tagBytesCache = new WeakMap<CodePageSet, TagBytes>();

function tagBytes(set: CodePageSet): TagBytes {
  let t = tagBytesCache.get(set);
  if (t) return t;
  t = { open: [], close: [], xmlns: [] };
  for (let p = 0; p < set.tagNames.length; p++) {
    const names = set.tagNames[p];
    if (!names) continue;
    t.open[p] = names.map((n) => (n === undefined ? undefined : utf8Encoder.encode('<' + n)));
    t.close[p] = names.map((n) => (n === undefined ? undefined : utf8Encoder.encode('</' + n + '>')));
    const ns = set.pageNamespaces[p];
    t.xmlns[p] = ns === undefined ? undefined : utf8Encoder.encode(` xmlns="${escapeAttr(ns)}"`);
  }
  tagBytesCache.set(set, t);
  return t;
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}

function idOf(set: CodePageSet, el: { page: number; name: string } | undefined): number {
  if (!el) return -1;
  const ids = set.tagTokensAll.get(el.name);
  if (!ids) return -1;
  for (const id of ids) if (id >> 8 === el.page) return id;
  return -1;
}

const CDATA_OPEN = utf8Encoder.encode('<![CDATA[');
const CDATA_CLOSE = utf8Encoder.encode(']]>');
const CDATA_CR = utf8Encoder.encode(']]>&#13;<![CDATA[');
const CDATA_SPLIT = utf8Encoder.encode(']]]]><![CDATA[>');
const B64 = utf8Encoder.encode('b64');
const MAX_NESTING = 4;
const XML_NAME = /^[\p{L}_:][\p{L}\p{N}_.:\u00B7-]*$/u;

/** A governing Meta child seen under the element at some depth: its text and where it was written. */
interface MetaRecord {
  value: string;
  at: number;
  length: number;
}

/** Converts a document; reusable. */
class WbxmlToXmlConverter {
  readonly out = new XmlOutput(8192);
  private readonly indentUnit: string;
  private readonly strict: boolean;
  private readonly inline: boolean;
  private readonly rewriteType: boolean;

  constructor(private readonly options: WbxmlToXmlOptions) {
    const ind = options.indent;
    this.indentUnit = ind === true ? '  ' : typeof ind === 'number' && ind > 0 ? ' '.repeat(Math.min(ind, 16)) : '';
    this.strict = options.strict ?? true;
    this.inline = (options.nested ?? 'inline') === 'inline';
    this.rewriteType = options.rewriteNestedType ?? true;
  }

  document(bytes: Uint8Array): void {
    const r = new WbxmlReader(bytes, this.options);
    const out = this.out;
    if (this.options.xmlDeclaration ?? true) out.ascii('<?xml version="1.0" encoding="UTF-8"?>');
    const set = r.codePages;
    if ((this.options.doctype ?? true) && set && set.publicIdString) {
      if (out.pos > 0 && this.indentUnit) out.ascii('\n');
      out.raw(utf8Encoder.encode(`<!DOCTYPE ${set.root} PUBLIC "${set.publicIdString}"${set.systemId ? ` "${set.systemId}"` : ''}>`));
    }
    this.element(r, 0, 0);
  }

  /** Writes every token of `r` (a whole document), indented from `level`. */
  private element(r: WbxmlReader, level: number, nesting: number): void {
    const out = this.out;
    const set = r.codePages;
    const names = set ? tagBytes(set) : undefined;
    const rule = set?.nested;
    const carrierId = set && rule ? idOf(set, rule.carrier) : -1;
    const typeId = set && rule ? idOf(set, rule.typeElement) : -1;
    const formatId = set && rule ? idOf(set, rule.formatElement) : -1;
    const max = (this.options.maxDepth ?? 64) + 2;
    const pageAt = new Int32Array(max).fill(-1);
    const hadChild = new Uint8Array(max);
    const carrier = new Uint8Array(max);
    const types: (MetaRecord | undefined)[] = [];
    const formats: (MetaRecord | undefined)[] = [];
    let capture = 0; // 1 = inside Type, 2 = inside Format
    let captureDepth = -1;
    const indent = this.indentUnit;
    const strict = this.strict;
    const utf8 = r.charset === CHARSET_UTF_8;
    let first = out.pos === 0;

    for (;;) {
      const k = r.next();
      if (k === TokenKind.START_TAG) {
        const d = r.depth;
        if (indent && !first) this.newline(level + d - 1);
        first = false;
        hadChild[d - 1] = 1;
        hadChild[d] = 0;
        types[d] = undefined;
        formats[d] = undefined;
        const literal = r.literal >= 0;
        const page = r.page, token = r.token;
        const open = literal || !names ? undefined : names.open[page]?.[token];
        if (open) out.raw(open);
        else { out.ascii('<'); out.string(this.xmlName(r.tagName(), r.offset), false); }
        if (!literal) {
          if (d === 1 || page !== pageAt[d - 1]) {
            const ns = names?.xmlns[page];
            if (ns) out.raw(ns);
          }
          pageAt[d] = page;
        } else {
          pageAt[d] = pageAt[d - 1];
        }
        const id = literal ? -1 : (page << 8) | token;
        carrier[d] = id === carrierId && id >= 0 ? 1 : 0;
        if (id === typeId && id >= 0) { capture = 1; captureDepth = d; }
        else if (id === formatId && id >= 0) { capture = 2; captureDepth = d; }
        if (r.hasAttributes) this.attributes(r);
        if (!r.hasContent) {
          out.ascii('/>');
          r.next(); // the END_TAG the reader reports for an element without content
          if (captureDepth === d) capture = 0;
        } else {
          out.ascii('>');
        }
      } else if (k === TokenKind.END_TAG) {
        const d = r.depth + 1;
        if (indent && hadChild[d]) this.newline(level + d - 1);
        const close = r.literal >= 0 || !names ? undefined : names.close[r.page]?.[r.token];
        if (close) out.raw(close);
        else { out.ascii('</'); out.string(this.xmlName(r.tagName(), r.offset), false); out.ascii('>'); }
        if (captureDepth === d) capture = 0;
        if (d === 1) break;
      } else if (k === TokenKind.TEXT) {
        const at = out.pos;
        if (utf8) out.text(r.bytes, r.start, r.end, false, strict, r.start);
        else out.string(r.text(), false, strict, r.start);
        if (capture !== 0 && r.depth === captureDepth) {
          const rec = { value: r.text().trim(), at, length: out.pos - at };
          if (captureDepth >= 2) (capture === 1 ? types : formats)[captureDepth - 2] = rec;
        }
      } else if (k === TokenKind.ENTITY) {
        out.string(String.fromCodePoint(r.entity), false, strict, r.offset);
      } else if (k === TokenKind.OPAQUE) {
        const d = r.depth;
        if (carrier[d] && this.inline && rule && nesting < MAX_NESTING) {
          const rec = types[d - 1] ?? types[d - 2];
          const match = rec && rule.types.find((t) => t.wbxml === rec.value || t.xml === rec.value);
          if (rec && match && this.nestedDocument(r, level + d, nesting, rec, match.xml)) {
            hadChild[d] = 1;
            continue;
          }
        }
        this.opaque(r, formats[d - 1] ?? formats[d - 2]);
      } else if (k === TokenKind.EXTENSION) {
        if (r.extKind === '') {
          if (strict) throw new WbxmlError('UNKNOWN_TOKEN', r.offset, `extension token EXT_${r.ext} has no XML form`);
        } else if (utf8) out.text(r.bytes, r.start, r.end, false, strict, r.start);
        else out.string(r.text(), false, strict, r.start);
      } else if (k === TokenKind.PI) {
        this.processingInstruction(r);
      } else if (k === TokenKind.EOF) {
        break;
      }
    }
    // Processing instructions after the root.
    if (r.depth === 0) {
      while (r.next() === TokenKind.PI) this.processingInstruction(r);
    }
  }

  /** A literal name from the string table must still be an XML name. */
  private xmlName(name: string, offset: number): string {
    if (XML_NAME.test(name)) return name;
    throw new WbxmlError('INVALID_XML_CHAR', offset, `'${name}' is not an XML name`);
  }

  private newline(level: number): void {
    this.out.ascii('\n');
    for (let i = 0; i < level; i++) this.out.ascii(this.indentUnit);
  }

  /** Inlines a nested document; false when the bytes are not one (then they are written as data). */
  private nestedDocument(r: WbxmlReader, level: number, nesting: number, type: MetaRecord, xmlType: string): boolean {
    const out = this.out;
    const mark = out.pos;
    let inner: WbxmlReader;
    try {
      inner = new WbxmlReader(r.opaque(), { ...this.options, codePages: undefined, defaultCodePages: undefined });
      this.element(inner, level, nesting + 1);
    } catch (e) {
      if (this.strict) throw rebase(e, r.start);
      out.pos = mark;
      return false;
    }
    if (this.rewriteType && type.value !== xmlType) {
      out.splice(type.at, type.length, utf8Encoder.encode(xmlType));
    }
    return true;
  }

  private opaque(r: WbxmlReader, format: MetaRecord | undefined): void {
    const out = this.out;
    const b = r.bytes, s = r.start, e = r.end;
    if (isXmlText(b, s, e)) {
      out.raw(CDATA_OPEN);
      let from = s;
      for (let i = s; i < e; i++) {
        const c = b[i];
        if (c === 0x0d) {
          out.raw(b.subarray(from, i));
          out.raw(CDATA_CR);
          from = i + 1;
        } else if (c === 0x3e && i >= s + 2 && b[i - 1] === 0x5d && b[i - 2] === 0x5d) {
          out.raw(b.subarray(from, i - 2));
          out.raw(CDATA_SPLIT);
          from = i + 1;
        }
      }
      out.raw(b.subarray(from, e));
      out.raw(CDATA_CLOSE);
      return;
    }
    // Binary data: base64, and the Format that governs it says so.
    out.ensure(base64Length(e - s));
    out.pos = base64Into(b, s, e, out.buf, out.pos);
    if (format && format.value === 'bin' && format.length === 3) {
      out.splice(format.at, 3, B64);
      format.value = 'b64';
    }
  }

  private attributes(r: WbxmlReader): void {
    const out = this.out;
    let open = false;
    for (;;) {
      const k = r.next();
      if (k === TokenKind.ATTR_START) {
        if (open) out.ascii('"');
        out.ascii(' ');
        out.string(this.xmlName(r.attrName(), r.offset), false);
        out.ascii('="');
        out.string(r.attrValuePrefix(), true);
        open = true;
      } else if (k === TokenKind.ATTR_VALUE) {
        out.string(r.attrValueText(), true);
      } else if (k === TokenKind.TEXT || k === TokenKind.EXTENSION) {
        out.string(r.text(), true, this.strict, r.start);
      } else if (k === TokenKind.ENTITY) {
        out.string(String.fromCodePoint(r.entity), true, this.strict, r.offset);
      } else if (k === TokenKind.OPAQUE) {
        const bytes = r.opaque();
        if (!isXmlText(bytes, 0, bytes.length)) {
          throw new WbxmlError('INVALID_XML_CHAR', r.start, 'binary OPAQUE in an attribute value cannot be written as XML');
        }
        out.text(bytes, 0, bytes.length, true, this.strict, r.start);
      } else if (k === TokenKind.ATTRS_END) {
        if (open) out.ascii('"');
        return;
      }
    }
  }

  private processingInstruction(r: WbxmlReader): void {
    let target = '';
    let data = '';
    for (;;) {
      const k = r.next();
      if (k === TokenKind.ATTR_START) target = r.attrName() + r.attrValuePrefix();
      else if (k === TokenKind.ATTR_VALUE) data += r.attrValueText();
      else if (k === TokenKind.TEXT || k === TokenKind.EXTENSION) data += r.text();
      else if (k === TokenKind.ENTITY) data += String.fromCodePoint(r.entity);
      else if (k === TokenKind.ATTRS_END) break;
    }
    if (!XML_NAME.test(target) || /^xml$/i.test(target) || data.includes('?>')) {
      if (this.strict) throw new WbxmlError('INVALID_XML_CHAR', r.offset, `processing instruction '${target}' cannot be written as XML`);
      return;
    }
    this.out.string(`<?${target}${data ? ' ' + data : ''}?>`, false);
  }
}

/** Valid UTF-8 made only of characters XML can carry (tab, LF, CR and U+0020 up, no U+FFFE/F). */
function isXmlText(b: Uint8Array, s: number, e: number): boolean {
  let high = false;
  for (let i = s; i < e; i++) {
    const c = b[i];
    if (c < 0x20) {
      if (c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
    } else if (c >= 0x80) high = true;
  }
  if (!high) return true;
  if (firstInvalidUtf8(b, s, e) !== e) return false;
  for (let i = s; i + 2 < e; i++) {
    if (b[i] === 0xef && b[i + 1] === 0xbf && (b[i + 2] === 0xbe || b[i + 2] === 0xbf)) return false;
  }
  return true;
}

/**
 * Converts a WBXML document to XML text.
 *
 * @example
 * ```ts
 * import { wbxmlToXml } from 'syncml-dm/wbxml';
 * const xml = wbxmlToXml(bytes, { indent: true });
 * ```
 * @throws WbxmlError with `code` and byte `offset` for anything that is not a valid document.
 * @public
 */
export function wbxmlToXml(bytes: Uint8Array, options: WbxmlToXmlOptions = {}): string {
  const c = new WbxmlToXmlConverter(options);
  c.document(bytes);
  return c.out.toString();
}

/** Like {@link wbxmlToXml}, returning the UTF-8 bytes of the XML. @public */
export function wbxmlToXmlBytes(bytes: Uint8Array, options: WbxmlToXmlOptions = {}): Uint8Array {
  const c = new WbxmlToXmlConverter(options);
  c.document(bytes);
  return c.out.toBytes();
}

export { unknownTagName };
