/**
 * `syncml-dm/dm`: the OMA DM 1.2 protocol without I/O. The management tree and its ACLs, the
 * configuration manager and handlers (CSPs), the DPU, authentication formulas, package 0, FUMO,
 * and the client and server session state machines. Runs anywhere: no `node:` imports, clocks
 * and random sources are passed in.
 * @packageDocumentation
 */
export { DmError, isDmError, type DmErrorCode, type DmErrorOptions } from './errors.js';
export { md5, md5Hex, Md5 } from './md5.js';
export { toBase64, fromBase64, type FromBase64Options } from './base64.js';
export {
  basicCredential, md5Credential, hmacDigest, constantTimeEqual, verifyMd5Credential, formatHmacHeader,
  parseHmacHeader, verifyHmac, randomNonce, type NonceMatch, type VerifyOptions, type HmacHeader,
} from './auth.js';
export {
  encodeNotification, decodeNotification, verifyNotificationDigest, notificationDigest, sessionIdHex,
  swappedSessionIdHex, DEFAULT_NOTIFICATION_VERSION, NOTIFICATION_RESET_NONCES,
  type Notification, type NotificationInput, type NotificationUiMode, type NotificationInitiator,
  type DecodeNotificationOptions, type VerifyNotificationOptions, type NotificationDigestCheck,
} from './notification.js';
export * as wsp from './wsp.js';
export {
  parseAcl, formatAcl, aclAllows, isEmptyAcl, removeServerFromAcl, grantAcl, ACL_COMMANDS,
  type Acl, type AclCommand,
} from './acl.js';
export {
  parseUri, normalizeUri, parentUri, joinUri, uriDepth, isAncestor, decodeSegment, encodeSegment,
  type UriLimits, type UriQuery, type ParsedUri,
} from './uri.js';
export {
  ManagementTree, formatTStamp, NODE_PROPERTIES, DDF_FORMATS, DEFAULT_ROOT_ACL,
  type NodeValue, type NodeScope, type NodeProperty, type NodeConstraints, type NodeDefinition, type NodeInfo,
  type AddData, type AddOptions, type ReplaceData, type ListItem, type GetResult, type TreeOptions,
  type TreeSnapshot, type TreeJson,
} from './tree.js';
export {
  exportTnds, importTnds, parseListQuery, isTndsType, TNDS_XML_TYPE, TNDS_WBXML_TYPE, TNDS_PROPERTIES,
  type TndsProperty, type ListQuery, type TndsExportOptions, type TndsImportOptions, type TndsImportReport,
} from './tnds.js';
export { applyDdf, describeTree, ddfNode, type ApplyDdfOptions, type DdfNodeSpec } from './ddf-tree.js';
export {
  OmaAclPolicy, AllowAllPolicy, RolePolicy,
  type AccessPolicy, type AccessRequest, type AccessCommand, type RoleRule, type RolePolicyOptions,
} from './access-policy.js';
export type { Handler, HandlerContext, NodeData, PendingAlert } from './handler.js';
export {
  ConfigManager,
  type ConfigCommand, type ExecuteRequest, type ExecuteResult, type ResultItem, type Transaction,
  type TransactionOutcome, type ConfigManagerOptions,
} from './config-manager.js';
export { installDevInfo, devInfoItems, devInfoDdf, DEVINFO_TYPE, type DevInfoValues } from './mo/devinfo.js';
export { installDevDetail, devDetailDdf, syncUriLimits, DEVDETAIL_TYPE, type DevDetailValues } from './mo/devdetail.js';
export {
  installDmAccount, readDmAccounts, updateAccountNonce, dmAccDdf, DMACC_TYPE,
  type DmAccount, type DmAccountInit, type DmCredential, type InstallDmAccountOptions,
} from './mo/dmacc.js';
export { installInbox, INBOX_TYPE, type InboxOptions } from './mo/inbox.js';
export { Dpu, type DpuOptions, type DpuResult } from './dpu.js';
export {
  parseAlertOptions, runUiAlert, uiRequestOf, UI_CANCELLED, UI_CANNOT_DISPLAY, UI_ALERT_CODES,
  type UserInteraction, type UiRequest, type AlertOptions, type DisplayRequest, type ConfirmRequest,
  type TextInputRequest, type SingleChoiceRequest, type MultipleChoiceRequest, type Timers,
} from './ui-alert.js';
export {
  LargeObjectAssembler, MemoryLargeObjectBuffer,
  type LargeObjectBuffer, type LargeObjectInfo, type ChunkOutcome,
} from './large-object.js';
export {
  schemeOf, nonceFromMeta, nonceInput, clientCredential, hmacHeaderValue, checkServerCredentials, AUTH_TYPE,
  type AuthScheme, type NonceForm, type AuthSecret, type ServerCheck,
} from './client-auth.js';
export {
  startClientSession, receive, afterExecution, abortSession, encodeOutgoing, maxResponseCommands,
  type ClientSessionConfig, type ClientSessionState, type ClientSessionEffect, type SessionTrigger, type TransportInfo,
  type OutgoingMessage, type StepResult, type SessionDone, type SessionEndReason, type GenericAlertRecord,
} from './client-session.js';
export {
  FumoState, FUMO_STATES, fumoStateInfo, canTransition, checkTransition, transitionPath,
  type FumoStateValue, type FumoStateInfo,
} from './fumo-states.js';
export {
  FumoHandler, installFumo, fumoDdf, fumoAlertType, fumoResultAlert, FUMO_MO_TYPE,
  type FumoJob, type FumoOperation, type FumoOptions, type FumoProfile, type FumoInstanceInit, type InstallFumoOptions,
} from './fumo.js';
export {
  parseJobSpec, firstStep, stepCommands, stepOutcome, fumoAlertMatches, fumoAlertOutcome, fumoCorrelator, isTerminalJobState,
  TERMINAL_JOB_STATES,
  type JobState, type JobSpec, type CommandSpec, type CommandVerb, type UiAlertSpec, type GroupMember, type FumoSpec,
  type FumoProgress, type JobStatus, type JobResult, type PendingJob, type StepOutcome, type StepContext,
} from './jobs.js';
export {
  checkClientAuth, challengeFor, serverCred, serverSchemeOf, nonceText, usesNonce, AUTH_TYPES,
  type DeviceAuth, type ClientAuthResult, type ClientAuthInput,
} from './server-auth.js';
export {
  step, expireSession, endEffects, errorReply,
  type ServerSessionState, type ServerSessionConfig, type ServerStepInput, type ServerStepResult, type ServerStepTransport,
  type ServerEffect, type ServerSessionEndReason, type SessionDevice, type AlertRecord, type TreeNode, type SentRef,
} from './server-session.js';
