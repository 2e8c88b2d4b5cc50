/**
 * SyncML Device Information 1.1 / 1.2 (OMA-TS-DS_DevInf-V1_2) as plain objects. Standalone or
 * embedded in a `Data` element. Optional booleans stand for empty elements (`<UTC/>`).
 */
import type { UnknownElement } from './types.js';

/** `DevInf`. @public */
export interface DevInf {
  kind: 'DevInf';
  verDTD: string;
  man?: string;
  mod?: string;
  oem?: string;
  fwV?: string;
  swV?: string;
  hwV?: string;
  devId: string;
  devTyp: string;
  utc?: boolean;
  supportLargeObjs?: boolean;
  supportHierarchicalSync?: boolean;
  supportNumberOfChanges?: boolean;
  dataStores: DataStore[];
  /** DevInf 1.1 puts CTCap at this level; 1.2 inside each DataStore. */
  ctCaps: CTCap[];
  exts: DevInfExt[];
  unknown?: UnknownElement[];
}

/** `Rx`, `Tx`, `Rx-Pref`, `Tx-Pref`: a content type and its version. @public */
export interface ContentTypeRef {
  ctType: string;
  verCT: string;
}

/** `DataStore`. @public */
export interface DataStore {
  sourceRef: string;
  displayName?: string;
  maxGUIDSize?: number;
  rxPref: ContentTypeRef;
  rx: ContentTypeRef[];
  txPref: ContentTypeRef;
  tx: ContentTypeRef[];
  ctCaps: CTCap[];
  dsMem?: { sharedMem?: boolean; maxMem?: number; maxId?: number };
  supportHierarchicalSync?: boolean;
  syncCap: string[];
  filterRx: ContentTypeRef[];
  filterCaps: { ctType: string; verCT: string; filterKeywords: string[]; propNames: string[] }[];
  unknown?: UnknownElement[];
}

/**
 * `CTCap`. 1.2 nests properties; 1.1 lists `PropName`, `ValEnum`, `ParamName`... as a flat
 * sequence, kept in `legacy` (name/value pairs in document order) so nothing is lost.
 * @public
 */
export interface CTCap {
  ctType: string;
  verCT?: string;
  fieldLevel?: boolean;
  properties: DevInfProperty[];
  legacy?: { name: string; value: string }[];
}

/** `Property` (1.2). @public */
export interface DevInfProperty {
  propName: string;
  dataType?: string;
  maxOccur?: number;
  maxSize?: number;
  noTruncate?: boolean;
  valEnums: string[];
  displayName?: string;
  propParams: { paramName: string; dataType?: string; valEnums: string[]; displayName?: string }[];
}

/** `Ext`: a vendor extension name and values. @public */
export interface DevInfExt {
  xNam: string;
  xVals: string[];
}
