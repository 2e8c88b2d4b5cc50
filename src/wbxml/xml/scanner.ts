/**
 * A zero-copy, pull-style XML 1.0 scanner over UTF-8 bytes.
 *
 * `next()` advances to the next token and records byte offsets only; strings are built lazily by
 * `name()`, `text()`, `attrValue()`... Element names are interned, so repeated tags do not allocate.
 * No per-token allocation: attribute offsets, the open-element stack and the namespace
 * declarations live in reusable `Int32Array`s.
 *
 * What is checked (well-formedness, with precise `line:column` errors): element nesting and end
 * tag names, attribute syntax and uniqueness, the five predefined entities and character
 * references (any other entity is refused: DTD entities are never expanded), XML characters,
 * UTF-8 validity (checked only where a byte >= 0x80 appears), comments, processing instructions,
 * the XML declaration (encoding must be UTF-8 or US-ASCII), the DOCTYPE (skipped, ids recorded),
 * CDATA sections, a single root element.
 */
import { WbxmlError, type XmlPosition } from '../errors.js';
import { decodeText } from '../text.js';
import { CHARSET_UTF_8 } from '../tokens.js';
import {
  UTF8_CP_MASK, UTF8_LEN_SHIFT, bomLength, describeAt, fail, isNameCp, isNameStartCp, positionIn,
  putUtf8, sliceForMessage, utf8At,
} from './utf8.js';

/** Token kinds returned by {@link XmlScanner.next}. @public */
/** XML token kinds as a const enum the bundler inlines (see tokens.ts `G`). @internal */
export const enum X { EOF = 0, START_TAG = 1, END_TAG = 2, TEXT = 3, CDATA = 4 }
export const XmlToken = { EOF: X.EOF, START_TAG: X.START_TAG, END_TAG: X.END_TAG, TEXT: X.TEXT, CDATA: X.CDATA } as const;
/** @public */
export type XmlTokenKind = (typeof XmlToken)[keyof typeof XmlToken];

/** @public */
export interface XmlScannerOptions {
  /** Element nesting deeper than this throws `DEPTH_LIMIT`. Default 64. */
  maxDepth?: number;
  /** Longer input throws `SIZE_LIMIT` when the scanner is constructed or reset. Default 16 MiB. */
  maxBytes?: number;
}

// ---------------------------------------------------------------------------------------------
// Bytes and tables

const TAB = 0x09, LF = 0x0a, CR = 0x0d, SP = 0x20, BANG = 0x21, DQ = 0x22, HASH = 0x23,
  AMP = 0x26, SQ = 0x27, DASH = 0x2d, SLASH = 0x2f, COLON = 0x3a, SEMI = 0x3b, LT = 0x3c,
  EQ = 0x3d, GT = 0x3e, QM = 0x3f, LSQB = 0x5b, RSQB = 0x5d;

const EOF = 0, START_TAG = 1, END_TAG = 2, TEXT = 3, CDATA = 4;
const PROLOG = 0, IN_ROOT = 1, EPILOG = 2;

/** TEXT flags. */
const F_ENT = 1, F_CR = 2, F_NONASCII = 4;

/** 1: a text byte with nothing to do (tab, LF, 0x20-0x7F except `<`, `&`, `]`). */
const TEXT_PLAIN = new Uint8Array(256);
/** 1: an attribute value byte with nothing to do (tab, LF, CR, 0x20-0x7F except `<`, `&`, quotes). */
const ATTR_PLAIN = new Uint8Array(256);
/** 1: tab, LF, CR and 0x20-0x7F. */
const PLAIN = new Uint8Array(256);
/** 1: XML white space. */
const WS = new Uint8Array(256);
/** 1: ASCII NameStartChar (letters, `_`), 2: other ASCII NameChar (digits, `-`, `.`), 3: `:`, 4: non-ASCII. */
const NAME = new Uint8Array(256);
(() => {
  for (let c = 0x20; c < 0x80; c++) {
    PLAIN[c] = 1;
    TEXT_PLAIN[c] = 1;
    ATTR_PLAIN[c] = 1;
  }
  for (const c of [TAB, LF, CR]) PLAIN[c] = ATTR_PLAIN[c] = 1;
  TEXT_PLAIN[TAB] = TEXT_PLAIN[LF] = 1;
  TEXT_PLAIN[LT] = TEXT_PLAIN[AMP] = TEXT_PLAIN[RSQB] = 0;
  ATTR_PLAIN[LT] = ATTR_PLAIN[AMP] = ATTR_PLAIN[DQ] = ATTR_PLAIN[SQ] = 0;
  WS[SP] = WS[TAB] = WS[LF] = WS[CR] = 1;
  for (let c = 0x41; c <= 0x5a; c++) NAME[c] = NAME[c + 0x20] = 1;
  NAME[0x5f] = 1;
  for (let c = 0x30; c <= 0x39; c++) NAME[c] = 2;
  NAME[DASH] = NAME[0x2e] = 2;
  NAME[COLON] = 3;
  for (let c = 0x80; c < 0x100; c++) NAME[c] = 4;
})();

/**
 * The end of the run of plain text bytes (TEXT_PLAIN) starting at `q`. Four bytes at a time while
 * a word holds no byte below 0x20, at or above 0x80, nor `<`, `&`, `]` (the SWAR tests
 * has-less-than and has-zero-byte); the table decides the word where a test fires (tab and LF
 * fire it but are plain), then words again.
 */
function plainRun(b: Uint8Array, dv: DataView, q: number, len: number): number {
  for (;;) {
    while (q + 4 <= len) {
      const v = dv.getInt32(q, true);
      const lt = v ^ 0x3c3c3c3c, amp = v ^ 0x26262626, sqb = v ^ 0x5d5d5d5d;
      const special = ((v - 0x20202020) & ~v) | v
        | ((lt - 0x01010101) & ~lt) | ((amp - 0x01010101) & ~amp) | ((sqb - 0x01010101) & ~sqb);
      if ((special & 0x80808080) !== 0) break;
      q += 4;
    }
    const stop = q + 4 < len ? q + 4 : len;
    while (q < stop && TEXT_PLAIN[b[q]] === 1) q++;
    if (q < stop || q >= len) return q;
  }
}

const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_DEPTH = 64;
/** Namespace declarations in scope at once (real documents use a handful). */
const MAX_NS_DECLS = 256;

// Name contexts, for messages.
const CTX_TAG = 0, CTX_END_TAG = 1, CTX_ATTR = 2, CTX_PI = 3, CTX_DOCTYPE = 4;
const CTX_WHAT = [
  "a tag name after '<'",
  "a tag name after '</'",
  "an attribute name, '>' or '/>'",
  "a processing instruction target after '<?'",
  'the root element name in the DOCTYPE',
];

// ---------------------------------------------------------------------------------------------
// Entity and character references

/** End of the reference parsed by the last {@link parseRef} call. */
let refEnd = 0;

function isXmlCharCp(cp: number): boolean {
  return cp >= 0x20 ? cp <= 0xd7ff || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff)
    : cp === TAB || cp === LF || cp === CR;
}

/** Parses the reference starting with `&` at `b[p]` (bounded by `end`); returns its code point, sets {@link refEnd}. */
function parseRef(b: Uint8Array, p: number, end: number): number {
  let q = p + 1;
  if (q < end && b[q] === HASH) {
    q++;
    let cp = 0;
    const digitsAt = q;
    if (q < end && b[q] === 0x78 /* x */) {
      q++;
      const hexAt = q;
      while (q < end) {
        const c = b[q];
        let v: number;
        if (c >= 0x30 && c <= 0x39) v = c - 0x30;
        else if (c >= 0x61 && c <= 0x66) v = c - 0x57;
        else if (c >= 0x41 && c <= 0x46) v = c - 0x37;
        else break;
        if (cp <= 0x10ffff) cp = cp * 16 + v;
        q++;
      }
      if (q === hexAt) fail(b, 'XML_SYNTAX', q, `expected hex digits in character reference, found ${describeAt(b, q, end)}`);
    } else {
      while (q < end) {
        const c = b[q];
        if (c < 0x30 || c > 0x39) break;
        if (cp <= 0x10ffff) cp = cp * 10 + (c - 0x30);
        q++;
      }
      if (q === digitsAt) fail(b, 'XML_SYNTAX', q, `expected digits or 'x' in character reference, found ${describeAt(b, q, end)}`);
    }
    if (q >= end || b[q] !== SEMI) {
      fail(b, 'XML_SYNTAX', q, `expected ';' to end character reference ${sliceForMessage(b, p, q)}, found ${describeAt(b, q, end)}`);
    }
    if (!isXmlCharCp(cp)) {
      fail(b, 'INVALID_XML_CHAR', p, `character reference ${sliceForMessage(b, p, q + 1)} is not a valid XML character`);
    }
    refEnd = q + 1;
    return cp;
  }
  const ns = q;
  if (q < end && (NAME[b[q]] === 1 || NAME[b[q]] === 3 || NAME[b[q]] === 4)) {
    while (q < end) {
      const k = NAME[b[q]];
      if (k === 4) q += utf8At(b, q, end) >>> UTF8_LEN_SHIFT;
      else if (k !== 0) q++;
      else break;
    }
  }
  if (q === ns) {
    fail(b, 'XML_SYNTAX', p, `'&' must start an entity or character reference (write &amp;), found ${describeAt(b, q, end)} after it`);
  }
  if (q >= end || b[q] !== SEMI) {
    fail(b, 'XML_SYNTAX', q, `expected ';' after entity name ${sliceForMessage(b, p, q)}, found ${describeAt(b, q, end)}`);
  }
  const n = q - ns;
  const c0 = b[ns];
  let cp = -1;
  if (n === 2 && b[ns + 1] === 0x74 /* t */) {
    if (c0 === 0x6c /* l */) cp = LT;
    else if (c0 === 0x67 /* g */) cp = GT;
  } else if (n === 3 && c0 === 0x61 && b[ns + 1] === 0x6d && b[ns + 2] === 0x70) cp = AMP;
  else if (n === 4 && b[ns + 2] === 0x6f) {
    if (c0 === 0x61 && b[ns + 1] === 0x70 && b[ns + 3] === 0x73) cp = SQ; // apos
    else if (c0 === 0x71 && b[ns + 1] === 0x75 && b[ns + 3] === 0x74) cp = DQ; // quot
  }
  if (cp < 0) {
    fail(b, 'XML_UNDEFINED_ENTITY', p,
      `undefined entity ${sliceForMessage(b, p, q + 1)} (only &lt; &gt; &amp; &apos; &quot; and character references are allowed)`);
  }
  refEnd = q + 1;
  return cp;
}

const MODE_TEXT = 0, MODE_ATTR = 1, MODE_CDATA = 2;

/**
 * Decodes `src[start,end)` into `dst` at `o`: references (not in CDATA mode), line endings
 * (CRLF/CR -> LF; in attribute mode tab/LF/CR -> space as XML attribute-value normalisation
 * requires), validating characters. Returns the new position.
 */
function unescapeRange(src: Uint8Array, start: number, end: number, dst: Uint8Array, o: number, mode: number): number {
  let i = start;
  while (i < end) {
    const c = src[i];
    if (c >= 0x20 && c < 0x80) {
      if (mode !== MODE_CDATA) {
        if (c === AMP) {
          o = putUtf8(dst, o, parseRef(src, i, end));
          i = refEnd;
          continue;
        }
        if (c === LT) {
          fail(src, 'XML_SYNTAX', i, mode === MODE_ATTR ? "'<' is not allowed in attribute values" : "'<' is not allowed in text (write &lt;)");
        }
        if (c === RSQB && mode === MODE_TEXT && i + 2 < end && src[i + 1] === RSQB && src[i + 2] === GT) {
          fail(src, 'XML_SYNTAX', i, "']]>' is not allowed in text (write ]]&gt;)");
        }
      }
      dst[o++] = c;
      i++;
    } else if (c === CR) {
      dst[o++] = mode === MODE_ATTR ? SP : LF;
      i++;
      if (i < end && src[i] === LF) i++;
    } else if (c === LF || c === TAB) {
      dst[o++] = mode === MODE_ATTR ? SP : c;
      i++;
    } else if (c >= 0x80) {
      const n = utf8At(src, i, end) >>> UTF8_LEN_SHIFT;
      for (let k = 0; k < n; k++) dst[o++] = src[i + k];
      i += n;
    } else {
      fail(src, 'INVALID_XML_CHAR', i, `${describeAt(src, i, end)} is not allowed in XML`);
    }
  }
  return o;
}

/**
 * Decodes XML text bytes `src[start,end)` (the five predefined entities and character references;
 * CRLF and lone CR become LF) into `dst` at `dstPos` as UTF-8; returns the new `dstPos`. The
 * decoded form is never longer than the raw form, so `dst` needs `end - start` bytes of room.
 * With `attribute` true, also applies attribute-value normalisation (tab, LF, CR and CRLF become
 * one space; character references are kept), as {@link XmlScanner.attrValue} does.
 * Throws {@link WbxmlError} like the scanner (undefined entities, bad references, invalid
 * characters or UTF-8, `<`, and `]]>` in text).
 * @public
 */
export function unescapeXmlInto(
  src: Uint8Array, start: number, end: number, dst: Uint8Array, dstPos: number, attribute = false,
): number {
  if (!(src instanceof Uint8Array) || !(dst instanceof Uint8Array)) {
    throw new WbxmlError('INVALID_ARGUMENT', -1, 'unescapeXmlInto: src and dst must be Uint8Arrays');
  }
  if (!Number.isInteger(start) || !Number.isInteger(end) || !Number.isInteger(dstPos)
    || start < 0 || end < start || end > src.length || dstPos < 0) {
    throw new WbxmlError('INVALID_ARGUMENT', -1, `unescapeXmlInto: bad range [${start}, ${end}) or position ${dstPos}`);
  }
  checkRoom(dst, dstPos, end - start);
  return unescapeRange(src, start, end, dst, dstPos, attribute ? MODE_ATTR : MODE_TEXT);
}

function checkRoom(dst: Uint8Array, dstPos: number, n: number): void {
  if (!(dst instanceof Uint8Array) || !Number.isInteger(dstPos) || dstPos < 0 || dst.length - dstPos < n) {
    throw new WbxmlError('INVALID_ARGUMENT', -1, `dst needs ${n} bytes of room at ${String(dstPos)}, has ${dst instanceof Uint8Array ? dst.length - dstPos : 0}`);
  }
}

function copyBytes(src: Uint8Array, s: number, e: number, dst: Uint8Array, o: number): number {
  if (e - s > 32) {
    dst.set(src.subarray(s, e), o);
    return o + (e - s);
  }
  for (let i = s; i < e; i++) dst[o++] = src[i];
  return o;
}

// ---------------------------------------------------------------------------------------------
// Interned names (shared by all scanners: tag names repeat across documents)

const IC_SLOTS = 4096;
const IC_MAX = 2048;
const IC_MAX_LEN = 64;
const icSlots = new Int32Array(IC_SLOTS);
const icStart = new Int32Array(IC_MAX);
const icLen = new Int32Array(IC_MAX);
const icStr: string[] = [];
let icPool = new Uint8Array(4096);
let icUsed = 0;
let icCount = 0;

function decodeUtf8(b: Uint8Array, s: number, e: number): string {
  return decodeText(b, s, e, CHARSET_UTF_8, false);
}

/** The string of the (valid UTF-8) bytes `b[s,e)`, from a cache keyed by the bytes. */
function intern(b: Uint8Array, s: number, e: number): string {
  const n = e - s;
  if (n <= 0) return '';
  if (n > IC_MAX_LEN) return decodeUtf8(b, s, e);
  let h = 0x811c9dc5 | 0;
  for (let i = s; i < e; i++) h = Math.imul(h ^ b[i], 0x01000193);
  let slot = h & (IC_SLOTS - 1);
  for (;;) {
    const idx = icSlots[slot];
    if (idx === 0) break;
    const ent = idx - 1;
    if (icLen[ent] === n) {
      let i = s;
      let j = icStart[ent];
      while (i < e && icPool[j] === b[i]) { i++; j++; }
      if (i === e) return icStr[ent];
    }
    slot = (slot + 1) & (IC_SLOTS - 1);
  }
  const str = decodeUtf8(b, s, e);
  if (icCount === IC_MAX) {
    // Full (a document with thousands of distinct names): start over rather than keep stale ones.
    icSlots.fill(0);
    icCount = 0;
    icUsed = 0;
    icStr.length = 0;
    return str;
  }
  if (icUsed + n > icPool.length) {
    const grown = new Uint8Array(icPool.length * 2);
    grown.set(icPool);
    icPool = grown;
  }
  icPool.set(b.subarray(s, e), icUsed);
  icStart[icCount] = icUsed;
  icLen[icCount] = n;
  icStr[icCount] = str;
  icUsed += n;
  icSlots[slot] = ++icCount;
  return str;
}

/** Whether `b[s1, s1 + n)` and `b[s2, s2 + n)` hold the same bytes, four at a time (`dv` views `b`). */
function sameBytes(b: Uint8Array, dv: DataView, s1: number, s2: number, n: number): boolean {
  let i = 0;
  for (; i + 4 <= n; i += 4) if (dv.getInt32(s1 + i, true) !== dv.getInt32(s2 + i, true)) return false;
  for (; i < n; i++) if (b[s1 + i] !== b[s2 + i]) return false;
  return true;
}

function hashBytes(b: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = s; i < e; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h ^ (h >>> 15);
}

function checkOptions(options: XmlScannerOptions | undefined): [number, number] {
  const maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxBytes = options?.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > 0x3fffffff) {
    throw new WbxmlError('INVALID_ARGUMENT', -1, `maxDepth must be a positive integer, got ${String(maxDepth)}`);
  }
  if (!Number.isInteger(maxBytes) || maxBytes < 0 || maxBytes > 0x7fffffff) {
    throw new WbxmlError('INVALID_ARGUMENT', -1, `maxBytes must be an integer from 0 to 2^31-1, got ${String(maxBytes)}`);
  }
  return [maxDepth, maxBytes];
}

const utf8Encoder = new TextEncoder();

// ---------------------------------------------------------------------------------------------

/**
 * Pull-style XML scanner. Call {@link next} until it returns `XmlToken.EOF`; read the fields and
 * accessors of the current token in between. Errors are {@link WbxmlError}s with `offset`,
 * `line` and `column`; after one, every later `next()` throws it again (call {@link reset}).
 * @public
 */
export class XmlScanner {
  /** The input (including a BOM, if any: offsets index this array). */
  readonly bytes: Uint8Array;
  /** The same bytes as a DataView, for scanning text four bytes at a time. */
  private dv: DataView;
  /** Kind of the current token (`XmlToken`). */
  kind = EOF;
  /** Byte offset where the current token starts (`<` of a tag, first text byte, `<![CDATA[`; the `/` of `/>` for the END_TAG of a self-closing element). */
  offset = 0;
  /** Depth of the current element (root = 1); for TEXT/CDATA the depth of the enclosing element; 0 at EOF. */
  depth = 0;
  /** START_TAG / END_TAG: qualified name bytes `[nameStart, nameEnd)`. */
  nameStart = 0;
  nameEnd = 0;
  /** First byte of the local name (after `prefix:`), `nameStart` when there is no prefix. */
  localStart = 0;
  /** `<a/>`: its START_TAG and the END_TAG the next `next()` reports both have `selfClosing` true. */
  selfClosing = false;
  /** Number of attributes of the current START_TAG (0 for other tokens). */
  attrCount = 0;
  /** TEXT / CDATA: raw content bytes `[start, end)`; for tags, the whole tag `<...>`. */
  start = 0;
  end = 0;
  /** TEXT contains `&` (entity or character references). */
  hasEntities = false;
  /** TEXT made only of space, tab, CR and LF. */
  isWhitespace = false;
  /**
   * TEXT / CDATA contains a raw CR, which `text()`/`textInto()` turn into LF (CRLF -> LF): the
   * raw bytes can be copied as they are only when `!hasEntities && !hasCR`.
   */
  hasCR = false;
  /** DOCTYPE root name, public and system ids; XML declaration encoding. Set once the prolog has been read (after the first `next()`). */
  doctypeRoot: string | undefined = undefined;
  doctypePublicId: string | undefined = undefined;
  doctypeSystemId: string | undefined = undefined;
  declaredEncoding: string | undefined = undefined;

  private len = 0;
  private pos = 0;
  private bom = 0;
  private level = 0;
  private phase = PROLOG;
  private pendingEnd = false;
  private sawDoctype = false;
  private textFlags = 0;
  private colonAt = -1;
  private declStart = 0;
  private err: unknown = null;
  /** Deepest element nesting accepted. */
  readonly maxDepth: number;
  private readonly maxBytes: number;
  /** Open elements: name start and end per level. */
  private stack: Int32Array;
  /** Per open element: offset of its local name within its qualified name (0 without prefix). */
  private colonStack: Int32Array;
  /** Attributes of the current start tag: name start, name end, value start, value end. */
  private attrs = new Int32Array(64);
  /** Namespace declarations in scope: level, prefix start, prefix end, value start, value end. */
  private nsDecl = new Int32Array(40);
  private nsTop = 0;
  /** The nsDecl row found by the last namespaceKey(). */
  private nsKeySlot = 0;
  private scratch = new Uint8Array(0);
  // Duplicate-attribute hash table, used for tags with more than 8 attributes.
  private dupKey = new Int32Array(0);
  private dupStamp = new Int32Array(0);
  private dupGen = 0;

  constructor(input: Uint8Array, options?: XmlScannerOptions) {
    const [maxDepth, maxBytes] = checkOptions(options);
    this.maxDepth = maxDepth;
    this.maxBytes = maxBytes;
    this.stack = new Int32Array(2 * Math.min(maxDepth, DEFAULT_MAX_DEPTH) + 2);
    this.colonStack = new Int32Array(this.stack.length >> 1);
    this.bytes = input;
    this.dv = EMPTY_VIEW;
    this.reset(input);
  }

  /** A scanner over the UTF-8 encoding of `text`. */
  static fromString(text: string, options?: XmlScannerOptions): XmlScanner {
    if (typeof text !== 'string') throw new WbxmlError('INVALID_ARGUMENT', -1, 'XmlScanner.fromString: text must be a string');
    return new XmlScanner(utf8Encoder.encode(text), options);
  }

  /** Starts over on new input, keeping options and buffers. */
  reset(input: Uint8Array): void {
    if (!(input instanceof Uint8Array)) {
      throw new WbxmlError('INVALID_ARGUMENT', -1, 'XmlScanner: input must be a Uint8Array');
    }
    if (input.length > this.maxBytes) {
      fail(input, 'SIZE_LIMIT', this.maxBytes, `input of ${input.length} bytes exceeds maxBytes (${this.maxBytes})`);
    }
    (this as { bytes: Uint8Array }).bytes = input;
    this.dv = new DataView(input.buffer, input.byteOffset, input.byteLength);
    this.len = input.length;
    this.bom = bomLength(input);
    this.pos = this.bom;
    this.kind = EOF;
    this.offset = 0;
    this.depth = 0;
    this.nameStart = this.nameEnd = this.localStart = 0;
    this.selfClosing = false;
    this.attrCount = 0;
    this.start = this.end = 0;
    this.hasEntities = this.isWhitespace = this.hasCR = false;
    this.doctypeRoot = this.doctypePublicId = this.doctypeSystemId = this.declaredEncoding = undefined;
    this.level = 0;
    this.phase = PROLOG;
    this.pendingEnd = false;
    this.sawDoctype = false;
    this.textFlags = 0;
    this.nsTop = 0;
    this.err = null;
  }

  /** Advances to the next token and returns its kind. */
  next(): number {
    if (this.err !== null) throw this.err;
    try {
      return this.advance();
    } catch (e) {
      this.err = e;
      throw e;
    }
  }

  /** 1-based line and column (UTF-16 code units) of a byte offset. */
  position(offset: number): XmlPosition {
    return positionIn(this.bytes, offset);
  }

  // -------------------------------------------------------------------------------------------
  // Accessors

  /** Qualified name of the current tag (interned). */
  name(): string {
    return intern(this.bytes, this.nameStart, this.nameEnd);
  }

  localName(): string {
    return intern(this.bytes, this.localStart, this.nameEnd);
  }

  /** The prefix of the current tag, '' when none. */
  prefix(): string {
    return this.localStart === this.nameStart ? '' : intern(this.bytes, this.nameStart, this.localStart - 1);
  }

  /**
   * Namespace URI of the current element (for TEXT/CDATA: of the enclosing element) from the
   * `xmlns` / `xmlns:p` declarations in scope; '' if none. The `xml` prefix is predefined; an
   * undeclared prefix resolves to ''.
   */
  namespaceUri(): string {
    const key = this.namespaceKey();
    if (key === -1) return '';
    if (key === -2) return XML_NAMESPACE;
    return this.valueString(key, this.nsDecl[this.nsKeySlot + 4], true);
  }

  /** After `namespaceKey()` returned a key >= 0: the end of the declared value's raw bytes (it starts at the key). */
  namespaceValueEnd(): number {
    return this.nsDecl[this.nsKeySlot + 4];
  }

  /**
   * A number that identifies the declaration giving the current element its namespace (the byte
   * offset of the declared value), -1 for none, -2 for the `xml` prefix. Callers that map
   * namespaces to something cache by it and call `namespaceUri()` only when it changes.
   */
  namespaceKey(): number {
    const d = this.depth;
    if (d === 0 || this.kind === EOF) return -1;
    const b = this.bytes;
    const ns = this.stack[2 * d - 2];
    const ne = this.stack[2 * d - 1];
    let pe = ns;
    for (let i = ns; i < ne; i++) {
      if (b[i] === COLON) { pe = i; break; }
    }
    const pl = pe - ns;
    const t = this.nsDecl;
    for (let k = this.nsTop - 1; k >= 0; k--) {
      const r = 5 * k;
      if (t[r] > d) continue;
      if (t[r + 2] - t[r + 1] === pl && sameBytes(b, this.dv, t[r + 1], ns, pl)) {
        this.nsKeySlot = r;
        return t[r + 3];
      }
    }
    if (pl === 3 && b[ns] === 0x78 && b[ns + 1] === 0x6d && b[ns + 2] === 0x6c) return -2;
    return -1;
  }

  /** TEXT: content with references decoded and line endings normalised; CDATA: content verbatim (line endings normalised). */
  text(): string {
    const k = this.kind;
    if (k !== TEXT && k !== CDATA) return '';
    const f = this.textFlags;
    const b = this.bytes;
    if ((f & (F_ENT | F_CR)) === 0) return decodeUtf8(b, this.start, this.end);
    const n = unescapeRange(b, this.start, this.end, this.room(this.end - this.start), 0, k === CDATA ? MODE_CDATA : MODE_TEXT);
    return decodeUtf8(this.scratch, 0, n);
  }

  /**
   * Writes the content of the current TEXT/CDATA token as `text()` returns it, in UTF-8, into
   * `dst` at `dstPos` (references decoded in TEXT, line endings normalised in both); returns the
   * new position. Needs `end - start` bytes of room. Other tokens write nothing.
   */
  textInto(dst: Uint8Array, dstPos: number): number {
    const k = this.kind;
    if (k !== TEXT && k !== CDATA) return dstPos;
    const s = this.start;
    const e = this.end;
    checkRoom(dst, dstPos, e - s);
    if ((this.textFlags & (F_ENT | F_CR)) === 0) return copyBytes(this.bytes, s, e, dst, dstPos);
    return unescapeRange(this.bytes, s, e, dst, dstPos, k === CDATA ? MODE_CDATA : MODE_TEXT);
  }

  /** Writes `attrValue(i)` in UTF-8 into `dst` at `dstPos`; returns the new position. Needs `attrValueEnd(i) - attrValueStart(i)` bytes of room. */
  attrValueInto(i: number, dst: Uint8Array, dstPos: number): number {
    this.checkAttr(i);
    const s = this.attrs[4 * i + 2];
    const e = this.attrs[4 * i + 3];
    checkRoom(dst, dstPos, e - s);
    return unescapeRange(this.bytes, s, e, dst, dstPos, MODE_ATTR);
  }

  attrName(i: number): string {
    this.checkAttr(i);
    return intern(this.bytes, this.attrs[4 * i], this.attrs[4 * i + 1]);
  }

  /** Attribute value with references decoded and attribute-value normalisation applied (tab/LF/CR -> space). */
  attrValue(i: number): string {
    this.checkAttr(i);
    return this.valueString(this.attrs[4 * i + 2], this.attrs[4 * i + 3], false);
  }

  /** Raw value bytes of attribute `i` (between the quotes). */
  attrValueStart(i: number): number {
    this.checkAttr(i);
    return this.attrs[4 * i + 2];
  }

  attrValueEnd(i: number): number {
    this.checkAttr(i);
    return this.attrs[4 * i + 3];
  }

  /** Raw qualified-name bytes of attribute `i`. */
  attrNameStart(i: number): number {
    this.checkAttr(i);
    return this.attrs[4 * i];
  }

  attrNameEnd(i: number): number {
    this.checkAttr(i);
    return this.attrs[4 * i + 1];
  }

  /** Value of the attribute with this qualified name on the current START_TAG. */
  attribute(name: string): string | undefined {
    for (let i = 0; i < this.attrCount; i++) {
      if (this.attrName(i) === name) return this.attrValue(i);
    }
    return undefined;
  }

  private checkAttr(i: number): void {
    if (!(i >= 0 && i < this.attrCount) || !Number.isInteger(i)) {
      throw new WbxmlError('INVALID_ARGUMENT', -1, `attribute index ${i} out of range (attrCount ${this.attrCount})`);
    }
  }

  private valueString(s: number, e: number, internIt: boolean): string {
    const b = this.bytes;
    let i = s;
    while (i < e && b[i] !== AMP && b[i] >= SP) i++;
    if (i === e) return internIt ? intern(b, s, e) : decodeUtf8(b, s, e);
    const n = unescapeRange(b, s, e, this.room(e - s), 0, MODE_ATTR);
    return decodeUtf8(this.scratch, 0, n);
  }

  private room(n: number): Uint8Array {
    if (this.scratch.length < n) this.scratch = new Uint8Array(Math.max(n, 2 * this.scratch.length, 256));
    return this.scratch;
  }

  // -------------------------------------------------------------------------------------------
  // Scanning

  private advance(): number {
    if (this.pendingEnd) return this.impliedEnd();
    const b = this.bytes;
    const len = this.len;
    for (;;) {
      const p = this.pos;
      if (p >= len) return this.finish();
      if (b[p] === LT) {
        if (p + 1 >= len) fail(b, 'XML_SYNTAX', p + 1, "expected a tag name, '/', '!' or '?' after '<', found end of input");
        const c1 = b[p + 1];
        if (c1 === SLASH) return this.endTag(p);
        if (c1 === BANG) {
          if (this.bang(p)) return CDATA;
          continue;
        }
        if (c1 === QM) {
          if (p === this.bom && this.isDeclStart(p)) this.xmlDecl(p);
          else this.pos = this.piEnd(p);
          continue;
        }
        return this.startTag(p);
      }
      if (this.level === 0) {
        this.outside(p);
        continue;
      }
      return this.textToken(p);
    }
  }

  private textToken(p: number): number {
    const b = this.bytes;
    const len = this.len;
    let q = p;
    let flags = 0;
    let ws = true;
    for (;;) {
      if (q >= len) break;
      const c = b[q];
      if (c === SP || c === LF || c === TAB) q++;
      else if (c === CR) { flags |= F_CR; q++; }
      else break;
    }
    if (q < len && b[q] !== LT) {
      ws = false;
      for (;;) {
        q = plainRun(b, this.dv, q, len);
        if (q >= len) break;
        const c = b[q];
        if (c === LT) break;
        if (c === AMP) {
          parseRef(b, q, len);
          q = refEnd;
          flags |= F_ENT;
        } else if (c === RSQB) {
          if (q + 2 < len && b[q + 1] === RSQB && b[q + 2] === GT) {
            fail(b, 'XML_SYNTAX', q, "']]>' is not allowed in text (write ]]&gt;)");
          }
          q++;
        } else if (c === CR) {
          flags |= F_CR;
          q++;
        } else if (c >= 0x80) {
          q += utf8At(b, q, len) >>> UTF8_LEN_SHIFT;
          flags |= F_NONASCII;
        } else {
          fail(b, 'INVALID_XML_CHAR', q, `${describeAt(b, q, len)} is not allowed in XML text`);
        }
      }
    }
    this.kind = TEXT;
    this.offset = p;
    this.start = p;
    this.end = q;
    this.depth = this.level;
    this.hasEntities = (flags & F_ENT) !== 0;
    this.isWhitespace = ws;
    this.hasCR = (flags & F_CR) !== 0;
    this.textFlags = flags;
    this.attrCount = 0;
    this.selfClosing = false;
    this.pos = q;
    return TEXT;
  }

  /** Content between markup outside the root element: only white space is allowed. */
  private outside(p: number): void {
    const b = this.bytes;
    const len = this.len;
    let q = p;
    while (q < len && WS[b[q]] === 1) q++;
    this.pos = q;
    if (q >= len || b[q] === LT) return;
    if (this.phase === EPILOG) {
      fail(b, 'TRAILING_DATA', q, `non-whitespace content after the root element, found ${describeAt(b, q, len)}`);
    }
    const c = b[q];
    if (c >= 0x80) utf8At(b, q, len);
    else if (c < SP) fail(b, 'INVALID_XML_CHAR', q, `${describeAt(b, q, len)} is not allowed in XML`);
    fail(b, 'XML_SYNTAX', q, `text before the root element, found ${describeAt(b, q, len)}`);
  }

  private startTag(p: number): number {
    const b = this.bytes;
    const len = this.len;
    if (this.phase === EPILOG) {
      fail(b, 'TRAILING_DATA', p, 'a second element after the root element (a document has exactly one root)');
    }
    const lvl = this.level + 1;
    if (lvl > this.maxDepth) {
      fail(b, 'DEPTH_LIMIT', p, `element nesting deeper than maxDepth (${this.maxDepth})`);
    }
    const ns = p + 1;
    const ne = this.scanName(ns, CTX_TAG, true);
    const localStart = this.colonAt < 0 ? ns : this.colonAt + 1;
    if (this.nsTop > 0) this.popNs(lvl - 1);
    let a = this.attrs;
    let n = 0;
    let selfClosing = false;
    let q = ne;
    for (;;) {
      if (q >= len) this.unterminatedTag(ns, ne);
      let c = b[q];
      if (c === GT) { q++; break; }
      if (c === SLASH) {
        if (q + 1 < len && b[q + 1] === GT) { selfClosing = true; q += 2; break; }
        fail(b, 'XML_SYNTAX', q + 1, `expected '>' after '/' in <${sliceForMessage(b, ns, ne)}>, found ${describeAt(b, q + 1, len)}`);
      }
      if (WS[c] !== 1) {
        fail(b, 'XML_SYNTAX', q, n === 0
          ? `expected white space, '>' or '/>' after tag name <${sliceForMessage(b, ns, ne)}, found ${describeAt(b, q, len)}`
          : `expected '>' after attribute list, found ${describeAt(b, q, len)}`);
      }
      q++;
      while (q < len && WS[b[q]] === 1) q++;
      if (q >= len) this.unterminatedTag(ns, ne);
      c = b[q];
      if (c === GT || c === SLASH) continue;
      // attribute
      const an = q;
      const ae = this.scanName(q, CTX_ATTR, true);
      q = ae;
      while (q < len && WS[b[q]] === 1) q++;
      if (q >= len || b[q] !== EQ) {
        fail(b, 'XML_SYNTAX', q, `expected '=' after attribute name '${sliceForMessage(b, an, ae)}', found ${describeAt(b, q, len)}`);
      }
      q++;
      while (q < len && WS[b[q]] === 1) q++;
      const quote = q < len ? b[q] : 0;
      if (quote !== DQ && quote !== SQ) {
        fail(b, 'XML_SYNTAX', q, `expected a quoted value for attribute '${sliceForMessage(b, an, ae)}', found ${describeAt(b, q, len)}`);
      }
      const vs = ++q;
      for (;;) {
        while (q < len && ATTR_PLAIN[b[q]] === 1) q++;
        if (q >= len) {
          fail(b, 'XML_SYNTAX', vs - 1, `unterminated value of attribute '${sliceForMessage(b, an, ae)}' (no closing ${quote === DQ ? '"' : "'"})`);
        }
        c = b[q];
        if (c === quote) break;
        if (c === DQ || c === SQ) q++;
        else if (c === AMP) {
          parseRef(b, q, len);
          q = refEnd;
        } else if (c === LT) {
          fail(b, 'XML_SYNTAX', q, `'<' is not allowed in attribute values (attribute '${sliceForMessage(b, an, ae)}')`);
        } else if (c >= 0x80) q += utf8At(b, q, len) >>> UTF8_LEN_SHIFT;
        else fail(b, 'INVALID_XML_CHAR', q, `${describeAt(b, q, len)} is not allowed in XML attribute values`);
      }
      const r = 4 * n;
      if (r + 4 > a.length) {
        const grown = new Int32Array(a.length * 2);
        grown.set(a);
        this.attrs = a = grown;
      }
      a[r] = an;
      a[r + 1] = ae;
      a[r + 2] = vs;
      a[r + 3] = q;
      q++;
      if (n > 0) this.checkDuplicate(n);
      if (b[an] === 0x78 && ae - an >= 5 && b[an + 1] === 0x6d && b[an + 2] === 0x6c && b[an + 3] === 0x6e
        && b[an + 4] === 0x73 && (ae - an === 5 || b[an + 5] === COLON)) {
        this.pushNs(lvl, an, ae - an === 5 ? an : an + 6, ae - an === 5 ? an : ae, vs, a[r + 3]);
      }
      n++;
    }
    // push the element
    if (2 * lvl > this.stack.length) {
      const grown = new Int32Array(Math.min(2 * this.stack.length, 2 * this.maxDepth + 2));
      grown.set(this.stack);
      this.stack = grown;
      const colons = new Int32Array(grown.length >> 1);
      colons.set(this.colonStack);
      this.colonStack = colons;
    }
    this.stack[2 * lvl - 2] = ns;
    this.stack[2 * lvl - 1] = ne;
    this.colonStack[lvl - 1] = localStart - ns;
    this.level = lvl;
    this.phase = IN_ROOT;
    this.kind = START_TAG;
    this.offset = p;
    this.start = p;
    this.end = q;
    this.depth = lvl;
    this.nameStart = ns;
    this.nameEnd = ne;
    this.localStart = localStart;
    this.selfClosing = selfClosing;
    this.pendingEnd = selfClosing;
    this.attrCount = n;
    this.pos = q;
    return START_TAG;
  }

  private unterminatedTag(ns: number, ne: number): never {
    return fail(this.bytes, 'XML_SYNTAX', ns - 1, `unterminated start tag <${sliceForMessage(this.bytes, ns, ne)} (no '>')`);
  }

  /** The END_TAG that follows the START_TAG of `<a/>`. */
  private impliedEnd(): number {
    this.pendingEnd = false;
    const d = this.level;
    this.kind = END_TAG;
    this.offset = this.start = this.end - 2;
    this.depth = d;
    this.attrCount = 0;
    this.level = d - 1;
    if (d === 1) this.phase = EPILOG;
    if (this.nsTop > 0) this.popNs(d);
    return END_TAG;
  }

  private endTag(p: number): number {
    const b = this.bytes;
    const len = this.len;
    const ns = p + 2;
    // Well-formed documents close what they opened: compare with the open name's bytes first and
    // scan the name only when that fails (to report the error precisely).
    const d = this.level;
    if (d === 0) {
      const ne0 = this.scanName(ns, CTX_END_TAG, true);
      if (this.phase === EPILOG) fail(b, 'TRAILING_DATA', p, `end tag </${sliceForMessage(b, ns, ne0)}> after the root element`);
      fail(b, 'XML_SYNTAX', p, `end tag </${sliceForMessage(b, ns, ne0)}> without a start tag`);
    }
    const os = this.stack[2 * d - 2];
    const oe = this.stack[2 * d - 1];
    const n = oe - os;
    let ne: number;
    const matched = ns + n < len && NAME[b[ns + n]] === 0 && sameBytes(b, this.dv, os, ns, n);
    if (matched) {
      ne = ns + n;
    } else {
      ne = this.scanName(ns, CTX_END_TAG, true);
    }
    let q = ne;
    while (q < len && WS[b[q]] === 1) q++;
    if (q >= len || b[q] !== GT) {
      fail(b, 'XML_SYNTAX', q, `expected '>' to end </${sliceForMessage(b, ns, ne)}, found ${describeAt(b, q, len)}`);
    }
    if (!matched) {
      const at = positionIn(b, os - 1);
      fail(b, 'XML_MISMATCHED_TAG', p,
        `</${sliceForMessage(b, ns, ne)}> closes <${sliceForMessage(b, os, oe)}> (opened at line ${at.line}:${at.column})`);
    }
    this.kind = END_TAG;
    this.offset = p;
    this.start = p;
    this.end = q + 1;
    this.depth = d;
    this.nameStart = ns;
    this.nameEnd = ne;
    this.localStart = ns + this.colonStack[d - 1];
    this.selfClosing = false;
    this.attrCount = 0;
    this.level = d - 1;
    if (d === 1) this.phase = EPILOG;
    if (this.nsTop > 0) this.popNs(d);
    this.pos = q + 1;
    return END_TAG;
  }

  private finish(): number {
    const b = this.bytes;
    const len = this.len;
    const d = this.level;
    if (d > 0) {
      const os = this.stack[2 * d - 2];
      const at = positionIn(b, os - 1);
      fail(b, 'UNBALANCED', len, `input ends with ${d} element${d > 1 ? 's' : ''} open: <${sliceForMessage(b, os, this.stack[2 * d - 1])}> (line ${at.line}:${at.column}) is not closed`);
    }
    if (this.phase === PROLOG) fail(b, 'NO_ROOT', len, 'the document has no root element');
    this.kind = EOF;
    this.offset = this.start = this.end = len;
    this.depth = 0;
    this.attrCount = 0;
    this.selfClosing = false;
    return EOF;
  }

  /**
   * Scans a name at `p` and returns its end. For qualified names (`qname`) a colon must separate
   * two non-empty parts; {@link colonAt} is set to its offset, -1 when none.
   */
  private scanName(p: number, ctx: number, qname: boolean): number {
    const b = this.bytes;
    const len = this.len;
    let q = p;
    this.colonAt = -1;
    let k = q < len ? NAME[b[q]] : 0;
    if (k === 1) q++;
    else if (k === 4) {
      const r = utf8At(b, q, len);
      if (!isNameStartCp(r & UTF8_CP_MASK)) this.nameFail(p, ctx);
      q += r >>> UTF8_LEN_SHIFT;
    } else if (k === 3 && !qname) q++;
    else this.nameFail(p, ctx);
    while (q < len) {
      k = NAME[b[q]];
      if (k === 1 || k === 2) q++;
      else if (k === 3) {
        if (qname) {
          if (this.colonAt >= 0) this.qnameFail(p, q);
          this.colonAt = q;
        }
        q++;
      } else if (k === 4) {
        const r = utf8At(b, q, len);
        if (!isNameCp(r & UTF8_CP_MASK)) break;
        q += r >>> UTF8_LEN_SHIFT;
      } else break;
    }
    const c = this.colonAt;
    if (c >= 0) {
      if (c + 1 === q) this.qnameFail(p, q);
      const k1 = NAME[b[c + 1]];
      if (k1 === 2 || (k1 === 4 && !isNameStartCp(utf8At(b, c + 1, len) & UTF8_CP_MASK))) this.qnameFail(p, q);
    }
    return q;
  }

  private nameFail(p: number, ctx: number): never {
    return fail(this.bytes, 'XML_SYNTAX', p, `expected ${CTX_WHAT[ctx]}, found ${describeAt(this.bytes, p, this.len)}`);
  }

  private qnameFail(p: number, q: number): never {
    let e = q;
    while (e < this.len && NAME[this.bytes[e]] !== 0) e++;
    return fail(this.bytes, 'XML_SYNTAX', p, `'${sliceForMessage(this.bytes, p, e)}' is not a valid qualified name (prefix:local)`);
  }

  private checkDuplicate(n: number): void {
    const a = this.attrs;
    const b = this.bytes;
    const s = a[4 * n];
    const l = a[4 * n + 1] - s;
    if (n < 8) {
      for (let i = 0; i < n; i++) {
        const s2 = a[4 * i];
        if (a[4 * i + 1] - s2 === l && sameBytes(b, this.dv, s, s2, l)) this.duplicateFail(n);
      }
      return;
    }
    if (n === 8 || 2 * (n + 1) > this.dupKey.length) {
      // (re)build the table for attributes 0..n-1
      let size = this.dupKey.length;
      if (size < 32 || 2 * (n + 1) > size) {
        size = Math.max(32, size);
        while (2 * (n + 1) > size) size *= 2;
        this.dupKey = new Int32Array(size);
        this.dupStamp = new Int32Array(size);
        this.dupGen = 0;
      }
      if (++this.dupGen >= 0x3fffffff) {
        this.dupStamp.fill(0);
        this.dupGen = 1;
      }
      for (let i = 0; i < n; i++) this.dupInsert(i);
    }
    this.dupInsert(n);
  }

  private dupInsert(i: number): void {
    const a = this.attrs;
    const b = this.bytes;
    const s = a[4 * i];
    const e = a[4 * i + 1];
    const mask = this.dupKey.length - 1;
    const gen = this.dupGen;
    let slot = hashBytes(b, s, e) & mask;
    while (this.dupStamp[slot] === gen) {
      const j = this.dupKey[slot];
      const s2 = a[4 * j];
      if (a[4 * j + 1] - s2 === e - s && sameBytes(b, this.dv, s, s2, e - s)) this.duplicateFail(i);
      slot = (slot + 1) & mask;
    }
    this.dupStamp[slot] = gen;
    this.dupKey[slot] = i;
  }

  private duplicateFail(i: number): never {
    const a = this.attrs;
    return fail(this.bytes, 'XML_SYNTAX', a[4 * i], `duplicate attribute '${sliceForMessage(this.bytes, a[4 * i], a[4 * i + 1])}'`);
  }

  private pushNs(lvl: number, an: number, ps: number, pe: number, vs: number, ve: number): void {
    if (this.nsTop >= MAX_NS_DECLS) {
      // Keeps namespaceUri() lookups (a scan of the declarations in scope) cheap on hostile input.
      fail(this.bytes, 'SIZE_LIMIT', an, `more than ${MAX_NS_DECLS} namespace declarations in scope`);
    }
    let t = this.nsDecl;
    const r = 5 * this.nsTop;
    if (r + 5 > t.length) {
      const grown = new Int32Array(t.length * 2);
      grown.set(t);
      this.nsDecl = t = grown;
    }
    t[r] = lvl;
    t[r + 1] = ps;
    t[r + 2] = pe;
    t[r + 3] = vs;
    t[r + 4] = ve;
    this.nsTop++;
  }

  /** Drops namespace declarations of elements deeper than `maxLevel`. */
  private popNs(maxLevel: number): void {
    const t = this.nsDecl;
    let top = this.nsTop;
    while (top > 0 && t[5 * (top - 1)] > maxLevel) top--;
    this.nsTop = top;
  }

  /** `<!`: comment, CDATA or DOCTYPE. Returns true when a CDATA token was produced. */
  private bang(p: number): boolean {
    const b = this.bytes;
    const len = this.len;
    if (p + 3 < len && b[p + 2] === DASH && b[p + 3] === DASH) {
      this.pos = this.commentEnd(p);
      return false;
    }
    if (this.matchAscii(p + 2, '[CDATA[')) {
      if (this.level === 0) {
        if (this.phase === EPILOG) fail(b, 'TRAILING_DATA', p, 'CDATA section after the root element');
        fail(b, 'XML_SYNTAX', p, 'CDATA section outside the root element');
      }
      this.cdata(p);
      return true;
    }
    if (this.matchAscii(p + 2, 'DOCTYPE')) {
      if (this.level > 0) fail(b, 'XML_SYNTAX', p, 'DOCTYPE is not allowed inside an element');
      if (this.phase === EPILOG) fail(b, 'TRAILING_DATA', p, 'DOCTYPE after the root element');
      if (this.sawDoctype) fail(b, 'XML_SYNTAX', p, 'a second DOCTYPE');
      this.doctype(p);
      return false;
    }
    return fail(b, 'XML_SYNTAX', p + 2, `expected '--', '[CDATA[' or 'DOCTYPE' after '<!', found ${describeAt(b, p + 2, len)}`);
  }

  private matchAscii(p: number, s: string): boolean {
    const b = this.bytes;
    if (p + s.length > this.len) return false;
    for (let i = 0; i < s.length; i++) if (b[p + i] !== s.charCodeAt(i)) return false;
    return true;
  }

  /** Validates a comment starting at `p` (`<!--`) and returns the offset after `-->`. */
  private commentEnd(p: number): number {
    const b = this.bytes;
    const len = this.len;
    let q = p + 4;
    for (;;) {
      let c = 0;
      while (q < len && (c = b[q]) !== DASH && PLAIN[c] === 1) q++;
      if (q >= len) fail(b, 'XML_SYNTAX', p, "unterminated comment (no '-->')");
      if (c === DASH) {
        if (q + 1 < len && b[q + 1] === DASH) {
          if (q + 2 >= len) fail(b, 'XML_SYNTAX', p, "unterminated comment (no '-->')");
          if (b[q + 2] === GT) return q + 3;
          fail(b, 'XML_SYNTAX', q, "'--' is not allowed inside a comment");
        }
        q++;
      } else if (c >= 0x80) q += utf8At(b, q, len) >>> UTF8_LEN_SHIFT;
      else fail(b, 'INVALID_XML_CHAR', q, `${describeAt(b, q, len)} is not allowed in XML (in a comment)`);
    }
  }

  private cdata(p: number): void {
    const b = this.bytes;
    const len = this.len;
    const s = p + 9;
    let q = s;
    let flags = 0;
    for (;;) {
      let c = 0;
      while (q < len && (c = b[q]) !== RSQB && c !== CR && PLAIN[c] === 1) q++;
      if (q >= len) fail(b, 'XML_SYNTAX', p, "unterminated CDATA section (no ']]>')");
      if (c === RSQB) {
        if (q + 2 < len && b[q + 1] === RSQB && b[q + 2] === GT) break;
        q++;
      } else if (c === CR) {
        flags |= F_CR;
        q++;
      } else if (c >= 0x80) {
        q += utf8At(b, q, len) >>> UTF8_LEN_SHIFT;
        flags |= F_NONASCII;
      } else fail(b, 'INVALID_XML_CHAR', q, `${describeAt(b, q, len)} is not allowed in XML (in a CDATA section)`);
    }
    this.kind = CDATA;
    this.offset = p;
    this.start = s;
    this.end = q;
    this.depth = this.level;
    this.hasEntities = false;
    this.isWhitespace = false;
    this.hasCR = (flags & F_CR) !== 0;
    this.textFlags = flags;
    this.attrCount = 0;
    this.selfClosing = false;
    this.pos = q + 3;
  }

  /** Validates a processing instruction at `p` (`<?`) and returns the offset after `?>`. */
  private piEnd(p: number): number {
    const b = this.bytes;
    const len = this.len;
    const ts = p + 2;
    const te = this.scanName(ts, CTX_PI, false);
    if (te - ts === 3 && (b[ts] | 0x20) === 0x78 && (b[ts + 1] | 0x20) === 0x6d && (b[ts + 2] | 0x20) === 0x6c) {
      fail(b, 'XML_SYNTAX', p, p === this.bom
        ? "the XML declaration must be written '<?xml' followed by white space and a version"
        : "processing instruction target 'xml' is reserved (an XML declaration is allowed only at the very start)");
    }
    let q = te;
    if (q + 1 < len && b[q] === QM && b[q + 1] === GT) return q + 2;
    if (q >= len || WS[b[q]] !== 1) {
      fail(b, 'XML_SYNTAX', q, `expected white space or '?>' after processing instruction target, found ${describeAt(b, q, len)}`);
    }
    for (;;) {
      let c = 0;
      while (q < len && (c = b[q]) !== QM && PLAIN[c] === 1) q++;
      if (q >= len) fail(b, 'XML_SYNTAX', p, "unterminated processing instruction (no '?>')");
      if (c === QM) {
        if (q + 1 < len && b[q + 1] === GT) return q + 2;
        q++;
      } else if (c >= 0x80) q += utf8At(b, q, len) >>> UTF8_LEN_SHIFT;
      else fail(b, 'INVALID_XML_CHAR', q, `${describeAt(b, q, len)} is not allowed in XML (in a processing instruction)`);
    }
  }

  private isDeclStart(p: number): boolean {
    return this.matchAscii(p, '<?xml') && p + 5 < this.len && WS[this.bytes[p + 5]] === 1;
  }

  private skipWs(q: number): number {
    const b = this.bytes;
    while (q < this.len && WS[b[q]] === 1) q++;
    return q;
  }

  /** `<?xml version="1.x" encoding="..." standalone="..."?>` at `p`. */
  private xmlDecl(p: number): void {
    const b = this.bytes;
    const len = this.len;
    let q = this.skipWs(p + 5);
    if (!this.matchAscii(q, 'version')) {
      fail(b, 'XML_SYNTAX', q, `expected 'version' in the XML declaration, found ${describeAt(b, q, len)}`);
    }
    q = this.declValue(p, q + 7);
    const vs = this.declStart;
    let ok = q - vs >= 3 && b[vs] === 0x31 && b[vs + 1] === 0x2e;
    for (let i = vs + 2; ok && i < q; i++) ok = b[i] >= 0x30 && b[i] <= 0x39;
    if (!ok) fail(b, 'XML_SYNTAX', vs, `unsupported XML version '${sliceForMessage(b, vs, q)}'`);
    q++;
    let stage = 0; // 1 after encoding, 2 after standalone
    for (;;) {
      const w = this.skipWs(q);
      if (w + 1 < len && b[w] === QM && b[w + 1] === GT) {
        this.pos = w + 2;
        return;
      }
      if (w === q || w >= len) {
        fail(b, 'XML_SYNTAX', w, `expected '?>' to end the XML declaration, found ${describeAt(b, w, len)}`);
      }
      q = w;
      if (stage === 0 && this.matchAscii(q, 'encoding')) {
        q = this.declValue(p, q + 8);
        const es = this.declStart;
        let valid = q > es && ((b[es] | 0x20) >= 0x61 && (b[es] | 0x20) <= 0x7a);
        for (let i = es + 1; valid && i < q; i++) {
          const c = b[i];
          valid = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x5f || c === DASH;
        }
        if (!valid) fail(b, 'XML_SYNTAX', es, `invalid encoding name '${sliceForMessage(b, es, q)}' in the XML declaration`);
        const enc = sliceForMessage(b, es, q);
        const lower = enc.toLowerCase();
        if (lower !== 'utf-8' && lower !== 'utf8' && lower !== 'us-ascii' && lower !== 'ascii') {
          fail(b, 'BAD_ENCODING', es, `unsupported encoding '${enc}' declared (only UTF-8 and US-ASCII are accepted: convert the document to UTF-8 first)`);
        }
        this.declaredEncoding = enc;
        stage = 1;
      } else if (stage < 2 && this.matchAscii(q, 'standalone')) {
        q = this.declValue(p, q + 10);
        const ss = this.declStart;
        if (!(q - ss === 3 && this.matchAscii(ss, 'yes')) && !(q - ss === 2 && this.matchAscii(ss, 'no'))) {
          fail(b, 'XML_SYNTAX', ss, `standalone must be 'yes' or 'no', found '${sliceForMessage(b, ss, q)}'`);
        }
        stage = 2;
      } else {
        fail(b, 'XML_SYNTAX', q, `expected ${stage === 0 ? "'encoding', " : ''}${stage < 2 ? "'standalone' or " : ''}'?>' in the XML declaration, found ${describeAt(b, q, len)}`);
      }
      q++;
    }
  }

  /** Reads `S? = S? "value"` from `q`; sets {@link declStart}; returns the offset of the closing quote. */
  private declValue(p: number, q: number): number {
    const b = this.bytes;
    const len = this.len;
    q = this.skipWs(q);
    if (q >= len || b[q] !== EQ) fail(b, 'XML_SYNTAX', q, `expected '=' in the XML declaration, found ${describeAt(b, q, len)}`);
    q = this.skipWs(q + 1);
    const quote = q < len ? b[q] : 0;
    if (quote !== DQ && quote !== SQ) {
      fail(b, 'XML_SYNTAX', q, `expected a quoted value in the XML declaration, found ${describeAt(b, q, len)}`);
    }
    this.declStart = ++q;
    while (q < len && b[q] !== quote) {
      const c = b[q];
      if (c < SP || c >= 0x7f || c === LT || c === QM) {
        fail(b, 'XML_SYNTAX', q, `unexpected ${describeAt(b, q, len)} in the XML declaration (at offset ${p})`);
      }
      q++;
    }
    if (q >= len) fail(b, 'XML_SYNTAX', p, 'unterminated XML declaration');
    return q;
  }

  /** `<!DOCTYPE root (SYSTEM "s" | PUBLIC "p" "s"?)? [subset]? >` at `p`: skipped, ids recorded. */
  private doctype(p: number): void {
    const b = this.bytes;
    const len = this.len;
    let q = p + 9;
    if (q >= len || WS[b[q]] !== 1) fail(b, 'XML_SYNTAX', q, `expected white space after '<!DOCTYPE', found ${describeAt(b, q, len)}`);
    q = this.skipWs(q);
    const ns = q;
    const ne = this.scanName(q, CTX_DOCTYPE, false);
    this.doctypeRoot = decodeUtf8(b, ns, ne);
    q = ne;
    let w = this.skipWs(q);
    if (w > q && (this.matchAscii(w, 'SYSTEM') || this.matchAscii(w, 'PUBLIC'))) {
      const pub = b[w] === 0x50;
      q = w + 6;
      if (q >= len || WS[b[q]] !== 1) fail(b, 'XML_SYNTAX', q, `expected white space after '${pub ? 'PUBLIC' : 'SYSTEM'}', found ${describeAt(b, q, len)}`);
      q = this.skipWs(q);
      let e = this.literalEnd(q);
      if (pub) {
        for (let i = q + 1; i < e; i++) {
          const c = b[i];
          const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)
            || c === SP || c === CR || c === LF || "-'()+,./:=?;!*#@$_%".indexOf(String.fromCharCode(c)) >= 0;
          if (!ok) fail(b, 'XML_SYNTAX', i, `${describeAt(b, i, len)} is not allowed in a public identifier`);
        }
        this.doctypePublicId = decodeUtf8(b, q + 1, e);
        q = e + 1;
        w = this.skipWs(q);
        if (w < len && (b[w] === DQ || b[w] === SQ)) {
          if (w === q) fail(b, 'XML_SYNTAX', w, 'expected white space between the public and system identifiers');
          q = w;
          e = this.literalEnd(q);
          this.doctypeSystemId = decodeUtf8(b, q + 1, e);
          q = e + 1;
        }
      } else {
        this.doctypeSystemId = decodeUtf8(b, q + 1, e);
        q = e + 1;
      }
    }
    q = this.skipWs(q);
    if (q < len && b[q] === LSQB) q = this.skipWs(this.subsetEnd(q));
    if (q >= len || b[q] !== GT) fail(b, 'XML_SYNTAX', q, `expected '>' to end the DOCTYPE, found ${describeAt(b, q, len)}`);
    this.sawDoctype = true;
    this.pos = q + 1;
  }

  /** A quoted literal at `q`: validates it and returns the offset of its closing quote. */
  private literalEnd(q: number): number {
    const b = this.bytes;
    const len = this.len;
    const quote = q < len ? b[q] : 0;
    if (quote !== DQ && quote !== SQ) fail(b, 'XML_SYNTAX', q, `expected a quoted literal, found ${describeAt(b, q, len)}`);
    let i = q + 1;
    for (;;) {
      let c = 0;
      while (i < len && (c = b[i]) !== quote && PLAIN[c] === 1) i++;
      if (i >= len) fail(b, 'XML_SYNTAX', q, 'unterminated quoted literal');
      if (c === quote) return i;
      if (c >= 0x80) i += utf8At(b, i, len) >>> UTF8_LEN_SHIFT;
      else fail(b, 'INVALID_XML_CHAR', i, `${describeAt(b, i, len)} is not allowed in XML`);
    }
  }

  /** Skips the internal subset whose `[` is at `open`; returns the offset after its `]`. */
  private subsetEnd(open: number): number {
    const b = this.bytes;
    const len = this.len;
    let q = open + 1;
    for (;;) {
      if (q >= len) fail(b, 'XML_SYNTAX', open, "unterminated DOCTYPE internal subset (no ']')");
      const c = b[q];
      if (c === RSQB) return q + 1;
      if (c === DQ || c === SQ) q = this.literalEnd(q) + 1;
      else if (c === LT && q + 3 < len && b[q + 1] === BANG && b[q + 2] === DASH && b[q + 3] === DASH) q = this.commentEnd(q);
      else if (c === LT && q + 1 < len && b[q + 1] === QM) q = this.piEnd(q);
      else if (PLAIN[c] === 1) q++;
      else if (c >= 0x80) q += utf8At(b, q, len) >>> UTF8_LEN_SHIFT;
      else fail(b, 'INVALID_XML_CHAR', q, `${describeAt(b, q, len)} is not allowed in XML`);
    }
  }
}

