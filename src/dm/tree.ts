/**
 * The management tree (DMTND 7-8; research note 4): interior and leaf nodes, their run-time
 * properties, DDF constraints, URI addressing with `?prop=` and `?list=`, snapshots for Atomic
 * rollback and JSON persistence.
 *
 * This is the device's store, not its gatekeeper: access control (ACLs, roles) and DDF AccessType
 * are applied by the configuration manager before it calls in here. What the tree enforces is its
 * own consistency: node kinds, existence, permanence, property rules, URI limits, DDF structure
 * (which children a node may have, Occurrence, CaseSense, DFFormat).
 *
 * Names: a URI segment is percent-decoded (`decodeSegment`) into the node name, so `./A%20B` and
 * `./A B` address the same node; canonical URIs written by the tree (walk, `?list=`, Get of an
 * interior node) re-encode each name with `encodeSegment`, as Windows does (research note 9.16).
 */
import type { DdfAccess, DdfFormat, DdfOccurrence, MgmtTree } from '../syncml/ddf-types.js';
import { formatAcl, parseAcl } from './acl.js';
import { fromBase64, toBase64 } from './base64.js';
import { DmError, isDmError } from './errors.js';
import { exportTnds, parseListQuery } from './tnds.js';
import { decodeSegment, encodeSegment, parseUri, type UriLimits } from './uri.js';

/** A leaf value: text, or bytes for `bin`/`b64` nodes. @public */
export type NodeValue = string | Uint8Array;

/** Permanent nodes are created by the device and cannot be deleted or renamed (DMTND 7.x Scope). @public */
export type NodeScope = 'permanent' | 'dynamic';

/** Run-time properties a node has (DMTND 8.3). @public */
export type NodeProperty = 'ACL' | 'Format' | 'Name' | 'Size' | 'Title' | 'TStamp' | 'Type' | 'VerNo';

/** Every property this tree supports, in DMTND order. @public */
export const NODE_PROPERTIES: readonly NodeProperty[] = Object.freeze(
  ['ACL', 'Format', 'Name', 'Size', 'Title', 'TStamp', 'Type', 'VerNo'] as NodeProperty[]);

/** All DFFormat / Format values (DMTND 8.5). @public */
export const DDF_FORMATS: readonly DdfFormat[] = Object.freeze(
  ['b64', 'bin', 'bool', 'chr', 'int', 'node', 'null', 'xml', 'date', 'time', 'float'] as DdfFormat[]);

/** Root ACL a new tree starts with: DMTND 8.3.7.1 "SHOULD be Add=*&Get=*". @public */
export const DEFAULT_ROOT_ACL = 'Add=*&Get=*';

/** Longest Title in UTF-8 bytes (DMTND 8.3 Title). */
const MAX_TITLE_BYTES = 255;

/**
 * What a DDF says about a node (DMTND 8.5 DFProperties), kept by the tree to constrain nodes
 * created at run time.
 * @public
 */
export interface NodeConstraints {
  /** Commands the node supports; the configuration manager refuses others with 405. */
  accessType?: readonly DdfAccess[];
  /** DFFormat: Add/Replace with another format fail with 415 (`bin` and `b64` count as one). */
  format?: DdfFormat;
  /** DFType as a string: a MIME type (leaf) or DDF name / MO identifier (interior). */
  type?: string;
  /** Occurrence: for placeholder children, Add beyond the maximum fails with 420. */
  occurrence?: DdfOccurrence;
  /** Scope declared by the DDF. */
  scope?: 'Permanent' | 'Dynamic';
  /** `CIS`: the node's name matches case-insensitively (a lookup and a clash check). */
  caseSense?: 'CS' | 'CIS';
  defaultValue?: string;
  description?: string;
  /** DFTitle. */
  title?: string;
}

/**
 * A DDF node definition in the tree's own terms (`ddf-tree.ts` translates `MgmtTree` to this).
 * @public
 */
export interface NodeDefinition {
  /** Node name; `''` for a placeholder (`<x>`): the name is given when the node is added. */
  name: string;
  constraints: NodeConstraints;
  children: NodeDefinition[];
  /** Create this (named) node when the definition is applied; default true. */
  create?: boolean;
  /** Scope of the created node; default `permanent`. */
  scope?: NodeScope;
  /** Initial value of a created leaf (default `constraints.defaultValue`, else empty). */
  value?: string;
  /** ACL of the created node (default empty = inherit). */
  acl?: string;
  /** Title of the created node. */
  title?: string;
  /** Type of the created node (default `constraints.type`). */
  type?: string;
}

/** A read-only view of one node. @public */
export interface NodeInfo {
  /** Canonical URI (`.` or `./A/B`, names percent-encoded where needed). */
  uri: string;
  /** Node name (decoded); `.` for the root. */
  name: string;
  leaf: boolean;
  format: DdfFormat;
  type: string;
  /** The node's own ACL text (`''` = inherits). */
  acl: string;
  title: string;
  tStamp: string;
  verNo: number;
  scope: NodeScope;
  /** Leaves only: bytes of the decoded value (DMTND 8.3 Size). */
  size?: number;
  /** Leaves only: a copy of the value. */
  value?: NodeValue;
  /** Interior only: child names in insertion order (decoded). */
  children?: string[];
  /** DDF constraints when the node was declared by, or created under, a DDF. */
  constraints?: NodeConstraints;
}

/** Data for {@link ManagementTree.add}. @public */
export interface AddData {
  /** Meta/Format; `node` creates an interior node. Default: the DDF's DFFormat, else `chr`. */
  format?: string;
  /** Meta/Type: MIME type (leaf) or MO identifier (interior). Default: the DDF's, else `text/plain` / `''`. */
  type?: string;
  /** Leaf value; ignored for interior nodes. `b64` text is decoded to bytes. */
  value?: NodeValue;
  /** ACL text for the new node (default `''`, inherit). */
  acl?: string;
  title?: string;
  /** Default `dynamic`. */
  scope?: NodeScope;
}

/** Options of {@link ManagementTree.add}. @public */
export interface AddOptions {
  /** Create missing ancestors as interior nodes ("Implicit Add", DMTND 8.2); default true. */
  implicitParents?: boolean;
  /**
   * ACL for the first interior node this Add creates (the topmost implicit parent, or the target
   * itself when its parent exists and it is interior). The configuration manager sets it for the
   * DMTND 8.3.7.1 exception: a server lacking Replace on the parent gets Add/Delete/Replace on
   * the interior node it creates. An explicit `AddData.acl` wins for the target.
   */
  creatorAcl?: string;
}

/** Data for {@link ManagementTree.replace}. @public */
export interface ReplaceData {
  /** New Format; default keeps the node's. */
  format?: string;
  /** New Type; default keeps the node's. */
  type?: string;
  value: NodeValue;
}

/** One node of a `?list=Struct|StructData` answer. @public */
export interface ListItem {
  uri: string;
  format: DdfFormat;
  type: string;
  /** StructData only, leaves only. */
  value?: NodeValue;
}

/** What {@link ManagementTree.get} answers. @public */
export type GetResult =
  | { kind: 'value'; uri: string; format: DdfFormat | 'chr'; type: string; value: NodeValue }
  | { kind: 'list'; uri: string; items: ListItem[] }
  | { kind: 'tnds'; uri: string; tree: MgmtTree };

/** A URI resolved by {@link ManagementTree.resolve}. @public */
export interface ResolvedUri {
  /** Canonical path: `.` or `./` + encoded names. */
  path: string;
  /** Decoded node names below the root. */
  names: string[];
  /** `?prop=` value, if any. */
  prop?: string;
  /** `?list=` value, if any. */
  list?: string;
}

/** Options of {@link ManagementTree}. @public */
export interface TreeOptions {
  /** Clock for TStamp; default `() => new Date()`. */
  clock?: () => Date;
  /** URI limits (414 beyond them), e.g. from `./DevDetail/URI/*`. */
  limits?: UriLimits;
  /** ACL of the root; default {@link DEFAULT_ROOT_ACL}. */
  rootAcl?: string;
}

/** An opaque copy of the tree for {@link ManagementTree.restore}. @public */
export interface TreeSnapshot {
  readonly __treeSnapshot: true;
}

/** One node in {@link TreeJson}. @public */
export interface NodeJson {
  name: string;
  format: DdfFormat;
  type: string;
  acl?: string;
  title?: string;
  tStamp: string;
  verNo: number;
  scope: NodeScope;
  /** Index into `TreeJson.defs`. */
  def?: number;
  /** Text value. */
  value?: string;
  /** Byte value, base64. */
  valueBase64?: string;
  /** Present (maybe empty) on interior nodes. */
  children?: NodeJson[];
}

/** One DDF definition in {@link TreeJson}. @public */
export interface DefJson {
  constraints: NodeConstraints;
  named: Record<string, number>;
  placeholder?: number;
}

/** The persisted form of a tree ({@link ManagementTree.toJSON}). @public */
export interface TreeJson {
  format: 'syncml-dm/tree';
  version: 1;
  limits?: UriLimits;
  defs: DefJson[];
  root: NodeJson;
}

// ---------------------------------------------------------------------------------------------

/** A copy of DDF constraints for {@link TreeJson} (their only nested parts: AccessType, Occurrence). */
function copyConstraints(c: NodeConstraints): NodeConstraints {
  const out: NodeConstraints = {};
  for (const [k, v] of Object.entries(c) as [keyof NodeConstraints, unknown][]) {
    if (v === undefined) continue;
    (out as Record<string, unknown>)[k] = Array.isArray(v) ? [...v] : v !== null && typeof v === 'object' ? { ...v } : v;
  }
  return out;
}

interface TreeNode {
  name: string;
  /** Interior nodes have a map (insertion order = child order); leaves have null. */
  children: Map<string, TreeNode> | null;
  value: NodeValue;
  format: DdfFormat;
  type: string;
  acl: string;
  title: string;
  tStamp: string;
  verNo: number;
  scope: NodeScope;
  /** Index into `defs`, or -1. */
  def: number;
}

interface Def {
  c: NodeConstraints;
  named: Map<string, number>;
  placeholder: number;
}

interface SnapshotImpl extends TreeSnapshot {
  root: TreeNode;
  defs: number;
  limits: UriLimits;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

function byteLength(v: NodeValue): number {
  return typeof v === 'string' ? utf8.encode(v).length : v.length;
}

function isBinary(f: string): boolean {
  return f === 'bin' || f === 'b64';
}

/** Formats equal for DDF checks: `b64` is how `bin` travels over XML (DMREPPRO). */
function sameFormat(a: string, b: string): boolean {
  return a === b || (isBinary(a) && isBinary(b));
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** ISO 8601 basic UTC, e.g. `20010711T163817Z` (DMTND 8.3 TStamp). @public */
export function formatTStamp(d: Date): string {
  return `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T`
    + `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
}

function notFound(path: string): DmError {
  return new DmError('NOT_FOUND', `no node ${path}`);
}

function notAllowed(message: string): DmError {
  return new DmError('COMMAND_NOT_ALLOWED', message);
}

function cloneNode(n: TreeNode): TreeNode {
  const copy: TreeNode = { ...n };
  if (n.children) {
    const m = new Map<string, TreeNode>();
    for (const [k, c] of n.children) m.set(k, cloneNode(c));
    copy.children = m;
  }
  // Values are never mutated in place (copied on the way in and out), so they can be shared.
  return copy;
}

function canonicalAcl(text: string): string {
  return formatAcl(parseAcl(text));
}

function checkFormat(format: string): DdfFormat {
  if (!(DDF_FORMATS as readonly string[]).includes(format)) {
    throw new DmError('UNSUPPORTED_MEDIA_TYPE', `unsupported Format ${JSON.stringify(format)}`);
  }
  return format as DdfFormat;
}

function checkTitle(title: string): string {
  if (utf8.encode(title).length > MAX_TITLE_BYTES) {
    throw new DmError('ENTITY_TOO_LARGE', `Title longer than ${MAX_TITLE_BYTES} bytes`);
  }
  return title;
}

/** A value in the representation its format wants: bytes for bin/b64, text otherwise. */
function normalizeValue(format: DdfFormat, value: NodeValue | undefined): NodeValue {
  if (isBinary(format)) {
    if (value === undefined) return new Uint8Array(0);
    if (typeof value !== 'string') return value.slice();
    if (format === 'bin') return utf8.encode(value);
    try {
      return fromBase64(value);
    } catch (e) {
      throw new DmError('BAD_BASE64', 'b64 value is not base64', { status: 400, cause: e });
    }
  }
  if (value === undefined) return '';
  return typeof value === 'string' ? value : utf8Decoder.decode(value);
}

function copyValue(v: NodeValue): NodeValue {
  return typeof v === 'string' ? v : v.slice();
}

function maxOccurrence(o: DdfOccurrence | undefined): number {
  if (!o) return 1; // DMTND: One is the default
  switch (o.kind) {
    case 'One': case 'ZeroOrOne': return 1;
    case 'ZeroOrN': case 'OneOrN': return o.n;
    default: return Infinity;
  }
}

function validName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/')) {
    throw new DmError('BAD_URI', `${JSON.stringify(name)} cannot be a node name`, { status: 400 });
  }
}

interface AddPlan {
  parent: TreeNode;
  /** Names to create below `parent`, the last one being the target. */
  names: string[];
  /** Def ids per created node. */
  defs: number[];
  /** Canonical URIs per created node. */
  uris: string[];
  target: TreeNode;
  creatorAcl?: string;
}

/**
 * The management tree. Every failing method throws a {@link DmError} whose `status` is the
 * SyncML status to answer with; each method's comment lists them.
 *
 * @example
 * ```ts
 * const tree = new ManagementTree({ clock: () => new Date('2024-01-01T00:00:00Z') });
 * tree.add('./Vendor/App/Enabled', { format: 'bool', value: 'true' });
 * tree.get('./Vendor/App');            // { kind: 'value', format: 'node', value: 'Enabled', ... }
 * tree.get('./Vendor/App/Enabled?prop=TStamp').value; // '20240101T000000Z'
 * ```
 * @public
 */
export class ManagementTree {
  private root: TreeNode;
  private defs: Def[] = [];
  private hasCis = false;
  private limits: UriLimits;
  private readonly clock: () => Date;

  constructor({ clock = () => new Date(), limits = {}, rootAcl = DEFAULT_ROOT_ACL }: TreeOptions = {}) {
    this.clock = clock;
    this.limits = { ...limits };
    this.root = this.newNode('', true, 'node', '', canonicalAcl(rootAcl), 'permanent', -1);
  }

  // ---- addressing -----------------------------------------------------------------------------

  /** Current URI limits (a copy). */
  get uriLimits(): UriLimits {
    return { ...this.limits };
  }

  /** Sets the URI limits (e.g. after `./DevDetail/URI/*` changed); 0 or absent = unlimited. */
  setUriLimits(limits: UriLimits): void {
    this.limits = { ...limits };
  }

  /**
   * Validates a URI and gives its canonical path, decoded names and query.
   * Throws 400 (BAD_URI: syntax, undecodable escapes), 406 (a query other than prop/list),
   * 414 (beyond the URI limits).
   */
  resolve(uri: string, limits: UriLimits = this.limits): ResolvedUri {
    const p = parseUri(uri, limits);
    const names = p.segments.map(decodeSegment);
    for (const n of names) validName(n);
    const path = names.length === 0 ? '.' : './' + names.map(encodeSegment).join('/');
    const out: ResolvedUri = { path, names };
    if (p.query?.prop !== undefined) out.prop = p.query.prop;
    if (p.query?.list !== undefined) out.list = p.query.list;
    return out;
  }

  private uriOf(names: readonly string[]): string {
    return names.length === 0 ? '.' : './' + names.map(encodeSegment).join('/');
  }

  private child(parent: TreeNode, name: string): TreeNode | undefined {
    const children = parent.children;
    if (!children) return undefined;
    const exact = children.get(name);
    if (exact || !this.hasCis) return exact;
    const lower = name.toLowerCase();
    for (const [k, n] of children) {
      if (n.def >= 0 && this.defs[n.def].c.caseSense === 'CIS' && k.toLowerCase() === lower) return n;
    }
    return undefined;
  }

  /** Nodes along `names` from the root, as far as they exist (index 0 = root). */
  private chain(names: readonly string[]): TreeNode[] {
    const out = [this.root];
    let n: TreeNode | undefined = this.root;
    for (const name of names) {
      n = this.child(n, name);
      if (!n) break;
      out.push(n);
    }
    return out;
  }

  private find(names: readonly string[]): TreeNode | undefined {
    const c = this.chain(names);
    return c.length === names.length + 1 ? c[c.length - 1] : undefined;
  }

  private findOrThrow(r: ResolvedUri): TreeNode {
    const n = this.find(r.names);
    if (!n) throw notFound(r.path);
    return n;
  }

  private newNode(name: string, interior: boolean, format: DdfFormat, type: string, acl: string,
    scope: NodeScope, def: number, value: NodeValue = ''): TreeNode {
    return {
      name, children: interior ? new Map() : null, value: interior ? '' : value, format, type, acl,
      title: '', tStamp: formatTStamp(this.clock()), verNo: 0, scope, def,
    };
  }

  /** Records a change: VerNo +1 (uint16, wraps FFFF -> 0) and TStamp now (DMTND 8.3). */
  private touch(n: TreeNode): void {
    n.verNo = (n.verNo + 1) & 0xffff;
    n.tStamp = formatTStamp(this.clock());
  }

  // ---- reading --------------------------------------------------------------------------------

  /** True when the node exists (query ignored). Throws only for a malformed URI (400/414). */
  exists(uri: string): boolean {
    return this.find(this.resolve(uri).names) !== undefined;
  }

  /** A read-only view of the node, or undefined. Throws only for a malformed URI (400/414). */
  info(uri: string): NodeInfo | undefined {
    const r = this.resolve(uri);
    const n = this.find(r.names);
    return n ? this.infoOf(n, r.path) : undefined;
  }

  private infoOf(n: TreeNode, uri: string): NodeInfo {
    const info: NodeInfo = {
      uri, name: n === this.root ? '.' : n.name, leaf: n.children === null, format: n.format, type: n.type,
      acl: n.acl, title: n.title, tStamp: n.tStamp, verNo: n.verNo, scope: n.scope,
    };
    if (n.children) info.children = [...n.children.keys()];
    else {
      info.size = byteLength(n.value);
      info.value = copyValue(n.value);
    }
    if (n.def >= 0) info.constraints = this.defs[n.def].c;
    return info;
  }

  /**
   * The ACL that governs the node: its own when not empty, else the nearest ancestor's with a
   * value (whole-ACL inheritance, DMTND 8.3.7.1). For a node that does not exist, the ACL the new
   * node would inherit: the nearest existing ancestor's effective ACL. The root always has one.
   */
  effectiveAcl(uri: string): string {
    const c = this.chain(this.resolve(uri).names);
    for (let i = c.length - 1; i >= 0; i--) if (c[i].acl !== '') return c[i].acl;
    return '';
  }

  /** URI of the deepest existing node on the path (the node itself when it exists). */
  nearestExisting(uri: string): string {
    const r = this.resolve(uri);
    return this.uriOf(r.names.slice(0, this.chain(r.names).length - 1));
  }

  /**
   * DDF constraints of the node, or of the definition a node at this URI would get if added now
   * (placeholder or named definition of its parent). Undefined when no DDF covers it.
   */
  constraintsFor(uri: string): NodeConstraints | undefined {
    const r = this.resolve(uri);
    const c = this.chain(r.names);
    if (c.length === r.names.length + 1) {
      const d = c[c.length - 1].def;
      return d >= 0 ? this.defs[d].c : undefined;
    }
    // Follow the definitions below the nearest existing node.
    let def = c[c.length - 1].def;
    for (let i = c.length - 1; i < r.names.length; i++) {
      if (def < 0) return undefined;
      const next = this.childDef(def, r.names[i]);
      if (next === 'refuse' || next < 0) return undefined;
      def = next;
    }
    return def >= 0 ? this.defs[def].c : undefined;
  }

  /**
   * The DDF definition of an existing node and what it declares below it (for `describeTree`).
   * Undefined when the node has no definition.
   */
  definitionOf(uri: string): NodeDefinition | undefined {
    const n = this.find(this.resolve(uri).names);
    if (!n || n.def < 0) return undefined;
    return this.defToDefinition(n.def, n === this.root ? '.' : n.name);
  }

  private defToDefinition(id: number, name: string): NodeDefinition {
    const d = this.defs[id];
    const children: NodeDefinition[] = [];
    for (const [k, c] of d.named) children.push(this.defToDefinition(c, k));
    if (d.placeholder >= 0) children.push(this.defToDefinition(d.placeholder, ''));
    return { name, constraints: d.c, children, create: false };
  }

  /** True when an existing node was created from a placeholder (`<x>`) definition of its parent. */
  isPlaceholderInstance(uri: string): boolean {
    const r = this.resolve(uri);
    const c = this.chain(r.names);
    if (c.length !== r.names.length + 1 || c.length < 2) return false;
    const parent = c[c.length - 2];
    const node = c[c.length - 1];
    return parent.def >= 0 && node.def >= 0 && this.defs[parent.def].placeholder === node.def
      && this.defs[parent.def].named.get(node.name) === undefined;
  }

  /**
   * Visits the node at `uri` and its descendants, parents before children, children in
   * insertion order. `visit` returning `false` skips that node's subtree. `depth` is 0 for the
   * start node. Throws 404 when the start node does not exist, 400/414 for a bad URI.
   */
  walk(uri: string, visit: (node: NodeInfo, depth: number) => boolean | void): void {
    const r = this.resolve(uri);
    const start = this.findOrThrow(r);
    const go = (n: TreeNode, path: string, depth: number): void => {
      if (visit(this.infoOf(n, path), depth) === false || !n.children) return;
      for (const [name, c] of n.children) go(c, (path === '.' ? '.' : path) + '/' + encodeSegment(name), depth + 1);
    };
    go(start, r.path, 0);
  }

  /**
   * Get (DMREPPRO 4.1.6 Get, DMTND 8.3-8.4):
   * - leaf: its value, Format and Type;
   * - interior: child names (URI-encoded) joined by `/`, Format `node`, `''` when childless;
   * - `?prop=Name`: the property as text (Format `chr`); `?prop=ACL` is the node's own ACL, `''`
   *   when it inherits;
   * - `?list=Struct|StructData|TNDS[+Prop...|-Prop...]` (see `tnds.ts` for the TNDS defaults).
   *
   * Throws 404 (no node), 406 (unsupported property, Size of an interior node, unsupported
   * `?list=` variant), 400/414 (bad URI).
   */
  get(uri: string): GetResult {
    const r = this.resolve(uri);
    const n = this.findOrThrow(r);
    if (r.prop !== undefined) {
      return { kind: 'value', uri: `${r.path}?prop=${r.prop}`, format: 'chr', type: 'text/plain', value: this.property(n, r.prop) };
    }
    if (r.list !== undefined) {
      const q = parseListQuery(r.list);
      if (q.kind === 'TNDS') return { kind: 'tnds', uri: r.path, tree: exportTnds(this, r.path, { props: q.props }) };
      const items: ListItem[] = [];
      this.walk(r.path, (info) => {
        const item: ListItem = { uri: info.uri, format: info.format, type: info.type };
        if (q.kind === 'StructData' && info.leaf) item.value = info.value!;
        items.push(item);
      });
      return { kind: 'list', uri: r.path, items };
    }
    if (n.children) {
      return { kind: 'value', uri: r.path, format: 'node', type: n.type, value: [...n.children.keys()].map(encodeSegment).join('/') };
    }
    return { kind: 'value', uri: r.path, format: n.format, type: n.type, value: copyValue(n.value) };
  }

  private property(n: TreeNode, prop: string): string {
    switch (prop) {
      case 'ACL': return n.acl;
      case 'Format': return n.format;
      case 'Name': return n === this.root ? '.' : n.name;
      case 'Size':
        // DMTND 8.3: Size MUST NOT be supported on interior nodes.
        if (n.children) throw new DmError('OPTIONAL_FEATURE_NOT_SUPPORTED', 'Size is not a property of interior nodes');
        return String(byteLength(n.value));
      case 'Title': return n.title;
      case 'TStamp': return n.tStamp;
      case 'Type': return n.type;
      case 'VerNo': return String(n.verNo);
      default:
        throw new DmError('OPTIONAL_FEATURE_NOT_SUPPORTED', `unsupported property ${JSON.stringify(prop)}`);
    }
  }

  // ---- DDF definitions ------------------------------------------------------------------------

  /** Definition id for a child `name` of a node defined by `parentDef`; 'refuse' when the DDF declares other children only. */
  private childDef(parentDef: number, name: string): number | 'refuse' {
    if (parentDef < 0) return -1;
    const d = this.defs[parentDef];
    const exact = d.named.get(name);
    if (exact !== undefined) return exact;
    if (this.hasCis) {
      const lower = name.toLowerCase();
      for (const [k, id] of d.named) if (this.defs[id].c.caseSense === 'CIS' && k.toLowerCase() === lower) return id;
    }
    if (d.placeholder >= 0) return d.placeholder;
    return d.named.size > 0 ? 'refuse' : -1;
  }

  private registerDef(def: NodeDefinition): number {
    const named = new Map<string, number>();
    let placeholder = -1;
    for (const c of def.children) {
      const id = this.registerDef(c);
      if (c.name === '') placeholder = id;
      else named.set(c.name, id);
    }
    if (def.constraints.caseSense === 'CIS') this.hasCis = true;
    this.defs.push({ c: Object.freeze({ ...def.constraints }), named, placeholder });
    return this.defs.length - 1;
  }

  /**
   * Declares DDF definitions below `parentUri` (device-side, no access checks): named
   * definitions create their node (permanent unless `scope` says otherwise) with `create !==
   * false`, or attach the definition to an existing node; placeholders only constrain children
   * added later. Missing ancestors of `parentUri` are created as permanent interior nodes.
   * Throws 405 when an existing node's kind (leaf/interior) contradicts the definition, 400/414
   * for bad names, 415 for an unknown format.
   */
  define(parentUri: string, definitions: readonly NodeDefinition[]): void {
    const r = this.resolve(parentUri);
    if (r.prop !== undefined || r.list !== undefined) throw notAllowed('definitions cannot be applied to a property or list');
    let parent = this.root;
    for (let i = 0; i < r.names.length; i++) {
      let next = this.child(parent, r.names[i]);
      if (!next) {
        if (!parent.children) throw notAllowed(`${this.uriOf(r.names.slice(0, i))} is a leaf`);
        next = this.newNode(r.names[i], true, 'node', '', '', 'permanent', -1);
        parent.children.set(r.names[i], next);
        this.touch(parent);
      }
      parent = next;
    }
    if (!parent.children) throw notAllowed(`${r.path} is a leaf`);
    for (const d of definitions) this.applyDefinition(parent, r.names, d);
  }

  private applyDefinition(parent: TreeNode, parentNames: string[], d: NodeDefinition): void {
    const id = this.registerDef(d);
    if (d.name === '') {
      // A top-level placeholder: the parent gets a definition that only declares it.
      const old = parent.def >= 0 ? this.defs[parent.def] : undefined;
      const named = new Map(old?.named ?? []);
      this.defs.push({ c: old?.c ?? {}, named, placeholder: id });
      parent.def = this.defs.length - 1;
      return;
    }
    validName(d.name);
    if (parent.def >= 0 && !this.defs[parent.def].named.has(d.name)) {
      const old = this.defs[parent.def];
      const named = new Map(old.named);
      named.set(d.name, id);
      this.defs.push({ c: old.c, named, placeholder: old.placeholder });
      parent.def = this.defs.length - 1;
    }
    this.instantiate(parent, parentNames, d, id);
  }

  /** Creates or annotates the named node of definition `id` and its named descendants. */
  private instantiate(parent: TreeNode, parentNames: string[], d: NodeDefinition, id: number): void {
    const names = [...parentNames, d.name];
    const format = checkFormat(d.constraints.format ?? 'node');
    const interior = format === 'node';
    let node = this.child(parent, d.name);
    if (node) {
      if ((node.children !== null) !== interior) {
        throw notAllowed(`${this.uriOf(names)} exists as ${node.children ? 'an interior node' : 'a leaf'}, the DDF declares ${format}`);
      }
      node.def = id;
    } else {
      if (d.create === false) return;
      const type = d.type ?? d.constraints.type ?? (interior ? '' : 'text/plain');
      const acl = d.acl ? canonicalAcl(d.acl) : '';
      node = this.newNode(d.name, interior, format, type, acl, d.scope ?? 'permanent', id,
        interior ? '' : normalizeValue(format, d.value ?? d.constraints.defaultValue));
      if (d.title) node.title = checkTitle(d.title);
      parent.children!.set(d.name, node);
      this.touch(parent);
    }
    if (!interior) return;
    const def = this.defs[id];
    for (const c of d.children) {
      if (c.name === '') continue;
      this.instantiate(node, names, c, def.named.get(c.name)!);
    }
  }

  // ---- writing --------------------------------------------------------------------------------

  private planAdd(uri: string, data: AddData, opts: AddOptions): AddPlan {
    const r = this.resolve(uri);
    if (r.prop !== undefined) throw notAllowed('properties cannot be added (DMTND 8.3)');
    if (r.list !== undefined) throw notAllowed('?list= cannot be added');
    if (r.names.length === 0) throw new DmError('ALREADY_EXISTS', 'the root exists');
    const c = this.chain(r.names);
    if (c.length === r.names.length + 1) throw new DmError('ALREADY_EXISTS', `${r.path} exists`);
    const parent = c[c.length - 1];
    if (!parent.children) throw notAllowed(`${this.uriOf(r.names.slice(0, c.length - 1))} is a leaf`);
    const start = c.length - 1;
    const names = r.names.slice(start);
    if (names.length > 1 && opts.implicitParents === false) {
      throw new DmError('NOT_FOUND', `parent ${this.uriOf(r.names.slice(0, r.names.length - 1))} does not exist`);
    }
    // Resolve the definitions each new node gets, and the target's format.
    const defs: number[] = [];
    const uris: string[] = [];
    let def = parent.def;
    let siblings: Map<string, TreeNode> | null = parent.children;
    let targetFormat: DdfFormat = 'node';
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const here = this.uriOf(r.names.slice(0, start + i + 1));
      const d = def >= 0 ? this.childDef(def, name) : -1;
      if (d === 'refuse') throw notAllowed(`the DDF of the parent does not declare a child ${JSON.stringify(name)} (${here})`);
      const cons = d >= 0 ? this.defs[d].c : undefined;
      const last = i === names.length - 1;
      let format: DdfFormat;
      if (last) {
        format = data.format !== undefined ? checkFormat(data.format) : cons?.format ?? 'chr';
        if (cons?.format && !sameFormat(cons.format, format)) {
          throw new DmError('UNSUPPORTED_MEDIA_TYPE', `${here} must have Format ${cons.format}, not ${format}`);
        }
        targetFormat = format;
      } else {
        format = 'node';
        if (cons?.format && cons.format !== 'node') throw notAllowed(`cannot create ${here} implicitly: the DDF declares it ${cons.format}`);
      }
      if (siblings) {
        // Occurrence counts instances of the same placeholder definition (named ones are unique).
        if (def >= 0 && d >= 0 && this.defs[def].placeholder === d && this.defs[def].named.get(name) === undefined) {
          const max = maxOccurrence(cons?.occurrence);
          let count = 0;
          for (const s of siblings.values()) if (s.def === d) count++;
          if (count >= max) {
            throw new DmError('DEVICE_FULL', `${this.uriOf(r.names.slice(0, start + i))} already has ${count} of at most ${max} such children`);
          }
        }
        if (cons?.caseSense === 'CIS') {
          const lower = name.toLowerCase();
          for (const k of siblings.keys()) if (k.toLowerCase() === lower) throw new DmError('ALREADY_EXISTS', `${here} exists (case-insensitive)`);
        }
      }
      defs.push(d);
      uris.push(here);
      def = d;
      siblings = null; // new nodes have no siblings below them yet
    }
    if (data.acl !== undefined) canonicalAcl(data.acl);
    if (opts.creatorAcl !== undefined) canonicalAcl(opts.creatorAcl);
    if (data.title !== undefined) checkTitle(data.title);
    const interior = targetFormat === 'node';
    const tdef = defs[defs.length - 1];
    const type = data.type ?? (tdef >= 0 ? this.defs[tdef].c.type : undefined) ?? (interior ? '' : 'text/plain');
    const target = this.newNode(names[names.length - 1], interior, targetFormat, type,
      data.acl !== undefined ? canonicalAcl(data.acl) : '', data.scope ?? 'dynamic', tdef,
      interior ? '' : normalizeValue(targetFormat, data.value));
    if (data.title) target.title = data.title;
    const plan: AddPlan = { parent, names, defs, uris, target };
    if (opts.creatorAcl !== undefined) plan.creatorAcl = canonicalAcl(opts.creatorAcl);
    return plan;
  }

  /**
   * Add (DMREPPRO 4.1.6.1, DMTND 8.2). Returns the canonical URIs of the nodes created, implicit
   * parents first, the target last.
   *
   * Throws 418 (the node exists, or a case-insensitive sibling under CaseSense CIS), 405 (a
   * parent is a leaf; a property or list URI; the parent's DDF declares no such child; an
   * implicit parent the DDF declares as a leaf), 404 (parent missing and `implicitParents:
   * false`), 415 (unknown Format, or not the DDF's DFFormat), 420 (the placeholder's Occurrence
   * maximum is reached), 413 (Title over 255 bytes), 400 (bad ACL, bad base64, bad URI), 414.
   */
  add(uri: string, data: AddData = {}, opts: AddOptions = {}): string[] {
    const plan = this.planAdd(uri, data, opts);
    let parent = plan.parent;
    this.touch(parent);
    for (let i = 0; i < plan.names.length; i++) {
      const last = i === plan.names.length - 1;
      const n = last ? plan.target
        : this.newNode(plan.names[i], true, 'node', plan.defs[i] >= 0 ? this.defs[plan.defs[i]].c.type ?? '' : '', '', 'dynamic', plan.defs[i]);
      if (i === 0 && plan.creatorAcl !== undefined && n.children && !(last && data.acl !== undefined)) n.acl = plan.creatorAcl;
      parent.children!.set(n.name, n);
      parent = n;
    }
    return plan.uris;
  }

  /** Throws exactly what {@link add} would, without changing anything. */
  checkAdd(uri: string, data: AddData = {}, opts: AddOptions = {}): void {
    this.planAdd(uri, data, opts);
  }

  private planReplace(uri: string, data: ReplaceData): () => void {
    const r = this.resolve(uri);
    if (r.list !== undefined) throw notAllowed('?list= cannot be replaced');
    const n = this.findOrThrow(r);
    if (r.prop !== undefined) return this.planReplaceProperty(r, n, data.value);
    if (n.children) throw notAllowed(`${r.path} is an interior node: its value cannot be replaced`);
    const cons = n.def >= 0 ? this.defs[n.def].c : undefined;
    const format = data.format !== undefined ? checkFormat(data.format) : n.format;
    if (format === 'node') throw notAllowed(`${r.path} is a leaf: Replace cannot make it interior`);
    if (n.scope === 'permanent') {
      // DMTND 8.2: the Format and Type of permanent nodes cannot change.
      if (!sameFormat(format, n.format)) throw notAllowed(`${r.path} is permanent: its Format cannot change`);
      if (data.type !== undefined && data.type !== n.type) throw notAllowed(`${r.path} is permanent: its Type cannot change`);
    }
    if (cons?.format && !sameFormat(cons.format, format)) {
      throw new DmError('UNSUPPORTED_MEDIA_TYPE', `${r.path} must have Format ${cons.format}, not ${format}`);
    }
    const value = normalizeValue(format, data.value);
    return () => {
      n.format = n.scope === 'permanent' ? n.format : format;
      if (data.type !== undefined) n.type = data.type;
      n.value = value;
      this.touch(n);
    };
  }

  private planReplaceProperty(r: ResolvedUri, n: TreeNode, raw: NodeValue): () => void {
    const text = typeof raw === 'string' ? raw : utf8Decoder.decode(raw);
    switch (r.prop) {
      case 'ACL': {
        const acl = canonicalAcl(text);
        if (n === this.root && acl === '') throw notAllowed('the root ACL must have a value (DMTND 8.3.7.1)');
        return () => { n.acl = acl; this.touch(n); };
      }
      case 'Title': {
        checkTitle(text);
        return () => { n.title = text; this.touch(n); };
      }
      case 'Name': {
        if (n === this.root) throw notAllowed('the root cannot be renamed');
        if (n.scope === 'permanent') throw notAllowed(`${r.path} is permanent: it cannot be renamed`);
        validName(text);
        const parentNames = r.names.slice(0, -1);
        const parent = this.find(parentNames)!;
        if (parent.def >= 0 && this.defs[parent.def].named.get(n.name) === n.def) {
          throw notAllowed(`${r.path} is named by its DDF: it cannot be renamed`);
        }
        if (text === n.name) return () => { this.touch(n); };
        const clash = this.child(parent, text);
        const cis = n.def >= 0 && this.defs[n.def].c.caseSense === 'CIS';
        const lower = text.toLowerCase();
        if ((clash && clash !== n)
          || (cis && [...parent.children!.values()].some((s) => s !== n && s.name.toLowerCase() === lower))) {
          throw new DmError('ALREADY_EXISTS', `${this.uriOf([...parentNames, text])} exists`);
        }
        if (parent.def >= 0 && this.defs[parent.def].named.has(text)) {
          throw notAllowed(`${JSON.stringify(text)} is reserved by the parent's DDF`);
        }
        return () => {
          // Rebuild the map so the node keeps its position among its siblings.
          const m = new Map<string, TreeNode>();
          for (const [k, c] of parent.children!) m.set(c === n ? text : k, c);
          parent.children = m;
          n.name = text;
          this.touch(n);
          this.touch(parent);
        };
      }
      case 'Format': case 'Size': case 'TStamp': case 'Type': case 'VerNo':
        throw notAllowed(`property ${r.prop} cannot be replaced (DMTND 8.3)`);
      default:
        throw new DmError('OPTIONAL_FEATURE_NOT_SUPPORTED', `unsupported property ${JSON.stringify(r.prop)}`);
    }
  }

  /**
   * Replace (DMREPPRO 4.1.6.12, DMTND 8.2-8.3). Never creates a node. On `?prop=ACL|Name|Title`
   * replaces the property (Name = rename, keeping the node's place among its siblings).
   *
   * Throws 404 (no node), 405 (interior value; Format/Type change of a permanent node; a read-
   * only property; renaming the root, a permanent node or a DDF-named node; emptying the root
   * ACL; `?list=`), 406 (unsupported property), 418 (rename onto an existing sibling), 415
   * (unknown Format or not the DDF's DFFormat), 413 (Title over 255 bytes), 400 (bad ACL, bad
   * base64, bad name or URI), 414.
   */
  replace(uri: string, data: ReplaceData): void {
    this.planReplace(uri, data)();
  }

  /** Throws exactly what {@link replace} would, without changing anything. */
  checkReplace(uri: string, data: ReplaceData): void {
    this.planReplace(uri, data);
  }

  private planDelete(uri: string): () => void {
    const r = this.resolve(uri);
    if (r.prop !== undefined) throw notAllowed('properties cannot be deleted (DMTND 8.3)');
    if (r.list !== undefined) throw notAllowed('?list= cannot be deleted');
    if (r.names.length === 0) throw notAllowed('the root cannot be deleted');
    const c = this.chain(r.names);
    if (c.length !== r.names.length + 1) throw notFound(r.path);
    const n = c[c.length - 1];
    const parent = c[c.length - 2];
    const permanent = (x: TreeNode): boolean => x.scope === 'permanent'
      || (x.children !== null && [...x.children.values()].some(permanent));
    if (n.scope === 'permanent') throw notAllowed(`${r.path} is permanent`);
    if (permanent(n)) throw notAllowed(`${r.path} contains permanent nodes`);
    return () => {
      for (const [k, v] of parent.children!) if (v === n) parent.children!.delete(k);
      this.touch(parent);
    };
  }

  /**
   * Delete (DMREPPRO 4.1.6.5): the node and its whole subtree (descendants whose DDF AccessType
   * lacks Delete go too, DMTND 8.2). Throws 405 (the root, a permanent node or a subtree holding
   * one, a property or list URI), 404 (no node), 400/414.
   */
  delete(uri: string): void {
    this.planDelete(uri)();
  }

  /** Throws exactly what {@link delete} would, without changing anything. */
  checkDelete(uri: string): void {
    this.planDelete(uri);
  }

  private planCopy(from: string, to: string, opts: AddOptions): () => string[] {
    const rf = this.resolve(from);
    const rt = this.resolve(to);
    if (rf.prop !== undefined || rf.list !== undefined || rt.prop !== undefined || rt.list !== undefined) {
      throw notAllowed('Copy works on node values only');
    }
    const src = this.findOrThrow(rf);
    if (src.children) throw notAllowed('Copy copies leaves only (DMREPPRO 4.1.6.4)');
    const target = this.find(rt.names);
    const value = copyValue(src.value);
    if (target) {
      if (target.children) throw notAllowed('Copy onto an interior node');
      const data: ReplaceData = { format: src.format, type: src.type, value };
      const apply = this.planReplace(rt.path, data);
      return () => { apply(); return []; };
    }
    const data: AddData = { format: src.format, type: src.type, value };
    this.planAdd(rt.path, data, opts);
    return () => this.add(rt.path, data, opts);
  }

  /**
   * Copy (DMREPPRO 4.1.6.4): leaf to leaf. The target is replaced when it exists (value, and
   * Format/Type unless it is permanent, where they must match) or added with the source's
   * Format/Type (implicit parents per `opts`). Returns the URIs created.
   * Throws 404 (no source), 405 (source or target interior, query URIs), and Add/Replace errors.
   */
  copy(from: string, to: string, opts: AddOptions = {}): string[] {
    return this.planCopy(from, to, opts)();
  }

  /** Throws exactly what {@link copy} would, without changing anything. */
  checkCopy(from: string, to: string, opts: AddOptions = {}): void {
    this.planCopy(from, to, opts);
  }

  // ---- snapshots and persistence -------------------------------------------------------------

  /**
   * A copy of the whole tree for {@link restore} (Atomic rollback). Cost: one structural copy,
   * O(nodes) time and memory; leaf values are shared (they are never mutated in place). Fine for
   * device-sized trees (thousands of nodes); for huge trees snapshot less often.
   */
  snapshot(): TreeSnapshot {
    const s: SnapshotImpl = { __treeSnapshot: true, root: cloneNode(this.root), defs: this.defs.length, limits: { ...this.limits } };
    return s;
  }

  /** Puts the tree back exactly as it was at {@link ManagementTree.snapshot} (nodes, properties, definitions, limits). */
  restore(snapshot: TreeSnapshot): void {
    const s = snapshot as SnapshotImpl;
    if (!s.root || typeof s.defs !== 'number') throw new DmError('INVALID_ARGUMENT', 'not a tree snapshot');
    this.root = cloneNode(s.root);
    this.defs.length = s.defs;
    this.hasCis = this.defs.some((d) => d.c.caseSense === 'CIS');
    this.limits = { ...s.limits };
  }

  /** The persisted form: plain JSON, byte values as base64. */
  toJSON(): TreeJson {
    const node = (n: TreeNode): NodeJson => {
      const out: NodeJson = { name: n.name, format: n.format, type: n.type, tStamp: n.tStamp, verNo: n.verNo, scope: n.scope };
      if (n.acl !== '') out.acl = n.acl;
      if (n.title !== '') out.title = n.title;
      if (n.def >= 0) out.def = n.def;
      if (n.children) out.children = [...n.children.values()].map(node);
      else if (typeof n.value === 'string') out.value = n.value;
      else out.valueBase64 = toBase64(n.value);
      return out;
    };
    const defs: DefJson[] = this.defs.map((d) => {
      const out: DefJson = { constraints: copyConstraints(d.c), named: Object.fromEntries(d.named) };
      if (d.placeholder >= 0) out.placeholder = d.placeholder;
      return out;
    });
    const json: TreeJson = { format: 'syncml-dm/tree', version: 1, defs, root: node(this.root) };
    if (Object.keys(this.limits).length > 0) json.limits = { ...this.limits };
    return json;
  }

  /**
   * Rebuilds a tree from {@link toJSON} output. Throws DmError `INVALID_ARGUMENT` for JSON of
   * another shape (a definition index out of range, a leaf with children, an unknown format...).
   */
  static fromJSON(json: TreeJson, options: Omit<TreeOptions, 'limits' | 'rootAcl'> = {}): ManagementTree {
    const bad = (m: string): DmError => new DmError('INVALID_ARGUMENT', `tree JSON: ${m}`);
    if (!json || json.format !== 'syncml-dm/tree' || json.version !== 1) throw bad('not a syncml-dm/tree version 1 document');
    if (!Array.isArray(json.defs) || !json.root) throw bad('defs or root missing');
    const t = new ManagementTree({ ...options, limits: json.limits });
    const ndefs = json.defs.length;
    const checkDef = (i: number | undefined): number => {
      if (i === undefined) return -1;
      if (!Number.isInteger(i) || i < 0 || i >= ndefs) throw bad(`definition index ${i} out of range`);
      return i;
    };
    t.defs = json.defs.map((d) => {
      const named = new Map<string, number>();
      for (const [k, v] of Object.entries(d.named ?? {})) named.set(k, checkDef(v));
      return { c: Object.freeze({ ...d.constraints }), named, placeholder: checkDef(d.placeholder) };
    });
    t.hasCis = t.defs.some((d) => d.c.caseSense === 'CIS');
    const node = (j: NodeJson, isRoot: boolean): TreeNode => {
      if (typeof j.name !== 'string' || (!isRoot && j.name === '')) throw bad('node without a name');
      if (!(DDF_FORMATS as readonly string[]).includes(j.format)) throw bad(`unknown format ${JSON.stringify(j.format)}`);
      if (!Number.isInteger(j.verNo) || j.verNo < 0 || j.verNo > 0xffff) throw bad(`VerNo ${j.verNo} is not a uint16`);
      const interior = j.children !== undefined;
      if (interior !== (j.format === 'node')) throw bad(`${j.name}: format ${j.format} does not match its kind`);
      let value: NodeValue = '';
      if (!interior) {
        try {
          value = j.valueBase64 !== undefined ? fromBase64(j.valueBase64) : j.value ?? '';
        } catch (e) {
          if (isDmError(e)) throw bad(`${j.name}: ${e.message}`);
          throw e;
        }
      }
      let acl = '';
      try {
        acl = j.acl ? canonicalAcl(j.acl) : '';
      } catch (e) {
        throw bad(`${j.name}: ${isDmError(e) ? e.message : String(e)}`);
      }
      const n: TreeNode = {
        name: isRoot ? '' : j.name, children: null, value, format: j.format, type: String(j.type ?? ''),
        acl, title: j.title ?? '', tStamp: String(j.tStamp ?? ''), verNo: j.verNo,
        scope: j.scope === 'permanent' ? 'permanent' : 'dynamic', def: checkDef(j.def),
      };
      if (interior) {
        n.children = new Map();
        for (const c of j.children!) {
          const child = node(c, false);
          if (n.children.has(child.name)) throw bad(`duplicate child ${child.name}`);
          n.children.set(child.name, child);
        }
      }
      return n;
    };
    t.root = node(json.root, true);
    if (!t.root.children) throw bad('the root must be interior');
    if (t.root.acl === '') throw bad('the root must have an ACL');
    return t;
  }
}
