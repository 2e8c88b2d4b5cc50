/**
 * `syncml-dm/server`: a small OMA DM 1.2 / 1.1.2 server for Node: the DM endpoint (a request
 * handler for any HTTP(S) server), `DmServer` (standalone, HTTPS, admin API on its own port),
 * the store interface and its SQLite implementation, package 0 push senders, logs and hooks.
 * @packageDocumentation
 */
export { DmServer, MODERN_CIPHERS, type DmServerOptions } from './dm-server.js';
export { createDmEndpoint, DM_WBXML, DM_XML, type DmEndpoint, type DmEndpointOptions } from './dm-endpoint.js';
export { createAdminApi, publicDevice, type AdminApiOptions } from './admin-api.js';
export type {
  Store, DeviceInput, DeviceRecord, JobRecord, StoredAlert, StoredResult, StoredNode, SessionRecord, NotificationRecord,
  AuthEvent, ListFilter,
} from './store.js';
export { SqliteStore, SCHEMA_VERSION, type SqliteStoreOptions } from './sqlite-store.js';
export { FilePushSender, HttpPushSender, type PushSender, type PushMessage, type PushFraming, type HttpPushSenderOptions } from './push.js';
export { notifyDevice, type NotifyOptions, type NotifyResult } from './notify.js';
export { JsonLogger, TraceWriter, silentLogger, summarize, type ServerLogger, type MessageLogEntry, type LineSink } from './log.js';
export type { ServerHooks } from './hooks.js';
