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
export {
  STATUS_CODES, StatusCode, statusInfo, statusText, isSuccess, type StatusCodeInfo,
} from './status-codes.js';
export {
  ALERT_CODES, AlertCode, alertInfo, alertLabel, isUiAlert, isDmAlert, type AlertCodeInfo,
} from './alert-codes.js';
export {
  formatUiAlertOptions, uiAlert, type UiAlertOptions, type UiAlertRequest, type UiInputTypeCode, type UiEchoTypeCode,
} from './ui-alert-options.js';
export {
  genericAlert, genericAlerts, readGenericAlerts, FumoAlertType, FUMO_RESULT_CODES, FumoResult, fumoResultInfo,
  fumoResultText, isFumoSuccess, type GenericAlertItem, type GenericAlertRequest, type GenericAlertEvent, type FumoResultInfo,
} from './generic-alert.js';
export {
  MessageBuilder, SessionMessages, headerStatus, commandStatus, resultsFor, answer, isHeaderStatus,
  type HeaderStatusExtras, type CommandStatusExtras, type StatusDecision, type HeaderDecision, type AnswerContext,
  type SessionMessagesOptions,
} from './builder.js';
export { commandSize, messageOverhead, messageSize, type SizeOptions } from './size.js';
export { splitItem, joinChunks } from './chunk.js';
export { Packer, type PackerOptions, type PackedCommand, type PackResult } from './packer.js';
