/**
 * Token sources: one small pull interface over both encodings, so the typed parser is written
 * once. A source reports elements as integer ids of the document's code page set
 * (`page << 8 | token`, -1 for an element the code pages do not define), text already joined
 * (WBXML text split at ENTITY tokens, XML text split at CDATA sections and references) and
 * OPAQUE data. Whitespace-only text between elements is dropped (XML) or reported and ignored by
 * the parser (WBXML written with libwbxml's `-k`).
 */
import type { CodePageSet } from '../wbxml/code-page.js';
import { WbxmlError, type XmlPosition } from '../wbxml/errors.js';
import { WbxmlReader, type WbxmlReaderOptions } from '../wbxml/reader.js';
import { K } from '../wbxml/tokens.js';
import { defaultRegistry } from '../wbxml/code-pages/index.js';
import { XmlScanner, X } from '../wbxml/xml/scanner.js';
import { DDF12, DEVINF12, SYNCML12 } from './elements.js';

/** Token kinds of a {@link TokenSource}. */
export const S_EOF = 0;
export const S_START = 1;
export const S_END = 2;
export const S_TEXT = 3;
export const S_OPAQUE = 4;

/** How a namespace relates to the SyncML family of documents. */
export const NS_NONE = 0; // no namespace in scope
export const NS_FAMILY = 1; // SyncML 1.x, MetInf, DevInf, DM DDF
export const NS_FOREIGN = 2; // anything else (Microsoft `MSFT:`, typos)

/** Called by a source when a known element name sits in a namespace outside the SyncML family. */
export type NamespaceHook = (offset: number, namespace: string, name: string) => void;

/** One pull interface over WBXML and XML. @internal */
export interface TokenSource {
  readonly encoding: 'wbxml' | 'xml';
  /** The code page set ids refer to (for XML: the set names are mapped through). */
  readonly set: CodePageSet;
  /** Kind of the current token (S_*). */
  kind: number;
  /** START: element id (`page << 8 | token`) in `set`, -1 when unknown. */
  id: number;
  /** START/END: depth of the element (root = 1); TEXT/OPAQUE: depth of the enclosing element. */
  depth: number;
  /** Byte offset where the current token starts (XML: in the UTF-8 input). */
  offset: number;
  /** START: the element has no content (`<a/>`, WBXML tag without the content bit). */
  empty: boolean;
  /** START: the element carries attributes other than namespace declarations. */
  hasAttributes: boolean;
  /** OPAQUE: where the data starts in the input. */
  dataStart: number;
  next(): number;
  /** START: local name. */
  name(): string;
  /** START: namespace URI ('' when none). */
  namespace(): string;
  /** TEXT: the whole text run. */
  text(): string;
  /** OPAQUE: a copy of the data. */
  opaque(): Uint8Array;
  /** OPAQUE: a view of the data (valid while the input is). */
  opaqueView(): Uint8Array;
  /** START: attributes other than namespace declarations, or undefined. */
  attributes(): Record<string, string> | undefined;
  /** Line and column of an offset (XML only). */
  position(offset: number): XmlPosition | undefined;
  /**
   * Reads the current START element and its subtree with another code page set (XML: an
   * embedded DevInf / MgmtTree element inside `Data`). WBXML sources refuse: embedded documents
   * there are separate documents in OPAQUE.
   */
  enterSet(set: CodePageSet): void;
  /** Version of the document's own declaration (public ID, DOCTYPE, root namespace), if any. */
  declaredVersion: string | undefined;
  /** Set by the parser: told about known names in foreign namespaces (XML). */
  onForeignNamespace: NamespaceHook | undefined;
}

/** Options shared by both sources. */
export interface SourceOptions {
  strict: boolean;
  maxDepth?: number;
  maxBytes?: number;
  maxTableTextBytes?: number;
  /** Code pages to use whatever the document declares (WBXML). */
  codePages?: CodePageSet;
  /** Code pages for a WBXML document whose public ID is unknown. */
  defaultCodePages?: CodePageSet;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** The WbxmlReader options of a source. */
export function readerOptions(options: SourceOptions): WbxmlReaderOptions {
  return {
    strict: options.strict, maxDepth: options.maxDepth, maxBytes: options.maxBytes, maxTableTextBytes: options.maxTableTextBytes,
    codePages: options.codePages, defaultCodePages: options.defaultCodePages,
  };
}

/** Lower-cased namespace -> (family page, or -1 for a family namespace without a page here). */
const FAMILY = new Map<string, number>([
  ['syncml:syncml1.0', 0], ['syncml:syncml1.1', 0], ['syncml:syncml1.2', 0],
  ['syncml:metinf', 1], ['syncml:dmddf1.2', 2], ['syncml:devinf', -1],
]);

/** NS_FAMILY / NS_FOREIGN / NS_NONE for a namespace URI. */
export function namespaceClass(ns: string): number {
  if (ns === '') return NS_NONE;
  return FAMILY.has(ns.toLowerCase()) ? NS_FAMILY : NS_FOREIGN;
}

// ---------------------------------------------------------------------------------------------

/** A source over a WBXML document (a whole message, or a document nested in OPAQUE). */
export class WbxmlSource implements TokenSource {
  readonly encoding = 'wbxml' as const;
  readonly set: CodePageSet;
  kind = S_EOF;
  id = -1;
  depth = 0;
  offset = 0;
  empty = false;
  hasAttributes = false;
  dataStart = 0;
  declaredVersion: string | undefined = undefined;
  onForeignNamespace: NamespaceHook | undefined = undefined;
  readonly reader: WbxmlReader;
  private readonly names: readonly (readonly (string | undefined)[] | undefined)[];
  private readonly strict: boolean;
  private pend = -1;
  private str = '';
  private attrList: string[] | undefined = undefined;
  /** Namespace of literal elements per depth. */
  private litNs: string[] = [];
  /** Name of the current START when it is a literal. */
  private litName: string | undefined = undefined;
  private anyLiteral = false;

  /**
   * `reader`, when given, is reused (reset to `bytes`): it must have been made with the same
   * options. Messages are read with `codePages` forced to SyncML 1.2, a superset of 1.0/1.1
   * with equal tokens, so 1.2 elements in a 1.1-declared message (DM 1.2 bodies under a 1.1
   * header) still have names; what the header declares is kept in `declaredVersion`.
   */
  constructor(bytes: Uint8Array, options: SourceOptions, reader?: WbxmlReader) {
    this.strict = options.strict;
    const r = reader !== undefined ? reader.reset(bytes) : new WbxmlReader(bytes, readerOptions(options));
    const found = r.codePages;
    if (r.codePageSource === 'forced') {
      const declared = r.publicId > 1 ? defaultRegistry.byPublicId(r.publicId)
        : r.publicIdString !== undefined ? defaultRegistry.byPublicIdString(r.publicIdString) : undefined;
      this.declaredVersion = declared?.version;
    } else if (found !== undefined && r.codePageSource !== 'default' && r.codePageSource !== 'root-tag') {
      this.declaredVersion = found.version;
    }
    this.reader = r;
    this.set = found ?? options.defaultCodePages ?? SYNCML12;
    this.names = this.set.tagNames;
  }

  next(): number {
    const r = this.reader;
    let k = this.pend;
    if (k >= 0) this.pend = -1;
    else k = r.next();
    for (;;) {
      switch (k) {
        case K.START_TAG: {
          const d = r.depth;
          this.depth = d;
          this.offset = r.offset;
          this.empty = !r.hasContent;
          const token = r.token;
          let id = -1;
          if (token >= 0) {
            const page = r.page;
            // A strict reader has refused tokens its code pages lack; a lenient one reports them.
            if (this.strict || this.names[page]?.[token] !== undefined) id = (page << 8) | token;
            if (this.anyLiteral) {
              this.litName = undefined;
              this.litNs[d] = '';
            }
          } else {
            // The name first: reading attributes moves the reader's string-table index on.
            this.litName = r.tagName();
            this.anyLiteral = true;
            // A literal inherits the namespace of a literal parent unless it declares its own.
            this.litNs[d] = d > 1 ? this.litNs[d - 1] ?? '' : '';
          }
          this.id = id;
          if (r.hasAttributes) this.readAttributes(d);
          else { this.attrList = undefined; this.hasAttributes = false; }
          return (this.kind = S_START);
        }
        case K.END_TAG:
          this.depth = r.depth + 1;
          this.offset = r.offset;
          return (this.kind = S_END);
        case K.TEXT:
        case K.ENTITY:
        case K.EXTENSION: {
          if (k === K.EXTENSION && r.extKind === '') {
            if (this.strict) throw new WbxmlError('UNKNOWN_TOKEN', r.offset, `extension token EXT_${r.ext} has no meaning in SyncML`);
            k = r.next();
            continue;
          }
          this.offset = r.offset;
          this.depth = r.depth;
          let s = k === K.ENTITY ? String.fromCodePoint(r.entity) : r.text();
          k = r.next();
          while (k === K.TEXT || k === K.ENTITY || (k === K.EXTENSION && r.extKind !== '')) {
            // Horde and others split text at entity boundaries: one run for the parser.
            s += k === K.ENTITY ? String.fromCodePoint(r.entity) : r.text();
            k = r.next();
          }
          this.pend = k;
          this.str = s;
          return (this.kind = S_TEXT);
        }
        case K.OPAQUE:
          this.offset = r.offset;
          this.depth = r.depth;
          this.dataStart = r.start;
          return (this.kind = S_OPAQUE);
        case K.PI: {
          // Processing instructions carry nothing for SyncML: skip their attribute tokens.
          do k = r.next(); while (k !== K.ATTRS_END && k !== K.EOF);
          k = r.next();
          continue;
        }
        case K.EOF:
          return (this.kind = S_EOF);
        default:
          // Attribute tokens outside an attribute list cannot happen; keep going defensively.
          k = r.next();
      }
    }
  }

  private readAttributes(d: number): void {
    const r = this.reader;
    const list: string[] = [];
    let value = '';
    let open = false;
    for (;;) {
      const k = r.next();
      if (k === K.ATTR_START) {
        if (open) list.push(value);
        list.push(r.attrName());
        value = r.attrValuePrefix();
        open = true;
      } else if (k === K.ATTR_VALUE) value += r.attrValueText();
      else if (k === K.TEXT || k === K.EXTENSION) value += r.text();
      else if (k === K.ENTITY) value += String.fromCodePoint(r.entity);
      else if (k === K.OPAQUE) value += new TextDecoder().decode(r.opaque());
      else if (k === K.ATTRS_END || k === K.EOF) break;
    }
    if (open) list.push(value);
    let other = false;
    for (let i = 0; i < list.length; i += 2) {
      if (list[i] === 'xmlns') { if (this.litName !== undefined) this.litNs[d] = list[i + 1]; }
      else other = true;
    }
    this.attrList = list;
    this.hasAttributes = other;
  }

  name(): string {
    return this.litName ?? this.reader.tagName();
  }

  namespace(): string {
    if (this.litName !== undefined) return this.litNs[this.depth] ?? '';
    return this.set.pageNamespaces[this.reader.page] ?? '';
  }

  text(): string {
    return this.str;
  }

  opaque(): Uint8Array {
    const r = this.reader;
    return r.bytes.slice(r.start, r.end);
  }

  opaqueView(): Uint8Array {
    return this.reader.opaque();
  }

  attributes(): Record<string, string> | undefined {
    const list = this.attrList;
    if (list === undefined || !this.hasAttributes) return undefined;
    const out: Record<string, string> = {};
    for (let i = 0; i < list.length; i += 2) if (list[i] !== 'xmlns') out[list[i]] = list[i + 1];
    return out;
  }

  position(): XmlPosition | undefined {
    return undefined;
  }

  enterSet(): void {
    throw new WbxmlError('INVALID_ARGUMENT', this.offset, 'a WBXML document embeds other documents as OPAQUE, not as elements');
  }
}

// ---------------------------------------------------------------------------------------------

/** The code pages an XML document's names are mapped through, by root element. */
function setForRoot(root: string): CodePageSet | undefined {
  if (root === 'SyncML') return SYNCML12;
  if (root === 'DevInf') return DEVINF12;
  if (root === 'MgmtTree') return DDF12;
  return undefined;
}

/** A source over XML text (UTF-8 bytes), mapping element names to code-page ids. */
export class XmlSource implements TokenSource {
  readonly encoding = 'xml' as const;
  set: CodePageSet = SYNCML12;
  kind = S_EOF;
  id = -1;
  depth = 0;
  offset = 0;
  empty = false;
  hasAttributes = false;
  dataStart = 0;
  declaredVersion: string | undefined = undefined;
  onForeignNamespace: NamespaceHook | undefined = undefined;
  readonly scanner: XmlScanner;
  private held = false;
  private str = '';
  private started = false;
  private pageAt = new Int32Array(66);
  private hadChild = new Uint8Array(66);
  private sets: CodePageSet[] = [];
  private setDepths: number[] = [];
  private lastNs = '';
  private lastNsPage = -1;
  private lastNsClass = NS_NONE;

  constructor(bytes: Uint8Array, options: SourceOptions) {
    this.scanner = new XmlScanner(bytes, { maxDepth: options.maxDepth, maxBytes: options.maxBytes });
    const depth = (options.maxDepth ?? 64) + 2;
    this.pageAt = new Int32Array(depth);
    this.hadChild = new Uint8Array(depth);
    if (options.codePages) { this.set = options.codePages; this.started = true; }
  }

  next(): number {
    const sc = this.scanner;
    let k: number;
    if (this.held) { this.held = false; k = sc.kind; } else k = sc.next();
    for (;;) {
      if (k === X.START_TAG) return this.start();
      if (k === X.END_TAG) {
        const d = sc.depth;
        this.depth = d;
        this.offset = sc.offset;
        this.id = -1;
        const n = this.setDepths.length;
        if (n > 0 && this.setDepths[n - 1] === d) {
          this.setDepths.pop();
          this.set = this.sets.pop()!;
        }
        return (this.kind = S_END);
      }
      if (k === X.TEXT || k === X.CDATA) {
        const d = sc.depth;
        const at = sc.offset;
        let ws = k === X.TEXT && sc.isWhitespace;
        let s = sc.text();
        k = sc.next();
        while (k === X.TEXT || k === X.CDATA) {
          ws = ws && k === X.TEXT && sc.isWhitespace;
          s += sc.text();
          k = sc.next();
        }
        // White space between elements is markup, not content; an element's whole content is kept.
        if (ws && (this.hadChild[d] === 1 || k === X.START_TAG)) continue;
        this.held = true;
        this.str = s;
        this.offset = at;
        this.depth = d;
        return (this.kind = S_TEXT);
      }
      return (this.kind = S_EOF);
    }
  }

  private start(): number {
    const sc = this.scanner;
    const d = sc.depth;
    this.depth = d;
    this.offset = sc.offset;
    this.empty = sc.selfClosing;
    this.hadChild[d - 1] = 1;
    this.hadChild[d] = 0;
    const local = sc.localName();
    if (!this.started) {
      this.started = true;
      const set = setForRoot(local);
      if (set) this.set = set;
      const pub = sc.doctypePublicId;
      if (pub !== undefined) {
        const v = /SyncML (\d\.\d)|DevInf (\d\.\d)|DM-DDF (\d\.\d)/i.exec(pub);
        if (v) this.declaredVersion = v[1] ?? v[2] ?? v[3];
      }
      if (this.declaredVersion === undefined && local === 'SyncML') {
        const ns = sc.namespaceUri().toLowerCase();
        if (ns.startsWith('syncml:syncml')) this.declaredVersion = ns.slice(13);
      }
    }
    const set = this.set;
    const ids = set.tagTokensAll.get(local);
    const ns = sc.namespaceUri();
    if (ns !== this.lastNs) this.classify(ns);
    let id = -1;
    if (ids !== undefined) {
      id = ids[0];
      if (ids.length > 1) {
        // Namespace-directed when the namespace names a page; else the parent's page first.
        const want = this.lastNsPage >= 0 ? this.lastNsPage : d > 1 ? this.pageAt[d - 1] : set.rootPage;
        for (let i = 0; i < ids.length; i++) if (ids[i] >> 8 === want) { id = ids[i]; break; }
      }
      if (this.lastNsClass === NS_FOREIGN && this.onForeignNamespace !== undefined) this.onForeignNamespace(sc.offset, ns, local);
    }
    this.id = id;
    this.pageAt[d] = id >= 0 ? id >> 8 : d > 1 ? this.pageAt[d - 1] : set.rootPage;
    let other = false;
    for (let i = 0, n = sc.attrCount; i < n; i++) {
      const a = sc.attrName(i);
      if (a !== 'xmlns' && !a.startsWith('xmlns:')) { other = true; break; }
    }
    this.hasAttributes = other;
    return (this.kind = S_START);
  }

  private classify(ns: string): void {
    this.lastNs = ns;
    if (ns === '') { this.lastNsClass = NS_NONE; this.lastNsPage = -1; return; }
    const lower = ns.toLowerCase();
    const own = this.set.namespacePages.get(lower);
    const fam = FAMILY.get(lower);
    this.lastNsClass = own !== undefined || fam !== undefined ? NS_FAMILY : NS_FOREIGN;
    this.lastNsPage = own ?? (fam !== undefined && fam >= 0 && this.set.tagNames[fam] !== undefined ? fam : -1);
  }

  name(): string {
    return this.scanner.localName();
  }

  namespace(): string {
    return this.scanner.namespaceUri();
  }

  text(): string {
    return this.str;
  }

  opaque(): Uint8Array {
    return new Uint8Array(0);
  }

  opaqueView(): Uint8Array {
    return new Uint8Array(0);
  }

  attributes(): Record<string, string> | undefined {
    const sc = this.scanner;
    let out: Record<string, string> | undefined;
    for (let i = 0, n = sc.attrCount; i < n; i++) {
      const a = sc.attrName(i);
      if (a === 'xmlns' || a.startsWith('xmlns:')) continue;
      (out ??= {})[a] = sc.attrValue(i);
    }
    return out;
  }

  position(offset: number): XmlPosition | undefined {
    try {
      return this.scanner.position(offset);
    } catch {
      return undefined;
    }
  }

  enterSet(set: CodePageSet): void {
    const d = this.depth;
    this.sets.push(this.set);
    this.setDepths.push(d);
    this.set = set;
    this.lastNs = '\u0000'; // re-classify namespaces against the new set
    const ids = set.tagTokensAll.get(this.scanner.localName());
    let id = -1;
    if (ids) for (const x of ids) if (x >> 8 === set.rootPage) { id = x; break; }
    this.id = id;
    this.pageAt[d] = set.rootPage;
  }
}

/** Decodes UTF-8 bytes strictly; undefined when they are not UTF-8. */
export function utf8OrUndefined(b: Uint8Array): string | undefined {
  try {
    return utf8Strict.decode(b);
  } catch {
    return undefined;
  }
}
