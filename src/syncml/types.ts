/**
 * The SyncML 1.2 representation protocol as plain typed objects (OMA-TS-SyncML_RepPro-V1_2 and
 * OMA-TS-DM_RepPro-V1_2), MetInf, and the embedded DevInf / DM DDF documents.
 *
 * Identifiers (CmdID, MsgID, SessionID, references) are strings: real servers send UUIDs.
 * Numbers that are numbers on the wire (sizes, status and alert codes) are numbers.
 */
import type { DevInf } from './devinf-types.js';
import type { MgmtTree } from './ddf-types.js';

/** A whole message. @public */
export interface SyncML {
  header: SyncHdr;
  body: SyncBody;
}

/** `SyncHdr`. @public */
export interface SyncHdr {
  /** `1.2` (DM 1.2, DS 1.2) or `1.1` (DM 1.1.2, DS 1.1). */
  verDTD: string;
  /** `DM/1.2`, `DM/1.1`, `SyncML/1.2`... */
  verProto: string;
  sessionId: string;
  msgId: string;
  target: Target;
  source: Source;
  respUri?: string;
  noResp?: boolean;
  cred?: Cred;
  meta?: Meta;
  /** Elements the DTD does not define, kept by the tolerant parser. */
  unknown?: UnknownElement[];
}

/** `SyncBody`: the commands in order, and whether `Final` closes the package. @public */
export interface SyncBody {
  commands: Command[];
  final: boolean;
  unknown?: UnknownElement[];
}

/** `Target` (in SyncHdr and Item). @public */
export interface Target {
  locUri: string;
  locName?: string;
  /** DS 1.2 filter (Target in Item of Sync/Get only). */
  filter?: Filter;
}

/** `Source`. @public */
export interface Source {
  locUri: string;
  locName?: string;
}

/** `TargetParent` / `SourceParent` (1.2): a LocURI only. @public */
export interface ParentRef {
  locUri: string;
}

/** DS 1.2 `Filter`. @public */
export interface Filter {
  meta?: Meta;
  field?: { meta?: Meta; item: Item };
  record?: { meta?: Meta; item: Item };
  filterType?: string;
}

/** `Cred`: credentials in SyncHdr (DM: never in commands). @public */
export interface Cred {
  meta?: Meta;
  data: string;
}

/** `Chal`: an authentication challenge inside Status. @public */
export interface Chal {
  meta: Meta;
}

/** MetInf `Anchor`. @public */
export interface Anchor {
  last?: string;
  next: string;
}

/** MetInf `Mem`. @public */
export interface Mem {
  sharedMem?: boolean;
  freeMem: number;
  freeId: number;
}

/** `Meta` with every MetInf 1.2 element. @public */
export interface Meta {
  format?: string;
  type?: string;
  mark?: string;
  /** Size of the whole object in bytes (on the first chunk of a large object). */
  size?: number;
  anchor?: Anchor;
  version?: string;
  /** The nonce as sent: base64 text, or raw bytes when it came as WBXML OPAQUE. */
  nextNonce?: string | Uint8Array;
  maxMsgSize?: number;
  maxObjSize?: number;
  emi?: string[];
  mem?: Mem;
  fieldLevel?: boolean;
  unknown?: UnknownElement[];
}

/**
 * `Data` content: text, bytes (WBXML OPAQUE), or an embedded DevInf / DDF (TNDS) document.
 * @public
 */
export type Data = string | Uint8Array | DevInf | MgmtTree;

/** `Item`. @public */
export interface Item {
  target?: Target;
  source?: Source;
  sourceParent?: ParentRef;
  targetParent?: ParentRef;
  meta?: Meta;
  data?: Data;
  /** This item is a chunk of a large object and more chunks follow. */
  moreData?: boolean;
  unknown?: UnknownElement[];
}

/** Fields every command has. @public */
export interface CommandBase {
  cmdId: string;
  noResp?: boolean;
  unknown?: UnknownElement[];
}

/** @public */
export interface Add extends CommandBase { kind: 'Add'; cred?: Cred; meta?: Meta; items: Item[] }
/** @public */
export interface Replace extends CommandBase { kind: 'Replace'; cred?: Cred; meta?: Meta; items: Item[] }
/** @public */
export interface Delete extends CommandBase {
  kind: 'Delete'; archive?: boolean; sftDel?: boolean; cred?: Cred; meta?: Meta; items: Item[];
}
/** @public */
export interface Copy extends CommandBase { kind: 'Copy'; cred?: Cred; meta?: Meta; items: Item[] }
/** @public */
export interface Move extends CommandBase { kind: 'Move'; cred?: Cred; meta?: Meta; items: Item[] }
/** @public */
export interface Get extends CommandBase { kind: 'Get'; lang?: string; cred?: Cred; meta?: Meta; items: Item[] }
/** @public */
export interface Put extends CommandBase { kind: 'Put'; lang?: string; cred?: Cred; meta?: Meta; items: Item[] }
/** `Exec`: one Item per the DTD (a tolerant parse keeps more). @public */
export interface Exec extends CommandBase {
  kind: 'Exec'; cred?: Cred; meta?: Meta; correlator?: string; items: Item[];
}
/** `Alert`: `code` is the alert code (1200, 1201, 1222, 1226...). @public */
export interface Alert extends CommandBase {
  kind: 'Alert'; cred?: Cred; code: number; correlator?: string; items: Item[];
}
/** `Atomic`: all or nothing. @public */
export interface Atomic extends CommandBase { kind: 'Atomic'; meta?: Meta; commands: Command[] }
/** `Sequence`: in order. @public */
export interface Sequence extends CommandBase { kind: 'Sequence'; meta?: Meta; commands: Command[] }
/** `Results` of a Get. @public */
export interface Results extends CommandBase {
  kind: 'Results';
  msgRef?: string;
  cmdRef: string;
  meta?: Meta;
  targetRefs?: string[];
  sourceRefs?: string[];
  items: Item[];
  /** Microsoft's clients put `<Cmd>` in Results (MS-MDM); kept, never required. */
  cmd?: string;
}
/** `Status` answering a command (or the SyncHdr: cmdRef `0`, cmd `SyncHdr`). @public */
export interface Status extends CommandBase {
  kind: 'Status';
  msgRef: string;
  cmdRef: string;
  cmd: string;
  targetRefs?: string[];
  sourceRefs?: string[];
  cred?: Cred;
  chal?: Chal;
  /** The status code (200, 212, 401, 404...). */
  code: number;
  items?: Item[];
}
/** DS `Map`. @public */
export interface MapCommand extends CommandBase {
  kind: 'Map'; target: Target; source: Source; cred?: Cred; meta?: Meta; mapItems: { target: Target; source: Source }[];
}
/** DS `Search`. @public */
export interface Search extends CommandBase {
  kind: 'Search'; noResults?: boolean; cred?: Cred; target?: Target; sources: Source[]; lang?: string; meta: Meta; data: Data;
}
/** DS `Sync`. @public */
export interface Sync extends CommandBase {
  kind: 'Sync'; cred?: Cred; target?: Target; source?: Source; meta?: Meta; numberOfChanges?: number; commands: Command[];
}

/** Every SyncBody command, discriminated on `kind`. @public */
export type Command =
  | Add | Alert | Atomic | Copy | Delete | Exec | Get | MapCommand | Put | Replace | Results
  | Search | Sequence | Status | Sync | Move;

/** The `kind` of a command. @public */
export type CommandKind = Command['kind'];

/**
 * An element the DTD does not define (or a defect kept by the tolerant parser), as a tiny tree:
 * kept so a message can be written back without losing it.
 * @public
 */
export interface UnknownElement {
  name: string;
  namespace?: string;
  attributes?: Record<string, string>;
  children: (UnknownElement | string)[];
}

export type { DevInf, MgmtTree };
