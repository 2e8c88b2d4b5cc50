import type { CodePageSetData } from '../code-page.js';

// SyncML Device Information, code page 0 of its own document (standalone, or nested in a SyncML
// Data element as OPAQUE). DevInf 1.0 uses the 1.1 table, as libwbxml does.
const devInfTags11: Record<number, string> = {
  0x05: 'CTCap', 0x06: 'CTType', 0x07: 'DataStore', 0x08: 'DataType', 0x09: 'DevID',
  0x0a: 'DevInf', 0x0b: 'DevTyp', 0x0c: 'DisplayName', 0x0d: 'DSMem', 0x0e: 'Ext', 0x0f: 'FwV',
  0x10: 'HwV', 0x11: 'Man', 0x12: 'MaxGUIDSize', 0x13: 'MaxID', 0x14: 'MaxMem', 0x15: 'Mod',
  0x16: 'OEM', 0x17: 'ParamName', 0x18: 'PropName', 0x19: 'Rx', 0x1a: 'Rx-Pref',
  0x1b: 'SharedMem', 0x1c: 'Size', 0x1d: 'SourceRef', 0x1e: 'SwV', 0x1f: 'SyncCap',
  0x20: 'SyncType', 0x21: 'Tx', 0x22: 'Tx-Pref', 0x23: 'ValEnum', 0x24: 'VerCT', 0x25: 'VerDTD',
  0x26: 'XNam', 0x27: 'XVal', 0x28: 'UTC', 0x29: 'SupportNumberOfChanges', 0x2a: 'SupportLargeObjs',
};

// 1.2 renames 0x1C to MaxSize and adds 0x2B-0x2E and 0x30-0x34 (0x2F stays unassigned).
const devInfTags12: Record<number, string> = {
  ...devInfTags11,
  0x1c: 'MaxSize', 0x2b: 'Property', 0x2c: 'PropParam', 0x2d: 'MaxOccur', 0x2e: 'NoTruncate',
  0x30: 'Filter-Rx', 0x31: 'FilterCap', 0x32: 'FilterKeyword', 0x33: 'FieldLevel',
  0x34: 'SupportHierarchicalSync',
};

const NS = 'syncml:devinf';

export const devInf10: CodePageSetData = {
  name: 'DevInf 1.0', root: 'DevInf', rootPage: 0, publicId: 0x0fd2,
  publicIdString: '-//SYNCML//DTD DevInf 1.0//EN', version: '1.0',
  pages: [{ page: 0, namespace: NS, tags: devInfTags11 }],
};
export const devInf11: CodePageSetData = {
  name: 'DevInf 1.1', root: 'DevInf', rootPage: 0, publicId: 0x0fd4,
  publicIdString: '-//SYNCML//DTD DevInf 1.1//EN', version: '1.1',
  pages: [{ page: 0, namespace: NS, tags: devInfTags11 }],
};
export const devInf12: CodePageSetData = {
  name: 'DevInf 1.2', root: 'DevInf', rootPage: 0, publicId: 0x1203,
  publicIdString: '-//SYNCML//DTD DevInf 1.2//EN',
  systemId: 'http://www.openmobilealliance.org/tech/DTD/OMA-SyncML-Device_Information-DTD-1.2.dtd',
  version: '1.2',
  // Writers still send the 1.1 name `Size` for what 1.2 calls MaxSize.
  pages: [{ page: 0, namespace: NS, tags: devInfTags12, aliases: { Size: 0x1c } }],
};
