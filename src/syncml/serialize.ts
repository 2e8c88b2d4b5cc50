/**
 * Typed SyncML messages to WBXML or XML. One walker writes both encodings through a small sink
 * (sink.ts), always in DTD element order:
 *
 *   SyncHdr: VerDTD, VerProto, SessionID, MsgID, Target, Source, RespURI, NoResp, Cred, Meta
 *   Status: CmdID, MsgRef, CmdRef, Cmd, TargetRef*, SourceRef*, Cred, Chal, Data, Item*
 *   Results: CmdID, MsgRef, CmdRef, [Cmd: MS-MDM, only when present], Meta, TargetRef*, SourceRef*, Item+
 *   Alert: CmdID, NoResp, Cred, Data, Correlator, Item*
 *   Exec: CmdID, NoResp, Cred, Meta, Correlator, Item
 *   Add/Replace/Copy/Move: CmdID, NoResp, Cred, Meta, Item+; Delete adds Archive, SftDel after NoResp
 *   Get/Put: CmdID, NoResp, Lang, Cred, Meta, Item+
 *   Atomic/Sequence: CmdID, NoResp, Meta, commands; Sync: CmdID, NoResp, Cred, Target, Source, Meta,
 *     NumberOfChanges, commands; Map: CmdID, Target, Source, Cred, Meta, MapItem+; Search: CmdID,
 *     NoResp, NoResults, Cred, Target, Source+, Lang, Meta, Data
 *   Item: Target, Source, SourceParent, TargetParent, Meta, Data, MoreData
 *   Meta (MetInf 1.2 DTD, OMA-TS-SyncML_MetaInfo_DTD-V1_2 of 03 Mar 2005): FieldLevel, Format, Type,
 *     Mark, Size, Anchor, Version, NextNonce, MaxMsgSize, MaxObjSize, EMI*, Mem
 *
 * Elements kept as `unknown` by a tolerant parse are written after the known children.
 */
import type {
  Anchor, Command, Cred, Data, Filter, Item, Mem, Meta, ParentRef, Source, SyncML, Target, UnknownElement,
} from './types.js';
import type { DevInf } from './devinf-types.js';
import type { MgmtTree } from './ddf-types.js';
import type { CodePageSet } from '../wbxml/code-page.js';
import type { WbxmlVersion, WbxmlWriter } from '../wbxml/writer.js';
import { XmlOutput } from '../wbxml/xml/output.js';
import { SyncMLError, isSyncMLError, lowerError } from './errors.js';
import {
  ADD, ALERT, ARCHIVE, ATOMIC, CHAL, CMD, CMD_ID, CMD_REF, COPY, CORRELATOR, CRED, DATA, DDF12, DELETE,
  DEVINF12, DEVINF_WBXML, DEVINF_XML, EXEC, FIELD, FILTER, FILTER_TYPE, FINAL, GET, ITEM, LANG, LOC_NAME,
  LOC_URI, MAP, MAP_ITEM, META, MORE_DATA, MOVE, MSG_ID, MSG_REF, M_ANCHOR, M_EMI, M_FIELD_LEVEL, M_FORMAT,
  M_FREE_ID, M_FREE_MEM, M_LAST, M_MARK, M_MAX_MSG_SIZE, M_MAX_OBJ_SIZE, M_MEM, M_NEXT, M_NEXT_NONCE,
  M_SHARED_MEM, M_SIZE, M_TYPE, M_VERSION, NO_RESP, NO_RESULTS, NUMBER_OF_CHANGES, PUT, RECORD, REPLACE,
  RESP_URI, RESULTS, SEARCH, SEQUENCE, SESSION_ID, SFT_DEL, SOURCE, SOURCE_PARENT, SOURCE_REF, STATUS,
  SYNC, SYNC_BODY, SYNC_HDR, SYNCML12, SYNC_ML, TARGET, TARGET_PARENT, TARGET_REF, TNDS_WBXML, TNDS_XML,
  VER_DTD, VER_PROTO, devInfSetFor, nestedKind, syncmlSetFor,
} from './elements.js';
import { NS_FOREIGN, namespaceClass } from './source.js';
import { WbxmlSink, XmlSink, isXmlText, type Sink } from './sink.js';
import { writeDevInf } from './serialize-devinf.js';
import { writeMgmtTree } from './serialize-ddf.js';

/** WBXML output. @public */
export interface WbxmlSerializeOptions {
  encoding: 'wbxml';
  /** WBXML version of the header (and of nested documents). Default `1.2`. */
  wbxmlVersion?: WbxmlVersion;
  /** Move repeated text into a string table. Default false (DM peers mostly send none). */
  stringTable?: boolean;
}

/** XML output. @public */
export interface XmlSerializeOptions {
  encoding: 'xml';
  /** `false` (default): compact. `true`: two spaces per level; a number: that many spaces. */
  indent?: boolean | number;
  /** Write `<?xml version="1.0" encoding="UTF-8"?>`. Default true. */
  xmlDeclaration?: boolean;
  /** Write a DOCTYPE with the public and system IDs (as `wbxmlToXml` does). Default false. */
  doctype?: boolean;
}

/** @public */
export type SerializeOptions = WbxmlSerializeOptions | XmlSerializeOptions;

function bad(message: string, path = ''): SyncMLError {
  return new SyncMLError('INVALID_ARGUMENT', message, { path });
}

/** Re-throws `e` with `segment` put in front of its path. */
function within(e: unknown, segment: string): SyncMLError {
  if (isSyncMLError(e)) {
    return new SyncMLError(e.code, e.message.replace(/ \(at [^)]*\)$/, ''), { path: e.path ? `${segment}/${e.path}` : segment, cause: (e as { cause?: unknown }).cause });
  }
  const p = lowerError(e);
  const msg = e instanceof RangeError || e instanceof TypeError ? `${e.message} (the message is not a valid typed SyncML value)` : p.message;
  return new SyncMLError('INVALID_ARGUMENT', msg, { path: segment, cause: e });
}

/** Counts same-named siblings for path segments. */
function segment(list: readonly { kind: string }[], i: number): string {
  const kind = list[i].kind;
  let n = 0;
  for (let j = 0; j <= i; j++) if (list[j].kind === kind) n++;
  return `${kind}[${n}]`;
}

/** Writes typed values through a sink, in DTD order. */
export class Walker {
  constructor(readonly s: Sink, readonly xml: boolean) {}

  str(v: unknown, what: string): string {
    if (typeof v === 'string') return v;
    throw bad(`${what} must be a string, got ${v === null ? 'null' : typeof v}`);
  }

  leaf(id: number, v: unknown, what: string): void {
    this.s.leaf(id, typeof v === 'string' ? v : this.str(v, what));
  }

  num(id: number, v: unknown, what: string): void {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) {
      throw bad(`${what} must be a non-negative integer, got ${String(v)}`);
    }
    this.s.leaf(id, String(v));
  }

  /** Elements a tolerant parse kept: known names get their token, others a literal. */
  unknown(list: readonly UnknownElement[] | undefined, page: number, foreignNs = ''): void {
    if (list === undefined) return;
    for (const el of list) this.unknownElement(el, page, foreignNs);
  }

  private unknownElement(el: UnknownElement, page: number, foreignNs: string): void {
    const s = this.s;
    const name = this.str(el.name, 'UnknownElement.name');
    const ns = el.namespace;
    const foreign = ns !== undefined && ns !== '' && namespaceClass(ns) === NS_FOREIGN;
    const id = foreign ? -1 : s.lookup(name, page);
    let inner = foreignNs;
    if (id >= 0) {
      s.start(id);
      inner = '';
    } else {
      s.startLiteral(name);
      if (foreign && ns !== foreignNs) s.attr('xmlns', ns!);
      if (foreign) inner = ns!;
    }
    if (el.attributes !== undefined) {
      for (const [k, v] of Object.entries(el.attributes)) s.attr(k, this.str(v, `attribute ${k}`));
    }
    for (const c of el.children) {
      if (typeof c === 'string') s.text(c);
      else this.unknownElement(c, id >= 0 ? id >> 8 : page, inner);
    }
    s.end();
  }

  // --- SyncML ---------------------------------------------------------------------------------

  message(m: SyncML): void {
    const s = this.s;
    s.start(SYNC_ML);
    try {
      this.header(m.header);
    } catch (e) {
      throw within(e, 'SyncHdr');
    }
    const b = m.body;
    s.start(SYNC_BODY);
    const cmds = b.commands;
    for (let i = 0; i < cmds.length; i++) {
      try {
        this.command(cmds[i]);
      } catch (e) {
        throw within(e, `SyncBody/${segment(cmds, i)}`);
      }
    }
    if (b.final === true) s.empty(FINAL);
    this.unknown(b.unknown, 0);
    s.end();
    s.end();
  }

  private header(h: SyncML['header']): void {
    const s = this.s;
    s.start(SYNC_HDR);
    this.leaf(VER_DTD, h.verDTD, 'verDTD');
    this.leaf(VER_PROTO, h.verProto, 'verProto');
    this.leaf(SESSION_ID, h.sessionId, 'sessionId');
    this.leaf(MSG_ID, h.msgId, 'msgId');
    this.target(h.target);
    this.source(SOURCE, h.source);
    if (h.respUri !== undefined) this.leaf(RESP_URI, h.respUri, 'respUri');
    if (h.noResp === true) s.empty(NO_RESP);
    if (h.cred !== undefined) this.cred(h.cred);
    if (h.meta !== undefined) this.meta(h.meta, false, 0);
    this.unknown(h.unknown, 0);
    s.end();
  }

  command(c: Command): void {
    switch (c.kind) {
      case 'Replace': case 'Add': case 'Copy': case 'Move':
        this.itemCommand(c.kind === 'Replace' ? REPLACE : c.kind === 'Add' ? ADD : c.kind === 'Copy' ? COPY : MOVE, c, undefined);
        return;
      case 'Get': case 'Put':
        this.itemCommand(c.kind === 'Get' ? GET : PUT, c, c.lang);
        return;
      case 'Delete': return this.del(c);
      case 'Status': return this.status(c);
      case 'Results': return this.results(c);
      case 'Exec': return this.exec(c);
      case 'Alert': return this.alert(c);
      case 'Atomic': case 'Sequence': return this.container(c.kind === 'Atomic' ? ATOMIC : SEQUENCE, c);
      case 'Sync': return this.sync(c);
      case 'Map': return this.map(c);
      case 'Search': return this.search(c);
      default: throw bad(`unknown command kind '${String((c as { kind?: unknown }).kind)}'`);
    }
  }

  private head(id: number, cmdId: string, noResp: boolean | undefined): void {
    const s = this.s;
    s.start(id);
    this.leaf(CMD_ID, cmdId, 'cmdId');
    if (noResp === true) s.empty(NO_RESP);
  }

  /**
   * What the command-level Meta must say for its Items: bit 0 = write Format `bin` as `b64`
   * (XML, binary data without an Item Format, as wbxmlToXml does); bits 1-2 = the nested-document
   * kind its Type announces for Items without their own Type.
   */
  private scan(items: readonly Item[], meta: Meta | undefined): number {
    let flags = 0;
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      const d = it.data;
      if (d === undefined || typeof d === 'string') continue;
      if (d instanceof Uint8Array) {
        if (this.xml && it.meta?.format === undefined && !isXmlText(d)) flags |= 1;
      } else if (it.meta?.type === undefined) {
        const kind = d.kind === 'DevInf' ? 1 : 2;
        if (nestedKind(meta?.type) === kind) flags |= kind << 1;
        else if (!this.xml) throw bad(`Item[${i + 1}] holds a ${d.kind} but no Meta/Type announces it (${kind === 1 ? DEVINF_WBXML : TNDS_WBXML})`);
      }
    }
    return flags;
  }

  private items(items: readonly Item[]): void {
    for (let i = 0; i < items.length; i++) {
      try {
        this.item(items[i]);
      } catch (e) {
        throw within(e, `Item[${i + 1}]`);
      }
    }
  }

  private itemCommand(id: number, c: { cmdId: string; noResp?: boolean; cred?: Cred; meta?: Meta; items: Item[]; unknown?: UnknownElement[] }, lang: string | undefined): void {
    const s = this.s;
    this.head(id, c.cmdId, c.noResp);
    if (lang !== undefined) this.leaf(LANG, lang, 'lang');
    if (c.cred !== undefined) this.cred(c.cred);
    const meta = c.meta;
    const f = this.scan(c.items, meta);
    if (meta !== undefined) this.meta(meta, (f & 1) !== 0, f >> 1);
    this.items(c.items);
    this.unknown(c.unknown, 0);
    s.end();
  }

  private del(c: Extract<Command, { kind: 'Delete' }>): void {
    const s = this.s;
    this.head(DELETE, c.cmdId, c.noResp);
    if (c.archive === true) s.empty(ARCHIVE);
    if (c.sftDel === true) s.empty(SFT_DEL);
    if (c.cred !== undefined) this.cred(c.cred);
    const f = this.scan(c.items, c.meta);
    if (c.meta !== undefined) this.meta(c.meta, (f & 1) !== 0, f >> 1);
    this.items(c.items);
    this.unknown(c.unknown, 0);
    s.end();
  }

  private exec(c: Extract<Command, { kind: 'Exec' }>): void {
    const s = this.s;
    this.head(EXEC, c.cmdId, c.noResp);
    if (c.cred !== undefined) this.cred(c.cred);
    const f = this.scan(c.items, c.meta);
    if (c.meta !== undefined) this.meta(c.meta, (f & 1) !== 0, f >> 1);
    if (c.correlator !== undefined) this.leaf(CORRELATOR, c.correlator, 'correlator');
    this.items(c.items);
    this.unknown(c.unknown, 0);
    s.end();
  }

  private alert(c: Extract<Command, { kind: 'Alert' }>): void {
    const s = this.s;
    this.head(ALERT, c.cmdId, c.noResp);
    if (c.cred !== undefined) this.cred(c.cred);
    this.num(DATA, c.code, 'Alert code');
    if (c.correlator !== undefined) this.leaf(CORRELATOR, c.correlator, 'correlator');
    this.scan(c.items, undefined);
    this.items(c.items);
    this.unknown(c.unknown, 0);
    s.end();
  }

  private status(c: Extract<Command, { kind: 'Status' }>): void {
    const s = this.s;
    s.start(STATUS);
    this.leaf(CMD_ID, c.cmdId, 'cmdId');
    this.leaf(MSG_REF, c.msgRef, 'msgRef');
    this.leaf(CMD_REF, c.cmdRef, 'cmdRef');
    this.leaf(CMD, c.cmd, 'cmd');
    if (c.targetRefs !== undefined) for (const r of c.targetRefs) this.leaf(TARGET_REF, r, 'targetRef');
    if (c.sourceRefs !== undefined) for (const r of c.sourceRefs) this.leaf(SOURCE_REF, r, 'sourceRef');
    if (c.cred !== undefined) this.cred(c.cred);
    if (c.chal !== undefined) {
      s.start(CHAL);
      this.meta(c.chal.meta, false, 0);
      s.end();
    }
    this.num(DATA, c.code, 'Status code');
    if (c.items !== undefined) {
      this.scan(c.items, undefined);
      this.items(c.items);
    }
    this.unknown(c.unknown, 0);
    s.end();
  }

  private results(c: Extract<Command, { kind: 'Results' }>): void {
    const s = this.s;
    s.start(RESULTS);
    this.leaf(CMD_ID, c.cmdId, 'cmdId');
    if (c.msgRef !== undefined) this.leaf(MSG_REF, c.msgRef, 'msgRef');
    this.leaf(CMD_REF, c.cmdRef, 'cmdRef');
    if (c.cmd !== undefined) this.leaf(CMD, c.cmd, 'cmd');
    const f = this.scan(c.items, c.meta);
    if (c.meta !== undefined) this.meta(c.meta, (f & 1) !== 0, f >> 1);
    if (c.targetRefs !== undefined) for (const r of c.targetRefs) this.leaf(TARGET_REF, r, 'targetRef');
    if (c.sourceRefs !== undefined) for (const r of c.sourceRefs) this.leaf(SOURCE_REF, r, 'sourceRef');
    this.items(c.items);
    this.unknown(c.unknown, 0);
    s.end();
  }

  private container(id: number, c: Extract<Command, { kind: 'Atomic' | 'Sequence' }>): void {
    const s = this.s;
    this.head(id, c.cmdId, c.noResp);
    if (c.meta !== undefined) this.meta(c.meta, false, 0);
    this.commands(c.commands);
    this.unknown(c.unknown, 0);
    s.end();
  }

  private commands(cmds: readonly Command[]): void {
    for (let i = 0; i < cmds.length; i++) {
      try {
        this.command(cmds[i]);
      } catch (e) {
        throw within(e, segment(cmds, i));
      }
    }
  }

  private sync(c: Extract<Command, { kind: 'Sync' }>): void {
    const s = this.s;
    this.head(SYNC, c.cmdId, c.noResp);
    if (c.cred !== undefined) this.cred(c.cred);
    if (c.target !== undefined) this.target(c.target);
    if (c.source !== undefined) this.source(SOURCE, c.source);
    if (c.meta !== undefined) this.meta(c.meta, false, 0);
    if (c.numberOfChanges !== undefined) this.num(NUMBER_OF_CHANGES, c.numberOfChanges, 'numberOfChanges');
    this.commands(c.commands);
    this.unknown(c.unknown, 0);
    s.end();
  }

  private map(c: Extract<Command, { kind: 'Map' }>): void {
    const s = this.s;
    s.start(MAP);
    this.leaf(CMD_ID, c.cmdId, 'cmdId');
    this.target(c.target);
    this.source(SOURCE, c.source);
    if (c.cred !== undefined) this.cred(c.cred);
    if (c.meta !== undefined) this.meta(c.meta, false, 0);
    for (const mi of c.mapItems) {
      s.start(MAP_ITEM);
      this.target(mi.target);
      this.source(SOURCE, mi.source);
      s.end();
    }
    this.unknown(c.unknown, 0);
    s.end();
  }

  private search(c: Extract<Command, { kind: 'Search' }>): void {
    const s = this.s;
    this.head(SEARCH, c.cmdId, c.noResp);
    if (c.noResults === true) s.empty(NO_RESULTS);
    if (c.cred !== undefined) this.cred(c.cred);
    if (c.target !== undefined) this.target(c.target);
    for (const src of c.sources) this.source(SOURCE, src);
    if (c.lang !== undefined) this.leaf(LANG, c.lang, 'lang');
    const d = c.data;
    const sw = this.xml && d instanceof Uint8Array && !isXmlText(d);
    this.meta(c.meta, sw, 0);
    this.data(d);
    this.unknown(c.unknown, 0);
    s.end();
  }

  // --- common elements ------------------------------------------------------------------------

  private item(it: Item): void {
    const s = this.s;
    s.start(ITEM);
    if (it.target !== undefined) this.target(it.target);
    if (it.source !== undefined) this.source(SOURCE, it.source);
    if (it.sourceParent !== undefined) this.parentRef(SOURCE_PARENT, it.sourceParent);
    if (it.targetParent !== undefined) this.parentRef(TARGET_PARENT, it.targetParent);
    const d = it.data;
    const meta = it.meta;
    if (meta !== undefined) {
      let sw = false;
      let kind = 0;
      if (d !== undefined && typeof d !== 'string') {
        if (d instanceof Uint8Array) sw = this.xml && meta.format !== undefined && !isXmlText(d);
        else if (meta.type !== undefined) {
          kind = d.kind === 'DevInf' ? 1 : 2;
          if (nestedKind(meta.type) !== kind) {
            if (!this.xml) throw bad(`Item holds a ${d.kind} but its Meta/Type is '${meta.type}'`);
            kind = 0;
          }
        }
      }
      this.meta(meta, sw, kind);
    }
    if (d !== undefined) this.data(d);
    if (it.moreData === true) s.empty(MORE_DATA);
    this.unknown(it.unknown, 0);
    s.end();
  }

  data(d: Data): void {
    const s = this.s;
    s.start(DATA);
    if (typeof d === 'string') s.text(d);
    else if (d instanceof Uint8Array) s.bytes(d);
    else if (d.kind === 'DevInf') {
      s.beginNested(devInfSetFor(d.verDTD), DEVINF12);
      writeDevInf(this, d);
      s.endNested();
    } else if (d.kind === 'MgmtTree') {
      s.beginNested(DDF12, DDF12);
      writeMgmtTree(this, d);
      s.endNested();
    } else throw bad('Data must be a string, a Uint8Array, a DevInf or a MgmtTree');
    s.end();
  }

  private target(t: Target): void {
    const s = this.s;
    if (t === undefined || t === null) throw bad('Target is required');
    s.start(TARGET);
    this.leaf(LOC_URI, t.locUri, 'locUri');
    if (t.locName !== undefined) this.leaf(LOC_NAME, t.locName, 'locName');
    if (t.filter !== undefined) this.filter(t.filter);
    s.end();
  }

  private source(id: number, src: Source): void {
    const s = this.s;
    if (src === undefined || src === null) throw bad('Source is required');
    s.start(id);
    this.leaf(LOC_URI, src.locUri, 'locUri');
    if (src.locName !== undefined) this.leaf(LOC_NAME, src.locName, 'locName');
    s.end();
  }

  private parentRef(id: number, p: ParentRef): void {
    this.s.start(id);
    this.leaf(LOC_URI, p.locUri, 'locUri');
    this.s.end();
  }

  private filter(f: Filter): void {
    const s = this.s;
    s.start(FILTER);
    if (f.meta !== undefined) this.meta(f.meta, false, 0);
    for (const [id, fr] of [[FIELD, f.field], [RECORD, f.record]] as const) {
      if (fr === undefined) continue;
      s.start(id);
      if (fr.meta !== undefined) this.meta(fr.meta, (this.scan([fr.item], fr.meta) & 1) !== 0, 0);
      this.item(fr.item);
      s.end();
    }
    if (f.filterType !== undefined) this.leaf(FILTER_TYPE, f.filterType, 'filterType');
    s.end();
  }

  private cred(c: Cred): void {
    const s = this.s;
    s.start(CRED);
    if (c.meta !== undefined) this.meta(c.meta, false, 0);
    this.leaf(DATA, c.data, 'Cred data');
    s.end();
  }

  /**
   * Meta in MetInf DTD order. `b64`: write Format `bin` as `b64` (XML, binary data written as
   * base64); `nested`: the nested-document kind whose Type is spelled for this encoding.
   */
  meta(m: Meta, b64: boolean, nested: number): void {
    const s = this.s;
    s.start(META);
    if (m.fieldLevel === true) s.empty(M_FIELD_LEVEL);
    const nonce = m.nextNonce;
    // wbxmlToXml switches a governing Format only for binary Data, not for a binary NextNonce.
    if (m.format !== undefined) this.leaf(M_FORMAT, b64 && m.format === 'bin' ? 'b64' : m.format, 'format');
    if (m.type !== undefined) {
      const t = nested === 1 ? (this.xml ? DEVINF_XML : DEVINF_WBXML) : nested === 2 ? (this.xml ? TNDS_XML : TNDS_WBXML) : m.type;
      this.leaf(M_TYPE, t, 'type');
    }
    if (m.mark !== undefined) this.leaf(M_MARK, m.mark, 'mark');
    if (m.size !== undefined) this.num(M_SIZE, m.size, 'size');
    if (m.anchor !== undefined) this.anchor(m.anchor);
    if (m.version !== undefined) this.leaf(M_VERSION, m.version, 'version');
    if (nonce !== undefined) {
      if (typeof nonce === 'string') s.leaf(M_NEXT_NONCE, nonce);
      else if (nonce instanceof Uint8Array) {
        s.start(M_NEXT_NONCE);
        s.bytes(nonce);
        s.end();
      } else throw bad('nextNonce must be a string or a Uint8Array');
    }
    if (m.maxMsgSize !== undefined) this.num(M_MAX_MSG_SIZE, m.maxMsgSize, 'maxMsgSize');
    if (m.maxObjSize !== undefined) this.num(M_MAX_OBJ_SIZE, m.maxObjSize, 'maxObjSize');
    if (m.emi !== undefined) for (const e of m.emi) this.leaf(M_EMI, e, 'emi');
    if (m.mem !== undefined) this.mem(m.mem);
    this.unknown(m.unknown, 1);
    s.end();
  }

  private anchor(a: Anchor): void {
    const s = this.s;
    s.start(M_ANCHOR);
    if (a.last !== undefined) this.leaf(M_LAST, a.last, 'anchor.last');
    this.leaf(M_NEXT, a.next, 'anchor.next');
    s.end();
  }

  private mem(m: Mem): void {
    const s = this.s;
    s.start(M_MEM);
    if (m.sharedMem === true) s.empty(M_SHARED_MEM);
    this.num(M_FREE_MEM, m.freeMem, 'freeMem');
    this.num(M_FREE_ID, m.freeId, 'freeId');
    s.end();
  }
}

// --- entry points ----------------------------------------------------------------------------

const utf8 = new TextEncoder();

function checkOptions(options: SerializeOptions | undefined): SerializeOptions {
  if (options === null || typeof options !== 'object' || (options.encoding !== 'wbxml' && options.encoding !== 'xml')) {
    throw bad("options.encoding must be 'wbxml' or 'xml'");
  }
  if (options.encoding === 'wbxml' && options.wbxmlVersion !== undefined && !['1.1', '1.2', '1.3'].includes(options.wbxmlVersion)) {
    throw bad(`wbxmlVersion must be '1.1', '1.2' or '1.3', got '${String(options.wbxmlVersion)}'`);
  }
  return options;
}

/** Runs a walk; anything thrown becomes a SyncMLError INVALID_ARGUMENT with a path. */
function run<T>(f: () => T, root: string): T {
  try {
    return f();
  } catch (e) {
    if (isSyncMLError(e)) throw e;
    throw within(e, root);
  }
}

/**
 * Writers kept for reuse, one per code page set and option combination (a serialize call is
 * never re-entered: nested documents get writers of their own).
 */
const writers = new Map<string, WbxmlWriter>();
let writersBusy = false;

/** Writes a document through the right sink: `write` gets the walker. */
function write(set: CodePageSet, names: CodePageSet, options: SerializeOptions, sizeHint: number, body: (w: Walker) => void): Uint8Array | XmlOutput {
  if (options.encoding === 'wbxml') {
    const so = { version: options.wbxmlVersion, stringTable: options.stringTable, initialCapacity: sizeHint };
    let writer: WbxmlWriter | undefined;
    const reuse = !writersBusy;
    if (reuse) {
      const key = `${set.name}|${options.wbxmlVersion ?? '1.2'}|${options.stringTable === true}`;
      writer = writers.get(key);
      if (writer === undefined) writers.set(key, (writer = WbxmlSink.writer(set, so)));
      writersBusy = true;
    }
    try {
      const sink = new WbxmlSink(set, names, so, writer);
      body(new Walker(sink, false));
      return sink.finish();
    } finally {
      if (reuse) writersBusy = false;
    }
  }
  const out = new XmlOutput(Math.max(4096, sizeHint * 2));
  const ind = options.indent;
  const indent = ind === true || (typeof ind === 'number' && ind > 0);
  if (options.xmlDeclaration ?? true) out.ascii('<?xml version="1.0" encoding="UTF-8"?>');
  if (options.doctype === true) {
    if (out.pos > 0 && indent) out.ascii('\n');
    out.raw(utf8.encode(`<!DOCTYPE ${set.root} PUBLIC "${set.publicIdString}"${set.systemId ? ` "${set.systemId}"` : ''}>`));
  }
  const sink = new XmlSink(set, names, { indent: ind }, out);
  body(new Walker(sink, true));
  return out;
}

function finish(r: Uint8Array | XmlOutput, asBytes: boolean): Uint8Array | string {
  if (r instanceof Uint8Array) return r;
  return asBytes ? r.toBytes() : r.toString();
}

function messageSize(m: SyncML): number {
  const n = Array.isArray(m?.body?.commands) ? m.body.commands.length : 0;
  return Math.min(1 << 22, 512 + n * 96);
}

function serializeAny(msg: SyncML, options: SerializeOptions, asBytes: boolean): Uint8Array | string {
  const o = checkOptions(options);
  return run(() => {
    if (msg === null || typeof msg !== 'object' || msg.header === null || typeof msg.header !== 'object' || msg.body === null || typeof msg.body !== 'object') {
      throw bad('a message needs a header and a body');
    }
    const set = syncmlSetFor(msg.header.verDTD);
    return finish(write(set, SYNCML12, o, messageSize(msg), (w) => w.message(msg)), asBytes);
  }, 'SyncML');
}

/**
 * Writes a message as WBXML (`Uint8Array`) or XML (string). Code pages and namespace follow
 * `header.verDTD` (`1.0`, `1.1`; otherwise 1.2). For any message, `wbxmlToXml` of the WBXML and
 * the XML written here are the same document.
 *
 * @example
 * ```ts
 * const bytes = serialize(msg, { encoding: 'wbxml' });
 * const xml = serialize(msg, { encoding: 'xml', indent: true });
 * ```
 * @throws SyncMLError `INVALID_ARGUMENT` (with the element path) for values that cannot be written
 * @public
 */
export function serialize(msg: SyncML, options: WbxmlSerializeOptions): Uint8Array;
export function serialize(msg: SyncML, options: XmlSerializeOptions): string;
export function serialize(msg: SyncML, options: SerializeOptions): Uint8Array | string;
export function serialize(msg: SyncML, options: SerializeOptions): Uint8Array | string {
  return serializeAny(msg, options, false);
}

/** Like {@link serialize}, always returning bytes (XML as UTF-8). @public */
export function serializeToBytes(msg: SyncML, options: SerializeOptions): Uint8Array {
  return serializeAny(msg, options, true) as Uint8Array;
}

/**
 * Writes a standalone DevInf document (its VerDTD picks DevInf 1.0 / 1.1 / 1.2 code pages).
 * @example
 * ```ts
 * const xml = serializeDevInf(devInf, { encoding: 'xml' });
 * ```
 * @public
 */
export function serializeDevInf(devInf: DevInf, options: WbxmlSerializeOptions): Uint8Array;
export function serializeDevInf(devInf: DevInf, options: XmlSerializeOptions): string;
export function serializeDevInf(devInf: DevInf, options: SerializeOptions): Uint8Array | string;
export function serializeDevInf(devInf: DevInf, options: SerializeOptions): Uint8Array | string {
  const o = checkOptions(options);
  return run(() => {
    if (devInf === null || typeof devInf !== 'object') throw bad('devInf must be a DevInf object');
    return finish(write(devInfSetFor(devInf.verDTD), DEVINF12, o, 1024, (w) => writeDevInf(w, devInf)), false);
  }, 'DevInf');
}

/**
 * Writes a standalone DM DDF / TNDS document (`-//OMA//DTD-DM-DDF 1.2//EN`, code page 2).
 * @example
 * ```ts
 * const ddf = serializeMgmtTree(tree, { encoding: 'xml', indent: true });
 * ```
 * @public
 */
export function serializeMgmtTree(tree: MgmtTree, options: WbxmlSerializeOptions): Uint8Array;
export function serializeMgmtTree(tree: MgmtTree, options: XmlSerializeOptions): string;
export function serializeMgmtTree(tree: MgmtTree, options: SerializeOptions): Uint8Array | string;
export function serializeMgmtTree(tree: MgmtTree, options: SerializeOptions): Uint8Array | string {
  const o = checkOptions(options);
  return run(() => {
    if (tree === null || typeof tree !== 'object') throw bad('tree must be a MgmtTree object');
    return finish(write(DDF12, DDF12, o, 1024, (w) => writeMgmtTree(w, tree)), false);
  }, 'MgmtTree');
}

