/**
 * XML text -> WBXML in one streaming pass over our own zero-copy XML scanner: element names are
 * looked up in the code pages, text bytes are copied from the input into the encoder's buffer
 * (decoded only where the XML has entity references).
 *
 * - The document type comes from the caller, the DOCTYPE public ID, the root namespace, or the
 *   root element name, in that order (libwbxml's order).
 * - Whitespace-only text between elements is dropped unless `keepWhitespace`; the text content
 *   of an element is kept exactly (no trimming).
 * - A text run containing CDATA is written as OPAQUE (and XML written by `wbxmlToXml` turns
 *   OPAQUE text into CDATA), so both directions round-trip.
 * - A nested DevInf / MgmtTree inside `Data` becomes a complete WBXML document in OPAQUE, and the
 *   Meta/Type that announces it is switched from `…+xml` to `…+wbxml`.
 */
import type { CodePageRegistry, CodePageSet, NestedDocumentRule } from './code-page.js';
import { defaultRegistry } from './code-pages/index.js';
import { WbxmlError } from './errors.js';
import { utf8Encoder } from './text.js';
import { nameTable } from './name-table.js';
import { WbxmlWriter, type WbxmlVersion } from './writer.js';
import { XmlScanner, X } from './xml/scanner.js';

/** Options of {@link xmlToWbxml}. @public */
export interface XmlToWbxmlOptions {
  /** The document type; by default found from DOCTYPE, root namespace or root element. */
  codePages?: CodePageSet | string;
  registry?: CodePageRegistry;
  /** WBXML version. Default `1.2`. */
  version?: WbxmlVersion;
  /** Build a string table of repeated text. Default false. */
  stringTable?: boolean;
  /** How the public ID is written (see {@link WbxmlWriterOptions.publicId}). */
  publicId?: 'auto' | 'string' | 'unknown';
  /**
   * Strict (default): an element or attribute the code pages do not define is an error.
   * Lenient: it is written as a LITERAL through the string table.
   */
  strict?: boolean;
  /** Keep whitespace-only text between elements (like libwbxml's `-k`). Default false. */
  keepWhitespace?: boolean;
  /** `opaque` (default): CDATA becomes OPAQUE; `text`: STR_I like any text. */
  cdata?: 'opaque' | 'text';
  /** Rewrite a Type announcing an embedded document from `…+xml` to `…+wbxml`. Default true. */
  rewriteNestedType?: boolean;
  /** Deepest nesting accepted. Default 64. */
  maxDepth?: number;
  /** Largest input accepted, in bytes. Default 16 MiB. */
  maxBytes?: number;
}


interface Run {
  /** Raw range when the run is one entity-free TEXT token. */
  start: number;
  end: number;
  parts: number;
  cdata: boolean;
  whitespace: boolean;
  /** Decoded bytes once the run needs copying (several tokens or entities). */
  copied: boolean;
}

class XmlToWbxmlConverter {
  private readonly writers = new Map<string, { writer: WbxmlWriter; inUse: boolean }>();
  private scratch = new Uint8Array(1024);
  private scratchLen = 0;
  private readonly run: Run = { start: 0, end: 0, parts: 0, cdata: false, whitespace: true, copied: false };

  private options: XmlToWbxmlOptions = {};
  private registry: CodePageRegistry = defaultRegistry;
  private strict = true;
  private keepWs = false;
  private cdataOpaque = true;
  private rewrite = true;

  configure(options: XmlToWbxmlOptions): void {
    this.options = options;
    this.registry = options.registry ?? defaultRegistry;
    this.strict = options.strict ?? true;
    this.keepWs = options.keepWhitespace ?? false;
    this.cdataOpaque = (options.cdata ?? 'opaque') === 'opaque';
    this.rewrite = options.rewriteNestedType ?? true;
    // A previous call may have stopped with an error in the middle of a text run.
    this.run.parts = 0;
  }

  convert(s: XmlScanner): Uint8Array {
    const k = s.next();
    if (k !== X.START_TAG) throw new WbxmlError('NO_ROOT', s.offset, 'document has no root element', s.position(s.offset));
    const set = this.documentType(s);
    const w = this.writer(set);
    try {
      this.element(s, w, set, 0);
      if (s.next() !== X.EOF) {
        throw new WbxmlError('TRAILING_DATA', s.offset, 'content after the root element', s.position(s.offset));
      }
      return w.finish();
    } finally {
      this.release(w);
    }
  }

  private writer(set: CodePageSet): WbxmlWriter {
    const o = this.options;
    const key = `${set.name}|${o.version ?? ''}|${o.stringTable ? 1 : 0}|${o.publicId ?? ''}|${o.maxDepth ?? ''}`;
    const cached = this.writers.get(key);
    // Nested documents need their own writer while the outer one is open.
    if (cached && !cached.inUse) {
      cached.inUse = true;
      return cached.writer.reset();
    }
    const writer = new WbxmlWriter({
      codePages: set, registry: this.registry, version: o.version, stringTable: o.stringTable,
      publicId: o.publicId, maxDepth: o.maxDepth, initialCapacity: 16 * 1024,
    });
    if (!cached) this.writers.set(key, { writer, inUse: true });
    return writer;
  }

  private release(w: WbxmlWriter): void {
    for (const c of this.writers.values()) if (c.writer === w) c.inUse = false;
  }

  private documentType(s: XmlScanner): CodePageSet {
    const o = this.options;
    const reg = this.registry;
    if (o.codePages !== undefined) {
      const set = typeof o.codePages === 'string' ? reg.get(o.codePages) ?? reg.byPublicIdString(o.codePages) : o.codePages;
      if (!set) throw new WbxmlError('INVALID_ARGUMENT', -1, `no code page set named '${String(o.codePages)}'`);
      return set;
    }
    const root = s.localName();
    if (s.doctypePublicId) {
      const set = reg.byPublicIdString(s.doctypePublicId);
      if (set) return set;
    }
    const ns = s.namespaceUri();
    const set = (ns ? reg.byRoot(root, ns) : undefined) ?? reg.byRoot(root);
    if (set) return set;
    throw new WbxmlError('UNKNOWN_PUBLIC_ID', s.offset,
      `cannot tell the document type of <${s.name()}>${ns ? ` in namespace '${ns}'` : ''}: pass codePages`, s.position(s.offset));
  }

  /**
   * Writes the element whose START_TAG is current, and everything inside it, to `w`.
   * Iterative (an explicit depth counter), so deep documents cannot overflow the stack.
   */
  private element(s: XmlScanner, w: WbxmlWriter, set: CodePageSet, nesting: number): void {
    const rule = set.nested;
    const base = s.depth - 1;
    const max = s.maxDepth - base + 2;
    const hadChild = new Uint8Array(max);
    const carrier = new Uint8Array(max);
    // The page each element's namespace names (-1: none), inherited when an element declares none.
    const nsPageAt = new Int32Array(max).fill(-1);
    // Governing Meta/Type text by the depth of the element owning the Meta: [body offset, length].
    const types = new Int32Array(max * 2).fill(-1);
    const carrierId = rule ? idOf(set, rule.carrier) : -2;
    const typeId = rule ? idOf(set, rule.typeElement) : -2;
    let captureDepth = -1;
    let lastNsKey = -1;
    let lastNsPage = -1;
    const nsCache: NsCacheEntry[] = [];
    const names = nameTable(set);
    const dv = new DataView(s.bytes.buffer, s.bytes.byteOffset, s.bytes.byteLength);
    const run = this.run;

    for (let k: number = X.START_TAG; ; k = s.next()) {
      if (k === X.START_TAG) {
        const d = s.depth - base;
        if (run.parts !== 0) this.flush(s, w, false, hadChild[d - 1] === 1, d - 1 === captureDepth ? types : undefined, d - 1);
        hadChild[d - 1] = 1;
        hadChild[d] = 0;
        types[d * 2] = -1;
        if (carrier[d - 1] === 1 && rule && nesting < 4) {
          const nested = this.nestedType(s, rule);
          if (nested) {
            const owner = types[(d - 2) * 2] >= 0 ? d - 2 : d - 3;
            this.nestedDocument(s, w, nested, owner >= 0 ? types : undefined, owner, nesting);
            continue;
          }
        }
        let page: number;
        if (s.attrCount === 0 && s.localStart === s.nameStart) {
          page = nsPageAt[d - 1];
        } else {
          const nsKey = s.namespaceKey();
          if (nsKey !== lastNsKey) {
            lastNsKey = nsKey;
            lastNsPage = nsKey >= 0 ? namespacePage(s, set, nsCache, nsKey, s.namespaceValueEnd()) : -1;
          }
          page = lastNsPage;
        }
        nsPageAt[d] = page;
        const ids = names.lookup(s.bytes, dv, s.localStart, s.nameEnd);
        if (ids === undefined) {
          if (this.strict) {
            throw new WbxmlError('UNKNOWN_TAG', s.offset, `element <${s.name()}> is not defined by ${set.name}`, s.position(s.offset));
          }
          w.startLiteral(s.name());
          carrier[d] = 0;
        } else {
          let id = ids[0];
          if (ids.length > 1) {
            const want = page >= 0 ? page : w.currentPage;
            for (let i = 0; i < ids.length; i++) if (ids[i] >> 8 === want) { id = ids[i]; break; }
          }
          w.startToken(id >> 8, id & 0xff);
          carrier[d] = id === carrierId ? 1 : 0;
          if (id === typeId) captureDepth = d;
        }
        if (s.attrCount > 0 && !onlyNamespaceDeclarations(s)) this.attributes(s, w, set);
      } else if (k === X.END_TAG) {
        const d = s.depth - base;
        if (run.parts !== 0) this.flush(s, w, true, hadChild[d] === 1, d === captureDepth ? types : undefined, d);
        if (d === captureDepth) captureDepth = -1;
        carrier[d] = 0;
        w.end();
        if (d === 1) return;
      } else if (k === X.TEXT || k === X.CDATA) {
        this.addToRun(s, k === X.CDATA);
      } else {
        throw new WbxmlError('UNBALANCED', s.offset, 'input ends inside an element', s.position(s.offset));
      }
    }
  }

  private attributes(s: XmlScanner, w: WbxmlWriter, set: CodePageSet): void {
    for (let i = 0; i < s.attrCount; i++) {
      const name = s.attrName(i);
      if (name === 'xmlns' || name.startsWith('xmlns:')) continue; // namespaces pick code pages
      if (this.strict) {
        throw new WbxmlError('UNKNOWN_ATTRIBUTE', s.offset, `attribute '${name}' on <${s.name()}> is not defined by ${set.name}`, s.position(s.offset));
      }
      w.attribute(name, s.attrValue(i));
    }
  }

  private addToRun(s: XmlScanner, cdata: boolean): void {
    const run = this.run;
    const ws = cdata ? false : s.isWhitespace;
    if (run.parts === 0) {
      run.start = s.start;
      run.end = s.end;
      run.cdata = cdata;
      run.whitespace = ws;
      run.copied = false;
      run.parts = 1;
      if ((!cdata && s.hasEntities) || s.hasCR) this.copyRun(s);
      return;
    }
    if (!run.copied) this.copyFirst(s);
    run.parts++;
    run.cdata ||= cdata;
    run.whitespace &&= ws;
    this.append(s);
  }

  /** Moves the run's first token into the scratch buffer. */
  private copyFirst(s: XmlScanner): void {
    const run = this.run;
    this.scratchLen = 0;
    this.reserve(run.end - run.start);
    this.scratch.set(s.bytes.subarray(run.start, run.end), 0);
    this.scratchLen = run.end - run.start;
    run.copied = true;
  }

  private copyRun(s: XmlScanner): void {
    this.scratchLen = 0;
    this.run.copied = true;
    this.append(s);
  }

  /** Appends the current TEXT/CDATA token, decoded (entities, CRLF -> LF) when it needs it. */
  private append(s: XmlScanner): void {
    this.reserve(s.end - s.start);
    if (!s.hasEntities && !s.hasCR) {
      this.scratch.set(s.bytes.subarray(s.start, s.end), this.scratchLen);
      this.scratchLen += s.end - s.start;
    } else {
      this.scratchLen = s.textInto(this.scratch, this.scratchLen);
    }
  }

  private reserve(n: number): void {
    if (this.scratchLen + n <= this.scratch.length) return;
    const next = new Uint8Array(Math.max(this.scratch.length * 2, this.scratchLen + n));
    next.set(this.scratch.subarray(0, this.scratchLen));
    this.scratch = next;
  }

  /**
   * Writes the pending text run. Whitespace-only runs are dropped when they sit between elements
   * (a child came before, or one comes next), and kept when they are an element's whole content.
   */
  private flush(s: XmlScanner, w: WbxmlWriter, atEnd: boolean, hadChild: boolean, types: Int32Array | undefined, depth: number): void {
    const run = this.run;
    if (run.parts === 0) return;
    run.parts = 0;
    if (run.whitespace && !this.keepWs && (hadChild || !atEnd)) return;
    const src = run.copied ? this.scratch : s.bytes;
    const from = run.copied ? 0 : run.start;
    const to = run.copied ? this.scratchLen : run.end;
    if (run.cdata && this.cdataOpaque) {
      w.opaque(src.subarray(from, to));
      return;
    }
    const at = w.bodyLength;
    // The scanner refuses U+0000 (raw or as a reference), so the text cannot hold a NUL.
    w.textNoNul(src, from, to);
    if (types !== undefined && depth >= 2) {
      types[(depth - 2) * 2] = at + 1;
      types[(depth - 2) * 2 + 1] = to - from;
    }
  }

  /** The nested-document type whose root element is the current START_TAG, if any. */
  private nestedType(s: XmlScanner, rule: NestedDocumentRule): NestedDocumentRule['types'][number] | undefined {
    const name = s.localName();
    const ns = s.namespaceUri().toLowerCase();
    for (const t of rule.types) {
      if (t.root === name && (ns === '' || ns === t.namespace.toLowerCase())) return t;
    }
    return undefined;
  }

  private nestedDocument(s: XmlScanner, outer: WbxmlWriter, t: NestedDocumentRule['types'][number], types: Int32Array | undefined, owner: number, nesting: number): void {
    const set = this.registry.get(t.set);
    if (!set) throw new WbxmlError('BAD_NESTED_DOCUMENT', s.offset, `no code pages '${t.set}' for the embedded <${t.root}>`, s.position(s.offset));
    const inner = this.writer(set);
    try {
      this.element(s, inner, set, nesting + 1);
      outer.opaque(inner.finish());
    } finally {
      this.release(inner);
    }
    if (this.rewrite && types !== undefined && types[owner * 2] >= 0) {
      const at = types[owner * 2], length = types[owner * 2 + 1];
      const value = utf8Decoder.decode(outer.bodyView(at, at + length)).trim();
      if (value === t.xml) {
        const replacement = utf8Encoder.encode(t.wbxml);
        outer.spliceBody(at, length, replacement);
        types[owner * 2 + 1] = replacement.length;
      }
    }
  }
}

const utf8Decoder = new TextDecoder();

interface NsCacheEntry {
  bytes: Uint8Array;
  page: number;
}

/**
 * The code page a namespace declaration names. Documents redeclare the same few namespaces on
 * element after element (libwbxml puts xmlns on every MetInf element), so the answer is cached
 * by the declaration's raw bytes.
 */
function namespacePage(s: XmlScanner, set: CodePageSet, cache: NsCacheEntry[], start: number, end: number): number {
  const b = s.bytes;
  for (let i = 0; i < cache.length; i++) {
    const c = cache[i].bytes;
    if (c.length !== end - start) continue;
    let k = 0;
    while (k < c.length && c[k] === b[start + k]) k++;
    if (k === c.length) return cache[i].page;
  }
  const page = set.namespacePages.get(s.namespaceUri().toLowerCase()) ?? -1;
  if (cache.length < 8) cache.push({ bytes: b.slice(start, end), page });
  return page;
}

/** Whether every attribute of the current tag is `xmlns` or `xmlns:*` (checked on bytes). */
function onlyNamespaceDeclarations(s: XmlScanner): boolean {
  const b = s.bytes;
  for (let i = 0; i < s.attrCount; i++) {
    const a = s.attrNameStart(i), e = s.attrNameEnd(i);
    if (e - a < 5 || b[a] !== 0x78 || b[a + 1] !== 0x6d || b[a + 2] !== 0x6c || b[a + 3] !== 0x6e || b[a + 4] !== 0x73) return false;
    if (e - a > 5 && b[a + 5] !== 0x3a) return false;
  }
  return true;
}

const idCache = new WeakMap<object, number>();
function idOf(set: CodePageSet, el: { page: number; name: string }): number {
  let id = idCache.get(el);
  if (id !== undefined) return id;
  id = -1;
  for (const x of set.tagTokensAll.get(el.name) ?? []) if (x >> 8 === el.page) { id = x; break; }
  idCache.set(el, id);
  return id;
}

/**
 * Converts XML text (a string, or UTF-8 bytes) to WBXML.
 *
 * @example
 * ```ts
 * import { xmlToWbxml } from 'syncml-dm/wbxml';
 * const bytes = xmlToWbxml('<SyncML xmlns="SYNCML:SYNCML1.2">…</SyncML>');
 * ```
 * @throws WbxmlError with `code`, byte `offset` and `line`/`column` for XML that is not
 *   well-formed or that the code pages cannot express.
 * @public
 */
export function xmlToWbxml(xml: string | Uint8Array, options: XmlToWbxmlOptions = {}): Uint8Array {
  const limits = { maxDepth: options.maxDepth, maxBytes: options.maxBytes };
  const scanner = typeof xml === 'string' ? XmlScanner.fromString(xml, limits) : new XmlScanner(xml, limits);
  // One converter reused call after call (its writers keep their grown buffers); a call made
  // while another runs gets its own.
  const c = busy ? new XmlToWbxmlConverter() : shared;
  const own = c === shared;
  if (own) busy = true;
  try {
    c.configure(options);
    return c.convert(scanner);
  } finally {
    if (own) busy = false;
  }
}

const shared = new XmlToWbxmlConverter();
let busy = false;
