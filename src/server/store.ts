/**
 * The server's storage, as an interface: devices and their credentials, nonces (with used-nonce
 * tracking, so a nonce is never accepted twice), jobs with the Statuses and Results the devices
 * returned, the device trees as last seen, alerts, sessions and package 0 notifications.
 *
 * Every method that acknowledges something is durable when its promise resolves: a job the admin
 * API answered for is on disk; `apply` (the effects of one session step) is one transaction, made
 * durable before the server answers the device. So a job is marked answered only in the same
 * transaction that stores the device's Statuses for it, and nothing the device was told was
 * received can be lost by a crash.
 *
 * The default implementation is `SqliteStore` (`sqlite-store.ts`); the interface is async so that
 * a networked database (several server processes sharing state) fits behind it.
 */
import type { AuthScheme, DeviceAuth } from '../dm/server-auth.js';
import type { FumoProgress, JobResult, JobSpec, JobState, JobStatus, PendingJob } from '../dm/jobs.js';
import type { AlertRecord, SentRef, ServerEffect, ServerSessionEndReason, TreeNode } from '../dm/server-session.js';

/** What the admin gives to create or update a device. @public */
export interface DeviceInput {
  /** DevId: what the device sends as SyncHdr Source LocURI (`IMEI:…`, a GUID). */
  id: string;
  name?: string;
  /** Credentials (DMAcc AAuthName / AAuthSecret for both directions) and initial nonces. */
  auth?: Partial<DeviceAuth>;
  /** Where package 0 goes: an MSISDN for an SMS gateway, a URL... (the push sender reads it). */
  pushAddress?: string;
}

/** A device as stored. @public */
export interface DeviceRecord {
  id: string;
  name?: string;
  createdAt: number;
  firstSeen?: number;
  lastSeen?: number;
  /** The DM version of its last session. */
  dmVersion?: '1.2' | '1.1.2';
  /** The last DevInfo it sent (DevId, Man, Mod, DmV, Lang...). */
  devInfo: Record<string, string>;
  /** Credentials, with the current unused client nonce and the latest server nonce. */
  auth: DeviceAuth;
  pushAddress?: string;
}

/** A job as stored. @public */
export interface JobRecord extends PendingJob {
  deviceId: string;
  /** A FUMO campaign (or any batch) the job belongs to. */
  campaign?: string;
  createdAt: number;
  updatedAt: number;
  error?: string;
  /** Every Status received for it, in order. */
  statuses: JobStatus[];
  /** Every Results Item received for it. */
  results: JobResult[];
  /** Where its commands went in its last attempt. */
  sent: SentRef[];
}

/** A Generic Alert or Client Event as stored. @public */
export interface StoredAlert extends AlertRecord {
  id: number;
  deviceId: string;
  session?: string;
  /** The job it reported on (a FUMO campaign); absent: it came unasked. */
  jobId?: string;
  at: number;
}

/** A result row: one node value a Get returned. @public */
export interface StoredResult extends JobResult {
  id: number;
  deviceId: string;
  jobId?: string;
  session?: string;
  at: number;
}

/** A node of a device's tree as the server last saw it. @public */
export interface StoredNode extends TreeNode {
  at: number;
}

/** A session as recorded. @public */
export interface SessionRecord {
  token: string;
  deviceId: string;
  sessionId: string;
  version?: '1.2' | '1.1.2';
  initiator?: 'client' | 'server';
  startedAt: number;
  lastAt: number;
  endedAt?: number;
  reason?: ServerSessionEndReason;
  authenticated: boolean;
  messagesIn: number;
  messagesOut: number;
}

/** A package 0 the server sent. @public */
export interface NotificationRecord {
  id: string;
  deviceId: string;
  /** The SyncHdr SessionID the device will use (upper-case hex). */
  sessionId: string;
  /** The byte-swapped form libdmclient sends (research note §3.1). */
  swappedSessionId: string;
  uiMode: string;
  createdAt: number;
  /** When a session answered it (Alert 1200). */
  answeredAt?: number;
  session?: string;
  /** What the push sender reported. */
  delivery?: string;
}

/** An authentication outcome. @public */
export interface AuthEvent {
  deviceId: string;
  session: string;
  scheme: AuthScheme | 'unknown-device';
  outcome: 'accepted' | 'challenged' | 'refused';
  code: number;
  reason?: string;
  at: number;
}

/** Filters of the list methods (all optional; newest first unless said). @public */
export interface ListFilter {
  deviceId?: string;
  jobId?: string;
  state?: JobState;
  campaign?: string;
  limit?: number;
}

/** The server's storage (see the file comment). @public */
export interface Store {
  /** Creates a device or updates the given fields (credentials merged). */
  putDevice(input: DeviceInput, now: number): Promise<DeviceRecord>;
  getDevice(id: string): Promise<DeviceRecord | undefined>;
  listDevices(): Promise<DeviceRecord[]>;
  /** Removes a device and everything about it. */
  deleteDevice(id: string): Promise<boolean>;
  /** Replaces the given credential fields (a nonce given here becomes the current one). */
  setCredentials(id: string, auth: Partial<DeviceAuth>, now: number): Promise<DeviceRecord | undefined>;

  /** Whether this nonce was issued to the device and has been used (or replaced) since. */
  isNonceUsed(deviceId: string, purpose: 'client' | 'server', value: string): Promise<boolean>;

  addJob(deviceId: string, spec: JobSpec, now: number, options?: { campaign?: string }): Promise<JobRecord>;
  getJob(id: string): Promise<JobRecord | undefined>;
  /** Oldest first. */
  listJobs(filter?: ListFilter): Promise<JobRecord[]>;
  /** The device's unfinished jobs (queued, sent, waiting-alert), oldest first: what a session takes. */
  pendingJobs(deviceId: string): Promise<PendingJob[]>;
  /** Cancels a job that is not in flight (queued, waiting-alert): it becomes failed. */
  cancelJob(id: string, now: number): Promise<JobRecord | undefined>;

  getTree(deviceId: string): Promise<StoredNode[]>;
  listResults(filter?: ListFilter): Promise<StoredResult[]>;
  listAlerts(filter?: ListFilter): Promise<StoredAlert[]>;
  listSessions(filter?: ListFilter): Promise<SessionRecord[]>;
  getSession(token: string): Promise<SessionRecord | undefined>;
  listAuthEvents(filter?: ListFilter): Promise<AuthEvent[]>;

  addNotification(n: Omit<NotificationRecord, 'id'>): Promise<NotificationRecord>;
  /** The latest unanswered notification for the device whose SessionID (or swapped form) is `sessionId`. */
  findNotification(deviceId: string, sessionId: string): Promise<NotificationRecord | undefined>;
  listNotifications(filter?: ListFilter): Promise<NotificationRecord[]>;
  /** Records what the push sender reported for a notification. */
  setNotificationDelivery(id: string, delivery: string): Promise<void>;

  /** Applies one step's effects in one transaction, durable when it resolves. */
  apply(effects: readonly ServerEffect[]): Promise<void>;
  close(): Promise<void>;
}

export type { FumoProgress };

/**
 * True for the errors of a store that cannot write (the disk or the database's size limit is
 * full, or the file system fails): SQLite's SQLITE_FULL and SQLITE_IOERR_*, Node's ENOSPC / EDQUOT
 * / EIO. The endpoint answers them 503 and the admin API 507, with the cause in the log: nothing of
 * the request was written (one transaction), and the server goes on serving reads.
 */
export function isStoreUnavailable(e: unknown): boolean {
  const code = String((e as { code?: unknown } | null)?.code ?? '');
  return code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR') || code === 'ENOSPC' || code === 'EDQUOT' || code === 'EIO';
}
