import type { CodePageData, CodePageSetData, NestedDocumentRule } from '../code-page.js';
import { metInfTags10, metInfTags11, metInfTags12 } from './metinf.js';
import { ddfPage } from './ddf.js';

// SyncML representation protocol, code page 0. Tokens from SyncML RepPro 1.1/1.2 as tabulated in
// libwbxml's wbxml_tables.c, the SyncML RTK's xlttags.c and Funambol's kXML tables (all agree);
// 0x30 is unassigned in every version.
const syncmlTags10: Record<number, string> = {
  0x05: 'Add', 0x06: 'Alert', 0x07: 'Archive', 0x08: 'Atomic', 0x09: 'Chal', 0x0a: 'Cmd',
  0x0b: 'CmdID', 0x0c: 'CmdRef', 0x0d: 'Copy', 0x0e: 'Cred', 0x0f: 'Data', 0x10: 'Delete',
  0x11: 'Exec', 0x12: 'Final', 0x13: 'Get', 0x14: 'Item', 0x15: 'Lang', 0x16: 'LocName',
  0x17: 'LocURI', 0x18: 'Map', 0x19: 'MapItem', 0x1a: 'Meta', 0x1b: 'MsgID', 0x1c: 'MsgRef',
  0x1d: 'NoResp', 0x1e: 'NoResults', 0x1f: 'Put', 0x20: 'Replace', 0x21: 'RespURI',
  0x22: 'Results', 0x23: 'Search', 0x24: 'Sequence', 0x25: 'SessionID', 0x26: 'SftDel',
  0x27: 'Source', 0x28: 'SourceRef', 0x29: 'Status', 0x2a: 'Sync', 0x2b: 'SyncBody',
  0x2c: 'SyncHdr', 0x2d: 'SyncML', 0x2e: 'Target', 0x2f: 'TargetRef', 0x31: 'VerDTD',
  0x32: 'VerProto',
};

const syncmlTags11: Record<number, string> = {
  ...syncmlTags10,
  0x33: 'NumberOfChanges', 0x34: 'MoreData',
  // Not in the 1.1 DTD: a Nokia extension (SMS sync) that libwbxml accepts in 1.1 documents.
  0x39: 'SourceParent',
};

const syncmlTags12: Record<number, string> = {
  ...syncmlTags11,
  0x35: 'Field', 0x36: 'Filter', 0x37: 'Record', 0x38: 'FilterType', 0x39: 'SourceParent',
  0x3a: 'TargetParent', 0x3b: 'Move', 0x3c: 'Correlator',
};

const DEVINF_XML = 'application/vnd.syncml-devinf+xml';
const DEVINF_WBXML = 'application/vnd.syncml-devinf+wbxml';
const TNDS_XML = 'application/vnd.syncml.dmtnds+xml';
const TNDS_WBXML = 'application/vnd.syncml.dmtnds+wbxml';

function nestedRule(devInfSet: string, withTnds: boolean): NestedDocumentRule {
  const types = [{ xml: DEVINF_XML, wbxml: DEVINF_WBXML, root: 'DevInf', namespace: 'syncml:devinf', set: devInfSet }];
  if (withTnds) types.push({ xml: TNDS_XML, wbxml: TNDS_WBXML, root: 'MgmtTree', namespace: 'syncml:dmddf1.2', set: 'DM DDF 1.2' });
  return {
    carrier: { page: 0, name: 'Data' },
    typeElement: { page: 1, name: 'Type' },
    formatElement: { page: 1, name: 'Format' },
    types,
  };
}

function pages(ns: string, tags: Record<number, string>, metInf: Record<number, string>, ddf: boolean): CodePageData[] {
  const result: CodePageData[] = [
    { page: 0, namespace: ns, tags },
    { page: 1, namespace: 'syncml:metinf', tags: metInf },
  ];
  // OMA DM TND 1.2 §8.6 assigns DDF to code page 2 of DM messages.
  if (ddf) result.push(ddfPage);
  return result;
}

export const syncml10: CodePageSetData = {
  name: 'SyncML 1.0',
  root: 'SyncML',
  rootPage: 0,
  publicId: 0x0fd1,
  publicIdString: '-//SYNCML//DTD SyncML 1.0//EN',
  systemId: 'http://www.syncml.org/docs/syncml_represent_v10_20001207.dtd',
  version: '1.0',
  pages: pages('SYNCML:SYNCML1.0', syncmlTags10, metInfTags10, false),
  nested: nestedRule('DevInf 1.0', false),
};

export const syncml11: CodePageSetData = {
  name: 'SyncML 1.1',
  root: 'SyncML',
  rootPage: 0,
  publicId: 0x0fd3,
  publicIdString: '-//SYNCML//DTD SyncML 1.1//EN',
  systemId: 'http://www.syncml.org/docs/syncml_represent_v11_20020213.dtd',
  version: '1.1',
  pages: pages('SYNCML:SYNCML1.1', syncmlTags11, metInfTags11, false),
  nested: nestedRule('DevInf 1.1', false),
};

export const syncml12: CodePageSetData = {
  name: 'SyncML 1.2',
  root: 'SyncML',
  rootPage: 0,
  publicId: 0x1201,
  publicIdString: '-//SYNCML//DTD SyncML 1.2//EN',
  // OMA's own 2007 DTD spells it `SYNCML 1.2` (equal once case is ignored); a 2004 draft used OMA.
  publicIdAliases: ['-//OMA//DTD SYNCML 1.2//EN'],
  systemId: 'http://www.openmobilealliance.org/tech/DTD/OMA-TS-SyncML_RepPro_DTD-V1_2.dtd',
  version: '1.2',
  pages: pages('SYNCML:SYNCML1.2', syncmlTags12, metInfTags12, true),
  nested: nestedRule('DevInf 1.2', true),
};
