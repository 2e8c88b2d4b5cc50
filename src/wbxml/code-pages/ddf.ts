import type { CodePageData, CodePageSetData } from '../code-page.js';

// OMA DM DDF 1.2 (OMA-TS-DM_TND-V1_2 §8.6): code page 2, standalone or inside DM messages.
// Case matters: `Node` (0x24) is the element, `node` (0x25) the DFFormat value.
export const ddfPage: CodePageData = {
  page: 2,
  namespace: 'syncml:dmddf1.2',
  tags: {
    0x05: 'AccessType', 0x06: 'ACL', 0x07: 'Add', 0x08: 'b64', 0x09: 'bin', 0x0a: 'bool',
    0x0b: 'chr', 0x0c: 'CaseSense', 0x0d: 'CIS', 0x0e: 'Copy', 0x0f: 'CS', 0x10: 'date',
    0x11: 'DDFName', 0x12: 'DefaultValue', 0x13: 'Delete', 0x14: 'Description', 0x15: 'DFFormat',
    0x16: 'DFProperties', 0x17: 'DFTitle', 0x18: 'DFType', 0x19: 'Dynamic', 0x1a: 'Exec',
    0x1b: 'float', 0x1c: 'Format', 0x1d: 'Get', 0x1e: 'int', 0x1f: 'Man', 0x20: 'MgmtTree',
    0x21: 'MIME', 0x22: 'Mod', 0x23: 'Name', 0x24: 'Node', 0x25: 'node', 0x26: 'NodeName',
    0x27: 'null', 0x28: 'Occurrence', 0x29: 'One', 0x2a: 'OneOrMore', 0x2b: 'OneOrN',
    0x2c: 'Path', 0x2d: 'Permanent', 0x2e: 'Replace', 0x2f: 'RTProperties', 0x30: 'Scope',
    0x31: 'Size', 0x32: 'time', 0x33: 'Title', 0x34: 'TStamp', 0x35: 'Type', 0x36: 'Value',
    0x37: 'VerDTD', 0x38: 'VerNo', 0x39: 'xml', 0x3a: 'ZeroOrMore', 0x3b: 'ZeroOrN',
    0x3c: 'ZeroOrOne',
  },
};

// No numeric public ID exists (libwbxml: UNKNOWN): written as a string-table public ID.
export const ddf12: CodePageSetData = {
  name: 'DM DDF 1.2', root: 'MgmtTree', rootPage: 2, publicId: 0,
  publicIdString: '-//OMA//DTD-DM-DDF 1.2//EN',
  systemId: 'http://www.openmobilealliance.org/tech/DTD/dm_ddf-v1_2.dtd',
  version: '1.2',
  pages: [ddfPage],
};
