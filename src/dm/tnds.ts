/**
 * Tree and Description Serialization (OMA-TS-DM_TNDS-V1_2; DMTND 8.4; research note 4.4): a
 * subtree as a `MgmtTree` document, out (`Get ?list=TNDS`) and in (Add/Replace with the TNDS
 * MIME type).
 *
 * Decisions where the specification is silent or unclear to us:
 * - `?list=TNDS` without a property list returns Format, Type and Value (enough to rebuild the
 *   subtree; the DTD makes Type mandatory in RTProperties).
 * - TNDS is text, so byte values are written as base64 whatever the node's Format (`bin` stays
 *   `bin` in RTProperties), and on import a `bin` or `b64` Value is base64-decoded.
 * - Exporting the root `.` writes its children as top-level nodes with `Path` `.`.
 * - An import with `at` (the command's target URI) takes exactly one top-level node and creates
 *   or replaces the node at `at` with it (the hostap OSU client's reading); without `at`, each
 *   top-level node goes to `Path`/`NodeName`.
 */
import type { DdfFormat, DdfNode, MgmtTree, RtProperties } from '../syncml/ddf-types.js';
import { fromBase64, toBase64 } from './base64.js';
import { DmError } from './errors.js';
import type { ManagementTree, NodeInfo, NodeValue } from './tree.js';
import { encodeSegment } from './uri.js';

/** MIME type of TNDS in XML. @public */
export const TNDS_XML_TYPE = 'application/vnd.syncml.dmtnds+xml';
/** MIME type of TNDS in WBXML. @public */
export const TNDS_WBXML_TYPE = 'application/vnd.syncml.dmtnds+wbxml';

/** True for either TNDS MIME type. @public */
export function isTndsType(type: string | undefined): boolean {
  return type === TNDS_XML_TYPE || type === TNDS_WBXML_TYPE;
}

/** What `?list=TNDS+...` may name: the RTProperties plus `Value` (DMTND 8.4). @public */
export type TndsProperty = 'ACL' | 'Format' | 'Name' | 'Size' | 'Title' | 'TStamp' | 'Type' | 'VerNo' | 'Value';

/** Every {@link TndsProperty}. @public */
export const TNDS_PROPERTIES: readonly TndsProperty[] = Object.freeze(
  ['ACL', 'Format', 'Name', 'Size', 'Title', 'TStamp', 'Type', 'VerNo', 'Value'] as TndsProperty[]);

/** What a bare `?list=TNDS` returns. @public */
export const DEFAULT_TNDS_PROPERTIES: readonly TndsProperty[] = Object.freeze(['Format', 'Type', 'Value'] as TndsProperty[]);

/** A parsed `?list=` value. @public */
export type ListQuery =
  | { kind: 'Struct' }
  | { kind: 'StructData' }
  | { kind: 'TNDS'; props: ReadonlySet<TndsProperty> };

function unsupported(message: string): DmError {
  return new DmError('OPTIONAL_FEATURE_NOT_SUPPORTED', message);
}

/**
 * Parses `Struct`, `StructData`, `TNDS`, `TNDS+Value+ACL` (include list) or `TNDS-Format`
 * (exclude list). Throws 406 for anything else, including mixed `+`/`-` lists and unknown names.
 * @public
 */
export function parseListQuery(text: string): ListQuery {
  if (text === 'Struct' || text === 'StructData') return { kind: text };
  if (!text.startsWith('TNDS')) throw unsupported(`unsupported ?list=${text}`);
  const rest = text.slice(4);
  if (rest === '') return { kind: 'TNDS', props: new Set(DEFAULT_TNDS_PROPERTIES) };
  const sign = rest[0];
  if (sign !== '+' && sign !== '-') throw unsupported(`unsupported ?list=${text}`);
  const other = sign === '+' ? '-' : '+';
  if (rest.includes(other)) throw unsupported('a TNDS property list is either + or -, never both (DMTND 8.4)');
  const names = rest.slice(1).split(sign);
  for (const n of names) {
    if (!(TNDS_PROPERTIES as readonly string[]).includes(n)) throw unsupported(`unknown TNDS property ${JSON.stringify(n)}`);
  }
  const set = new Set(names as TndsProperty[]);
  return { kind: 'TNDS', props: sign === '+' ? set : new Set(TNDS_PROPERTIES.filter((p) => !set.has(p))) };
}

/** Options of {@link exportTnds}. @public */
export interface TndsExportOptions {
  /** Properties to write; default {@link DEFAULT_TNDS_PROPERTIES}. */
  props?: Iterable<TndsProperty>;
  /** Return false to leave a node and its subtree out (e.g. no Get right). */
  include?: (node: NodeInfo) => boolean;
  /** The value to write for a leaf: `undefined` = the tree's, `null` = none (e.g. AccessType lacks Get). */
  valueFor?: (node: NodeInfo) => NodeValue | null | undefined;
}

function parentOf(uri: string): string {
  const i = uri.lastIndexOf('/');
  return i <= 1 ? '.' : uri.slice(0, i);
}

function rtProperties(info: NodeInfo, props: ReadonlySet<TndsProperty>): RtProperties | undefined {
  const rt: RtProperties = {};
  let any = false;
  if (props.has('ACL') && info.acl !== '') { rt.acl = info.acl; any = true; }
  if (props.has('Format')) { rt.format = info.format; any = true; }
  if (props.has('Name')) { rt.name = info.name; any = true; }
  if (props.has('Size') && info.leaf) { rt.size = String(info.size); any = true; }
  if (props.has('Title') && info.title !== '') { rt.title = info.title; any = true; }
  if (props.has('TStamp')) { rt.tStamp = info.tStamp; any = true; }
  if (props.has('Type')) { rt.type = info.leaf ? { mime: info.type } : { ddfName: info.type }; any = true; }
  if (props.has('VerNo')) { rt.verNo = String(info.verNo); any = true; }
  return any ? rt : undefined;
}

/**
 * The subtree at `uri` as a TNDS `MgmtTree` (VerDTD 1.2): the top node carries `Path` (its
 * parent's URI), each node its `NodeName`, the selected RTProperties, and leaves their `Value`.
 * Throws 404 when the node does not exist.
 * @public
 */
export function exportTnds(tree: ManagementTree, uri: string, options: TndsExportOptions = {}): MgmtTree {
  const props: ReadonlySet<TndsProperty> = new Set(options.props ?? DEFAULT_TNDS_PROPERTIES);
  const top: DdfNode[] = [];
  const stack: DdfNode[] = [];
  let base = 0;
  tree.walk(uri, (info, depth) => {
    if (depth === 0 && info.uri === '.') {
      base = 1;
      return true;
    }
    if (options.include && !options.include(info)) return false;
    const node: DdfNode = { nodeName: info.name, children: [] };
    const level = depth - base;
    if (level === 0) node.path = parentOf(info.uri);
    const rt = rtProperties(info, props);
    if (rt) node.rtProperties = rt;
    if (info.leaf && props.has('Value')) {
      const v = options.valueFor?.(info);
      const value = v === undefined ? info.value! : v;
      if (value !== null) node.value = typeof value === 'string' ? value : toBase64(value);
    }
    if (level === 0) top.push(node);
    else stack[level - 1].children.push(node);
    stack[level] = node;
    return true;
  });
  return { kind: 'MgmtTree', verDTD: '1.2', nodes: top };
}

/** Options of {@link importTnds}. @public */
export interface TndsImportOptions {
  /** `add`: create (all or nothing, 418 if a node exists); `replace`: make the subtree equal to the document. */
  mode: 'add' | 'replace';
  /** Target URI of the command: the single top-level node becomes this node. */
  at?: string;
  /**
   * Called before each node is added, replaced or deleted (with `?prop=ACL` / `?prop=Title` for
   * property changes); throw a DmError to refuse (e.g. access policy, DDF AccessType).
   */
  check?: (command: 'Add' | 'Replace' | 'Delete', uri: string) => void;
  /** Passed to the top-level Add (DMTND 8.3.7.1 creator ACL exception). */
  creatorAcl?: string;
}

/** What {@link importTnds} changed, in order. @public */
export interface TndsImportReport {
  added: string[];
  replaced: string[];
  deleted: string[];
}

function badTnds(message: string): DmError {
  return new DmError('BAD_MESSAGE', `TNDS: ${message}`, { status: 400 });
}

function typeText(n: DdfNode): string | undefined {
  const t = n.rtProperties?.type ?? n.dfProperties?.dfType;
  if (!t) return undefined;
  return 'mime' in t ? t.mime : t.ddfName;
}

function explicitFormat(n: DdfNode): DdfFormat | undefined {
  const f = n.rtProperties?.format ?? n.dfProperties?.dfFormat;
  if (n.children.length > 0 && f !== undefined && f !== 'node') throw badTnds(`${n.nodeName} has children but Format ${f}`);
  return f ?? (n.children.length > 0 ? 'node' : undefined);
}

function decodeValue(n: DdfNode, format: string): NodeValue | undefined {
  if (n.value === undefined) return undefined;
  if (format !== 'bin' && format !== 'b64') return n.value;
  try {
    return fromBase64(n.value);
  } catch (e) {
    throw badTnds(`${n.nodeName}: binary Value is not base64`);
  }
}

function childUri(parent: string, name: string): string {
  if (name === '') throw badTnds(`a node under ${parent} has no NodeName`);
  return (parent === '.' ? '.' : parent) + '/' + encodeSegment(name);
}

/**
 * Imports a TNDS document into the tree. All or nothing: on any error the tree is restored
 * (snapshot) and the error rethrown. Errors: 400 (no single top node with `at`, a top node with
 * neither `at` nor `Path`, a nameless node, bad base64), plus those of Add/Replace/Delete and of
 * `check` (418, 405, 404, 415, 420, 425...).
 * @public
 */
export function importTnds(tree: ManagementTree, doc: MgmtTree, options: TndsImportOptions): TndsImportReport {
  const report: TndsImportReport = { added: [], replaced: [], deleted: [] };
  const check = options.check ?? (() => undefined);
  const places: [string, DdfNode][] = [];
  if (options.at !== undefined) {
    if (doc.nodes.length !== 1) throw badTnds(`expected one top-level node, got ${doc.nodes.length}`);
    places.push([tree.resolve(options.at).path, doc.nodes[0]]);
  } else {
    for (const n of doc.nodes) {
      if (n.path === undefined) throw badTnds(`top-level node ${n.nodeName} has no Path`);
      places.push([childUri(tree.resolve(n.path).path, n.nodeName), n]);
    }
  }

  const addNode = (uri: string, n: DdfNode, top: boolean): void => {
    const format = explicitFormat(n) ?? tree.constraintsFor(uri)?.format ?? 'chr';
    check('Add', uri);
    const acl = n.rtProperties?.acl;
    report.added.push(...tree.add(uri, {
      format, type: typeText(n), value: decodeValue(n, format), acl: acl || undefined, title: n.rtProperties?.title,
    }, { implicitParents: top, creatorAcl: top ? options.creatorAcl : undefined }));
    for (const c of n.children) addNode(childUri(uri, c.nodeName), c, false);
  };

  const syncNode = (uri: string, n: DdfNode): void => {
    const info = tree.info(uri);
    if (!info) {
      addNode(uri, n, true);
      return;
    }
    const given = explicitFormat(n);
    const interior = given === 'node';
    if (given !== undefined && info.leaf === interior) {
      check('Delete', uri);
      tree.delete(uri);
      report.deleted.push(uri);
      addNode(uri, n, true);
      return;
    }
    if (info.leaf) {
      const format = given ?? info.format;
      const value = decodeValue(n, format);
      const type = typeText(n);
      if (value !== undefined || (given !== undefined && given !== info.format) || (type !== undefined && type !== info.type)) {
        check('Replace', uri);
        tree.replace(uri, { format: given, type, value: value ?? info.value! });
        report.replaced.push(uri);
      }
    }
    const acl = n.rtProperties?.acl;
    if (acl !== undefined && acl !== info.acl) {
      check('Replace', `${uri}?prop=ACL`);
      tree.replace(`${uri}?prop=ACL`, { value: acl });
    }
    const title = n.rtProperties?.title;
    if (title !== undefined && title !== info.title) {
      check('Replace', `${uri}?prop=Title`);
      tree.replace(`${uri}?prop=Title`, { value: title });
    }
    if (!info.leaf) {
      const wanted = new Set(n.children.map((c) => c.nodeName));
      for (const name of info.children!) {
        if (wanted.has(name)) continue;
        const u = childUri(uri, name);
        check('Delete', u);
        tree.delete(u);
        report.deleted.push(u);
      }
      for (const c of n.children) syncNode(childUri(uri, c.nodeName), c);
    }
  };

  const snap = tree.snapshot();
  try {
    for (const [uri, n] of places) {
      if (options.mode === 'add') addNode(uri, n, true);
      else {
        if (!tree.exists(uri) && options.at !== undefined) throw new DmError('NOT_FOUND', `no node ${uri}`);
        syncNode(uri, n);
      }
    }
  } catch (e) {
    tree.restore(snap);
    throw e;
  }
  return report;
}
