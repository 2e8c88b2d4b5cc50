/**
 * Device Information (OMA-TS-DS_DevInf-V1_2 §5; SyncML DevInf 1.1): the element `DevInf` and
 * its subtree, read from a token source positioned at its START. DevInf 1.2 structure is fully
 * typed; DevInf 1.1's flat CTCap (PropName, ValEnum, ParamName... in sequence) is kept in
 * `legacy` name/value pairs, one CTCap per CTType.
 */
import type { CTCap, ContentTypeRef, DataStore, DevInf, DevInfExt, DevInfProperty } from './devinf-types.js';
import {
  DI_CTCAP, DI_CTTYPE, DI_DATA_STORE, DI_DATA_TYPE, DI_DEV_ID, DI_DEV_TYP, DI_DISPLAY_NAME, DI_DS_MEM,
  DI_EXT, DI_FIELD_LEVEL, DI_FILTER_CAP, DI_FILTER_KEYWORD, DI_FILTER_RX, DI_FW_V, DI_HW_V, DI_MAN,
  DI_MAX_GUID_SIZE, DI_MAX_ID, DI_MAX_MEM, DI_MAX_OCCUR, DI_MAX_SIZE, DI_MOD, DI_NO_TRUNCATE, DI_OEM,
  DI_PARAM_NAME, DI_PROPERTY, DI_PROP_NAME, DI_PROP_PARAM, DI_RX, DI_RX_PREF, DI_SHARED_MEM,
  DI_SOURCE_REF, DI_SUPPORT_HIERARCHICAL_SYNC, DI_SUPPORT_LARGE_OBJS, DI_SUPPORT_NUMBER_OF_CHANGES,
  DI_SW_V, DI_SYNC_CAP, DI_SYNC_TYPE, DI_TX, DI_TX_PREF, DI_UTC, DI_VAL_ENUM, DI_VER_CT, DI_VER_DTD,
  DI_XNAM, DI_XVAL,
} from './elements.js';
import { model, rep, seen, type Holder, type ParserCore } from './parse-core.js';

// Content models: DevInf 1.2 DTD (OMA-SUP-DTD_SyncML_DevInf-V1_2); 1.1 is a subset apart from CTCap.
const T_DEVINF = model(
  DI_VER_DTD, DI_MAN, DI_MOD, DI_OEM, DI_FW_V, DI_SW_V, DI_HW_V, DI_DEV_ID, DI_DEV_TYP, DI_UTC,
  DI_SUPPORT_LARGE_OBJS, DI_SUPPORT_HIERARCHICAL_SYNC, DI_SUPPORT_NUMBER_OF_CHANGES, rep(DI_DATA_STORE),
  rep(DI_CTCAP), rep(DI_EXT),
);
const T_DATASTORE = model(
  DI_SOURCE_REF, DI_DISPLAY_NAME, DI_MAX_GUID_SIZE, DI_RX_PREF, rep(DI_RX), DI_TX_PREF, rep(DI_TX),
  rep(DI_CTCAP), DI_DS_MEM, DI_SUPPORT_HIERARCHICAL_SYNC, DI_SYNC_CAP, rep(DI_FILTER_RX), rep(DI_FILTER_CAP),
);
const T_CT = model(DI_CTTYPE, DI_VER_CT);
const T_DSMEM = model(DI_SHARED_MEM, DI_MAX_MEM, DI_MAX_ID);
const T_SYNCCAP = model(rep(DI_SYNC_TYPE));
const T_EXT = model(DI_XNAM, rep(DI_XVAL));
const T_PROPERTY = model(
  DI_PROP_NAME, DI_DATA_TYPE, DI_MAX_OCCUR, DI_MAX_SIZE, DI_NO_TRUNCATE, rep(DI_VAL_ENUM), DI_DISPLAY_NAME,
  rep(DI_PROP_PARAM),
);
const T_PROPPARAM = model(DI_PARAM_NAME, DI_DATA_TYPE, rep(DI_VAL_ENUM), DI_DISPLAY_NAME);
const T_FILTERCAP = model(DI_CTTYPE, DI_VER_CT, rep(DI_FILTER_KEYWORD), rep(DI_PROP_NAME));


/** Reads the DevInf element whose START is current. */
export function readDevInf(p: ParserCore): DevInf {
  const src = p.src;
  const at = src.offset;
  const d: DevInf = {
    kind: 'DevInf', verDTD: '', man: undefined, mod: undefined, oem: undefined, fwV: undefined,
    swV: undefined, hwV: undefined, devId: '', devTyp: '', utc: undefined, supportLargeObjs: undefined,
    supportHierarchicalSync: undefined, supportNumberOfChanges: undefined, dataStores: [], ctCaps: [],
    exts: [], unknown: undefined,
  };
  let st = 0;
  while (p.child()) {
    const id = src.id;
    const n = p.step(T_DEVINF, st, d, 'DevInf');
    if (n < 0) continue;
    st = n;
    switch (id) {
      case DI_VER_DTD: d.verDTD = p.ident(); break;
      case DI_MAN: d.man = p.leaf(); break;
      case DI_MOD: d.mod = p.leaf(); break;
      case DI_OEM: d.oem = p.leaf(); break;
      case DI_FW_V: d.fwV = p.leaf(); break;
      case DI_SW_V: d.swV = p.leaf(); break;
      case DI_HW_V: d.hwV = p.leaf(); break;
      case DI_DEV_ID: d.devId = p.leaf(); break;
      case DI_DEV_TYP: d.devTyp = p.ident(); break;
      case DI_UTC: d.utc = p.flag(); break;
      case DI_SUPPORT_LARGE_OBJS: d.supportLargeObjs = p.flag(); break;
      case DI_SUPPORT_HIERARCHICAL_SYNC: d.supportHierarchicalSync = p.flag(); break;
      case DI_SUPPORT_NUMBER_OF_CHANGES: d.supportNumberOfChanges = p.flag(); break;
      case DI_DATA_STORE: d.dataStores.push(readDataStore(p)); break;
      case DI_CTCAP: for (const c of readCTCap(p, d)) d.ctCaps.push(c); break;
      case DI_EXT: d.exts.push(readExt(p, d)); break;
    }
  }
  if (!seen(st, 1)) p.missing('VerDTD', 'DevInf', at);
  if (!seen(st, 8)) p.missing('DevID', 'DevInf', at);
  if (!seen(st, 9)) p.missing('DevTyp', 'DevInf', at);
  return d;
}

function readDataStore(p: ParserCore): DataStore {
  const src = p.src;
  const at = src.offset;
  const ds: DataStore = {
    sourceRef: '', displayName: undefined, maxGUIDSize: undefined, rxPref: { ctType: '', verCT: '' }, rx: [],
    txPref: { ctType: '', verCT: '' }, tx: [], ctCaps: [], dsMem: undefined, supportHierarchicalSync: undefined,
    syncCap: [], filterRx: [], filterCaps: [], unknown: undefined,
  };
  let st = 0;
  while (p.child()) {
    const id = src.id;
    const n = p.step(T_DATASTORE, st, ds, 'DataStore');
    if (n < 0) continue;
    st = n;
    switch (id) {
      case DI_SOURCE_REF: ds.sourceRef = p.ident(); break;
      case DI_DISPLAY_NAME: ds.displayName = p.leaf(); break;
      case DI_MAX_GUID_SIZE: ds.maxGUIDSize = p.uint('MaxGUIDSize'); break;
      case DI_RX_PREF: ds.rxPref = readCT(p, ds, 'Rx-Pref'); break;
      case DI_RX: ds.rx.push(readCT(p, ds, 'Rx')); break;
      case DI_TX_PREF: ds.txPref = readCT(p, ds, 'Tx-Pref'); break;
      case DI_TX: ds.tx.push(readCT(p, ds, 'Tx')); break;
      case DI_CTCAP: for (const c of readCTCap(p, ds)) ds.ctCaps.push(c); break;
      case DI_DS_MEM: ds.dsMem = readDSMem(p, ds); break;
      case DI_SUPPORT_HIERARCHICAL_SYNC: ds.supportHierarchicalSync = p.flag(); break;
      case DI_SYNC_CAP: ds.syncCap = readSyncCap(p, ds); break;
      case DI_FILTER_RX: ds.filterRx.push(readCT(p, ds, 'Filter-Rx')); break;
      case DI_FILTER_CAP: ds.filterCaps.push(readFilterCap(p, ds)); break;
    }
  }
  if (!seen(st, 1)) p.missing('SourceRef', 'DataStore', at);
  return ds;
}

function readCT(p: ParserCore, holder: Holder, name: string): ContentTypeRef {
  const src = p.src;
  const at = src.offset;
  const ct: ContentTypeRef = { ctType: '', verCT: '' };
  let st = 0;
  while (p.child()) {
    const id = src.id;
    const n = p.step(T_CT, st, holder, name);
    if (n < 0) continue;
    st = n;
    if (id === DI_CTTYPE) ct.ctType = p.ident();
    else ct.verCT = p.ident();
  }
  if (!seen(st, 1)) p.missing('CTType', name, at);
  if (!seen(st, 2)) p.missing('VerCT', name, at);
  return ct;
}

function readDSMem(p: ParserCore, holder: Holder): NonNullable<DataStore['dsMem']> {
  const src = p.src;
  const m: NonNullable<DataStore['dsMem']> = { sharedMem: undefined, maxMem: undefined, maxId: undefined };
  let st = 0;
  while (p.child()) {
    const id = src.id;
    const n = p.step(T_DSMEM, st, holder, 'DSMem');
    if (n < 0) continue;
    st = n;
    if (id === DI_SHARED_MEM) m.sharedMem = p.flag();
    else if (id === DI_MAX_MEM) m.maxMem = p.uint('MaxMem');
    else m.maxId = p.uint('MaxID');
  }
  return m;
}

function readSyncCap(p: ParserCore, holder: Holder): string[] {
  const out: string[] = [];
  let st = 0;
  while (p.child()) {
    const n = p.step(T_SYNCCAP, st, holder, 'SyncCap');
    if (n < 0) continue;
    st = n;
    out.push(p.ident());
  }
  return out;
}

function readExt(p: ParserCore, holder: Holder): DevInfExt {
  const src = p.src;
  const at = src.offset;
  const x: DevInfExt = { xNam: '', xVals: [] };
  let st = 0;
  while (p.child()) {
    const id = src.id;
    const n = p.step(T_EXT, st, holder, 'Ext');
    if (n < 0) continue;
    st = n;
    if (id === DI_XNAM) x.xNam = p.leaf();
    else x.xVals.push(p.leaf());
  }
  if (!seen(st, 1)) p.missing('XNam', 'Ext', at);
  return x;
}

function readFilterCap(p: ParserCore, holder: Holder): DataStore['filterCaps'][number] {
  const src = p.src;
  const f: DataStore['filterCaps'][number] = { ctType: '', verCT: '', filterKeywords: [], propNames: [] };
  let st = 0;
  while (p.child()) {
    const id = src.id;
    const n = p.step(T_FILTERCAP, st, holder, 'FilterCap');
    if (n < 0) continue;
    st = n;
    switch (id) {
      case DI_CTTYPE: f.ctType = p.ident(); break;
      case DI_VER_CT: f.verCT = p.ident(); break;
      case DI_FILTER_KEYWORD: f.filterKeywords.push(p.leaf()); break;
      case DI_PROP_NAME: f.propNames.push(p.leaf()); break;
    }
  }
  return f;
}

/**
 * CTCap: 1.2 `(CTType, VerCT, FieldLevel?, Property+)`; 1.1 `(CTType, (PropName, ...)+)+` flat.
 * A 1.1 CTCap listing several CTTypes becomes several CTCap objects.
 */
function readCTCap(p: ParserCore, holder: Holder): CTCap[] {
  const src = p.src;
  const out: CTCap[] = [];
  let cap: CTCap | undefined;
  const fresh = (): CTCap => ({ ctType: '', verCT: undefined, fieldLevel: undefined, properties: [], legacy: undefined });
  while (p.child()) {
    const id = src.id;
    if (src.hasAttributes) p.attributesOn();
    switch (id) {
      case DI_CTTYPE:
        if (cap === undefined || cap.ctType !== '' || cap.properties.length > 0 || cap.legacy !== undefined) {
          cap = fresh();
          out.push(cap);
        }
        cap.ctType = p.ident();
        break;
      case DI_VER_CT:
        if (cap === undefined) out.push((cap = fresh()));
        cap.verCT = p.ident();
        break;
      case DI_FIELD_LEVEL:
        if (cap === undefined) out.push((cap = fresh()));
        cap.fieldLevel = p.flag();
        break;
      case DI_PROPERTY:
        if (cap === undefined) out.push((cap = fresh()));
        cap.properties.push(readProperty(p, holder));
        break;
      case DI_PROP_NAME: case DI_VAL_ENUM: case DI_DATA_TYPE: case DI_MAX_SIZE: case DI_DISPLAY_NAME:
      case DI_PARAM_NAME: case DI_NO_TRUNCATE: case DI_MAX_OCCUR: {
        // DevInf 1.1 lists properties flat; keep every element, in order, under its own name.
        if (cap === undefined) out.push((cap = fresh()));
        const name = src.name();
        (cap.legacy ??= []).push({ name, value: p.leaf() });
        break;
      }
      default:
        p.unexpected(holder, 'CTCap');
    }
  }
  if (out.length === 0) p.missing('CTType', 'CTCap', src.offset);
  return out;
}

function readProperty(p: ParserCore, holder: Holder): DevInfProperty {
  const src = p.src;
  const at = src.offset;
  const prop: DevInfProperty = {
    propName: '', dataType: undefined, maxOccur: undefined, maxSize: undefined, noTruncate: undefined,
    valEnums: [], displayName: undefined, propParams: [],
  };
  let st = 0;
  while (p.child()) {
    const id = src.id;
    const n = p.step(T_PROPERTY, st, holder, 'Property');
    if (n < 0) continue;
    st = n;
    switch (id) {
      case DI_PROP_NAME: prop.propName = p.leaf(); break;
      case DI_DATA_TYPE: prop.dataType = p.ident(); break;
      case DI_MAX_OCCUR: prop.maxOccur = p.uint('MaxOccur'); break;
      case DI_MAX_SIZE: prop.maxSize = p.uint('MaxSize'); break;
      case DI_NO_TRUNCATE: prop.noTruncate = p.flag(); break;
      case DI_VAL_ENUM: prop.valEnums.push(p.leaf()); break;
      case DI_DISPLAY_NAME: prop.displayName = p.leaf(); break;
      case DI_PROP_PARAM: prop.propParams.push(readPropParam(p, holder)); break;
    }
  }
  if (!seen(st, 1)) p.missing('PropName', 'Property', at);
  return prop;
}

function readPropParam(p: ParserCore, holder: Holder): DevInfProperty['propParams'][number] {
  const src = p.src;
  const at = src.offset;
  const pp: DevInfProperty['propParams'][number] = { paramName: '', dataType: undefined, valEnums: [], displayName: undefined };
  let st = 0;
  while (p.child()) {
    const id = src.id;
    const n = p.step(T_PROPPARAM, st, holder, 'PropParam');
    if (n < 0) continue;
    st = n;
    switch (id) {
      case DI_PARAM_NAME: pp.paramName = p.leaf(); break;
      case DI_DATA_TYPE: pp.dataType = p.ident(); break;
      case DI_VAL_ENUM: pp.valEnums.push(p.leaf()); break;
      case DI_DISPLAY_NAME: pp.displayName = p.leaf(); break;
    }
  }
  if (!seen(st, 1)) p.missing('ParamName', 'PropParam', at);
  return pp;
}

