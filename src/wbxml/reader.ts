/**
 * A zero-copy pull tokenizer for WBXML 1.0-1.3 (WAP-192-WBXML-20010725-a).
 *
 * `next()` returns a small integer (TokenKind) and leaves the details in fields; strings and
 * opaque data stay in the input as byte ranges until `text()` / `opaque()` is called. Nothing is
 * allocated per token. One reader can be reused for many documents with `reset()`.
 */
import type { CodePageRegistry, CodePageSet } from './code-page.js';
import { defaultRegistry } from './code-pages/index.js';
import { WbxmlError, hexByte } from './errors.js';
import { decodeAscii, decodeText } from './text.js';
import {
  CHARSET_ISO_8859_1, CHARSET_US_ASCII, CHARSET_UTF_8, END, ENTITY, EXT_0, EXT_2, EXT_I_0, EXT_I_2,
  EXT_T_0, EXT_T_2, LITERAL, LITERAL_A, LITERAL_AC, LITERAL_C, OPAQUE, PI, PUBLIC_ID_IN_STRING_TABLE,
  STR_I, STR_T, SWITCH_PAGE, TAG_ATTRS, TAG_CONTENT, TAG_MASK, G, K,
} from './tokens.js';

/** Options of {@link WbxmlReader}. @public */
export interface WbxmlReaderOptions {
  /** Where public IDs are looked up. Default: the built-in registry. */
  registry?: CodePageRegistry;
  /** Decode with these code pages whatever the header says (like libwbxml's `-l`). */
  codePages?: CodePageSet | string;
  /**
   * Code pages for a document whose public ID is unknown (0x01) or unregistered and whose root
   * tag matches no registered document type. Default: none (error in strict mode).
   */
  defaultCodePages?: CodePageSet | string;
  /**
   * Strict (default): unknown tags/tokens/pages, trailing bytes, bad versions and invalid
   * strings are errors. Lenient keeps going like libwbxml: unknown tags get a made-up name,
   * trailing bytes are ignored, invalid UTF-8 becomes U+FFFD.
   */
  strict?: boolean;
  /** Deepest element nesting accepted. Default 64. */
  maxDepth?: number;
  /** Largest document accepted, in bytes. Default 16 MiB. */
  maxBytes?: number;
  /**
   * Most bytes of string-table text one document may refer to: the strings its STR_T and EXT_T
   * tokens and literal tag and attribute names stand for, counted at each reference. A small
   * document can name one long table string thousands of times (a "string-table bomb": 80 KB
   * standing for 512 MB of text); past the limit the reference is refused with SIZE_LIMIT.
   * Default {@link defaultMaxTableTextBytes}: 256 times the document's length, at least 1 MiB.
   * An honest document stays far below: a reference costs 2 bytes and its element's tags more,
   * so only a table string of kilobytes named thousands of times comes near.
   */
  maxTableTextBytes?: number;
}

/** Where the code pages of the current document came from. @public */
export type CodePageSource = 'forced' | 'public-id' | 'public-id-string' | 'root-tag' | 'default' | 'none';

const DEFAULT_MAX_DEPTH = 64;
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

/**
 * The default `maxTableTextBytes` of a document of `length` bytes: 256 times its length, at
 * least 1 MiB. (The typed parser holds a message and its embedded documents to one such budget.)
 * @public
 */
export function defaultMaxTableTextBytes(length: number): number {
  return Math.max(1 << 20, 256 * length);
}
const LITERAL_FLAG = 0x40000000;
const MODE_PENDING_END = 1;
const MODE_ATTRS = 2;
const EMPTY = new Uint8Array(0);
const NO_NAMES: readonly (string | undefined)[] = [];

/** @public */
export class WbxmlReader {
  // --- document ------------------------------------------------------------------------------
  /** The input. */
  bytes: Uint8Array = EMPTY;
  /** WBXML version byte: 0 = 1.0, 1 = 1.1, 2 = 1.2, 3 = 1.3. */
  version = 0;
  /** Numeric public ID, or 0 when it is given by string table. */
  publicId = 0;
  /** The string-table public ID, when the header uses one. */
  publicIdString: string | undefined = undefined;
  /** IANA MIBenum of the document's charset (106 = UTF-8). */
  charset = CHARSET_UTF_8;
  /** The code pages in use (undefined only in lenient mode with an unknown document type). */
  codePages: CodePageSet | undefined = undefined;
  /** How `codePages` was chosen. */
  codePageSource: CodePageSource = 'none';
  /** Byte range of the string table. */
  stringTableStart = 0;
  stringTableEnd = 0;
  /** Offset of the first body byte. */
  bodyStart = 0;

  // --- current token -------------------------------------------------------------------------
  /** Kind of the current token (a {@link TokenKind}). */
  kind: number = K.EOF;
  /** Byte offset where the current token starts. */
  offset = 0;
  /** Tag (START_TAG/END_TAG): code page and token (0..0x3F); for a literal tag, token is -1. */
  page = 0;
  token = 0;
  /**
   * For a literal tag (`token === -1`) or literal attribute (`attrToken === -1`): the string-table
   * offset of its name. Not meaningful otherwise.
   */
  literal = -1;
  /** The tag byte of the last START_TAG (bit 7: attributes, bit 6: content). */
  tagByte = 0;
  /** TEXT / OPAQUE / EXTENSION: byte range of the data in `bytes`. */
  start = 0;
  end = 0;

  /** ENTITY: the code point. */
  entity = 0;
  /** EXTENSION: 0, 1 or 2; `extKind` 'i' (inline string), 't' (table index in `entity`), '' (none). */
  ext = 0;
  extKind: '' | 'i' | 't' = '';
  /** ATTR_START / ATTR_VALUE: attribute page and token (<0x80 start, >=0x80 value). */
  attrPage = 0;
  attrToken = 0;
  /** Depth of the current element (root = 1). */
  depth = 0;

  // --- state ---------------------------------------------------------------------------------
  private pos = 0;
  /** Start of the current inline string when the scan found it ASCII (-1: not known). */
  private asciiAt = -1;
  private limit = 0;
  private tagPage = 0;
  private view: DataView<ArrayBufferLike> = new DataView(EMPTY.buffer);
  private curAttrPage = 0;
  private names: readonly (string | undefined)[] = NO_NAMES;
  /** `codePages.tagNames`, or no pages: what a SWITCH_PAGE in the fast path looks up. */
  private pageNames: readonly (readonly (string | undefined)[] | undefined)[] = [];
  private stack = new Int32Array(DEFAULT_MAX_DEPTH + 1);
  /** 0 = content; MODE_PENDING_END = report the END_TAG of an empty element next; MODE_ATTRS = in an attribute list or PI. */
  private mode = 0;
  private inPi = false;
  private rootSeen = false;
  private strict = true;
  private maxDepth = DEFAULT_MAX_DEPTH;
  private maxBytes = DEFAULT_MAX_BYTES;
  private registry: CodePageRegistry = defaultRegistry;
  private forced: CodePageSet | undefined = undefined;
  private fallback: CodePageSet | undefined = undefined;
  private tableCache: Map<number, string> | undefined = undefined;
  /** Bytes of string-table text the document may refer to (maxTableTextBytes), and still may. */
  private tableTextMax = 0;
  private tableTextLeft = 0;
  private readonly options: WbxmlReaderOptions;

  constructor(input?: Uint8Array, options: WbxmlReaderOptions = {}) {
    this.options = options;
    this.strict = options.strict ?? true;
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!(this.maxDepth >= 1)) throw new WbxmlError('INVALID_ARGUMENT', -1, 'maxDepth must be at least 1');
    this.stack = new Int32Array(this.maxDepth + 2);
    this.registry = options.registry ?? defaultRegistry;
    this.forced = resolveSet(this.registry, options.codePages);
    this.fallback = resolveSet(this.registry, options.defaultCodePages);
    if (input !== undefined) this.reset(input);
  }

  /** Starts reading a new document: parses the header and chooses the code pages. */
  reset(input: Uint8Array): this {
    if (!(input instanceof Uint8Array)) throw new WbxmlError('INVALID_ARGUMENT', -1, 'input must be a Uint8Array');
    if (input.length > this.maxBytes) {
      throw new WbxmlError('SIZE_LIMIT', this.maxBytes, `document of ${input.length} bytes is larger than maxBytes (${this.maxBytes})`);
    }
    this.bytes = input;
    this.view = new DataView(input.buffer, input.byteOffset, input.byteLength);
    this.limit = input.length;
    this.pos = 0;
    // Offsets of the last document mean nothing in this one.
    this.asciiAt = -1;
    this.depth = 0;
    this.kind = K.EOF;
    this.mode = 0;
    this.inPi = this.rootSeen = false;
    this.tagPage = this.curAttrPage = 0;
    this.tableCache = undefined;
    this.publicIdString = undefined;
    this.tableTextMax = this.tableTextLeft = this.options.maxTableTextBytes ?? defaultMaxTableTextBytes(input.length);
    this.readHeader();
    return this;
  }

  private readHeader(): void {
    const b = this.bytes;
    if (this.limit === 0) throw new WbxmlError('TRUNCATED', 0, 'empty input: no WBXML header');
    this.version = b[this.pos++];
    if (this.version > 3 && this.strict) {
      throw new WbxmlError('BAD_VERSION', 0, `WBXML version byte ${hexByte(this.version)} is not 1.0-1.3`);
    }
    this.publicId = this.mb();
    let publicIdIndex = -1;
    if (this.publicId === PUBLIC_ID_IN_STRING_TABLE) publicIdIndex = this.mb();
    // WBXML 1.0 has no charset field: the transport tells, UTF-8 otherwise.
    const charsetAt = this.pos;
    this.charset = this.version === 0 ? CHARSET_UTF_8 : this.mb();
    if (this.charset === 0) this.charset = CHARSET_UTF_8; // 0 = "unknown": assume the default
    if (this.charset !== CHARSET_UTF_8 && this.charset !== CHARSET_ISO_8859_1 && this.charset !== CHARSET_US_ASCII) {
      throw new WbxmlError('UNSUPPORTED_CHARSET', charsetAt, `charset MIBenum ${this.charset} is not supported (UTF-8, ISO-8859-1 and US-ASCII are)`);
    }
    const lenAt = this.pos;
    const len = this.mb();
    if (len > this.limit - this.pos) {
      throw new WbxmlError('TRUNCATED', lenAt, `string table of ${len} bytes runs past the end of the input`);
    }
    this.stringTableStart = this.pos;
    this.stringTableEnd = this.pos + len;
    this.pos += len;
    this.bodyStart = this.pos;
    if (publicIdIndex >= 0) {
      if (publicIdIndex >= len) {
        throw new WbxmlError('BAD_STRING_TABLE_REF', 1, `public ID string-table index ${publicIdIndex} is outside the ${len}-byte table`);
      }
      this.publicIdString = this.tableString(publicIdIndex);
    }
    this.chooseCodePages();
  }

  private chooseCodePages(): void {
    let set: CodePageSet | undefined;
    let source: CodePageSource = 'none';
    if (this.forced) { set = this.forced; source = 'forced'; }
    else if (this.publicId > 1 && (set = this.registry.byPublicId(this.publicId))) source = 'public-id';
    else if (this.publicIdString !== undefined && (set = this.registry.byPublicIdString(this.publicIdString))) source = 'public-id-string';
    else if ((set = this.sniffRoot())) source = 'root-tag';
    else if (this.fallback) { set = this.fallback; source = 'default'; }
    else if (this.strict) {
      const what = this.publicIdString !== undefined ? `'${this.publicIdString}'` : hexMb(this.publicId);
      throw new WbxmlError('UNKNOWN_PUBLIC_ID', 1, `unknown public ID ${what} and the root tag matches no known document type; pass codePages to force one`);
    }
    this.codePages = set;
    this.codePageSource = source;
    // A document starts on page 0 whatever its root page: the SWITCH_PAGE must be in the body.
    this.tagPage = 0;
    this.names = set?.tagNames[0] ?? NO_NAMES;
    this.pageNames = set?.tagNames ?? [];
  }

  /** The registered document type whose root element is the first tag of the body. */
  private sniffRoot(): CodePageSet | undefined {
    const b = this.bytes;
    let p = this.bodyStart;
    let page = 0;
    while (p < this.limit) {
      const t = b[p];
      if (t === SWITCH_PAGE && p + 1 < this.limit) { page = b[p + 1]; p += 2; continue; }
      if ((t & TAG_MASK) < 5) return undefined; // a global token (PI, literal...) first: give up
      return this.registry.byRootToken(page, t & TAG_MASK);
    }
    return undefined;
  }

  /** Reads an mb_u_int32 at `pos` (WBXML §5.1: big-endian base 128, at most 32 bits). */
  private mb(): number {
    const b = this.bytes;
    const at = this.pos;
    if (at >= this.limit) throw new WbxmlError('TRUNCATED', at, 'input ends inside a multi-byte integer');
    let c = b[at];
    if (c < 0x80) { this.pos = at + 1; return c; }
    let v = c & 0x7f;
    for (let i = 1; i < 5; i++) {
      if (at + i >= this.limit) throw new WbxmlError('TRUNCATED', at, 'input ends inside a multi-byte integer');
      c = b[at + i];
      v = v * 128 + (c & 0x7f);
      if (c < 0x80) {
        if (v > 0xffffffff) throw new WbxmlError('BAD_MBUINT', at, 'multi-byte integer above 2^32-1');
        this.pos = at + i + 1;
        return v;
      }
    }
    throw new WbxmlError('BAD_MBUINT', at, 'multi-byte integer longer than 5 bytes');
  }

  /**
   * Advances to the next token and returns its kind. After the root element ends it returns EOF
   * (strict mode refuses trailing bytes other than processing instructions).
   */
  next(): number {
    // The fast path is kept small enough for V8 to inline it into the caller's loop: a known tag
    // inside the root, END, and STR_I. Everything else goes through nextSlow().
    if (this.mode === 0) {
      let p = this.pos;
      const d = this.depth;
      if (p + 2 < this.limit && d > 0) {
        const b = this.bytes;
        let t = b[p];
        if (t === G.SWITCH_PAGE) {
          // MetInf elements come wrapped in page switches: taken here, not in nextSlow(). pos stays
          // on the SWITCH_PAGE, so nextSlow() can take this token too (an unknown page, say).
          const names = this.pageNames[b[p + 1]];
          if (names !== undefined) {
            this.tagPage = b[p + 1];
            this.names = names;
            p += 2;
            t = b[p];
          }
        }
        this.offset = p;
        const token = t & G.TAG_MASK;
        if (token >= 5) {
          // Tags with content and no attributes; the others (empty, with attributes) take nextSlow().
          if ((t & 0xc0) === G.TAG_CONTENT && d < this.maxDepth && this.names[token] !== undefined) {
            this.pos = p + 1;
            this.depth = d + 1;
            this.page = this.tagPage;
            this.token = token;
            this.tagByte = t;
            this.stack[d + 1] = (this.tagPage << 8) | token;
            return (this.kind = K.START_TAG);
          }
        } else if (t === G.END) {
          this.pos = p + 1;
          const id = this.stack[d];
          if ((id & LITERAL_FLAG) === 0) {
            this.depth = d - 1;
            this.page = id >>> 8;
            this.token = id & 0xff;
            return (this.kind = K.END_TAG);
          }
          return this.closeElement();
        } else if (t === G.STR_I) {
          const lim = this.limit;
          let i = scanZero(b, this.view, p + 1, lim);
          // The scan tells ASCII strings apart for free (see scanZero): text() skips UTF-8 decoding.
          this.asciiAt = i >= 0 ? p + 1 : -1;
          if (i < 0) i = ~i;
          if (i < lim) {
            this.start = p + 1;
            this.end = i;
            this.pos = i + 1;
            return (this.kind = K.TEXT);
          }
        }
      }
    }
    return this.nextSlow();
  }

  private nextSlow(): number {
    if (this.mode !== 0) {
      if (this.mode === MODE_ATTRS) return this.nextAttr();
      this.mode = 0;
      return this.closeElement();
    }
    const b = this.bytes;
    for (;;) {
      const p = this.pos;
      if (p >= this.limit) return this.atEnd();
      const t = b[p];
      this.offset = p;
      // Every global token has (t & 0x3F) < 5 (WBXML §7.1): anything else is a tag.
      const token = t & TAG_MASK;
      if (token >= 5) {
        if (this.depth === 0 && this.rootSeen) return this.trailing(p);
        if (this.names[token] === undefined && this.strict) {
          throw new WbxmlError('UNKNOWN_TAG', p, `tag token ${hexByte(token)} is not defined on code page ${this.tagPage}${this.codePages ? ` of ${this.codePages.name}` : ''}`);
        }
        this.pos = p + 1;
        return this.openElement(t, token, -1);
      }
      if (this.depth === 0 && t !== PI && t !== SWITCH_PAGE) {
        if (this.rootSeen) return this.trailing(p);
        if (t !== LITERAL && t !== LITERAL_A && t !== LITERAL_C && t !== LITERAL_AC) {
          throw new WbxmlError('UNKNOWN_TOKEN', p, `token ${hexByte(t)} before the root element`);
        }
      }
      if (t === END) {
        this.pos = p + 1;
        return this.closeElement();
      }
      const v = this.valueToken(t, p, false);
      if (v >= 0) return v;
      switch (t) {
        case SWITCH_PAGE: {
          if (p + 1 >= this.limit) throw new WbxmlError('TRUNCATED', p, 'input ends inside SWITCH_PAGE');
          const page = b[p + 1];
          const set = this.codePages;
          if (set !== undefined && set.tagNames[page] === undefined && this.strict) {
            throw new WbxmlError('UNKNOWN_CODE_PAGE', p, `SWITCH_PAGE to code page ${page}, which ${set.name} does not have`);
          }
          this.tagPage = page;
          this.names = set?.tagNames[page] ?? NO_NAMES;
          this.pos = p + 2;
          continue;
        }
        case LITERAL: case LITERAL_A: case LITERAL_C: case LITERAL_AC: {
          this.pos = p + 1;
          const idx = this.mb();
          this.chargeLiteral(idx, p);
          return this.openElement(t, -1, idx);
        }
        case PI: {
          this.pos = p + 1;
          this.mode = MODE_ATTRS;
          this.inPi = true;
          return (this.kind = K.PI);
        }
        default:
          throw new WbxmlError('UNKNOWN_TOKEN', p, `token ${hexByte(t)} is not a WBXML token`);
      }
    }
  }

  /**
   * The tokens that may stand in content and in attribute values alike: STR_I, STR_T, ENTITY,
   * OPAQUE and the extensions. Returns the kind, or -1 when `t` is none of them.
   */
  private valueToken(t: number, p: number, inAttrs: boolean): number {
    switch (t) {
      case STR_I:
        this.start = p + 1;
        this.end = this.scanNul(p + 1);
        this.pos = this.end + 1;
        return (this.kind = K.TEXT);
      case STR_T:
        this.pos = p + 1;
        this.tableRange(this.mb(), p);
        this.chargeTable(p);
        return (this.kind = K.TEXT);
      case ENTITY: {
        this.pos = p + 1;
        const cp = this.mb();
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
          throw new WbxmlError('BAD_ENTITY', p, `ENTITY ${cp} is not a Unicode scalar value`);
        }
        this.entity = cp;
        return (this.kind = K.ENTITY);
      }
      case OPAQUE: {
        // OPAQUE came with WBXML 1.1 in content and 1.2 in attribute values.
        if (this.strict && (inAttrs ? this.version < 2 : this.version === 0)) {
          throw new WbxmlError('UNKNOWN_TOKEN', p, `OPAQUE ${inAttrs ? 'in an attribute value needs WBXML 1.2 or later' : 'is not defined in WBXML 1.0'}`);
        }
        this.pos = p + 1;
        const len = this.mb();
        if (len > this.limit - this.pos) {
          throw new WbxmlError('BAD_OPAQUE_LENGTH', p, `OPAQUE of ${len} bytes runs past the end of the input (${this.limit - this.pos} left)`);
        }
        this.start = this.pos;
        this.end = this.pos + len;
        this.pos = this.end;
        return (this.kind = K.OPAQUE);
      }
      case EXT_I_0: case EXT_I_0 + 1: case EXT_I_2:
        this.ext = t - EXT_I_0;
        this.extKind = 'i';
        this.start = p + 1;
        this.end = this.scanNul(p + 1);
        this.pos = this.end + 1;
        return (this.kind = K.EXTENSION);
      case EXT_T_0: case EXT_T_0 + 1: case EXT_T_2:
        this.ext = t - EXT_T_0;
        this.extKind = 't';
        this.pos = p + 1;
        this.entity = this.mb();
        this.tableRange(this.entity, p);
        this.chargeTable(p);
        return (this.kind = K.EXTENSION);
      case EXT_0: case EXT_0 + 1: case EXT_2:
        this.ext = t - EXT_0;
        this.extKind = '';
        this.start = this.end = p + 1;
        this.pos = p + 1;
        return (this.kind = K.EXTENSION);
      default:
        return -1;
    }
  }

  private openElement(t: number, token: number, literalIndex: number): number {
    const depth = this.depth + 1;
    if (depth > this.maxDepth) {
      throw new WbxmlError('DEPTH_LIMIT', this.offset, `element nesting deeper than maxDepth (${this.maxDepth})`);
    }
    this.depth = depth;
    this.rootSeen = true;
    this.page = this.tagPage;
    this.token = token;
    if (literalIndex >= 0) this.literal = literalIndex;
    this.tagByte = t;
    this.stack[depth] = literalIndex >= 0 ? LITERAL_FLAG | literalIndex : (this.tagPage << 8) | token;
    if (t & TAG_ATTRS) this.mode = MODE_ATTRS;
    else if ((t & TAG_CONTENT) === 0) this.mode = MODE_PENDING_END;
    return (this.kind = K.START_TAG);
  }

  private closeElement(): number {
    const id = this.stack[this.depth];
    if (id & LITERAL_FLAG) {
      this.literal = id & ~LITERAL_FLAG;
      this.token = -1;
    } else {
      this.page = id >>> 8;
      this.token = id & 0xff;
    }
    this.depth--;
    return (this.kind = K.END_TAG);
  }

  /** Tokens of an attribute list (or of a PI) up to its END. */
  private nextAttr(): number {
    const b = this.bytes;
    for (;;) {
      const p = this.pos;
      if (p >= this.limit) throw new WbxmlError('TRUNCATED', p, 'input ends inside an attribute list');
      const t = b[p];
      this.offset = p;
      const v = this.valueToken(t, p, true);
      if (v >= 0) return v;
      switch (t) {
        case SWITCH_PAGE: {
          if (p + 1 >= this.limit) throw new WbxmlError('TRUNCATED', p, 'input ends inside SWITCH_PAGE');
          this.curAttrPage = b[p + 1];
          this.pos = p + 2;
          continue;
        }
        case END: {
          this.pos = p + 1;
          this.mode = 0;
          if (this.inPi) {
            this.inPi = false;
          } else if (!this.hasContent) {
            this.mode = MODE_PENDING_END;
          }
          return (this.kind = K.ATTRS_END);
        }
        case LITERAL: {
          this.pos = p + 1;
          const idx = this.mb();
          this.chargeLiteral(idx, p);
          this.literal = idx;
          this.attrToken = -1;
          this.attrPage = this.curAttrPage;
          return (this.kind = K.ATTR_START);
        }
        case PI: case LITERAL_A: case LITERAL_C: case LITERAL_AC:
          throw new WbxmlError('UNKNOWN_TOKEN', p, `token ${hexByte(t)} is not allowed in an attribute list`);
        default: {
          this.pos = p + 1;
          this.attrPage = this.curAttrPage;
          this.attrToken = t;
          const set = this.codePages;
          const known = t < 0x80 ? set?.attrStarts[this.curAttrPage]?.[t] : set?.attrValueNames[this.curAttrPage]?.[t];
          if (known === undefined && this.strict) {
            throw new WbxmlError('UNKNOWN_ATTRIBUTE', p, `attribute token ${hexByte(t)} is not defined on attribute page ${this.curAttrPage}`);
          }
          return (this.kind = t < 0x80 ? K.ATTR_START : K.ATTR_VALUE);
        }
      }
    }
  }

  private atEnd(): number {
    if (this.depth > 0) {
      throw new WbxmlError('TRUNCATED', this.limit, `input ends with ${this.depth} element${this.depth > 1 ? 's' : ''} open`);
    }
    if (!this.rootSeen) throw new WbxmlError('NO_ROOT', this.limit, 'document has no root element');
    this.kind = K.EOF;
    return K.EOF;
  }

  private trailing(p: number): number {
    if (this.strict) {
      throw new WbxmlError('TRAILING_DATA', p, `${this.limit - p} byte${this.limit - p > 1 ? 's' : ''} after the root element (first ${hexByte(this.bytes[p])})`);
    }
    this.pos = this.limit;
    this.kind = K.EOF;
    return K.EOF;
  }

  /** Offset of the NUL that ends the inline string starting at `from`. */
  private scanNul(from: number): number {
    const limit = this.limit;
    // Words first; for long runs (base64 blobs) indexOf's native scan wins over the JS loop.
    const quick = from + 48 < limit ? from + 48 : limit;
    let i = scanZero(this.bytes, this.view, from, quick);
    if (i < 0) i = ~i;
    if (i < quick) return i;
    if (i < limit) {
      i = this.bytes.indexOf(0, i);
      if (i >= 0 && i < limit) return i;
    }
    throw new WbxmlError('TRUNCATED', from - 1, 'input ends inside an inline string (no NUL terminator)');
  }

  private checkTableIndex(idx: number, at: number): void {
    if (idx >= this.stringTableEnd - this.stringTableStart) {
      throw new WbxmlError('BAD_STRING_TABLE_REF', at, `string-table reference ${idx} is outside the ${this.stringTableEnd - this.stringTableStart}-byte table`);
    }
  }

  /** Sets start/end to the string at table offset `idx` (references may point mid-string). */
  private tableRange(idx: number, at: number): void {
    this.checkTableIndex(idx, at);
    const b = this.bytes;
    const s = this.stringTableStart + idx;
    let i = s;
    const e = this.stringTableEnd;
    while (i < e && b[i] !== 0) i++;
    // A table whose last string lacks its NUL (the SyncML RTK writes such tables) ends the string.
    this.start = s;
    this.end = i;
  }

  /** A literal name refers to the string table like STR_T does: it counts against maxTableTextBytes. */
  private chargeLiteral(idx: number, at: number): void {
    const saveS = this.start, saveE = this.end;
    this.tableRange(idx, at);
    this.chargeTable(at);
    this.start = saveS;
    this.end = saveE;
  }

  /** The table string just found (start, end) counts against maxTableTextBytes. */
  private chargeTable(at: number): void {
    if ((this.tableTextLeft -= this.end - this.start) < 0) this.tableTextExceeded(at);
  }

  private tableTextExceeded(at: number): never {
    throw new WbxmlError('SIZE_LIMIT', at, `string-table references stand for more than ${this.tableTextMax} bytes of text (maxTableTextBytes; a ${this.limit}-byte document)`);
  }

  private tableString(idx: number): string {
    const saveS = this.start, saveE = this.end;
    this.tableRange(idx, 1);
    const s = decodeText(this.bytes, this.start, this.end, this.charset, this.strict);
    this.start = saveS;
    this.end = saveE;
    return s;
  }

  // --- accessors (allocate only when called) -------------------------------------------------

  /** START_TAG: the tag has attributes (ATTR_* tokens follow, then ATTRS_END). */
  get hasAttributes(): boolean {
    return (this.tagByte & TAG_ATTRS) !== 0;
  }

  /** START_TAG: the tag has content; without it, END_TAG comes next. */
  get hasContent(): boolean {
    return (this.tagByte & TAG_CONTENT) !== 0;
  }

  /** TEXT came from the string table (STR_T) rather than inline (STR_I). */
  get fromTable(): boolean {
    return this.start < this.stringTableEnd && this.start >= this.stringTableStart;
  }

  /** The current TEXT or EXTENSION string, decoded from the document charset. */
  text(): string {
    if (this.asciiAt === this.start && this.kind === K.TEXT) return decodeAscii(this.bytes, this.start, this.end);
    if (this.fromTable && this.kind === K.TEXT) {
      const key = this.start - this.stringTableStart;
      const cache = this.tableCache ?? (this.tableCache = new Map());
      let s = cache.get(key);
      if (s === undefined) {
        s = decodeText(this.bytes, this.start, this.end, this.charset, this.strict);
        cache.set(key, s);
      }
      return s;
    }
    return decodeText(this.bytes, this.start, this.end, this.charset, this.strict);
  }

  /** A view of the current TEXT/OPAQUE/EXTENSION bytes (no copy: do not keep it past the input). */
  data(): Uint8Array {
    return this.bytes.subarray(this.start, this.end);
  }

  /** The current OPAQUE content as a view into the input. */
  opaque(): Uint8Array {
    return this.bytes.subarray(this.start, this.end);
  }

  /** Name of the current tag (START_TAG / END_TAG). */
  tagName(): string {
    if (this.token < 0) return this.tableString(this.literal);
    const name = this.codePages?.tagNames[this.page]?.[this.token];
    return name ?? unknownTagName(this.page, this.token);
  }

  /** Namespace of the current tag's code page ('' for literal tags or unknown pages). */
  tagNamespace(): string {
    if (this.token < 0) return '';
    return this.codePages?.pageNamespaces[this.page] ?? '';
  }

  /** Name of the current ATTR_START. */
  attrName(): string {
    if (this.attrToken < 0) return this.tableString(this.literal);
    return this.codePages?.attrStarts[this.attrPage]?.[this.attrToken]?.name ?? `unknown-attr-${this.attrPage}-${this.attrToken.toString(16)}`;
  }

  /** The value prefix some attribute start tokens carry (`href="http://` style), or ''. */
  attrValuePrefix(): string {
    if (this.attrToken < 0) return '';
    return this.codePages?.attrStarts[this.attrPage]?.[this.attrToken]?.valuePrefix ?? '';
  }

  /** The text of the current ATTR_VALUE token. */
  attrValueText(): string {
    return this.codePages?.attrValueNames[this.attrPage]?.[this.attrToken] ?? '';
  }

  /** A reader over the current OPAQUE, as a nested WBXML document (DevInf, DDF in `Data`). */
  nested(options?: WbxmlReaderOptions): WbxmlReader {
    if (this.kind !== K.OPAQUE) throw new WbxmlError('INVALID_ARGUMENT', this.offset, 'nested() needs the current token to be OPAQUE');
    const opts: WbxmlReaderOptions = { ...this.options, codePages: undefined, defaultCodePages: undefined, ...options };
    try {
      return new WbxmlReader(this.opaque(), opts);
    } catch (e) {
      throw rebase(e, this.start);
    }
  }

  /** Bytes of string-table text the document has referred to so far (see maxTableTextBytes). */
  get tableTextBytes(): number {
    return this.tableTextMax - Math.max(0, this.tableTextLeft);
  }

  /** Where the reader is: the byte offset of the next unread byte. */
  get position(): number {
    return this.pos;
  }

  /** The code pages of a document type by name or value, from this reader's registry. */
  static resolve(codePages: CodePageSet | string, registry: CodePageRegistry = defaultRegistry): CodePageSet {
    return resolveSet(registry, codePages)!;
  }
}

/**
 * Offset of the first 0 byte in b[i, lim), or lim. Four bytes at a time: a word has a zero byte
 * iff (v - 0x01010101) & ~v & 0x80808080 is non-zero (the classic SWAR test).
 */
/**
 * Offset of the first NUL in `b[i, lim)` (or `lim`), four bytes at a time; as `~offset` (negative)
 * when a byte before it is 0x80 or above: a non-negative answer means the string is ASCII.
 */
function scanZero(b: Uint8Array, dv: DataView, i: number, lim: number): number {
  const l4 = lim - 4;
  let high = 0;
  while (i <= l4) {
    const v = dv.getInt32(i, true);
    if (((v - 0x01010101) & ~v & 0x80808080) !== 0) break;
    high |= v;
    i += 4;
  }
  for (; i < lim; i++) {
    const c = b[i];
    if (c === 0) break;
    high |= c;
  }
  return (high & 0x80808080) === 0 ? i : ~i;
}

function resolveSet(registry: CodePageRegistry, v: CodePageSet | string | undefined): CodePageSet | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return v;
  const s = registry.get(v) ?? registry.byPublicIdString(v);
  if (!s) throw new WbxmlError('INVALID_ARGUMENT', -1, `no code page set named '${v}'`);
  return s;
}

/** The name lenient mode gives a tag that its code page does not define. */
export function unknownTagName(page: number, token: number): string {
  return `unknown-tag-${page}-${token.toString(16).padStart(2, '0')}`;
}

function hexMb(v: number): string {
  return '0x' + v.toString(16).toUpperCase().padStart(2, '0');
}

/** Moves an error found inside a nested document to its place in the outer one. */
export function rebase(e: unknown, base: number): unknown {
  if (e instanceof WbxmlError && e.offset >= 0) {
    const moved = new WbxmlError(e.code, e.offset + base, e.detail.endsWith(' in a nested document') ? e.detail : e.detail + ' in a nested document');
    return moved;
  }
  return e;
}
