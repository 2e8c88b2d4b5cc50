/**
 * OMA DM DDF 1.2 / TNDS 1.2 (OMA-TS-DM_TND-V1_2 §8.5, OMA-TS-DM_TNDS-V1_2): a management tree
 * description or serialisation (`MgmtTree`) as plain objects.
 */
import type { UnknownElement } from './types.js';

/** DFFormat / Format values. @public */
export type DdfFormat = 'b64' | 'bin' | 'bool' | 'chr' | 'int' | 'node' | 'null' | 'xml' | 'date' | 'time' | 'float';

/** Occurrence: `ZeroOrN`/`OneOrN` carry their N. @public */
export type DdfOccurrence =
  | { kind: 'One' } | { kind: 'ZeroOrOne' } | { kind: 'ZeroOrMore' } | { kind: 'OneOrMore' }
  | { kind: 'ZeroOrN'; n: number } | { kind: 'OneOrN'; n: number };

/**
 * DFType / Type: a MIME type (leaf) or a DDF name (interior node, MO identifier). The DTD allows
 * several MIME types (`MIME+`): the first is `mime`, the others `moreMimes`.
 * @public
 */
export type DdfType = { mime: string; moreMimes?: string[] } | { ddfName: string };

/** Commands a node supports (AccessType). @public */
export type DdfAccess = 'Add' | 'Copy' | 'Delete' | 'Exec' | 'Get' | 'Replace';

/** `MgmtTree`. @public */
export interface MgmtTree {
  kind: 'MgmtTree';
  verDTD: string;
  man?: string;
  mod?: string;
  nodes: DdfNode[];
  unknown?: UnknownElement[];
}

/** `Node`. Interior nodes have `children`; leaves may have `value`. @public */
export interface DdfNode {
  /** Empty for a placeholder (`<x>`): the name is given when the node is created. */
  nodeName: string;
  /** Only on top-level nodes: the URI of the parent. */
  path?: string;
  rtProperties?: RtProperties;
  dfProperties?: DfProperties;
  children: DdfNode[];
  value?: string;
  unknown?: UnknownElement[];
}

/** `RTProperties`: run-time properties (TNDS). @public */
export interface RtProperties {
  acl?: string;
  format?: DdfFormat;
  name?: string;
  size?: string;
  title?: string;
  tStamp?: string;
  type?: DdfType;
  verNo?: string;
}

/** `DFProperties`: what the node may be (DDF). @public */
export interface DfProperties {
  accessType: DdfAccess[];
  defaultValue?: string;
  description?: string;
  dfFormat: DdfFormat;
  occurrence?: DdfOccurrence;
  scope?: 'Permanent' | 'Dynamic';
  dfTitle?: string;
  dfType: DdfType;
  caseSense?: 'CS' | 'CIS';
  /** Foreign-namespace elements (Microsoft's `MSFT:` properties), kept. */
  unknown?: UnknownElement[];
}
