/**
 * DDF (DMTND 8.5; research note 4.6) as the declaration of a device's tree, and back.
 *
 * `applyDdf` reads a vendor's `MgmtTree` as data:
 * - a Node with a NodeName is created (with its DFFormat, DFType, DefaultValue or Value, and the
 *   ACL/Title of its RTProperties) as a **permanent** node, or as a dynamic one when its Scope is
 *   Dynamic; a named node whose Scope is Dynamic and whose Occurrence may be zero (`ZeroOrOne`,
 *   `ZeroOrMore`, `ZeroOrN`) is optional and only declared, not created;
 * - a Node with an empty NodeName is a placeholder (`<x>`): nothing is created, its DFProperties
 *   constrain the children a server adds later (AccessType -> 405 in the configuration manager,
 *   DFFormat -> 415, Occurrence maximum -> 420 DEVICE_FULL, CaseSense CIS -> names compared
 *   case-insensitively), and its own children declare what those nodes may hold;
 * - nodes below a placeholder are never created, only declared.
 *
 * We read CaseSense as applying to the node's name (research note 4.1: "MAY be case-sensitive
 * (declare with DDF CaseSense)"). Occurrence minimums (`One`, `OneOrMore`) are not enforced: a
 * fresh device would violate them before any server added the nodes.
 */
import type { DdfAccess, DdfFormat, DdfNode, DdfOccurrence, DfProperties, MgmtTree } from '../syncml/ddf-types.js';
import type { ManagementTree, NodeConstraints, NodeDefinition, NodeInfo } from './tree.js';
import { encodeSegment } from './uri.js';

function typeText(t: { mime: string } | { ddfName: string } | undefined): string | undefined {
  if (!t) return undefined;
  return 'mime' in t ? t.mime : t.ddfName;
}

function optional(o: DdfOccurrence | undefined): boolean {
  return o !== undefined && (o.kind === 'ZeroOrOne' || o.kind === 'ZeroOrMore' || o.kind === 'ZeroOrN');
}

/** The tree's constraints from DFProperties. @public */
export function constraintsFromDf(df: DfProperties | undefined): NodeConstraints {
  if (!df) return {};
  const c: NodeConstraints = { accessType: [...df.accessType], format: df.dfFormat };
  const type = typeText(df.dfType);
  if (type !== undefined) c.type = type;
  if (df.occurrence) c.occurrence = { ...df.occurrence };
  if (df.scope) c.scope = df.scope;
  if (df.caseSense) c.caseSense = df.caseSense;
  if (df.defaultValue !== undefined) c.defaultValue = df.defaultValue;
  if (df.description !== undefined) c.description = df.description;
  if (df.dfTitle !== undefined) c.title = df.dfTitle;
  return c;
}

/** A DDF Node as a tree definition (see the module comment for what gets created). @public */
export function ddfNodeToDefinition(n: DdfNode): NodeDefinition {
  const df = n.dfProperties;
  const constraints = constraintsFromDf(df);
  if (!df && n.rtProperties?.format) constraints.format = n.rtProperties.format;
  if (!constraints.format) constraints.format = n.children.length > 0 ? 'node' : 'chr';
  const def: NodeDefinition = {
    name: n.nodeName,
    constraints,
    children: n.children.map(ddfNodeToDefinition),
    create: n.nodeName !== '' && !(df?.scope === 'Dynamic' && optional(df.occurrence)),
    scope: df?.scope === 'Dynamic' ? 'dynamic' : 'permanent',
  };
  const value = n.value ?? df?.defaultValue;
  if (value !== undefined) def.value = value;
  if (n.rtProperties?.acl) def.acl = n.rtProperties.acl;
  if (n.rtProperties?.title) def.title = n.rtProperties.title;
  const rtType = typeText(n.rtProperties?.type);
  if (rtType !== undefined) def.type = rtType;
  return def;
}

/** Options of {@link applyDdf}. @public */
export interface ApplyDdfOptions {
  /** Parent URI for top-level nodes without `Path`; default `.`. */
  parent?: string;
}

/**
 * Declares a DDF in the tree (device-side, no access checks). Top-level nodes go under their
 * `Path` (created as permanent interior nodes when missing) or `options.parent`.
 * Throws 405 when an existing node's kind contradicts the DDF, 400/414 for bad names or paths,
 * 415 for an unknown DFFormat.
 * @public
 */
export function applyDdf(tree: ManagementTree, ddf: MgmtTree, options: ApplyDdfOptions = {}): void {
  for (const n of ddf.nodes) tree.define(n.path ?? options.parent ?? '.', [ddfNodeToDefinition(n)]);
}

/** Options of {@link ddfNode}. @public */
export interface DdfNodeSpec {
  access: DdfAccess[];
  format: DdfFormat;
  /** MIME type (leaf) or DDF name (interior); default `text/plain` / `''`. */
  type?: string;
  occurrence?: DdfOccurrence;
  scope?: 'Permanent' | 'Dynamic';
  caseSense?: 'CS' | 'CIS';
  defaultValue?: string;
  description?: string;
  title?: string;
  /** RTProperties ACL of the created node. */
  acl?: string;
  /** Top-level only. */
  path?: string;
}

/**
 * Builds a DDF `Node` from a compact spec: handy for writing a management object's DDF as data.
 *
 * @example
 * ```ts
 * const ddf = { kind: 'MgmtTree', verDTD: '1.2', nodes: [
 *   ddfNode('App', { access: ['Get'], format: 'node', scope: 'Permanent', path: './Vendor' }, [
 *     ddfNode('Enabled', { access: ['Get', 'Replace'], format: 'bool', defaultValue: 'false' }),
 *   ]),
 * ] } satisfies MgmtTree;
 * applyDdf(tree, ddf);
 * ```
 * @public
 */
export function ddfNode(name: string, spec: DdfNodeSpec, children: DdfNode[] = []): DdfNode {
  const interior = spec.format === 'node';
  const df: DfProperties = {
    accessType: [...spec.access],
    dfFormat: spec.format,
    dfType: interior ? { ddfName: spec.type ?? '' } : { mime: spec.type ?? 'text/plain' },
  };
  if (spec.occurrence) df.occurrence = spec.occurrence;
  if (spec.scope) df.scope = spec.scope;
  if (spec.caseSense) df.caseSense = spec.caseSense;
  if (spec.defaultValue !== undefined) df.defaultValue = spec.defaultValue;
  if (spec.description !== undefined) df.description = spec.description;
  if (spec.title !== undefined) df.dfTitle = spec.title;
  const node: DdfNode = { nodeName: name, dfProperties: df, children };
  if (spec.acl !== undefined) node.rtProperties = { acl: spec.acl, type: df.dfType };
  if (spec.path !== undefined) node.path = spec.path;
  return node;
}

function dfFromConstraints(c: NodeConstraints, fallback?: NodeInfo): DfProperties {
  const format: DdfFormat = c.format ?? fallback?.format ?? 'chr';
  const leaf = format !== 'node';
  const permanent = fallback ? fallback.scope === 'permanent' : c.scope === 'Permanent';
  const access: DdfAccess[] = c.accessType ? [...c.accessType]
    : permanent ? (leaf ? ['Get', 'Replace'] : ['Get'])
      : (leaf ? ['Add', 'Delete', 'Get', 'Replace'] : ['Add', 'Delete', 'Get']);
  const type = c.type ?? fallback?.type ?? (leaf ? 'text/plain' : '');
  const df: DfProperties = { accessType: access, dfFormat: format, dfType: leaf ? { mime: type } : { ddfName: type } };
  if (c.occurrence) df.occurrence = { ...c.occurrence };
  const scope = c.scope ?? (fallback ? (permanent ? 'Permanent' : 'Dynamic') : undefined);
  if (scope) df.scope = scope;
  if (c.caseSense) df.caseSense = c.caseSense;
  if (c.defaultValue !== undefined) df.defaultValue = c.defaultValue;
  if (c.description !== undefined) df.description = c.description;
  if (c.title !== undefined) df.dfTitle = c.title;
  return df;
}

function definitionToDdf(d: NodeDefinition): DdfNode {
  return { nodeName: d.name, dfProperties: dfFromConstraints(d.constraints), children: d.children.map(definitionToDdf) };
}

/**
 * The DDF of the subtree at `uri`: existing named nodes with their DFProperties (from their
 * definition, or synthesised from the node: AccessType by scope and kind, DFFormat, DFType,
 * Scope), declared-but-absent named nodes and placeholders from the definitions; nodes created
 * from a placeholder are described by it and not listed. Exporting `.` lists the root's children
 * as top-level nodes with Path `.`. Throws 404 when the node does not exist.
 * @public
 */
export function describeTree(tree: ManagementTree, uri: string): MgmtTree {
  const start = tree.info(uri);
  if (!start) {
    tree.walk(uri, () => false); // throws the tree's 404 (or 400/414)
  }
  const describe = (info: NodeInfo): DdfNode => {
    const def = tree.definitionOf(info.uri);
    const node: DdfNode = { nodeName: info.name, dfProperties: dfFromConstraints(def?.constraints ?? {}, info), children: [] };
    if (info.leaf) return node;
    const present = new Set(info.children);
    for (const name of info.children!) {
      const u = (info.uri === '.' ? '.' : info.uri) + '/' + encodeSegment(name);
      if (tree.isPlaceholderInstance(u)) continue;
      node.children.push(describe(tree.info(u)!));
    }
    if (def) {
      for (const c of def.children) {
        if (c.name === '' || !present.has(c.name)) node.children.push(definitionToDdf(c));
      }
    }
    return node;
  };
  const top = describe(start!);
  const nodes = start!.uri === '.'
    ? top.children.map((c) => ({ ...c, path: '.' }))
    : [{ ...top, path: start!.uri.slice(0, start!.uri.lastIndexOf('/')) || '.' }];
  return { kind: 'MgmtTree', verDTD: '1.2', nodes };
}
