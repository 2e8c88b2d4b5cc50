import type { CodePageSetData } from '../code-page.js';

// SyncML Meta Information, code page 1 inside SyncML documents and in standalone MetInf documents.
export const metInfTags10: Record<number, string> = {
  0x05: 'Anchor', 0x06: 'EMI', 0x07: 'Format', 0x08: 'FreeID', 0x09: 'FreeMem', 0x0a: 'Last',
  0x0b: 'Mark', 0x0c: 'MaxMsgSize', 0x0d: 'Mem', 0x0e: 'MetInf', 0x0f: 'Next', 0x10: 'NextNonce',
  0x11: 'SharedMem', 0x12: 'Size', 0x13: 'Type', 0x14: 'Version',
};
export const metInfTags11: Record<number, string> = { ...metInfTags10, 0x15: 'MaxObjSize' };
export const metInfTags12: Record<number, string> = { ...metInfTags11, 0x16: 'FieldLevel' };

const NS = 'syncml:metinf';

// MetInf 1.0 and 1.1 have no registered numeric public ID: they are written by string table.
export const metInf10: CodePageSetData = {
  name: 'MetInf 1.0', root: 'MetInf', rootPage: 1, publicId: 0,
  publicIdString: '-//SYNCML//DTD MetInf 1.0//EN', version: '1.0',
  pages: [{ page: 1, namespace: NS, tags: metInfTags10 }],
};
export const metInf11: CodePageSetData = {
  name: 'MetInf 1.1', root: 'MetInf', rootPage: 1, publicId: 0,
  publicIdString: '-//SYNCML//DTD MetInf 1.1//EN', version: '1.1',
  pages: [{ page: 1, namespace: NS, tags: metInfTags11 }],
};
export const metInf12: CodePageSetData = {
  name: 'MetInf 1.2', root: 'MetInf', rootPage: 1, publicId: 0x1202,
  publicIdString: '-//SYNCML//DTD MetInf 1.2//EN',
  systemId: 'http://www.openmobilealliance.org/tech/DTD/OMA-TS-SyncML_MetaInfo_DTD-V1_2.dtd',
  version: '1.2',
  pages: [{ page: 1, namespace: NS, tags: metInfTags12 }],
};
