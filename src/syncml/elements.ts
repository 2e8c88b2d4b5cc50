/**
 * Element ids (`page << 8 | token`) resolved once from the code pages, so the parser and the
 * serializer switch on small integers. SyncML, MetInf and DM DDF ids come from the SyncML 1.2
 * set (a superset of 1.0/1.1: the tokens of shared names are equal); DevInf ids from DevInf 1.2.
 */
import type { CodePageSet } from '../wbxml/code-page.js';
import { codePageSet } from '../wbxml/code-pages/index.js';

/** SyncML 1.2 + MetInf 1.2 + DM DDF 1.2 (pages 0, 1, 2). */
export const SYNCML12: CodePageSet = codePageSet('SyncML 1.2');
export const SYNCML11: CodePageSet = codePageSet('SyncML 1.1');
export const SYNCML10: CodePageSet = codePageSet('SyncML 1.0');
export const DEVINF12: CodePageSet = codePageSet('DevInf 1.2');
export const DEVINF11: CodePageSet = codePageSet('DevInf 1.1');
export const DEVINF10: CodePageSet = codePageSet('DevInf 1.0');
export const DDF12: CodePageSet = codePageSet('DM DDF 1.2');

function idIn(set: CodePageSet, name: string, page: number): number {
  const ids = set.tagTokensAll.get(name);
  if (ids) for (const id of ids) if (id >> 8 === page) return id;
  throw new Error(`code pages of ${set.name} lack <${name}> on page ${page}`);
}
const tag = (name: string, page: number): number => idIn(SYNCML12, name, page);
const di = (name: string): number => idIn(DEVINF12, name, 0);

// SyncML, code page 0.
export const ADD = tag('Add', 0);
export const ALERT = tag('Alert', 0);
export const ARCHIVE = tag('Archive', 0);
export const ATOMIC = tag('Atomic', 0);
export const CHAL = tag('Chal', 0);
export const CMD = tag('Cmd', 0);
export const CMD_ID = tag('CmdID', 0);
export const CMD_REF = tag('CmdRef', 0);
export const COPY = tag('Copy', 0);
export const CRED = tag('Cred', 0);
export const DATA = tag('Data', 0);
export const DELETE = tag('Delete', 0);
export const EXEC = tag('Exec', 0);
export const FINAL = tag('Final', 0);
export const GET = tag('Get', 0);
export const ITEM = tag('Item', 0);
export const LANG = tag('Lang', 0);
export const LOC_NAME = tag('LocName', 0);
export const LOC_URI = tag('LocURI', 0);
export const MAP = tag('Map', 0);
export const MAP_ITEM = tag('MapItem', 0);
export const META = tag('Meta', 0);
export const MSG_ID = tag('MsgID', 0);
export const MSG_REF = tag('MsgRef', 0);
export const NO_RESP = tag('NoResp', 0);
export const NO_RESULTS = tag('NoResults', 0);
export const PUT = tag('Put', 0);
export const REPLACE = tag('Replace', 0);
export const RESP_URI = tag('RespURI', 0);
export const RESULTS = tag('Results', 0);
export const SEARCH = tag('Search', 0);
export const SEQUENCE = tag('Sequence', 0);
export const SESSION_ID = tag('SessionID', 0);
export const SFT_DEL = tag('SftDel', 0);
export const SOURCE = tag('Source', 0);
export const SOURCE_REF = tag('SourceRef', 0);
export const STATUS = tag('Status', 0);
export const SYNC = tag('Sync', 0);
export const SYNC_BODY = tag('SyncBody', 0);
export const SYNC_HDR = tag('SyncHdr', 0);
export const SYNC_ML = tag('SyncML', 0);
export const TARGET = tag('Target', 0);
export const TARGET_REF = tag('TargetRef', 0);
export const VER_DTD = tag('VerDTD', 0);
export const VER_PROTO = tag('VerProto', 0);
export const NUMBER_OF_CHANGES = tag('NumberOfChanges', 0);
export const MORE_DATA = tag('MoreData', 0);
export const FIELD = tag('Field', 0);
export const FILTER = tag('Filter', 0);
export const RECORD = tag('Record', 0);
export const FILTER_TYPE = tag('FilterType', 0);
export const SOURCE_PARENT = tag('SourceParent', 0);
export const TARGET_PARENT = tag('TargetParent', 0);
export const MOVE = tag('Move', 0);
export const CORRELATOR = tag('Correlator', 0);

// MetInf, code page 1.
export const M_ANCHOR = tag('Anchor', 1);
export const M_EMI = tag('EMI', 1);
export const M_FORMAT = tag('Format', 1);
export const M_FREE_ID = tag('FreeID', 1);
export const M_FREE_MEM = tag('FreeMem', 1);
export const M_LAST = tag('Last', 1);
export const M_MARK = tag('Mark', 1);
export const M_MAX_MSG_SIZE = tag('MaxMsgSize', 1);
export const M_MEM = tag('Mem', 1);
export const M_MET_INF = tag('MetInf', 1);
export const M_NEXT = tag('Next', 1);
export const M_NEXT_NONCE = tag('NextNonce', 1);
export const M_SHARED_MEM = tag('SharedMem', 1);
export const M_SIZE = tag('Size', 1);
export const M_TYPE = tag('Type', 1);
export const M_VERSION = tag('Version', 1);
export const M_MAX_OBJ_SIZE = tag('MaxObjSize', 1);
export const M_FIELD_LEVEL = tag('FieldLevel', 1);

// DM DDF, code page 2 (the same ids in the standalone `DM DDF 1.2` set).
export const D_ACCESS_TYPE = tag('AccessType', 2);
export const D_ACL = tag('ACL', 2);
export const D_ADD = tag('Add', 2);
export const D_B64 = tag('b64', 2);
export const D_BIN = tag('bin', 2);
export const D_BOOL = tag('bool', 2);
export const D_CHR = tag('chr', 2);
export const D_CASE_SENSE = tag('CaseSense', 2);
export const D_CIS = tag('CIS', 2);
export const D_COPY = tag('Copy', 2);
export const D_CS = tag('CS', 2);
export const D_DATE = tag('date', 2);
export const D_DDF_NAME = tag('DDFName', 2);
export const D_DEFAULT_VALUE = tag('DefaultValue', 2);
export const D_DELETE = tag('Delete', 2);
export const D_DESCRIPTION = tag('Description', 2);
export const D_DF_FORMAT = tag('DFFormat', 2);
export const D_DF_PROPERTIES = tag('DFProperties', 2);
export const D_DF_TITLE = tag('DFTitle', 2);
export const D_DF_TYPE = tag('DFType', 2);
export const D_DYNAMIC = tag('Dynamic', 2);
export const D_EXEC = tag('Exec', 2);
export const D_FLOAT = tag('float', 2);
export const D_FORMAT = tag('Format', 2);
export const D_GET = tag('Get', 2);
export const D_INT = tag('int', 2);
export const D_MAN = tag('Man', 2);
export const D_MGMT_TREE = tag('MgmtTree', 2);
export const D_MIME = tag('MIME', 2);
export const D_MOD = tag('Mod', 2);
export const D_NAME = tag('Name', 2);
export const D_NODE = tag('Node', 2);
export const D_FMT_NODE = tag('node', 2);
export const D_NODE_NAME = tag('NodeName', 2);
export const D_NULL = tag('null', 2);
export const D_OCCURRENCE = tag('Occurrence', 2);
export const D_ONE = tag('One', 2);
export const D_ONE_OR_MORE = tag('OneOrMore', 2);
export const D_ONE_OR_N = tag('OneOrN', 2);
export const D_PATH = tag('Path', 2);
export const D_PERMANENT = tag('Permanent', 2);
export const D_REPLACE = tag('Replace', 2);
export const D_RT_PROPERTIES = tag('RTProperties', 2);
export const D_SCOPE = tag('Scope', 2);
export const D_SIZE = tag('Size', 2);
export const D_TIME = tag('time', 2);
export const D_TITLE = tag('Title', 2);
export const D_TSTAMP = tag('TStamp', 2);
export const D_TYPE = tag('Type', 2);
export const D_VALUE = tag('Value', 2);
export const D_VER_DTD = tag('VerDTD', 2);
export const D_VER_NO = tag('VerNo', 2);
export const D_XML = tag('xml', 2);
export const D_ZERO_OR_MORE = tag('ZeroOrMore', 2);
export const D_ZERO_OR_N = tag('ZeroOrN', 2);
export const D_ZERO_OR_ONE = tag('ZeroOrOne', 2);

// DevInf, code page 0 of its own document.
export const DI_CTCAP = di('CTCap');
export const DI_CTTYPE = di('CTType');
export const DI_DATA_STORE = di('DataStore');
export const DI_DATA_TYPE = di('DataType');
export const DI_DEV_ID = di('DevID');
export const DI_DEV_INF = di('DevInf');
export const DI_DEV_TYP = di('DevTyp');
export const DI_DISPLAY_NAME = di('DisplayName');
export const DI_DS_MEM = di('DSMem');
export const DI_EXT = di('Ext');
export const DI_FW_V = di('FwV');
export const DI_HW_V = di('HwV');
export const DI_MAN = di('Man');
export const DI_MAX_GUID_SIZE = di('MaxGUIDSize');
export const DI_MAX_ID = di('MaxID');
export const DI_MAX_MEM = di('MaxMem');
export const DI_MOD = di('Mod');
export const DI_OEM = di('OEM');
export const DI_PARAM_NAME = di('ParamName');
export const DI_PROP_NAME = di('PropName');
export const DI_RX = di('Rx');
export const DI_RX_PREF = di('Rx-Pref');
export const DI_SHARED_MEM = di('SharedMem');
/** 0x1C: `Size` in DevInf 1.0/1.1, `MaxSize` in 1.2. */
export const DI_MAX_SIZE = di('MaxSize');
export const DI_SOURCE_REF = di('SourceRef');
export const DI_SW_V = di('SwV');
export const DI_SYNC_CAP = di('SyncCap');
export const DI_SYNC_TYPE = di('SyncType');
export const DI_TX = di('Tx');
export const DI_TX_PREF = di('Tx-Pref');
export const DI_VAL_ENUM = di('ValEnum');
export const DI_VER_CT = di('VerCT');
export const DI_VER_DTD = di('VerDTD');
export const DI_XNAM = di('XNam');
export const DI_XVAL = di('XVal');
export const DI_UTC = di('UTC');
export const DI_SUPPORT_NUMBER_OF_CHANGES = di('SupportNumberOfChanges');
export const DI_SUPPORT_LARGE_OBJS = di('SupportLargeObjs');
export const DI_PROPERTY = di('Property');
export const DI_PROP_PARAM = di('PropParam');
export const DI_MAX_OCCUR = di('MaxOccur');
export const DI_NO_TRUNCATE = di('NoTruncate');
export const DI_FILTER_RX = di('Filter-Rx');
export const DI_FILTER_CAP = di('FilterCap');
export const DI_FILTER_KEYWORD = di('FilterKeyword');
export const DI_FIELD_LEVEL = di('FieldLevel');
export const DI_SUPPORT_HIERARCHICAL_SYNC = di('SupportHierarchicalSync');

/** The SyncML code pages of a VerDTD value (`1.0`, `1.1`; anything else: 1.2). */
export function syncmlSetFor(verDTD: string | undefined): CodePageSet {
  return verDTD === '1.1' ? SYNCML11 : verDTD === '1.0' ? SYNCML10 : SYNCML12;
}

/** The DevInf code pages of a DevInf VerDTD value. */
export function devInfSetFor(verDTD: string | undefined): CodePageSet {
  return verDTD === '1.1' ? DEVINF11 : verDTD === '1.0' ? DEVINF10 : DEVINF12;
}

/** Nested-document content types (OMA DS DevInf 1.2 §5, OMA DM TNDS 1.2 §5). */
export const DEVINF_XML = 'application/vnd.syncml-devinf+xml';
export const DEVINF_WBXML = 'application/vnd.syncml-devinf+wbxml';
export const TNDS_XML = 'application/vnd.syncml.dmtnds+xml';
export const TNDS_WBXML = 'application/vnd.syncml.dmtnds+wbxml';

/** 1 = names a DevInf document, 2 = a TNDS (MgmtTree) document, 0 = neither. */
export function nestedKind(type: string | undefined): 0 | 1 | 2 {
  if (type === undefined || type.length < 30) return 0;
  if (type === DEVINF_WBXML || type === DEVINF_XML) return 1;
  if (type === TNDS_WBXML || type === TNDS_XML) return 2;
  return 0;
}
