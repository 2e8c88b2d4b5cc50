/**
 * What the typed parsers (SyncML, MetInf, DevInf, DDF) share: the child loop with content-model
 * checks (order, duplicates, unexpected elements) driven by small rank tables, leaf readers,
 * errors and warnings with lazily computed element paths, and unknown-element capture.
 *
 * Strict mode turns every content-model violation into a SyncMLError; tolerant mode records a
 * warning and keeps going (unknown elements are kept in the nearest `unknown` array).
 */
import type { UnknownElement } from './types.js';
import { SyncMLError, isSyncMLError, lowerError, type SyncMLErrorCode } from './errors.js';
import { pathAt, pathsAt, type Doc } from './locate.js';
import {
  NS_FOREIGN, S_END, S_OPAQUE, S_START, S_TEXT, namespaceClass, utf8OrUndefined, type TokenSource,
} from './source.js';
import { toBase64 } from '../wbxml/base64.js';

/** Codes of warnings: the error a strict parse would raise, or a defect strict mode accepts. @public */
export type SyncMLWarningCode =
  | SyncMLErrorCode
  | 'PADDED_VALUE' // an identifier, code, number, Type or Format with white space around it (trimmed)
  | 'DUPLICATE_CMD_ID' // two commands of one message share a CmdID
  | 'MISSING_MSG_REF' // Results without MsgRef (MS-MDM: read as "1")
  | 'UNKNOWN_NAMESPACE' // a SyncML element in a namespace outside the SyncML family (e.g. `syncml:metinfo`)
  | 'VERSION_MISMATCH' // the declared document version (public ID, namespace) differs from VerDTD
  | 'IGNORED_ATTRIBUTE' // an attribute on a SyncML element (dropped)
  | 'IGNORED_CONTENT'; // text where the DTD has none, or extra content in Data (dropped)

/** A defect the parser accepted. @public */
export interface SyncMLWarning {
  code: SyncMLWarningCode;
  /** Element path, e.g. `SyncBody/Results[1]/Cmd`. */
  path: string;
  message: string;
}

/** Options of the parsers. @public */
export interface ParseOptions {
  /**
   * Strict (default): the DTD's content models are enforced and every violation is a
   * SyncMLError. Tolerant (`false`): what real clients send is accepted with a warning per
   * defect; only input that is not well-formed WBXML / XML at all throws.
   */
  strict?: boolean;
  /** Deepest element nesting accepted (default 64). */
  maxDepth?: number;
  /** Largest input accepted in bytes (default 16 MiB). */
  maxBytes?: number;
  /**
   * WBXML: most bytes of string-table text the message may refer to (see
   * `WbxmlReaderOptions.maxTableTextBytes`; default 256 times its length, at least 1 MiB); its
   * embedded documents (DevInf, MgmtTree in Data) share a second budget of the same size.
   */
  maxTableTextBytes?: number;
}

interface PendingWarning {
  code: SyncMLWarningCode;
  message: string;
  doc: Doc;
  offset: number;
}

/** An object with an `unknown` list, where elements the model lacks are kept. */
export interface Holder {
  unknown?: UnknownElement[];
}

/** Rank-table flag: the element may repeat. */
const REP = 0x40;
const RANK = 0x1f;

/** A content model as a rank table: `model(A, B, rep(C), rep([D, E]))` = `(A, B, C*, (D|E)*)`. */
export function model(...groups: (number | readonly number[] | { rep: number | readonly number[] })[]): Uint8Array {
  const t = new Uint8Array(0x300);
  groups.forEach((g, i) => {
    const repeat = typeof g === 'object' && 'rep' in g;
    const ids = repeat ? g.rep : g;
    for (const id of typeof ids === 'number' ? [ids] : ids) t[id] = (i + 1) | (repeat ? REP : 0);
  });
  return t;
}

/** Whether the child of rank `r` was seen, in a loop state returned by `step`. */
export function seen(st: number, r: number): boolean {
  return (st & (1 << (r + 4))) !== 0;
}

export function rep(ids: number | readonly number[]): { rep: number | readonly number[] } {
  return { rep: ids };
}

/** XML white space (space, tab, CR, LF). */
function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

/** `s` without leading/trailing XML white space. */
export function trimXml(s: string): string {
  let a = 0, b = s.length;
  while (a < b && isWs(s.charCodeAt(a))) a++;
  while (b > a && isWs(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

export function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isWs(s.charCodeAt(i))) return false;
  return true;
}

/** Digits only, at most 15 of them (exact in a double); -1 otherwise. */
export function parseUint(s: string): number {
  const n = s.length;
  if (n === 0 || n > 15) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

export class ParserCore {
  src: TokenSource;
  doc: Doc;
  readonly strict: boolean;
  private readonly pendingWarnings: PendingWarning[] = [];
  private seenNamespaces: Set<string> | undefined = undefined;

  constructor(src: TokenSource, doc: Doc, strict: boolean) {
    this.src = src;
    this.doc = doc;
    this.strict = strict;
    this.hookNamespaces(src);
  }

  /** Reports known names in foreign namespaces (`syncml:metinfo`): an error, or one warning per namespace. */
  hookNamespaces(src: TokenSource): void {
    if (src.encoding !== 'xml') return; // WBXML names come from code pages: no namespaces to check
    src.onForeignNamespace = (offset, ns, name) => {
      if (this.strict) {
        this.fail('UNKNOWN_ELEMENT', `<${name}> is in namespace '${ns}', which is not a SyncML namespace`, offset);
      }
      const seen = this.seenNamespaces ?? (this.seenNamespaces = new Set());
      if (!seen.has(ns)) {
        seen.add(ns);
        this.warn('UNKNOWN_NAMESPACE', `namespace '${ns}' is not a SyncML namespace; <${name}> (and others in it) read by name`, offset);
      }
    };
  }

  // --- errors and warnings ---------------------------------------------------------------------

  fail(code: SyncMLErrorCode, message: string, offset: number): never {
    throw this.error(code, message, offset);
  }

  error(code: SyncMLErrorCode, message: string, offset: number, cause?: unknown): SyncMLError {
    const doc = this.doc;
    const pos = doc.encoding === 'xml' && doc.parent === undefined ? this.src.position(offset) : undefined;
    return new SyncMLError(code, message, {
      path: pathAt(doc, offset), offset: doc.base + offset, line: pos?.line, column: pos?.column, cause,
    });
  }

  /** Wraps anything thrown by the layer below, with the path of where the source stopped. */
  wrap(e: unknown): SyncMLError {
    if (isSyncMLError(e)) return e;
    const doc = this.doc;
    const p = lowerError(e);
    const at = p.offset ?? this.src.offset;
    const pos = p.line === undefined && doc.encoding === 'xml' && doc.parent === undefined ? this.src.position(at) : p;
    return new SyncMLError(p.code, p.message, {
      path: pathAt(doc, at), offset: doc.base + at, line: pos?.line, column: pos?.column, cause: e,
    });
  }

  warn(code: SyncMLWarningCode, message: string, offset: number): void {
    this.pendingWarnings.push({ code, message, doc: this.doc, offset });
  }

  /** Strict: throw `code`. Tolerant: a warning (`warnCode`, default the same code). */
  issue(code: SyncMLErrorCode, message: string, offset: number, warnCode: SyncMLWarningCode = code): void {
    if (this.strict) this.fail(code, message, offset);
    this.warn(warnCode, message, offset);
  }

  /** The warnings so far, with their paths (one re-scan per document). */
  warnings(): SyncMLWarning[] {
    const list = this.pendingWarnings;
    if (list.length === 0) return [];
    const out: SyncMLWarning[] = new Array(list.length);
    const byDoc = new Map<Doc, number[]>();
    list.forEach((w, i) => {
      let a = byDoc.get(w.doc);
      if (!a) byDoc.set(w.doc, (a = []));
      a.push(i);
    });
    for (const [doc, idx] of byDoc) {
      const paths = pathsAt(doc, idx.map((i) => list[i].offset));
      idx.forEach((i, j) => { out[i] = { code: list[i].code, path: paths[j], message: list[i].message }; });
    }
    return out;
  }

  // --- the child loop --------------------------------------------------------------------------

  /**
   * Advances to the next child element of the current element: true at its START, false at the
   * current element's END. Text between children is checked (white space is ignored).
   */
  child(): boolean {
    const src = this.src;
    for (;;) {
      const k = src.next();
      if (k === S_START) return true;
      if (k === S_END) return false;
      if (k === S_TEXT && isBlank(src.text())) continue;
      this.issue('UNEXPECTED_ELEMENT', k === S_OPAQUE ? 'binary data is not allowed here' : `text '${clip(src.text())}' is not allowed here`, src.offset, 'IGNORED_CONTENT');
    }
  }

  /**
   * Checks the current child against the content model `t` of its parent. Returns the new
   * loop state, or -1 when the child was consumed (unexpected: kept in `holder.unknown`;
   * duplicate: skipped) and must not be handled. State: bits 0-4 the highest rank seen, bits
   * 5-30 the ranks seen.
   */
  step(t: Uint8Array, st: number, holder: Holder, parent: string): number {
    const src = this.src;
    const id = src.id;
    const v = id >= 0 ? t[id] : 0;
    if (v === 0) {
      this.unexpected(holder, parent);
      return -1;
    }
    const r = v & RANK;
    const bit = 1 << (r + 4);
    const last = st & RANK;
    if ((v & REP) === 0 && (st & bit) !== 0) {
      this.issue('DUPLICATE_ELEMENT', `<${src.name()}> appears twice in <${parent}>; the second is ignored`, src.offset);
      this.skip();
      return -1;
    }
    if (r < last) this.issue('ELEMENT_ORDER', `<${src.name()}> is out of DTD order in <${parent}>`, src.offset);
    if (src.hasAttributes) this.attributesOn();
    return ((st | bit) & ~RANK) | (r > last ? r : last);
  }

  /** The current child is not in the parent's content model. */
  unexpected(holder: Holder, parent: string): void {
    const src = this.src;
    const name = src.name();
    if (src.id < 0) this.issue('UNKNOWN_ELEMENT', `<${name}> is not a SyncML element (in <${parent}>); kept as unknown`, src.offset);
    else this.issue('UNEXPECTED_ELEMENT', `<${name}> is not allowed in <${parent}>; kept as unknown`, src.offset);
    (holder.unknown ??= []).push(this.capture());
  }

  attributesOn(): void {
    const src = this.src;
    const attrs = src.attributes();
    const names = attrs ? Object.keys(attrs).join("', '") : '';
    this.issue('UNEXPECTED_ELEMENT', `attribute '${names}' on <${src.name()}> is not defined by the DTD; ignored`, src.offset, 'IGNORED_ATTRIBUTE');
  }

  /** A required child is missing. */
  missing(name: string, parent: string, offset: number): void {
    this.issue('MISSING_ELEMENT', `<${parent}> has no <${name}>`, offset);
  }

  /** Skips the current START element and its subtree. */
  skip(): void {
    const src = this.src;
    let depth = 1;
    while (depth > 0) {
      const k = src.next();
      if (k === S_START) depth++;
      else if (k === S_END) depth--;
      else if (k !== S_TEXT && k !== S_OPAQUE) return;
    }
  }

  /** The current START element and its subtree as an UnknownElement. */
  capture(): UnknownElement {
    const src = this.src;
    const ns = src.namespace();
    const el: UnknownElement = {
      name: src.name(),
      namespace: src.id < 0 && namespaceClass(ns) === NS_FOREIGN ? ns : undefined,
      attributes: src.hasAttributes ? src.attributes() : undefined,
      children: [],
    };
    for (;;) {
      const k = src.next();
      if (k === S_END) return el;
      if (k === S_START) el.children.push(this.capture());
      else if (k === S_TEXT) el.children.push(src.text());
      else if (k === S_OPAQUE) {
        const b = src.opaqueView();
        el.children.push(utf8OrUndefined(b) ?? toBase64(b));
      } else return el;
    }
  }

  // --- leaves ----------------------------------------------------------------------------------

  /** Text content of the current START element (consumes it). */
  leaf(): string {
    const src = this.src;
    let k = src.next();
    if (k === S_END) return '';
    if (k === S_TEXT) {
      const s = src.text();
      k = src.next();
      if (k === S_END) return s;
      return this.leafSlow(s, k);
    }
    return this.leafSlow('', k);
  }

  private leafSlow(s: string, k: number): string {
    const src = this.src;
    for (;; k = src.next()) {
      if (k === S_END) return s;
      if (k === S_TEXT) s += src.text();
      else if (k === S_OPAQUE) s += this.opaqueText();
      else if (k === S_START) {
        this.issue('UNEXPECTED_ELEMENT', `<${src.name()}> is not allowed in a text element; ignored`, src.offset);
        this.skip();
      } else return s;
    }
  }

  /** OPAQUE where text is expected (libwbxml writes CDATA as OPAQUE): its UTF-8 text. */
  opaqueText(): string {
    const src = this.src;
    const b = src.opaqueView();
    const s = utf8OrUndefined(b);
    if (s !== undefined) return s;
    this.issue('BAD_ENCODING', 'binary data where text is expected; read as base64', src.offset, 'BAD_ENCODING');
    return toBase64(b);
  }

  /**
   * Text of an identifier, code, number, Type or Format element: padded values are an error
   * (strict) or trimmed with a warning.
   */
  ident(): string {
    const at = this.src.offset;
    const s = this.leaf();
    const n = s.length;
    if (n === 0 || (!isWs(s.charCodeAt(0)) && !isWs(s.charCodeAt(n - 1)))) return s;
    this.issue('BAD_VALUE', `value '${clip(s)}' has white space around it`, at, 'PADDED_VALUE');
    return trimXml(s);
  }

  /** A non-negative integer element; undefined (tolerant) when it is not one. */
  uint(name: string): number | undefined {
    const at = this.src.offset;
    const s = this.ident();
    const v = parseUint(s);
    if (v >= 0) return v;
    this.issue('BAD_VALUE', `<${name}> '${clip(s)}' is not a non-negative integer`, at);
    return undefined;
  }

  /** An EMPTY flag element (`<Final/>`); content is an error / ignored. */
  flag(): true {
    const src = this.src;
    const at = src.offset;
    if (src.empty) {
      src.next();
      return true;
    }
    const name = src.name();
    const s = this.leaf();
    if (s.length > 0 && !isBlank(s)) this.issue('BAD_VALUE', `<${name}> is an empty element but has content '${clip(s)}'; ignored`, at, 'IGNORED_CONTENT');
    return true;
  }
}

export function clip(s: string): string {
  return s.length > 40 ? s.slice(0, 37) + '...' : s;
}
