/** DM DDF 1.2 / TNDS documents (`MgmtTree`) in DTD order (OMA-TS-DM_TND-V1_2 §8.5). */
import type { DdfAccess, DdfFormat, DdfNode, DdfOccurrence, DdfType, MgmtTree } from './ddf-types.js';
import {
  D_ACCESS_TYPE, D_ACL, D_ADD, D_B64, D_BIN, D_BOOL, D_CASE_SENSE, D_CHR, D_CIS, D_COPY, D_CS, D_DATE,
  D_DDF_NAME, D_DEFAULT_VALUE, D_DELETE, D_DESCRIPTION, D_DF_FORMAT, D_DF_PROPERTIES, D_DF_TITLE,
  D_DF_TYPE, D_DYNAMIC, D_EXEC, D_FLOAT, D_FMT_NODE, D_FORMAT, D_GET, D_INT, D_MAN, D_MGMT_TREE, D_MIME,
  D_MOD, D_NAME, D_NODE, D_NODE_NAME, D_NULL, D_OCCURRENCE, D_ONE, D_ONE_OR_MORE, D_ONE_OR_N, D_PATH,
  D_PERMANENT, D_REPLACE, D_RT_PROPERTIES, D_SCOPE, D_SIZE, D_TIME, D_TITLE, D_TSTAMP, D_TYPE, D_VALUE,
  D_VER_DTD, D_VER_NO, D_XML, D_ZERO_OR_MORE, D_ZERO_OR_N, D_ZERO_OR_ONE,
} from './elements.js';
import { SyncMLError } from './errors.js';
import type { Walker } from './serialize.js';

const FORMAT_IDS: Record<DdfFormat, number> = {
  b64: D_B64, bin: D_BIN, bool: D_BOOL, chr: D_CHR, int: D_INT, node: D_FMT_NODE, null: D_NULL, xml: D_XML,
  date: D_DATE, time: D_TIME, float: D_FLOAT,
};
/** AccessType children in DTD order: (Add?, Copy?, Delete?, Exec?, Get?, Replace?). */
const ACCESS_ORDER: readonly [DdfAccess, number][] = [
  ['Add', D_ADD], ['Copy', D_COPY], ['Delete', D_DELETE], ['Exec', D_EXEC], ['Get', D_GET], ['Replace', D_REPLACE],
];

function opt(w: Walker, id: number, v: string | undefined, what: string): void {
  if (v !== undefined) w.leaf(id, v, what);
}

export function writeMgmtTree(w: Walker, t: MgmtTree): void {
  const s = w.s;
  s.start(D_MGMT_TREE);
  w.leaf(D_VER_DTD, t.verDTD, 'verDTD');
  opt(w, D_MAN, t.man, 'man');
  opt(w, D_MOD, t.mod, 'mod');
  for (const n of t.nodes) node(w, n);
  w.unknown(t.unknown, 2);
  s.end();
}

function format(w: Walker, id: number, f: DdfFormat): void {
  const fid = FORMAT_IDS[f];
  if (fid === undefined) throw new SyncMLError('INVALID_ARGUMENT', `'${String(f)}' is not a DDF format`);
  w.s.start(id);
  w.s.empty(fid);
  w.s.end();
}

function type(w: Walker, id: number, t: DdfType): void {
  const s = w.s;
  s.start(id);
  if ('ddfName' in t) w.leaf(D_DDF_NAME, t.ddfName, 'ddfName');
  else {
    w.leaf(D_MIME, t.mime, 'mime');
    if (t.moreMimes !== undefined) for (const m of t.moreMimes) w.leaf(D_MIME, m, 'mime');
  }
  s.end();
}

function occurrence(w: Walker, o: DdfOccurrence): void {
  const s = w.s;
  s.start(D_OCCURRENCE);
  switch (o.kind) {
    case 'One': s.empty(D_ONE); break;
    case 'ZeroOrOne': s.empty(D_ZERO_OR_ONE); break;
    case 'ZeroOrMore': s.empty(D_ZERO_OR_MORE); break;
    case 'OneOrMore': s.empty(D_ONE_OR_MORE); break;
    case 'ZeroOrN': w.num(D_ZERO_OR_N, o.n, 'occurrence n'); break;
    case 'OneOrN': w.num(D_ONE_OR_N, o.n, 'occurrence n'); break;
    default: throw new SyncMLError('INVALID_ARGUMENT', `'${String((o as { kind?: unknown }).kind)}' is not a DDF occurrence`);
  }
  s.end();
}

function node(w: Walker, n: DdfNode): void {
  const s = w.s;
  s.start(D_NODE);
  w.leaf(D_NODE_NAME, n.nodeName, 'nodeName');
  opt(w, D_PATH, n.path, 'path');
  const rt = n.rtProperties;
  if (rt !== undefined) {
    s.start(D_RT_PROPERTIES);
    opt(w, D_ACL, rt.acl, 'acl');
    if (rt.format !== undefined) format(w, D_FORMAT, rt.format);
    opt(w, D_NAME, rt.name, 'name');
    opt(w, D_SIZE, rt.size, 'size');
    opt(w, D_TITLE, rt.title, 'title');
    opt(w, D_TSTAMP, rt.tStamp, 'tStamp');
    if (rt.type !== undefined) type(w, D_TYPE, rt.type);
    opt(w, D_VER_NO, rt.verNo, 'verNo');
    s.end();
  }
  const df = n.dfProperties;
  if (df !== undefined) {
    s.start(D_DF_PROPERTIES);
    s.start(D_ACCESS_TYPE);
    for (const [name, id] of ACCESS_ORDER) if (df.accessType.includes(name)) s.empty(id);
    s.end();
    opt(w, D_DEFAULT_VALUE, df.defaultValue, 'defaultValue');
    opt(w, D_DESCRIPTION, df.description, 'description');
    format(w, D_DF_FORMAT, df.dfFormat);
    if (df.occurrence !== undefined) occurrence(w, df.occurrence);
    if (df.scope !== undefined) {
      s.start(D_SCOPE);
      s.empty(df.scope === 'Permanent' ? D_PERMANENT : D_DYNAMIC);
      s.end();
    }
    opt(w, D_DF_TITLE, df.dfTitle, 'dfTitle');
    type(w, D_DF_TYPE, df.dfType);
    if (df.caseSense !== undefined) {
      s.start(D_CASE_SENSE);
      s.empty(df.caseSense === 'CS' ? D_CS : D_CIS);
      s.end();
    }
    w.unknown(df.unknown, 2);
    s.end();
  }
  for (const c of n.children) node(w, c);
  opt(w, D_VALUE, n.value, 'value');
  w.unknown(n.unknown, 2);
  s.end();
}
