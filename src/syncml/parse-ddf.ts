/**
 * OMA DM DDF 1.2 / TNDS 1.2 (OMA-TS-DM_TND-V1_2 §8.5, OMA-TS-DM_TNDS-V1_2): `MgmtTree` and its
 * subtree, read from a token source positioned at its START. Elements of foreign namespaces in
 * DFProperties (Microsoft's `MSFT:` extensions) are extensions, not errors: kept in `unknown`.
 */
import type { DdfAccess, DdfFormat, DdfNode, DdfOccurrence, DdfType, DfProperties, MgmtTree, RtProperties } from './ddf-types.js';
import {
  D_ACCESS_TYPE, D_ACL, D_ADD, D_B64, D_BIN, D_BOOL, D_CASE_SENSE, D_CHR, D_CIS, D_COPY, D_CS, D_DATE,
  D_DDF_NAME, D_DEFAULT_VALUE, D_DELETE, D_DESCRIPTION, D_DF_FORMAT, D_DF_PROPERTIES, D_DF_TITLE,
  D_DF_TYPE, D_DYNAMIC, D_EXEC, D_FLOAT, D_FMT_NODE, D_FORMAT, D_GET, D_INT, D_MAN, D_MIME, D_MOD,
  D_NAME, D_NODE, D_NODE_NAME, D_NULL, D_OCCURRENCE, D_ONE, D_ONE_OR_MORE, D_ONE_OR_N, D_PATH,
  D_PERMANENT, D_REPLACE, D_RT_PROPERTIES, D_SCOPE, D_SIZE, D_TIME, D_TITLE, D_TSTAMP, D_TYPE, D_VALUE,
  D_VER_DTD, D_VER_NO, D_XML, D_ZERO_OR_MORE, D_ZERO_OR_N, D_ZERO_OR_ONE,
} from './elements.js';
import { model, rep, seen, type Holder, type ParserCore } from './parse-core.js';
import { NS_FOREIGN, namespaceClass } from './source.js';

// Content models of the DM DDF 1.2 DTD (OMA-TS-DM_TND-V1_2 §8.5; TNDS 1.2 for RTProperties).
const T_TREE = model(D_VER_DTD, D_MAN, D_MOD, rep(D_NODE));
const T_NODE = model(D_NODE_NAME, D_PATH, D_RT_PROPERTIES, D_DF_PROPERTIES, rep(D_NODE), D_VALUE);
const T_RT = model(D_ACL, D_FORMAT, D_NAME, D_SIZE, D_TITLE, D_TSTAMP, D_TYPE, D_VER_NO);
const T_DF = model(D_ACCESS_TYPE, D_DEFAULT_VALUE, D_DESCRIPTION, D_DF_FORMAT, D_OCCURRENCE, D_SCOPE, D_DF_TITLE, D_DF_TYPE, D_CASE_SENSE);
const T_ACCESS = model(D_ADD, D_COPY, D_DELETE, D_EXEC, D_GET, D_REPLACE);

const FORMATS = new Map<number, DdfFormat>([
  [D_B64, 'b64'], [D_BIN, 'bin'], [D_BOOL, 'bool'], [D_CHR, 'chr'], [D_INT, 'int'], [D_FMT_NODE, 'node'],
  [D_NULL, 'null'], [D_XML, 'xml'], [D_DATE, 'date'], [D_TIME, 'time'], [D_FLOAT, 'float'],
]);
const ACCESS = new Map<number, DdfAccess>([
  [D_ADD, 'Add'], [D_COPY, 'Copy'], [D_DELETE, 'Delete'], [D_EXEC, 'Exec'], [D_GET, 'Get'], [D_REPLACE, 'Replace'],
]);

/** Reads the MgmtTree element whose START is current. */
export function readMgmtTree(p: ParserCore): MgmtTree {
  const src = p.src;
  const at = src.offset;
  const t: MgmtTree = { kind: 'MgmtTree', verDTD: '', man: undefined, mod: undefined, nodes: [], unknown: undefined };
  let st = 0;
  while (p.child()) {
    const id = src.id;
    const n = p.step(T_TREE, st, t, 'MgmtTree');
    if (n < 0) continue;
    st = n;
    switch (id) {
      case D_VER_DTD: t.verDTD = p.ident(); break;
      case D_MAN: t.man = p.leaf(); break;
      case D_MOD: t.mod = p.leaf(); break;
      case D_NODE: t.nodes.push(readNode(p)); break;
    }
  }
  if (!seen(st, 1)) p.missing('VerDTD', 'MgmtTree', at);
  if (!seen(st, 4)) p.missing('Node', 'MgmtTree', at);
  return t;
}

function readNode(p: ParserCore): DdfNode {
  const src = p.src;
  const at = src.offset;
  const node: DdfNode = {
    nodeName: '', path: undefined, rtProperties: undefined, dfProperties: undefined, children: [],
    value: undefined, unknown: undefined,
  };
  let st = 0;
  while (p.child()) {
    const id = src.id;
    const n = p.step(T_NODE, st, node, 'Node');
    if (n < 0) continue;
    st = n;
    switch (id) {
      case D_NODE_NAME: node.nodeName = p.leaf(); break;
      case D_PATH: node.path = p.leaf(); break;
      case D_RT_PROPERTIES: node.rtProperties = readRt(p, node); break;
      case D_DF_PROPERTIES: node.dfProperties = readDf(p); break;
      case D_NODE: node.children.push(readNode(p)); break;
      case D_VALUE: node.value = p.leaf(); break;
    }
  }
  if (!seen(st, 1)) p.missing('NodeName', 'Node', at);
  if (node.value !== undefined && node.children.length > 0) {
    p.issue('UNEXPECTED_ELEMENT', '<Node> has both child <Node>s and a <Value>', at);
  }
  return node;
}

function readRt(p: ParserCore, holder: Holder): RtProperties {
  const src = p.src;
  const rt: RtProperties = {
    acl: undefined, format: undefined, name: undefined, size: undefined, title: undefined, tStamp: undefined,
    type: undefined, verNo: undefined,
  };
  let st = 0;
  while (p.child()) {
    const id = src.id;
    const n = p.step(T_RT, st, holder, 'RTProperties');
    if (n < 0) continue;
    st = n;
    switch (id) {
      case D_ACL: rt.acl = p.leaf(); break;
      case D_FORMAT: rt.format = readFormat(p, holder, 'Format'); break;
      case D_NAME: rt.name = p.leaf(); break;
      case D_SIZE: rt.size = p.ident(); break;
      case D_TITLE: rt.title = p.leaf(); break;
      case D_TSTAMP: rt.tStamp = p.ident(); break;
      case D_TYPE: rt.type = readType(p, holder, 'Type'); break;
      case D_VER_NO: rt.verNo = p.ident(); break;
    }
  }
  return rt;
}

function readDf(p: ParserCore): DfProperties {
  const src = p.src;
  const at = src.offset;
  const df: DfProperties = {
    accessType: [], defaultValue: undefined, description: undefined, dfFormat: 'chr', occurrence: undefined,
    scope: undefined, dfTitle: undefined, dfType: { mime: '' }, caseSense: undefined, unknown: undefined,
  };
  let st = 0;
  while (p.child()) {
    const id = src.id;
    if (id < 0 && namespaceClass(src.namespace()) === NS_FOREIGN) {
      // Vendor extensions (MSFT:Applicability...) live here by design.
      (df.unknown ??= []).push(p.capture());
      continue;
    }
    const n = p.step(T_DF, st, df, 'DFProperties');
    if (n < 0) continue;
    st = n;
    switch (id) {
      case D_ACCESS_TYPE: df.accessType = readAccess(p, df); break;
      case D_DEFAULT_VALUE: df.defaultValue = p.leaf(); break;
      case D_DESCRIPTION: df.description = p.leaf(); break;
      case D_DF_FORMAT: df.dfFormat = readFormat(p, df, 'DFFormat') ?? 'chr'; break;
      case D_OCCURRENCE: df.occurrence = readOccurrence(p, df); break;
      case D_SCOPE: df.scope = readChoice(p, df, 'Scope', D_PERMANENT, 'Permanent', D_DYNAMIC, 'Dynamic'); break;
      case D_DF_TITLE: df.dfTitle = p.leaf(); break;
      case D_DF_TYPE: df.dfType = readType(p, df, 'DFType') ?? { mime: '' }; break;
      case D_CASE_SENSE: df.caseSense = readChoice(p, df, 'CaseSense', D_CS, 'CS', D_CIS, 'CIS'); break;
    }
  }
  if (!seen(st, 1)) p.missing('AccessType', 'DFProperties', at);
  if (!seen(st, 4)) p.missing('DFFormat', 'DFProperties', at);
  if (!seen(st, 8)) p.missing('DFType', 'DFProperties', at);
  return df;
}

function readAccess(p: ParserCore, holder: Holder): DdfAccess[] {
  const src = p.src;
  const out: DdfAccess[] = [];
  let st = 0;
  while (p.child()) {
    const id = src.id;
    const n = p.step(T_ACCESS, st, holder, 'AccessType');
    if (n < 0) continue;
    st = n;
    out.push(ACCESS.get(id)!);
    p.flag();
  }
  return out;
}

/** `<Format><chr/></Format>`: exactly one empty element naming the format. */
function readFormat(p: ParserCore, holder: Holder, name: string): DdfFormat | undefined {
  const src = p.src;
  const at = src.offset;
  let value: DdfFormat | undefined;
  while (p.child()) {
    const f = FORMATS.get(src.id);
    if (f === undefined) { p.unexpected(holder, name); continue; }
    if (value !== undefined) {
      p.issue('DUPLICATE_ELEMENT', `<${name}> names two formats; the second is ignored`, src.offset);
      p.skip();
      continue;
    }
    value = f;
    p.flag();
  }
  if (value === undefined) p.missing('a format element (chr, int, node...)', name, at);
  return value;
}

/** `<DFType><MIME>text/plain</MIME></DFType>` or `<DDFName>urn:...</DDFName>`. */
function readType(p: ParserCore, holder: Holder, name: string): DdfType | undefined {
  const src = p.src;
  const at = src.offset;
  let value: DdfType | undefined;
  while (p.child()) {
    const id = src.id;
    if (id === D_MIME) {
      const m = p.ident();
      if (value === undefined) value = { mime: m };
      else if ('mime' in value) (value.moreMimes ??= []).push(m);
      else p.issue('UNEXPECTED_ELEMENT', `<${name}> holds both <DDFName> and <MIME>`, at);
    } else if (id === D_DDF_NAME) {
      if (value !== undefined) {
        p.issue('UNEXPECTED_ELEMENT', `<${name}> holds <DDFName> with another type`, src.offset);
        p.skip();
        continue;
      }
      value = { ddfName: p.ident() };
    } else p.unexpected(holder, name);
  }
  if (value === undefined) p.missing('MIME or DDFName', name, at);
  return value;
}

function readOccurrence(p: ParserCore, holder: Holder): DdfOccurrence | undefined {
  const src = p.src;
  const at = src.offset;
  let value: DdfOccurrence | undefined;
  while (p.child()) {
    const id = src.id;
    let v: DdfOccurrence | undefined;
    switch (id) {
      case D_ONE: p.flag(); v = { kind: 'One' }; break;
      case D_ZERO_OR_ONE: p.flag(); v = { kind: 'ZeroOrOne' }; break;
      case D_ZERO_OR_MORE: p.flag(); v = { kind: 'ZeroOrMore' }; break;
      case D_ONE_OR_MORE: p.flag(); v = { kind: 'OneOrMore' }; break;
      case D_ZERO_OR_N: case D_ONE_OR_N: {
        const nAt = src.offset;
        const n = p.uint(id === D_ZERO_OR_N ? 'ZeroOrN' : 'OneOrN');
        if (n === undefined) continue;
        if (n < 2 || n > 65536) p.issue('BAD_VALUE', `occurrence bound ${n} is outside 2..65536`, nAt);
        v = id === D_ZERO_OR_N ? { kind: 'ZeroOrN', n } : { kind: 'OneOrN', n };
        break;
      }
      default:
        p.unexpected(holder, 'Occurrence');
        continue;
    }
    if (value !== undefined) p.issue('DUPLICATE_ELEMENT', '<Occurrence> names two occurrences; the second is ignored', at);
    else value = v;
  }
  if (value === undefined) p.missing('One, ZeroOrOne, ZeroOrMore, OneOrMore, ZeroOrN or OneOrN', 'Occurrence', at);
  return value;
}

function readChoice<A extends string, B extends string>(p: ParserCore, holder: Holder, name: string, idA: number, a: A, idB: number, b: B): A | B | undefined {
  const src = p.src;
  const at = src.offset;
  let value: A | B | undefined;
  while (p.child()) {
    const id = src.id;
    if (id !== idA && id !== idB) { p.unexpected(holder, name); continue; }
    p.flag();
    if (value !== undefined) p.issue('DUPLICATE_ELEMENT', `<${name}> holds two values; the second is ignored`, at);
    else value = id === idA ? a : b;
  }
  if (value === undefined) p.missing(`${a} or ${b}`, name, at);
  return value;
}
