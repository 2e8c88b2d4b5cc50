/**
 * `syncml-dm/syncml`: SyncML 1.1 / 1.2 messages (DM and DS), MetInf, DevInf and DM DDF as typed
 * objects, read from and written to WBXML or XML.
 * @packageDocumentation
 */
export type * from './types.js';
export type * from './devinf-types.js';
export type * from './ddf-types.js';
export { SyncMLError, isSyncMLError, type SyncMLErrorCode, type SyncMLErrorDetails } from './errors.js';
export {
  parse, parseMessage, parseDevInf, parseMgmtTree,
  type ParseMessageOptions, type ParsedMessage, type ParseOptions, type SyncMLWarning, type SyncMLWarningCode,
} from './parse.js';
export {
  serialize, serializeToBytes, serializeDevInf, serializeMgmtTree,
  type SerializeOptions, type WbxmlSerializeOptions, type XmlSerializeOptions,
} from './serialize.js';
export { normalizeAlertType } from './alert-type.js';
