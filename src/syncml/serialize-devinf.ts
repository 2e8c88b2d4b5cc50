/**
 * DevInf documents in DTD order (OMA-SUP-DTD_SyncML_DevInf-V1_2; DevInf 1.1 for `legacy` CTCap
 * content, written back element by element under its own names).
 */
import type { CTCap, ContentTypeRef, DataStore, DevInf } from './devinf-types.js';
import {
  DI_CTCAP, DI_CTTYPE, DI_DATA_STORE, DI_DATA_TYPE, DI_DEV_ID, DI_DEV_INF, DI_DEV_TYP, DI_DISPLAY_NAME,
  DI_DS_MEM, DI_EXT, DI_FIELD_LEVEL, DI_FILTER_CAP, DI_FILTER_KEYWORD, DI_FILTER_RX, DI_FW_V, DI_HW_V,
  DI_MAN, DI_MAX_GUID_SIZE, DI_MAX_ID, DI_MAX_MEM, DI_MAX_OCCUR, DI_MAX_SIZE, DI_MOD, DI_NO_TRUNCATE,
  DI_OEM, DI_PARAM_NAME, DI_PROPERTY, DI_PROP_NAME, DI_PROP_PARAM, DI_RX, DI_RX_PREF, DI_SHARED_MEM,
  DI_SOURCE_REF, DI_SUPPORT_HIERARCHICAL_SYNC, DI_SUPPORT_LARGE_OBJS, DI_SUPPORT_NUMBER_OF_CHANGES,
  DI_SW_V, DI_SYNC_CAP, DI_SYNC_TYPE, DI_TX, DI_TX_PREF, DI_UTC, DI_VAL_ENUM, DI_VER_CT, DI_VER_DTD,
  DI_XNAM, DI_XVAL,
} from './elements.js';
import type { Walker } from './serialize.js';

function opt(w: Walker, id: number, v: string | undefined, what: string): void {
  if (v !== undefined) w.leaf(id, v, what);
}

function flag(w: Walker, id: number, v: boolean | undefined): void {
  if (v === true) w.s.empty(id);
}

export function writeDevInf(w: Walker, d: DevInf): void {
  const s = w.s;
  s.start(DI_DEV_INF);
  w.leaf(DI_VER_DTD, d.verDTD, 'verDTD');
  opt(w, DI_MAN, d.man, 'man');
  opt(w, DI_MOD, d.mod, 'mod');
  opt(w, DI_OEM, d.oem, 'oem');
  opt(w, DI_FW_V, d.fwV, 'fwV');
  opt(w, DI_SW_V, d.swV, 'swV');
  opt(w, DI_HW_V, d.hwV, 'hwV');
  w.leaf(DI_DEV_ID, d.devId, 'devId');
  w.leaf(DI_DEV_TYP, d.devTyp, 'devTyp');
  flag(w, DI_UTC, d.utc);
  flag(w, DI_SUPPORT_LARGE_OBJS, d.supportLargeObjs);
  flag(w, DI_SUPPORT_HIERARCHICAL_SYNC, d.supportHierarchicalSync);
  flag(w, DI_SUPPORT_NUMBER_OF_CHANGES, d.supportNumberOfChanges);
  for (const ds of d.dataStores) dataStore(w, ds);
  for (const c of d.ctCaps) ctCap(w, c);
  for (const x of d.exts) {
    s.start(DI_EXT);
    w.leaf(DI_XNAM, x.xNam, 'xNam');
    for (const v of x.xVals) w.leaf(DI_XVAL, v, 'xVal');
    s.end();
  }
  w.unknown(d.unknown, 0);
  s.end();
}

function ct(w: Walker, id: number, c: ContentTypeRef): void {
  w.s.start(id);
  w.leaf(DI_CTTYPE, c.ctType, 'ctType');
  w.leaf(DI_VER_CT, c.verCT, 'verCT');
  w.s.end();
}

function dataStore(w: Walker, ds: DataStore): void {
  const s = w.s;
  s.start(DI_DATA_STORE);
  w.leaf(DI_SOURCE_REF, ds.sourceRef, 'sourceRef');
  opt(w, DI_DISPLAY_NAME, ds.displayName, 'displayName');
  if (ds.maxGUIDSize !== undefined) w.num(DI_MAX_GUID_SIZE, ds.maxGUIDSize, 'maxGUIDSize');
  ct(w, DI_RX_PREF, ds.rxPref);
  for (const c of ds.rx) ct(w, DI_RX, c);
  ct(w, DI_TX_PREF, ds.txPref);
  for (const c of ds.tx) ct(w, DI_TX, c);
  for (const c of ds.ctCaps) ctCap(w, c);
  if (ds.dsMem !== undefined) {
    s.start(DI_DS_MEM);
    flag(w, DI_SHARED_MEM, ds.dsMem.sharedMem);
    if (ds.dsMem.maxMem !== undefined) w.num(DI_MAX_MEM, ds.dsMem.maxMem, 'maxMem');
    if (ds.dsMem.maxId !== undefined) w.num(DI_MAX_ID, ds.dsMem.maxId, 'maxId');
    s.end();
  }
  flag(w, DI_SUPPORT_HIERARCHICAL_SYNC, ds.supportHierarchicalSync);
  if (ds.syncCap.length > 0) {
    s.start(DI_SYNC_CAP);
    for (const t of ds.syncCap) w.leaf(DI_SYNC_TYPE, t, 'syncType');
    s.end();
  }
  for (const c of ds.filterRx) ct(w, DI_FILTER_RX, c);
  for (const f of ds.filterCaps) {
    s.start(DI_FILTER_CAP);
    w.leaf(DI_CTTYPE, f.ctType, 'ctType');
    w.leaf(DI_VER_CT, f.verCT, 'verCT');
    for (const k of f.filterKeywords) w.leaf(DI_FILTER_KEYWORD, k, 'filterKeyword');
    for (const p of f.propNames) w.leaf(DI_PROP_NAME, p, 'propName');
    s.end();
  }
  w.unknown(ds.unknown, 0);
  s.end();
}

function ctCap(w: Walker, c: CTCap): void {
  const s = w.s;
  s.start(DI_CTCAP);
  w.leaf(DI_CTTYPE, c.ctType, 'ctType');
  opt(w, DI_VER_CT, c.verCT, 'verCT');
  flag(w, DI_FIELD_LEVEL, c.fieldLevel);
  for (const p of c.properties) {
    s.start(DI_PROPERTY);
    w.leaf(DI_PROP_NAME, p.propName, 'propName');
    opt(w, DI_DATA_TYPE, p.dataType, 'dataType');
    if (p.maxOccur !== undefined) w.num(DI_MAX_OCCUR, p.maxOccur, 'maxOccur');
    if (p.maxSize !== undefined) w.num(DI_MAX_SIZE, p.maxSize, 'maxSize');
    flag(w, DI_NO_TRUNCATE, p.noTruncate);
    for (const v of p.valEnums) w.leaf(DI_VAL_ENUM, v, 'valEnum');
    opt(w, DI_DISPLAY_NAME, p.displayName, 'displayName');
    for (const pp of p.propParams) {
      s.start(DI_PROP_PARAM);
      w.leaf(DI_PARAM_NAME, pp.paramName, 'paramName');
      opt(w, DI_DATA_TYPE, pp.dataType, 'dataType');
      for (const v of pp.valEnums) w.leaf(DI_VAL_ENUM, v, 'valEnum');
      opt(w, DI_DISPLAY_NAME, pp.displayName, 'displayName');
      s.end();
    }
    s.end();
  }
  if (c.legacy !== undefined) {
    for (const { name, value } of c.legacy) {
      s.startName(w.str(name, 'legacy name'), 0);
      s.text(w.str(value, 'legacy value'));
      s.end();
    }
  }
  s.end();
}
