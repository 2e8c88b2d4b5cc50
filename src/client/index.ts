/**
 * `syncml-dm/client`: the device side of OMA DM on Node.js. The embeddable {@link DmClient}
 * (tree, sessions, FUMO jobs), the HTTP(S) transport with retries and the DM 1.1.2 fallback, the
 * package 0 push router, the FUMO package download, and the client store (atomic JSON file).
 * The protocol itself (session state machine, DPU, FUMO MO) is in `syncml-dm/dm`.
 * @packageDocumentation
 */
export {
  DmClient, summarizeMessage,
  type DmClientOptions, type DmClientServer, type DmClientFumoOptions, type FumoInstaller, type TraceEvent,
  type SessionReport, type FumoReport,
} from './dm-client.js';
export {
  HttpTransport, defaultFallback, backoffDelay, retryAfterMs, transportError, systemClock, DEFAULT_RETRY,
  type Transport, type TransportOptions, type TransportRequest, type TransportResponse, type TransportError,
  type RetryPolicy, type RetryInfo, type TlsOptions, type Clock, type FallbackSignal, type FallbackPredicate,
} from './transport.js';
export {
  PushRouter, MemoryNotificationLog, unwrapNotificationPush,
  type PushRouterOptions, type PushOutcome, type PushTrigger, type PushUi, type NotificationLog,
} from './push-router.js';
export {
  JsonFileStore, MemoryStore, emptyClientState, stateToJson, stateFromJson, deviceDirectoryName,
  type ClientStore, type ClientState, type StoredAlert, type StoredFumoJob, type FumoJobPhase, type NotifiedSession,
  type ServerPreferences, type JsonFileStoreHooks,
} from './store.js';
export {
  downloadPackage, downloadResultCode, type DownloadOptions, type DownloadProgress, type DownloadResult,
} from './fumo-download.js';
