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
import { decodeText, firstInvalidUtf8, utf8Encoder } from './text.js';
import { CHARSET_UTF_8, K } from './tokens.js';
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
  /** Every name is ASCII (true for all built-in code pages). */
  ascii: boolean;
  /** By `page << 6 | token`: `<Name`, `<Name>`, `</Name>` (bytes, and packed words for ASCII). */
  open: (Uint8Array | undefined)[];
  openGt: (Uint8Array | undefined)[];
  close: (Uint8Array | undefined)[];
  openGtWords: (Int32Array | undefined)[];
  closeWords: (Int32Array | undefined)[];
  xmlns: (Uint8Array | undefined)[];
}

const tagBytesCache = new WeakMap<CodePageSet, TagBytes>();

function tagBytes(set: CodePageSet): TagBytes {
  let t = tagBytesCache.get(set);
  if (t) return t;
  const size = set.tagNames.length << 6;
  t = {
    ascii: true, open: new Array(size).fill(undefined), openGt: new Array(size).fill(undefined),
    close: new Array(size).fill(undefined), openGtWords: new Array(size).fill(undefined),
    closeWords: new Array(size).fill(undefined), xmlns: [],
  };
  for (let p = 0; p < set.tagNames.length; p++) {
    const names = set.tagNames[p];
    if (!names) continue;
    for (let k = 0; k < names.length; k++) {
      const n = names[k];
      if (n === undefined) continue;
      t.open[(p << 6) | k] = utf8Encoder.encode('<' + n);
      t.openGt[(p << 6) | k] = utf8Encoder.encode('<' + n + '>');
      t.close[(p << 6) | k] = utf8Encoder.encode('</' + n + '>');
      t.openGtWords[(p << 6) | k] = packWords(t.openGt[(p << 6) | k]!);
      t.closeWords[(p << 6) | k] = packWords(t.close[(p << 6) | k]!);
    }
    const ns = set.pageNamespaces[p];
    t.xmlns[p] = ns === undefined ? undefined : utf8Encoder.encode(` xmlns="${escapeAttr(ns)}"`);
    if (!/^[\x00-\x7f]*$/.test(names.join('') + (ns ?? ''))) t.ascii = false;
  }
  tagBytesCache.set(set, t);
  return t;
}

/** Bytes as little-endian 32-bit words (zero-padded). */
function packWords(b: Uint8Array): Int32Array {
  const w = new Int32Array(Math.ceil(b.length / 4));
  for (let i = 0; i < b.length; i++) w[i >> 2] |= b[i] << ((i & 3) * 8);
  return w;
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

// Markup constants are ASCII: written with rawAscii.
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
  private indentUnit = '';
  private strict = true;
  private inline = true;
  private rewriteType = true;
  private options: WbxmlToXmlOptions = {};

  constructor(readonly out: XmlOutput) {}

  configure(options: WbxmlToXmlOptions): void {
    this.options = options;
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
    const carrierId = set && rule ? idOf(set, rule.carrier) : -2;
    const typeId = set && rule ? idOf(set, rule.typeElement) : -2;
    const formatId = set && rule ? idOf(set, rule.formatElement) : -2;
    const max = (this.options.maxDepth ?? 64) + 2;
    const pageAt = new Int32Array(max).fill(-1);
    const hadChild = new Uint8Array(max);
    const carrier = new Uint8Array(max);
    // Governing Meta/Type and Meta/Format texts, recorded by the depth of the element owning the
    // Meta: [input start, input end, output offset, output length]; decoded only when needed.
    const types = new Int32Array(max * 4).fill(-1);
    const formats = new Int32Array(max * 4).fill(-1);
    let capture: Int32Array | undefined;
    let captureDepth = -1;
    const indent = this.indentUnit;
    const strict = this.strict;
    const utf8 = r.charset === CHARSET_UTF_8;
    const asciiNames = names !== undefined && names.ascii;
    let first = out.pos === 0;

    for (;;) {
      const k = r.next();
      if (k === K.START_TAG) {
        const d = r.depth;
        if (indent) {
          if (!first) this.newline(level + d - 1);
          hadChild[d - 1] = 1;
          hadChild[d] = 0;
        }
        first = false;
        const page = r.page, token = r.token;
        if (token >= 0 && names !== undefined) {
          const key = (page << 6) | token;
          if (rule !== undefined) {
            types[d * 4] = -1;
            formats[d * 4] = -1;
            const id = (page << 8) | token;
            carrier[d] = id === carrierId ? 1 : 0;
            if (id === typeId) { capture = types; captureDepth = d; }
            else if (id === formatId) { capture = formats; captureDepth = d; }
          }
          const nsChange = page !== pageAt[d - 1] || d === 1;
          pageAt[d] = page;
          if (!nsChange && r.tagByte >= 0x40 && r.tagByte < 0x80) {
            // The common case: `<Name>` in one copy.
            const openGt = names.openGt[key];
            if (openGt !== undefined) {
              if (asciiNames) out.words(names.openGtWords[key]!, openGt.length);
              else out.raw(openGt);
              continue;
            }
          }
          this.openTag(r, names, key, nsChange, asciiNames);
        } else {
          carrier[d] = 0;
          pageAt[d] = token >= 0 ? page : pageAt[d - 1];
          out.byte(0x3c);
          out.string(this.xmlName(r.tagName(), r.offset), false);
        }
        if (r.hasAttributes) this.attributes(r);
        if (!r.hasContent) {
          out.byte(0x2f);
          out.byte(0x3e);
          r.next(); // the END_TAG the reader reports for an element without content
          if (captureDepth === d) { capture = undefined; captureDepth = -1; }
        } else {
          out.byte(0x3e);
        }
      } else if (k === K.END_TAG) {
        const d = r.depth + 1;
        if (indent && hadChild[d]) this.newline(level + d - 1);
        const ckey = (r.page << 6) | r.token;
        const close = r.token < 0 || names === undefined ? undefined : names.close[ckey];
        if (close !== undefined) {
          if (asciiNames) out.words(names!.closeWords[ckey]!, close.length);
          else out.raw(close);
        } else {
          out.byte(0x3c);
          out.byte(0x2f);
          out.string(this.xmlName(r.tagName(), r.offset), false);
          out.byte(0x3e);
        }
        if (captureDepth === d) { capture = undefined; captureDepth = -1; }
        if (d === 1) break;
      } else if (k === K.TEXT) {
        const at = out.pos;
        if (utf8) out.text(r.bytes, r.start, r.end, false, strict, r.start);
        else out.string(r.text(), false, strict, r.start);
        if (capture !== undefined && r.depth === captureDepth && captureDepth >= 2) {
          const i = (captureDepth - 2) * 4;
          capture[i] = r.start;
          capture[i + 1] = r.end;
          capture[i + 2] = at;
          capture[i + 3] = out.pos - at;
        }
      } else if (k === K.ENTITY) {
        out.string(String.fromCodePoint(r.entity), false, strict, r.offset);
      } else if (k === K.OPAQUE) {
        const d = r.depth;
        if (carrier[d] && this.inline && rule && nesting < MAX_NESTING) {
          const rec = this.record(r, types, d - 1) ?? this.record(r, types, d - 2);
          const match = rec && rule.types.find((t) => t.wbxml === rec.value || t.xml === rec.value);
          if (rec && match && this.nestedDocument(r, level + d, nesting, rec, match.xml)) {
            hadChild[d] = 1;
            continue;
          }
        }
        this.opaque(r, carrier[d] ? this.record(r, formats, d - 1) ?? this.record(r, formats, d - 2) : undefined);
      } else if (k === K.EXTENSION) {
        if (r.extKind === '') {
          if (strict) throw new WbxmlError('UNKNOWN_TOKEN', r.offset, `extension token EXT_${r.ext} has no XML form`);
        } else if (utf8) out.text(r.bytes, r.start, r.end, false, strict, r.start);
        else out.string(r.text(), false, strict, r.start);
      } else if (k === K.PI) {
        this.processingInstruction(r);
      } else if (k === K.EOF) {
        break;
      }
    }
    // Processing instructions after the root.
    if (r.depth === 0) {
      while (r.next() === K.PI) this.processingInstruction(r);
    }
  }

  /** `<Name` plus the namespace declaration when the code page changes (no `>` yet). */
  private openTag(r: WbxmlReader, names: TagBytes, key: number, nsChange: boolean, asciiNames: boolean): void {
    const out = this.out;
    const open = names.open[key];
    if (open !== undefined) {
      if (asciiNames) out.rawAscii(open);
      else out.raw(open);
    } else {
      out.byte(0x3c);
      out.string(this.xmlName(r.tagName(), r.offset), false);
    }
    if (nsChange) {
      const ns = names.xmlns[r.page];
      if (ns !== undefined) {
        if (asciiNames) out.rawAscii(ns);
        else out.raw(ns);
      }
    }
  }

  /** The Meta text recorded for the element at `depth`, decoded now. */
  private record(r: WbxmlReader, recs: Int32Array, depth: number): MetaRecord | undefined {
    if (depth < 0) return undefined;
    const i = depth * 4;
    if (recs[i] < 0) return undefined;
    const value = decodeText(r.bytes, recs[i], recs[i + 1], r.charset, false).trim();
    return { value, at: recs[i + 2], length: recs[i + 3] };
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
      out.rawAscii(CDATA_OPEN);
      let from = s;
      for (let i = s; i < e; i++) {
        const c = b[i];
        if (c === 0x0d) {
          out.raw(b.subarray(from, i));
          out.rawAscii(CDATA_CR);
          from = i + 1;
        } else if (c === 0x3e && i >= s + 2 && b[i - 1] === 0x5d && b[i - 2] === 0x5d) {
          out.raw(b.subarray(from, i - 2));
          out.rawAscii(CDATA_SPLIT);
          from = i + 1;
        }
      }
      out.raw(b.subarray(from, e));
      out.rawAscii(CDATA_CLOSE);
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
      if (k === K.ATTR_START) {
        if (open) out.ascii('"');
        out.ascii(' ');
        out.string(this.xmlName(r.attrName(), r.offset), false);
        out.ascii('="');
        out.string(r.attrValuePrefix(), true);
        open = true;
      } else if (k === K.ATTR_VALUE) {
        out.string(r.attrValueText(), true);
      } else if (k === K.TEXT || k === K.EXTENSION) {
        out.string(r.text(), true, this.strict, r.start);
      } else if (k === K.ENTITY) {
        out.string(String.fromCodePoint(r.entity), true, this.strict, r.offset);
      } else if (k === K.OPAQUE) {
        const bytes = r.opaque();
        if (!isXmlText(bytes, 0, bytes.length)) {
          throw new WbxmlError('INVALID_XML_CHAR', r.start, 'binary OPAQUE in an attribute value cannot be written as XML');
        }
        out.text(bytes, 0, bytes.length, true, this.strict, r.start);
      } else if (k === K.ATTRS_END) {
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
      if (k === K.ATTR_START) target = r.attrName() + r.attrValuePrefix();
      else if (k === K.ATTR_VALUE) data += r.attrValueText();
      else if (k === K.TEXT || k === K.EXTENSION) data += r.text();
      else if (k === K.ENTITY) data += String.fromCodePoint(r.entity);
      else if (k === K.ATTRS_END) break;
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
  return convert(bytes, options, false) as string;
}

// One converter and output buffer, reused call after call (the buffer keeps its grown size);
// a call made while another runs (from an error handler, say) gets a fresh pair.
const shared = new WbxmlToXmlConverter(new XmlOutput(64 * 1024));
let busy = false;

function convert(bytes: Uint8Array, options: WbxmlToXmlOptions, asBytes: boolean): string | Uint8Array {
  const c = busy ? new WbxmlToXmlConverter(new XmlOutput(Math.max(4096, bytes.length * 3))) : shared;
  const own = c === shared;
  if (own) busy = true;
  try {
    c.out.reset();
    c.configure(options);
    c.document(bytes);
    return asBytes ? c.out.toBytes() : c.out.toString();
  } finally {
    if (own) {
      busy = false;
      // Do not pin a huge buffer after an unusually large document.
      if (c.out.buf.length > 8 * 1024 * 1024) c.out.setBuffer(new Uint8Array(64 * 1024));
    }
  }
}

/** Like {@link wbxmlToXml}, returning the UTF-8 bytes of the XML. @public */
export function wbxmlToXmlBytes(bytes: Uint8Array, options: WbxmlToXmlOptions = {}): Uint8Array {
  return convert(bytes, options, true) as Uint8Array;
}

export { unknownTagName };
