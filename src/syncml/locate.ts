/**
 * Element paths (`SyncBody/Replace[2]/Item[1]/Target`) for errors and warnings. The parser keeps
 * no path stack while it runs: a path is computed only when needed, by scanning the document
 * again up to the byte offset of the problem (one scan for all the warnings of a document).
 */
import { S_END, S_EOF, S_START, WbxmlSource, XmlSource, type SourceOptions, type TokenSource } from './source.js';

/** A document being parsed: the message, or a document nested in one of its OPAQUE `Data`. */
export interface Doc {
  bytes: Uint8Array;
  encoding: 'wbxml' | 'xml';
  options: SourceOptions;
  /** The document this one is nested in, and the offset of the carrying element there. */
  parent: Doc | undefined;
  parentOffset: number;
  /** Offset of this document's first byte in the outermost input. */
  base: number;
}

/** Elements that repeat in their content model: their path segment always shows an index. */
const REPEATABLE = new Set([
  'Add', 'Alert', 'Atomic', 'Copy', 'Delete', 'Exec', 'Get', 'Map', 'Put', 'Replace', 'Results',
  'Search', 'Sequence', 'Status', 'Sync', 'Move', 'Item', 'MapItem', 'TargetRef', 'SourceRef', 'EMI',
  'DataStore', 'CTCap', 'Property', 'PropParam', 'ValEnum', 'Rx', 'Tx', 'Ext', 'XVal', 'SyncType',
  'Filter-Rx', 'FilterCap', 'FilterKeyword', 'PropName', 'ParamName', 'Node', 'MIME',
]);

export function sourceFor(doc: Doc): TokenSource {
  const opts: SourceOptions = { ...doc.options, strict: false };
  return doc.encoding === 'wbxml' ? new WbxmlSource(doc.bytes, opts) : new XmlSource(doc.bytes, opts);
}

/**
 * The paths of the elements at `offsets` (the START offset of an element, or an offset inside
 * one). The outermost root is left out unless it is the whole path.
 */
export function pathsIn(doc: Doc, offsets: readonly number[]): string[] {
  const order = offsets.map((o, i) => [o, i] as const).sort((a, b) => a[0] - b[0]);
  const out: string[] = new Array(offsets.length).fill('');
  const labels: string[] = [];
  const counts: Map<string, number>[] = [new Map()];
  let ti = 0;
  const omitRoot = doc.parent === undefined;
  const record = (): void => {
    const parts = omitRoot && labels.length > 1 ? labels.slice(1) : labels;
    out[order[ti][1]] = parts.join('/');
    ti++;
  };
  try {
    const src = sourceFor(doc);
    for (let k = src.next(); k !== S_EOF && ti < order.length; k = src.next()) {
      const off = src.offset;
      if (k === S_START) {
        while (ti < order.length && order[ti][0] < off) record();
        if (ti >= order.length) break;
        const name = src.name();
        const d = labels.length;
        const m = counts[d] ?? (counts[d] = new Map());
        const n = (m.get(name) ?? 0) + 1;
        m.set(name, n);
        labels.push(n > 1 || REPEATABLE.has(name) ? `${name}[${n}]` : name);
        counts[d + 1] = new Map();
        while (ti < order.length && order[ti][0] === off) record();
      } else if (k === S_END) {
        while (ti < order.length && order[ti][0] < off) record();
        labels.pop();
      }
    }
  } catch {
    // The document is broken further on: the path so far is the answer.
  }
  while (ti < order.length) record();
  return out;
}

/** The full path of an offset, through the documents `doc` is nested in. */
export function pathAt(doc: Doc, offset: number): string {
  const own = pathsIn(doc, [offset])[0];
  if (doc.parent === undefined) return own;
  const outer = pathAt(doc.parent, doc.parentOffset);
  return outer && own ? `${outer}/${own}` : outer || own;
}

/** Paths of many offsets in one document (and its parents). */
export function pathsAt(doc: Doc, offsets: readonly number[]): string[] {
  const own = pathsIn(doc, offsets);
  if (doc.parent === undefined) return own;
  const outer = pathAt(doc.parent, doc.parentOffset);
  return own.map((p) => (outer && p ? `${outer}/${p}` : outer || p));
}
