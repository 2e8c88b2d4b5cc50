/**
 * SyncML messages (SyncML RepPro 1.2, DM RepPro 1.2, MetInf 1.2) from WBXML or XML into the typed
 * model of `types.ts`, in one pass over a token source: element ids are small integers, every
 * element's children are checked against a rank table of its DTD content model, objects are built
 * with all their fields in a fixed order, and no path stack is kept (paths are computed only for
 * errors and warnings).
 *
 * Content models enforced in strict mode (SyncML RepPro 1.2 DTD, OMA-SUP-DTD_SyncML_RepPro-V1_2):
 *   SyncHdr (VerDTD, VerProto, SessionID, MsgID, Target, Source, RespURI?, NoResp?, Cred?, Meta?)
 *   SyncBody ((Alert|Atomic|Copy|Exec|Get|Map|Put|Results|Search|Sequence|Status|Sync|Add|Move|Replace|Delete)+, Final?)
 *   Add/Replace/Copy/Move (CmdID, NoResp?, Cred?, Meta?, Item+)
 *   Delete (CmdID, NoResp?, Archive?, SftDel?, Cred?, Meta?, Item+)
 *   Get/Put (CmdID, NoResp?, Lang?, Cred?, Meta?, Item+)
 *   Exec (CmdID, NoResp?, Cred?, Meta?, Correlator?, Item)
 *   Alert (CmdID, NoResp?, Cred?, Data, Correlator?, Item*) -- Data is optional in the DTD; the
 *     DM RepPro (§6.6.2) and our model need the alert code, so it is required here
 *   Atomic (CmdID, NoResp?, Meta?, (Add|Delete|Atomic|Map|Move|Replace|Sequence|Sync|Copy|Get|Exec|Alert)+)
 *   Sequence (CmdID, NoResp?, Meta?, (Add|Replace|Delete|Copy|Atomic|Map|Move|Sync|Get|Alert|Exec)+)
 *     (DM's narrower rules -- Get or Exec inside Atomic -- are answered with status codes by the
 *     DM layer, research note §1.7, so the parser must let them through)
 *   Sync (CmdID, NoResp?, Cred?, Target?, Source?, Meta?, NumberOfChanges?, (Add|Atomic|Copy|Delete|Move|Replace|Sequence)*)
 *   Results (CmdID, MsgRef?, CmdRef, Meta?, TargetRef*, SourceRef*, Item+)
 *   Status (CmdID, MsgRef, CmdRef, Cmd, TargetRef*, SourceRef*, Cred?, Chal?, Data, Item*)
 *   Map (CmdID, Target, Source, Cred?, Meta?, MapItem+), MapItem (Target, Source)
 *   Search (CmdID, NoResp?, NoResults?, Cred?, Target?, Source+, Lang?, Meta, Data)
 *   Item (Target?, Source?, SourceParent?, TargetParent?, Meta?, Data?, MoreData?)
 *   Target (LocURI, LocName?, Filter?), Source (LocURI, LocName?), SourceParent/TargetParent (LocURI)
 *   Cred (Meta?, Data), Chal (Meta), Filter (Meta, Field?, Record?, FilterType?), Field/Record (Meta?, Item)
 *   Meta: MetInf 1.2 (FieldLevel?, Format?, Type?, Mark?, Size?, Anchor?, Version?, NextNonce?,
 *     MaxMsgSize?, MaxObjSize?, EMI*, Mem?), Anchor (Last?, Next), Mem (SharedMem?, FreeMem, FreeID)
 */
import type {
  Add, Alert, Anchor, Atomic, Chal, Command, Copy, Cred, Data, Delete, Exec, Filter, Get, Item, MapCommand,
  Mem, Meta, Move, ParentRef, Put, Replace, Results, Search, Sequence, Source, Status, Sync, SyncBody,
  SyncHdr, SyncML, Target, UnknownElement,
} from './types.js';
import type { DevInf } from './devinf-types.js';
import type { MgmtTree } from './ddf-types.js';
import type { CodePageSet } from '../wbxml/code-page.js';
import { WbxmlReader, defaultMaxTableTextBytes } from '../wbxml/reader.js';
import { SyncMLError, wrapError } from './errors.js';
import type { Doc } from './locate.js';
import {
  ADD, ALERT, ARCHIVE, ATOMIC, CHAL, CMD, CMD_ID, CMD_REF, COPY, CORRELATOR, CRED, DATA, DDF12, DELETE,
  DEVINF12, DEVINF_XML, DI_DEV_INF, D_MGMT_TREE, EXEC, FIELD, FILTER, FILTER_TYPE, FINAL, GET, ITEM, LANG,
  LOC_NAME, LOC_URI, MAP, MAP_ITEM, META, MORE_DATA, MOVE, MSG_ID, MSG_REF, M_ANCHOR, M_EMI, M_FIELD_LEVEL,
  M_FORMAT, M_FREE_ID, M_FREE_MEM, M_LAST, M_MARK, M_MAX_MSG_SIZE, M_MAX_OBJ_SIZE, M_MEM, M_NEXT,
  M_NEXT_NONCE, M_SHARED_MEM, M_SIZE, M_TYPE, M_VERSION, NO_RESP, NO_RESULTS, NUMBER_OF_CHANGES, PUT,
  RECORD, REPLACE, RESP_URI, RESULTS, SEARCH, SEQUENCE, SESSION_ID, SFT_DEL, SOURCE, SOURCE_PARENT,
  SOURCE_REF, STATUS, SYNC, SYNC_BODY, SYNC_HDR, SYNCML12, SYNC_ML, TARGET, TARGET_PARENT, TARGET_REF,
  TNDS_XML, VER_DTD, VER_PROTO, nestedKind,
} from './elements.js';
import {
  ParserCore, isBlank, model, parseUint, rep, seen, clip, type Holder, type ParseOptions, type SyncMLWarning,
} from './parse-core.js';
import { readDevInf } from './parse-devinf.js';
import { readMgmtTree } from './parse-ddf.js';
import {
  S_END, S_EOF, S_OPAQUE, S_START, S_TEXT, WbxmlSource, XmlSource, readerOptions, utf8OrUndefined,
  type SourceOptions, type TokenSource,
} from './source.js';

export type { ParseOptions, SyncMLWarning } from './parse-core.js';
export type { SyncMLWarningCode } from './parse-core.js';

/** Options of {@link parse} and {@link parseMessage}. @public */
export interface ParseMessageOptions extends ParseOptions {
  /** Read with these code pages whatever the document declares (like libwbxml's `-l`). */
  codePages?: CodePageSet | string;
}

/** What {@link parseMessage} returns. @public */
export interface ParsedMessage {
  message: SyncML;
  /** Defects accepted (tolerant mode) and oddities both modes report (duplicate CmdIDs...). */
  warnings: SyncMLWarning[];
  encoding: 'wbxml' | 'xml';
}

// --- content models (see the file comment) ---------------------------------------------------

const BODY_CMDS = [ALERT, ATOMIC, COPY, EXEC, GET, MAP, PUT, RESULTS, SEARCH, SEQUENCE, STATUS, SYNC, ADD, MOVE, REPLACE, DELETE];
const ATOMIC_CMDS = [ADD, DELETE, ATOMIC, MAP, MOVE, REPLACE, SEQUENCE, SYNC, COPY, GET, EXEC, ALERT];
const SEQUENCE_CMDS = [ADD, REPLACE, DELETE, COPY, ATOMIC, MAP, MOVE, SYNC, GET, ALERT, EXEC];
const SYNC_CMDS = [ADD, ATOMIC, COPY, DELETE, MOVE, REPLACE, SEQUENCE];

const T_SYNCML = model(SYNC_HDR, SYNC_BODY);
const T_HDR = model(VER_DTD, VER_PROTO, SESSION_ID, MSG_ID, TARGET, SOURCE, RESP_URI, NO_RESP, CRED, META);
const T_BODY = model(rep(BODY_CMDS), FINAL);
const T_ITEMS = model(CMD_ID, NO_RESP, CRED, META, rep(ITEM));
const T_DELETE = model(CMD_ID, NO_RESP, ARCHIVE, SFT_DEL, CRED, META, rep(ITEM));
const T_GETPUT = model(CMD_ID, NO_RESP, LANG, CRED, META, rep(ITEM));
const T_EXEC = model(CMD_ID, NO_RESP, CRED, META, CORRELATOR, rep(ITEM));
const T_ALERT = model(CMD_ID, NO_RESP, CRED, DATA, CORRELATOR, rep(ITEM));
const T_ATOMIC = model(CMD_ID, NO_RESP, META, rep(ATOMIC_CMDS));
const T_SEQUENCE = model(CMD_ID, NO_RESP, META, rep(SEQUENCE_CMDS));
const T_SYNC = model(CMD_ID, NO_RESP, CRED, TARGET, SOURCE, META, NUMBER_OF_CHANGES, rep(SYNC_CMDS));
const T_RESULTS = model(CMD_ID, MSG_REF, CMD_REF, META, rep(TARGET_REF), rep(SOURCE_REF), rep(ITEM));
const T_STATUS = model(CMD_ID, MSG_REF, CMD_REF, CMD, rep(TARGET_REF), rep(SOURCE_REF), CRED, CHAL, DATA, rep(ITEM));
const T_MAP = model(CMD_ID, TARGET, SOURCE, CRED, META, rep(MAP_ITEM));
const T_MAPITEM = model(TARGET, SOURCE);
const T_SEARCH = model(CMD_ID, NO_RESP, NO_RESULTS, CRED, TARGET, rep(SOURCE), LANG, META, DATA);
const T_ITEM = model(TARGET, SOURCE, SOURCE_PARENT, TARGET_PARENT, META, DATA, MORE_DATA);
const T_TARGET = model(LOC_URI, LOC_NAME, FILTER);
const T_SOURCE = model(LOC_URI, LOC_NAME);
const T_PARENT = model(LOC_URI);
const T_CRED = model(META, DATA);
const T_CHAL = model(META);
const T_FILTER = model(META, FIELD, RECORD, FILTER_TYPE);
const T_FIELD = model(META, ITEM);
// MetInf 1.2 DTD (OMA-TS-SyncML_MetaInfo_DTD-V1_2, 03 Mar 2005): `MetInf (FieldLevel?, Format?,
// Type?, Mark?, Size?, Anchor?, Version?, NextNonce?, MaxMsgSize?, MaxObjSize?, EMI*, Mem?)`.
const T_META = model(M_FIELD_LEVEL, M_FORMAT, M_TYPE, M_MARK, M_SIZE, M_ANCHOR, M_VERSION, M_NEXT_NONCE, M_MAX_MSG_SIZE, M_MAX_OBJ_SIZE, rep(M_EMI), M_MEM);
const T_ANCHOR = model(M_LAST, M_NEXT);
const T_MEM = model(M_SHARED_MEM, M_FREE_MEM, M_FREE_ID);

/** Data whose meaning depends on the governing Meta/Type, settled when its command ends. */
interface PendingData {
  item: Item;
  /** Offset of the `Data` START. */
  at: number;
  /** Offset of the OPAQUE bytes in the document. */
  dataStart: number;
  doc: Doc;
}

/** Placeholders of lists before their first element (replaced, never returned). */
const NO_ITEMS: Item[] = [];
const NO_COMMANDS: Command[] = [];
const NO_BITS = new Uint8Array(0);

/** Appends to an optional list; a new list is allocated with its first element (no spare capacity). */
function add<T>(list: T[] | undefined, x: T): T[] {
  if (list === undefined) return [x];
  list.push(x);
  return list;
}

/** Appends to a list that starts as a shared placeholder. */
function more<T>(list: T[], x: T): T[] {
  if (list === NO_ITEMS || list === (NO_COMMANDS as unknown)) return [x];
  list.push(x);
  return list;
}

/** The union of the fields of the Item-carrying commands, for building them in one place. */
interface ItemCommandFields {
  kind: string; cmdId: string; noResp?: true; archive?: true; sftDel?: true; lang?: string; cred?: Cred; meta?: Meta;
  correlator?: string; items: Item[]; unknown?: UnknownElement[];
}

function emptyMeta(): Meta {
  return {
    format: undefined, type: undefined, mark: undefined, size: undefined, anchor: undefined, version: undefined,
    nextNonce: undefined, maxMsgSize: undefined, maxObjSize: undefined, emi: undefined, mem: undefined,
    fieldLevel: undefined, unknown: undefined,
  };
}

class MessageParser extends ParserCore {
  /** CmdIDs seen: decimal ones below 2^20 in a bitmap (the common case), the others in a Set. */
  private cmdIds: Set<string> | undefined = undefined;
  private cmdBits = NO_BITS;
  private readonly pending: PendingData[] = [];
  private readonly limits: SourceOptions;
  /**
   * String-table text the embedded documents may still refer to, together: one budget for all
   * of them (each its own would let many small ones add up), as large as the message's own.
   */
  private nestedTableText: number;

  constructor(src: TokenSource, doc: Doc, strict: boolean) {
    super(src, doc, strict);
    this.limits = doc.options;
    this.nestedTableText = doc.options.maxTableTextBytes ?? defaultMaxTableTextBytes(doc.bytes.length);
  }

  message(): SyncML {
    const src = this.src;
    const k = src.next();
    if (k !== S_START || src.id !== SYNC_ML) {
      this.fail('BAD_DOCUMENT', `the root element is <${k === S_START ? src.name() : '?'}>, not <SyncML>`, src.offset);
    }
    if (src.hasAttributes) this.attributesOn();
    const at = src.offset;
    let header: SyncHdr | undefined;
    let body: SyncBody | undefined;
    const holder: Holder = {};
    let st = 0;
    while (this.child()) {
      const id = src.id;
      const n = this.step(T_SYNCML, st, holder, 'SyncML');
      if (n < 0) continue;
      st = n;
      if (id === SYNC_HDR) header = this.header();
      else body = this.body();
    }
    if (src.next() !== S_EOF) this.fail('BAD_DOCUMENT', 'content after the root element', src.offset);
    if (header === undefined) {
      this.missing('SyncHdr', 'SyncML', at);
      header = {
        verDTD: '', verProto: '', sessionId: '', msgId: '', target: { locUri: '', locName: undefined, filter: undefined },
        source: { locUri: '', locName: undefined }, respUri: undefined, noResp: undefined, cred: undefined,
        meta: undefined, unknown: undefined,
      };
    }
    if (body === undefined) {
      this.missing('SyncBody', 'SyncML', at);
      body = { commands: [], final: false, unknown: undefined };
    }
    if (holder.unknown) (body.unknown ??= []).push(...holder.unknown);
    return { header, body };
  }

  private header(): SyncHdr {
    const src = this.src;
    const at = src.offset;
    const h: SyncHdr = {
      verDTD: '', verProto: '', sessionId: '', msgId: '', target: undefined as unknown as Target,
      source: undefined as unknown as Source, respUri: undefined, noResp: undefined, cred: undefined,
      meta: undefined, unknown: undefined,
    };
    let verAt = at;
    let st = 0;
    while (this.child()) {
      const id = src.id;
      const n = this.step(T_HDR, st, h, 'SyncHdr');
      if (n < 0) continue;
      st = n;
      switch (id) {
        case VER_DTD: verAt = src.offset; h.verDTD = this.ident(); break;
        case VER_PROTO: h.verProto = this.ident(); break;
        case SESSION_ID: h.sessionId = this.ident(); break;
        case MSG_ID: h.msgId = this.ident(); break;
        case TARGET: h.target = this.target(h); break;
        case SOURCE: h.source = this.source(h, 'Source'); break;
        case RESP_URI: h.respUri = this.ident(); break;
        case NO_RESP: h.noResp = this.flag(); break;
        case CRED: h.cred = this.cred(h); break;
        case META: h.meta = this.meta(); break;
      }
    }
    if (!seen(st, 1)) this.missing('VerDTD', 'SyncHdr', at);
    if (!seen(st, 2)) this.missing('VerProto', 'SyncHdr', at);
    if (!seen(st, 3)) this.missing('SessionID', 'SyncHdr', at);
    if (!seen(st, 4)) this.missing('MsgID', 'SyncHdr', at);
    else if (h.msgId === '') this.issue('BAD_VALUE', '<MsgID> is empty', at);
    if (!seen(st, 5)) { this.missing('Target', 'SyncHdr', at); h.target = { locUri: '', locName: undefined, filter: undefined }; }
    if (!seen(st, 6)) { this.missing('Source', 'SyncHdr', at); h.source = { locUri: '', locName: undefined }; }
    const declared = src.declaredVersion;
    if (declared !== undefined && h.verDTD !== '' && declared !== h.verDTD) {
      this.issue('BAD_VALUE', `the document is declared as SyncML ${declared} (public ID, DOCTYPE or namespace) but VerDTD is ${h.verDTD}`, verAt, 'VERSION_MISMATCH');
    }
    return h;
  }

  private body(): SyncBody {
    const src = this.src;
    const at = src.offset;
    const b: SyncBody = { commands: [], final: false, unknown: undefined };
    let st = 0;
    while (this.child()) {
      const id = src.id;
      const n = this.step(T_BODY, st, b, 'SyncBody');
      if (n < 0) continue;
      st = n;
      if (id === FINAL) b.final = this.flag();
      else b.commands.push(this.command(id));
    }
    if (b.commands.length === 0) this.missing('command', 'SyncBody', at);
    return b;
  }

  private command(id: number): Command {
    switch (id) {
      case REPLACE: return this.itemCommand('Replace', T_ITEMS);
      case GET: return this.itemCommand('Get', T_GETPUT);
      case STATUS: return this.status();
      case RESULTS: return this.results();
      case ADD: return this.itemCommand('Add', T_ITEMS);
      case DELETE: return this.itemCommand('Delete', T_DELETE);
      case EXEC: return this.itemCommand('Exec', T_EXEC);
      case ALERT: return this.alert();
      case ATOMIC: return this.container('Atomic', T_ATOMIC);
      case SEQUENCE: return this.container('Sequence', T_SEQUENCE);
      case COPY: return this.itemCommand('Copy', T_ITEMS);
      case MOVE: return this.itemCommand('Move', T_ITEMS);
      case PUT: return this.itemCommand('Put', T_GETPUT);
      case MAP: return this.map();
      case SEARCH: return this.search();
      default: return this.sync();
    }
  }

  /** CmdID rules: required, non-empty, unique in the message (the last is only a warning). */
  private checkCmdId(cmdId: string, present: boolean, name: string, at: number): void {
    if (!present) this.missing('CmdID', name, at);
    else if (cmdId === '') this.issue('BAD_VALUE', `<CmdID> of <${name}> is empty`, at);
    else {
      const n = cmdId.length < 7 && cmdId.charCodeAt(0) !== 48 ? parseUint(cmdId) : -1;
      if (n >= 0) {
        let bits = this.cmdBits;
        const byte = n >> 3, bit = 1 << (n & 7);
        if (byte >= bits.length) {
          const grown = new Uint8Array(Math.max(bits.length * 2, byte + 1, 64));
          grown.set(bits);
          this.cmdBits = bits = grown;
        }
        if ((bits[byte] & bit) === 0) { bits[byte] |= bit; return; }
      } else {
        const ids = this.cmdIds ?? (this.cmdIds = new Set());
        if (!ids.has(cmdId)) { ids.add(cmdId); return; }
      }
      this.warn('DUPLICATE_CMD_ID', `CmdID '${clip(cmdId)}' of <${name}> is used twice in this message`, at);
    }
  }

  /** Add, Replace, Copy, Move, Delete, Get, Put, Exec: the commands made of Items. */
  private itemCommand(kind: 'Add' | 'Replace' | 'Copy' | 'Move' | 'Delete' | 'Get' | 'Put' | 'Exec', t: Uint8Array): Add | Replace | Copy | Move | Delete | Get | Put | Exec {
    const src = this.src;
    const at = src.offset;
    const mark = this.pending.length;
    // Each kind gets its own fixed shape, all fields present from the start.
    const c = (kind === 'Delete'
      ? { kind, cmdId: '', noResp: undefined, archive: undefined, sftDel: undefined, cred: undefined, meta: undefined, items: NO_ITEMS, unknown: undefined }
      : kind === 'Get' || kind === 'Put'
        ? { kind, cmdId: '', noResp: undefined, lang: undefined, cred: undefined, meta: undefined, items: NO_ITEMS, unknown: undefined }
        : kind === 'Exec'
          ? { kind, cmdId: '', noResp: undefined, cred: undefined, meta: undefined, correlator: undefined, items: NO_ITEMS, unknown: undefined }
          : { kind, cmdId: '', noResp: undefined, cred: undefined, meta: undefined, items: NO_ITEMS, unknown: undefined }) as ItemCommandFields;
    let st = 0;
    while (this.child()) {
      const id = src.id;
      const n = this.step(t, st, c, kind);
      if (n < 0) continue;
      st = n;
      switch (id) {
        case ITEM: {
          if (c.items === NO_ITEMS) c.items = [this.item()];
          else {
            if (kind === 'Exec') this.issue('DUPLICATE_ELEMENT', '<Exec> has more than one <Item>', src.offset);
            c.items.push(this.item());
          }
          break;
        }
        case CMD_ID: c.cmdId = this.ident(); break;
        case META: c.meta = this.meta(); break;
        case NO_RESP: c.noResp = this.flag(); break;
        case CRED: c.cred = this.cred(c); break;
        case LANG: c.lang = this.leaf(); break;
        case CORRELATOR: c.correlator = this.ident(); break;
        case ARCHIVE: c.archive = this.flag(); break;
        case SFT_DEL: c.sftDel = this.flag(); break;
      }
    }
    this.checkCmdId(c.cmdId, seen(st, 1), kind, at);
    if (c.items === NO_ITEMS) {
      this.missing('Item', kind, at);
      c.items = [];
    }
    if (this.pending.length > mark) this.resolve(mark, c.meta);
    return c as Add | Replace | Copy | Move | Delete | Get | Put | Exec;
  }

  private alert(): Alert {
    const src = this.src;
    const at = src.offset;
    const mark = this.pending.length;
    const a: Alert = { kind: 'Alert', cmdId: '', noResp: undefined, cred: undefined, code: 0, correlator: undefined, items: NO_ITEMS, unknown: undefined };
    let st = 0;
    while (this.child()) {
      const id = src.id;
      const n = this.step(T_ALERT, st, a, 'Alert');
      if (n < 0) continue;
      st = n;
      switch (id) {
        case CMD_ID: a.cmdId = this.ident(); break;
        case NO_RESP: a.noResp = this.flag(); break;
        case CRED: a.cred = this.cred(a); break;
        case DATA: a.code = this.code('Alert'); break;
        case CORRELATOR: a.correlator = this.ident(); break;
        case ITEM: a.items = more(a.items, this.item()); break;
      }
    }
    this.checkCmdId(a.cmdId, seen(st, 1), 'Alert', at);
    if (!seen(st, 4)) this.missing('Data', 'Alert', at);
    if (a.items === NO_ITEMS) a.items = [];
    if (this.pending.length > mark) this.resolve(mark, undefined);
    return a;
  }

  private container(kind: 'Atomic' | 'Sequence', t: Uint8Array): Atomic | Sequence {
    const src = this.src;
    const at = src.offset;
    const c: Atomic | Sequence = { kind, cmdId: '', noResp: undefined, meta: undefined, commands: NO_COMMANDS, unknown: undefined };
    let st = 0;
    while (this.child()) {
      const id = src.id;
      const n = this.step(t, st, c, kind);
      if (n < 0) continue;
      st = n;
      switch (id) {
        case CMD_ID: c.cmdId = this.ident(); break;
        case NO_RESP: c.noResp = this.flag(); break;
        case META: c.meta = this.meta(); break;
        default: c.commands = more(c.commands, this.command(id));
      }
    }
    this.checkCmdId(c.cmdId, seen(st, 1), kind, at);
    if (c.commands === NO_COMMANDS) { this.missing('command', kind, at); c.commands = []; }
    return c;
  }

  private sync(): Sync {
    const src = this.src;
    const at = src.offset;
    const s: Sync = {
      kind: 'Sync', cmdId: '', noResp: undefined, cred: undefined, target: undefined, source: undefined,
      meta: undefined, numberOfChanges: undefined, commands: [], unknown: undefined,
    };
    let st = 0;
    while (this.child()) {
      const id = src.id;
      const n = this.step(T_SYNC, st, s, 'Sync');
      if (n < 0) continue;
      st = n;
      switch (id) {
        case CMD_ID: s.cmdId = this.ident(); break;
        case NO_RESP: s.noResp = this.flag(); break;
        case CRED: s.cred = this.cred(s); break;
        case TARGET: s.target = this.target(s); break;
        case SOURCE: s.source = this.source(s, 'Source'); break;
        case META: s.meta = this.meta(); break;
        case NUMBER_OF_CHANGES: s.numberOfChanges = this.uint('NumberOfChanges'); break;
        default: s.commands.push(this.command(id));
      }
    }
    this.checkCmdId(s.cmdId, seen(st, 1), 'Sync', at);
    return s;
  }

  private results(): Results {
    const src = this.src;
    const at = src.offset;
    const mark = this.pending.length;
    const r: Results = {
      kind: 'Results', cmdId: '', msgRef: undefined, cmdRef: '', meta: undefined, targetRefs: undefined,
      sourceRefs: undefined, items: NO_ITEMS, cmd: undefined, unknown: undefined,
    };
    let st = 0;
    while (this.child()) {
      const id = src.id;
      if (id === CMD && !this.strict && r.cmd === undefined) {
        // MS-MDM clients put <Cmd> in Results: not in the DTD, kept.
        this.warn('UNEXPECTED_ELEMENT', '<Cmd> is not allowed in <Results> (an MS-MDM habit); kept in results.cmd', src.offset);
        r.cmd = this.ident();
        continue;
      }
      const n = this.step(T_RESULTS, st, r, 'Results');
      if (n < 0) continue;
      st = n;
      switch (id) {
        case CMD_ID: r.cmdId = this.ident(); break;
        case MSG_REF: r.msgRef = this.ident(); break;
        case CMD_REF: r.cmdRef = this.ident(); break;
        case META: r.meta = this.meta(); break;
        case TARGET_REF: r.targetRefs = add(r.targetRefs, this.ident()); break;
        case SOURCE_REF: r.sourceRefs = add(r.sourceRefs, this.ident()); break;
        case ITEM: r.items = more(r.items, this.item()); break;
      }
    }
    this.checkCmdId(r.cmdId, seen(st, 1), 'Results', at);
    if (!seen(st, 2)) this.warn('MISSING_MSG_REF', '<Results> has no <MsgRef> (to be read as "1")', at);
    if (!seen(st, 3)) this.missing('CmdRef', 'Results', at);
    if (r.items === NO_ITEMS) { this.missing('Item', 'Results', at); r.items = []; }
    if (this.pending.length > mark) this.resolve(mark, r.meta);
    return r;
  }

  private status(): Status {
    const src = this.src;
    const at = src.offset;
    const mark = this.pending.length;
    const s: Status = {
      kind: 'Status', cmdId: '', msgRef: '', cmdRef: '', cmd: '', targetRefs: undefined, sourceRefs: undefined,
      cred: undefined, chal: undefined, code: 0, items: undefined, unknown: undefined,
    };
    let st = 0;
    while (this.child()) {
      const id = src.id;
      const n = this.step(T_STATUS, st, s, 'Status');
      if (n < 0) continue;
      st = n;
      switch (id) {
        case CMD_ID: s.cmdId = this.ident(); break;
        case MSG_REF: s.msgRef = this.ident(); break;
        case CMD_REF: s.cmdRef = this.ident(); break;
        case CMD: s.cmd = this.ident(); break;
        case DATA: s.code = this.code('Status'); break;
        case TARGET_REF: s.targetRefs = add(s.targetRefs, this.ident()); break;
        case SOURCE_REF: s.sourceRefs = add(s.sourceRefs, this.ident()); break;
        case CHAL: s.chal = this.chal(s); break;
        case CRED: s.cred = this.cred(s); break;
        case ITEM: s.items = add(s.items, this.item()); break;
      }
    }
    this.checkCmdId(s.cmdId, seen(st, 1), 'Status', at);
    if (!seen(st, 2)) this.missing('MsgRef', 'Status', at);
    if (!seen(st, 3)) this.missing('CmdRef', 'Status', at);
    if (!seen(st, 4)) this.missing('Cmd', 'Status', at);
    if (!seen(st, 9)) this.missing('Data', 'Status', at);
    if (this.pending.length > mark) this.resolve(mark, undefined);
    return s;
  }

  private map(): MapCommand {
    const src = this.src;
    const at = src.offset;
    const m: MapCommand = {
      kind: 'Map', cmdId: '', target: undefined as unknown as Target, source: undefined as unknown as Source,
      cred: undefined, meta: undefined, mapItems: [], unknown: undefined,
    };
    let st = 0;
    while (this.child()) {
      const id = src.id;
      const n = this.step(T_MAP, st, m, 'Map');
      if (n < 0) continue;
      st = n;
      switch (id) {
        case CMD_ID: m.cmdId = this.ident(); break;
        case TARGET: m.target = this.target(m); break;
        case SOURCE: m.source = this.source(m, 'Source'); break;
        case CRED: m.cred = this.cred(m); break;
        case META: m.meta = this.meta(); break;
        case MAP_ITEM: m.mapItems.push(this.mapItem(m)); break;
      }
    }
    this.checkCmdId(m.cmdId, seen(st, 1), 'Map', at);
    if (!seen(st, 2)) { this.missing('Target', 'Map', at); m.target = { locUri: '', locName: undefined, filter: undefined }; }
    if (!seen(st, 3)) { this.missing('Source', 'Map', at); m.source = { locUri: '', locName: undefined }; }
    if (m.mapItems.length === 0) this.missing('MapItem', 'Map', at);
    return m;
  }

  private mapItem(holder: Holder): { target: Target; source: Source } {
    const src = this.src;
    const at = src.offset;
    let target: Target | undefined;
    let source: Source | undefined;
    let st = 0;
    while (this.child()) {
      const id = src.id;
      const n = this.step(T_MAPITEM, st, holder, 'MapItem');
      if (n < 0) continue;
      st = n;
      if (id === TARGET) target = this.target(holder);
      else source = this.source(holder, 'Source');
    }
    if (target === undefined) { this.missing('Target', 'MapItem', at); target = { locUri: '', locName: undefined, filter: undefined }; }
    if (source === undefined) { this.missing('Source', 'MapItem', at); source = { locUri: '', locName: undefined }; }
    return { target, source };
  }

  private search(): Search {
    const src = this.src;
    const at = src.offset;
    const s: Search = {
      kind: 'Search', cmdId: '', noResp: undefined, noResults: undefined, cred: undefined, target: undefined,
      sources: [], lang: undefined, meta: undefined as unknown as Meta, data: '', unknown: undefined,
    };
    let st = 0;
    while (this.child()) {
      const id = src.id;
      const n = this.step(T_SEARCH, st, s, 'Search');
      if (n < 0) continue;
      st = n;
      switch (id) {
        case CMD_ID: s.cmdId = this.ident(); break;
        case NO_RESP: s.noResp = this.flag(); break;
        case NO_RESULTS: s.noResults = this.flag(); break;
        case CRED: s.cred = this.cred(s); break;
        case TARGET: s.target = this.target(s); break;
        case SOURCE: s.sources.push(this.source(s, 'Source')); break;
        case LANG: s.lang = this.leaf(); break;
        case META: s.meta = this.meta(); break;
        case DATA: s.data = this.data(undefined); break;
      }
    }
    this.checkCmdId(s.cmdId, seen(st, 1), 'Search', at);
    if (s.sources.length === 0) this.missing('Source', 'Search', at);
    if (!seen(st, 8)) { this.missing('Meta', 'Search', at); s.meta = emptyMeta(); }
    if (!seen(st, 9)) this.missing('Data', 'Search', at);
    return s;
  }

  /** A status or alert code in `Data`. */
  private code(of: string): number {
    const at = this.src.offset;
    const s = this.ident();
    const v = parseUint(s);
    if (v >= 0) return v;
    this.issue('BAD_VALUE', `<${of}> code '${clip(s)}' is not a number`, at);
    return 0;
  }

  // --- common elements ------------------------------------------------------------------------

  private item(): Item {
    const src = this.src;
    const it: Item = {
      target: undefined, source: undefined, sourceParent: undefined, targetParent: undefined, meta: undefined,
      data: undefined, moreData: undefined, unknown: undefined,
    };
    let st = 0;
    while (this.child()) {
      const id = src.id;
      const n = this.step(T_ITEM, st, it, 'Item');
      if (n < 0) continue;
      st = n;
      switch (id) {
        case TARGET: it.target = this.target(it); break;
        case SOURCE: it.source = this.source(it, 'Source'); break;
        case META: it.meta = this.meta(); break;
        case DATA: it.data = this.data(it); break;
        case MORE_DATA: it.moreData = this.flag(); break;
        case SOURCE_PARENT: it.sourceParent = this.parentRef(it, 'SourceParent'); break;
        case TARGET_PARENT: it.targetParent = this.parentRef(it, 'TargetParent'); break;
      }
    }
    return it;
  }

  private target(holder: Holder): Target {
    const src = this.src;
    const at = src.offset;
    const t: Target = { locUri: '', locName: undefined, filter: undefined };
    let st = 0;
    while (this.child()) {
      const id = src.id;
      const n = this.step(T_TARGET, st, holder, 'Target');
      if (n < 0) continue;
      st = n;
      if (id === LOC_URI) t.locUri = this.ident();
      else if (id === LOC_NAME) t.locName = this.leaf();
      else t.filter = this.filter(holder);
    }
    if (!seen(st, 1)) this.missing('LocURI', 'Target', at);
    return t;
  }

  private source(holder: Holder, name: string): Source {
    const src = this.src;
    const at = src.offset;
    const s: Source = { locUri: '', locName: undefined };
    let st = 0;
    while (this.child()) {
      const id = src.id;
      const n = this.step(T_SOURCE, st, holder, name);
      if (n < 0) continue;
      st = n;
      if (id === LOC_URI) s.locUri = this.ident();
      else s.locName = this.leaf();
    }
    if (!seen(st, 1)) this.missing('LocURI', name, at);
    return s;
  }

  private parentRef(holder: Holder, name: string): ParentRef {
    const src = this.src;
    const at = src.offset;
    const p: ParentRef = { locUri: '' };
    let st = 0;
    while (this.child()) {
      const n = this.step(T_PARENT, st, holder, name);
      if (n < 0) continue;
      st = n;
      p.locUri = this.ident();
    }
    if (!seen(st, 1)) this.missing('LocURI', name, at);
    return p;
  }

  private filter(holder: Holder): Filter {
    const src = this.src;
    const at = src.offset;
    const f: Filter = { meta: undefined, field: undefined, record: undefined, filterType: undefined };
    let st = 0;
    while (this.child()) {
      const id = src.id;
      const n = this.step(T_FILTER, st, holder, 'Filter');
      if (n < 0) continue;
      st = n;
      switch (id) {
        case META: f.meta = this.meta(); break;
        case FIELD: f.field = this.fieldOrRecord(holder, 'Field'); break;
        case RECORD: f.record = this.fieldOrRecord(holder, 'Record'); break;
        case FILTER_TYPE: f.filterType = this.ident(); break;
      }
    }
    if (!seen(st, 1)) this.missing('Meta', 'Filter', at);
    return f;
  }

  private fieldOrRecord(holder: Holder, name: string): { meta?: Meta; item: Item } {
    const src = this.src;
    const at = src.offset;
    let meta: Meta | undefined;
    let item: Item | undefined;
    let st = 0;
    while (this.child()) {
      const id = src.id;
      const n = this.step(T_FIELD, st, holder, name);
      if (n < 0) continue;
      st = n;
      if (id === META) meta = this.meta();
      else item = this.item();
    }
    if (item === undefined) {
      this.missing('Item', name, at);
      item = { target: undefined, source: undefined, sourceParent: undefined, targetParent: undefined, meta: undefined, data: undefined, moreData: undefined, unknown: undefined };
    }
    return { meta, item };
  }

  private cred(holder: Holder): Cred {
    const src = this.src;
    const at = src.offset;
    const c: Cred = { meta: undefined, data: '' };
    let st = 0;
    while (this.child()) {
      const id = src.id;
      const n = this.step(T_CRED, st, holder, 'Cred');
      if (n < 0) continue;
      st = n;
      if (id === META) c.meta = this.meta();
      else c.data = this.leaf();
    }
    if (!seen(st, 2)) this.missing('Data', 'Cred', at);
    return c;
  }

  private chal(holder: Holder): Chal {
    const src = this.src;
    const at = src.offset;
    let meta: Meta | undefined;
    let st = 0;
    while (this.child()) {
      const n = this.step(T_CHAL, st, holder, 'Chal');
      if (n < 0) continue;
      st = n;
      meta = this.meta();
    }
    if (meta === undefined) { this.missing('Meta', 'Chal', at); meta = emptyMeta(); }
    return { meta };
  }

  private meta(): Meta {
    const src = this.src;
    const m = emptyMeta();
    let st = 0;
    while (this.child()) {
      const id = src.id;
      const n = this.step(T_META, st, m, 'Meta');
      if (n < 0) continue;
      st = n;
      switch (id) {
        case M_TYPE: m.type = this.ident(); break;
        case M_FORMAT: m.format = this.ident(); break;
        case M_SIZE: m.size = this.uint('Size'); break;
        case M_MAX_MSG_SIZE: m.maxMsgSize = this.uint('MaxMsgSize'); break;
        case M_MAX_OBJ_SIZE: m.maxObjSize = this.uint('MaxObjSize'); break;
        case M_NEXT_NONCE: m.nextNonce = this.nonce(); break;
        case M_MARK: m.mark = this.leaf(); break;
        case M_VERSION: m.version = this.leaf(); break;
        case M_EMI: m.emi = add(m.emi, this.leaf()); break;
        case M_ANCHOR: m.anchor = this.anchor(m); break;
        case M_MEM: m.mem = this.mem(m); break;
        case M_FIELD_LEVEL: m.fieldLevel = this.flag(); break;
      }
    }
    return m;
  }

  /** NextNonce: base64 text, or the raw bytes when sent as OPAQUE. */
  private nonce(): string | Uint8Array {
    const src = this.src;
    const k = src.next();
    if (k === S_OPAQUE) {
      const b = src.opaque();
      if (src.next() === S_END) return b;
      this.issue('UNEXPECTED_ELEMENT', '<NextNonce> holds more than its bytes; the rest is ignored', src.offset, 'IGNORED_CONTENT');
      this.rest();
      return b;
    }
    if (k === S_END) return '';
    let s = '';
    for (let t = k; t !== S_END; t = src.next()) {
      if (t === S_TEXT) s += src.text();
      else if (t === S_OPAQUE) s += this.opaqueText();
      else if (t === S_START) {
        this.issue('UNEXPECTED_ELEMENT', `<${src.name()}> is not allowed in <NextNonce>; ignored`, src.offset);
        this.skip();
      } else break;
    }
    return s;
  }

  /** Consumes the rest of the current element. */
  private rest(): void {
    const src = this.src;
    for (let k = src.kind; k !== S_END && k !== S_EOF; k = src.next()) if (k === S_START) this.skip();
  }

  private anchor(holder: Holder): Anchor {
    const src = this.src;
    const at = src.offset;
    const a: Anchor = { last: undefined, next: '' };
    let st = 0;
    while (this.child()) {
      const id = src.id;
      const n = this.step(T_ANCHOR, st, holder, 'Anchor');
      if (n < 0) continue;
      st = n;
      if (id === M_LAST) a.last = this.leaf();
      else a.next = this.leaf();
    }
    if (!seen(st, 2)) this.missing('Next', 'Anchor', at);
    return a;
  }

  private mem(holder: Holder): Mem {
    const src = this.src;
    const at = src.offset;
    const m: Mem = { sharedMem: undefined, freeMem: 0, freeId: 0 };
    let st = 0;
    while (this.child()) {
      const id = src.id;
      const n = this.step(T_MEM, st, holder, 'Mem');
      if (n < 0) continue;
      st = n;
      if (id === M_SHARED_MEM) m.sharedMem = this.flag();
      else if (id === M_FREE_MEM) m.freeMem = this.uint('FreeMem') ?? 0;
      else m.freeId = this.uint('FreeID') ?? 0;
    }
    if (!seen(st, 2)) this.missing('FreeMem', 'Mem', at);
    if (!seen(st, 3)) this.missing('FreeID', 'Mem', at);
    return m;
  }

  /**
   * `Data`: text (never trimmed), OPAQUE bytes (a copy), or an embedded DevInf / MgmtTree
   * (XML: child elements; WBXML: a nested document in OPAQUE, decided when the command ends
   * and its governing Meta/Type is known).
   */
  private data(item: Item | undefined): Data {
    const src = this.src;
    const at = src.offset;
    let k = src.next();
    if (k === S_END) return '';
    if (k === S_TEXT) {
      const s = src.text();
      k = src.next();
      if (k === S_END) return s;
      if (k === S_START && isBlank(s)) return this.embedded(item, at);
      return this.dataRest(s, k);
    }
    if (k === S_OPAQUE) {
      const b = src.opaque();
      const ds = src.dataStart;
      k = src.next();
      if (k !== S_END) this.dataRest(b, k);
      if (item !== undefined) this.pending.push({ item, at, dataStart: ds, doc: this.doc });
      return b;
    }
    if (k === S_START) return this.embedded(item, at);
    return '';
  }

  /** An element inside Data: an inline DevInf or MgmtTree. */
  private embedded(item: Item | undefined, at: number): Data {
    const src = this.src;
    const name = src.name();
    let obj: DevInf | MgmtTree | undefined;
    if (name === 'DevInf' && src.encoding === 'xml') {
      src.enterSet(DEVINF12);
      obj = readDevInf(this);
    } else if (name === 'MgmtTree' && (src.encoding === 'xml' || src.id === D_MGMT_TREE)) {
      if (src.encoding === 'xml') src.enterSet(DDF12);
      obj = readMgmtTree(this);
    } else {
      this.issue('UNEXPECTED_ELEMENT', `<${name}> is not allowed in <Data> (only an embedded DevInf or MgmtTree is)`, src.offset);
      if (item !== undefined) (item.unknown ??= []).push(this.capture());
      else this.skip();
    }
    const k = src.next();
    if (k !== S_END) this.dataRest(obj ?? '', k);
    if (obj === undefined) return '';
    if (item !== undefined) this.pending.push({ item, at, dataStart: -1, doc: this.doc });
    return obj;
  }

  /** More content after Data's first piece: white space is ignored, anything else refused/dropped. */
  private dataRest(first: Data, k: number): Data {
    const src = this.src;
    for (; k !== S_END && k !== S_EOF; k = src.next()) {
      if (k === S_TEXT && isBlank(src.text())) continue;
      if (k === S_OPAQUE && isBlank(utf8OrUndefined(src.opaqueView()) ?? 'x')) continue;
      this.issue('UNEXPECTED_ELEMENT', '<Data> holds more than one piece of content; only the first is kept', src.offset, 'IGNORED_CONTENT');
      if (k === S_START) this.skip();
    }
    return first;
  }

  /**
   * Settles Data recorded since `mark`: OPAQUE under a Type naming DevInf or TNDS becomes the
   * parsed document; the governing Type (the Item's, else the command's, as libwbxml decides) is
   * then reported in its `+xml` spelling: the model holds the document, not its encoding.
   */
  private resolve(mark: number, cmdMeta: Meta | undefined): void {
    const list = this.pending;
    for (let i = mark; i < list.length; i++) {
      const p = list[i];
      const item = p.item;
      const meta = item.meta !== undefined && item.meta.type !== undefined ? item.meta : cmdMeta;
      const kind = nestedKind(meta?.type);
      if (kind === 0 || meta === undefined) continue;
      const data = item.data;
      if (data instanceof Uint8Array) {
        const obj = this.nested(data, kind, p);
        if (obj === undefined) continue;
        item.data = obj;
      } else if (typeof data !== 'object' || (data.kind === 'DevInf' ? 1 : 2) !== kind) continue;
      meta.type = kind === 1 ? DEVINF_XML : TNDS_XML;
    }
    list.length = mark;
  }

  /** Parses a nested WBXML document (DevInf or MgmtTree) from OPAQUE data. */
  private nested(bytes: Uint8Array, kind: 1 | 2, p: PendingData): DevInf | MgmtTree | undefined {
    const outerSrc = this.src;
    const outerDoc = this.doc;
    const options: SourceOptions = {
      strict: this.strict, maxDepth: this.limits.maxDepth, maxBytes: this.limits.maxBytes, maxTableTextBytes: this.nestedTableText,
      defaultCodePages: kind === 1 ? DEVINF12 : DDF12,
    };
    const doc: Doc = { bytes, encoding: 'wbxml', options, parent: p.doc, parentOffset: p.at, base: p.doc.base + p.dataStart };
    this.doc = doc;
    let result: DevInf | MgmtTree | undefined;
    let failure: SyncMLError | undefined;
    let src: WbxmlSource | undefined;
    try {
      src = new WbxmlSource(bytes, options);
      this.src = src;
      this.hookNamespaces(src);
      const k = src.next();
      const root = kind === 1 ? DI_DEV_INF : D_MGMT_TREE;
      if (k !== S_START || src.id !== root || src.set.root !== (kind === 1 ? 'DevInf' : 'MgmtTree')) {
        this.fail('BAD_DOCUMENT', `the embedded document is not a ${kind === 1 ? 'DevInf' : 'MgmtTree'} document (its Type says so)`, src.offset);
      }
      result = kind === 1 ? readDevInf(this) : readMgmtTree(this);
      if (src.next() !== S_EOF) this.fail('BAD_DOCUMENT', 'content after the embedded document', src.offset);
    } catch (e) {
      failure = this.wrap(e);
    } finally {
      this.src = outerSrc;
      this.doc = outerDoc;
      if (src !== undefined) this.nestedTableText = Math.max(0, this.nestedTableText - src.reader.tableTextBytes);
    }
    if (failure !== undefined) {
      if (this.strict) throw failure;
      this.warn(failure.code, `embedded document kept as bytes: ${failure.message}`, p.at);
      return undefined;
    }
    return result;
  }
}

// --- entry points ----------------------------------------------------------------------------

const utf8 = new TextEncoder();

/** `xml` for a string or bytes starting (after a BOM and white space) with `<`; `wbxml` for 0x00-0x03. */
function detect(input: Uint8Array | string): 'xml' | 'wbxml' {
  if (typeof input === 'string') return 'xml';
  if (!(input instanceof Uint8Array)) {
    throw new SyncMLError('INVALID_ARGUMENT', 'input must be a Uint8Array or a string');
  }
  if (input.length === 0) throw new SyncMLError('BAD_DOCUMENT', 'empty input', { offset: 0 });
  const first = input[0];
  if (first <= 0x03) return 'wbxml';
  let i = input.length >= 3 && first === 0xef && input[1] === 0xbb && input[2] === 0xbf ? 3 : 0;
  while (i < input.length && (input[i] === 0x20 || input[i] === 0x0a || input[i] === 0x0d || input[i] === 0x09)) i++;
  if (i < input.length && input[i] === 0x3c) return 'xml';
  throw new SyncMLError('BAD_DOCUMENT', `input is neither XML (no '<') nor WBXML (first byte 0x${first.toString(16).padStart(2, '0')} is not a version 0x00-0x03)`, { offset: i });
}

function resolveSet(v: CodePageSet | string | undefined): CodePageSet | undefined {
  if (v === undefined) return undefined;
  try {
    return WbxmlReader.resolve(v);
  } catch (e) {
    throw wrapError(e);
  }
}

/**
 * One WbxmlReader per strictness, reused by message parses with default limits (a parse is
 * never re-entered: nested documents and path scans make their own readers).
 */
const sharedReaders: (WbxmlReader | undefined)[] = [undefined, undefined];
let sharedBusy = false;

/** Sets up a document and its source; errors become SyncMLErrors. */
function open(input: Uint8Array | string, options: ParseMessageOptions, defaultSet: CodePageSet, message: boolean): { src: TokenSource; doc: Doc; encoding: 'wbxml' | 'xml'; shared: boolean } {
  const encoding = detect(input);
  const strict = options.strict ?? true;
  const forced = resolveSet(options.codePages);
  const so: SourceOptions = {
    strict, maxDepth: options.maxDepth, maxBytes: options.maxBytes, maxTableTextBytes: options.maxTableTextBytes,
    codePages: forced ?? (message && encoding === 'wbxml' ? SYNCML12 : undefined), defaultCodePages: defaultSet,
  };
  const bytes = typeof input === 'string' ? utf8.encode(input) : input;
  const doc: Doc = { bytes, encoding, options: so, parent: undefined, parentOffset: 0, base: 0 };
  let shared = false;
  try {
    let src: TokenSource;
    if (encoding === 'xml') src = new XmlSource(bytes, so);
    else if (message && !sharedBusy && forced === undefined && options.maxDepth === undefined && options.maxBytes === undefined && options.maxTableTextBytes === undefined) {
      const i = strict ? 1 : 0;
      const reader = sharedReaders[i] ?? (sharedReaders[i] = new WbxmlReader(undefined, readerOptions(so)));
      sharedBusy = shared = true;
      src = new WbxmlSource(bytes, so, reader);
    } else src = new WbxmlSource(bytes, so);
    return { src, doc, encoding, shared };
  } catch (e) {
    if (shared) sharedBusy = false;
    throw wrapError(e);
  }
}

/**
 * Parses a SyncML message (WBXML or XML, detected from the input) and returns it with the
 * warnings of what was accepted.
 *
 * @example
 * ```ts
 * const { message, warnings } = parseMessage(bytes, { strict: false });
 * for (const cmd of message.body.commands) if (cmd.kind === 'Status') console.log(cmd.cmdRef, cmd.code);
 * ```
 * @throws SyncMLError (code, element path, byte offset; line/column for XML)
 * @public
 */
export function parseMessage(input: Uint8Array | string, options: ParseMessageOptions = {}): ParsedMessage {
  const { src, doc, encoding, shared } = open(input, options, SYNCML12, true);
  const p = new MessageParser(src, doc, options.strict ?? true);
  let message: SyncML;
  try {
    message = p.message();
  } catch (e) {
    throw p.wrap(e);
  } finally {
    if (shared) sharedBusy = false;
  }
  return { message, warnings: p.warnings(), encoding };
}

/**
 * Parses a SyncML message (WBXML or XML).
 *
 * @example
 * ```ts
 * const msg = parse(await request.bytes());
 * console.log(msg.header.sessionId, msg.body.commands.length);
 * ```
 * @throws SyncMLError
 * @public
 */
export function parse(input: Uint8Array | string, options: ParseMessageOptions = {}): SyncML {
  return parseMessage(input, options).message;
}

/** Parses a standalone document whose root is `root`. */
function parseStandalone<T>(input: Uint8Array | string, options: ParseMessageOptions, set: CodePageSet, rootId: number, read: (p: ParserCore) => T): { value: T; warnings: SyncMLWarning[] } {
  const { src, doc } = open(input, options, set, false);
  const p = new ParserCore(src, doc, options.strict ?? true);
  try {
    const k = src.next();
    if (k !== S_START || src.id !== rootId || src.set.root !== set.root) {
      p.fail('BAD_DOCUMENT', `the root element is <${k === S_START ? src.name() : '?'}>, not <${set.root}>`, src.offset);
    }
    const value = read(p);
    if (src.next() !== S_EOF) p.fail('BAD_DOCUMENT', 'content after the root element', src.offset);
    return { value, warnings: p.warnings() };
  } catch (e) {
    throw p.wrap(e);
  }
}

/**
 * Parses a standalone DevInf document (DevInf 1.1 or 1.2; WBXML or XML).
 * @example
 * ```ts
 * const devInf = parseDevInf('<DevInf xmlns="syncml:devinf"><VerDTD>1.2</VerDTD>…</DevInf>');
 * ```
 * @throws SyncMLError
 * @public
 */
export function parseDevInf(input: Uint8Array | string, options: ParseMessageOptions = {}): DevInf {
  return parseStandalone(input, options, DEVINF12, DI_DEV_INF, readDevInf).value;
}

/**
 * Parses a standalone DM DDF / TNDS document (`-//OMA//DTD-DM-DDF 1.2//EN`; WBXML on code page 2,
 * or XML).
 * @example
 * ```ts
 * const tree = parseMgmtTree(readFileSync('fumo.ddf', 'utf8'));
 * ```
 * @throws SyncMLError
 * @public
 */
export function parseMgmtTree(input: Uint8Array | string, options: ParseMessageOptions = {}): MgmtTree {
  return parseStandalone(input, options, DDF12, D_MGMT_TREE, readMgmtTree).value;
}
