/**
 * The push router (WM-ARCH steps 2-3; DMNOTI 6; research note §3): takes a package 0 (raw, or in
 * a WAP push PDU), finds the DM account of its server id, checks the digest with the account's
 * server password and server nonce (then with the reset nonces, DMNOTI 6.1), drops a session id
 * it already answered, honours the ui-mode through the embedder, and starts the session (Alert
 * 1200 with the notified SessionID).
 *
 * Decisions:
 * - A notification that does not verify is dropped (DMNOTI 6.2: the digest exists against denial
 *   of service); so is one for a server without an account.
 * - Duplicates: a (server id, session id) pair answered in the last `duplicateWindowMs` (default
 *   15 minutes) is dropped; a session that failed is forgotten so that the server's re-sent
 *   notification can start it again.
 * - ui-mode `user-interaction` asks `ui.confirm` (no callback: the session starts, as on a
 *   headless device); `informative` tells `ui.inform` and starts; `background` and
 *   `not-specified` start silently.
 * - After a match with a reset nonce the session expects the server's credentials over that nonce;
 *   server and client then exchange fresh nonces through Chal (DMNOTI 6.1).
 */
import { readDmAccounts, type DmAccount } from '../dm/mo/dmacc.js';
import {
  decodeNotification, verifyNotificationDigest, NOTIFICATION_RESET_NONCES, type Notification, type DecodeNotificationOptions,
} from '../dm/notification.js';
import type { ManagementTree } from '../dm/tree.js';
import { unwrapWapPush, WAP_APPLICATION_ID_SYNCML_DM, WSP_CONTENT_TYPE_NOTIFICATION, WSP_PDU_PUSH } from '../dm/wsp.js';
import { isDmError } from '../dm/errors.js';
import { systemClock, type Clock } from './transport.js';

/** Remembers which notified sessions were answered. @public */
export interface NotificationLog {
  isDuplicate(serverId: string, sessionId: string, now: number): boolean | Promise<boolean>;
  record(serverId: string, sessionId: string, now: number): void | Promise<void>;
  forget(serverId: string, sessionId: string): void | Promise<void>;
}

/** A {@link NotificationLog} in memory over an array (the DmClient passes its stored one). @public */
export class MemoryNotificationLog implements NotificationLog {
  constructor(readonly entries: { serverId: string; sessionId: string; at: number }[] = [], readonly windowMs = 15 * 60_000, readonly max = 64) {}

  isDuplicate(serverId: string, sessionId: string, now: number): boolean {
    return this.entries.some((e) => e.serverId === serverId && e.sessionId === sessionId && now - e.at < this.windowMs);
  }

  record(serverId: string, sessionId: string, now: number): void {
    this.forget(serverId, sessionId);
    this.entries.push({ serverId, sessionId, at: now });
    const stale = this.entries.filter((e) => now - e.at >= this.windowMs);
    for (const e of stale) this.entries.splice(this.entries.indexOf(e), 1);
    while (this.entries.length > this.max) this.entries.shift();
  }

  forget(serverId: string, sessionId: string): void {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i].serverId === serverId && this.entries[i].sessionId === sessionId) this.entries.splice(i, 1);
    }
  }
}

/** The embedder's say on ui-mode (DMNOTI 6.2). @public */
export interface PushUi {
  /** `user-interaction`: ask the user; false = do not start the session. */
  confirm?(notification: Notification): boolean | Promise<boolean>;
  /** `informative`: tell the user a session is starting. */
  inform?(notification: Notification): void | Promise<void>;
}

/** What a verified notification hands to the session starter. @public */
export interface PushTrigger {
  notification: Notification;
  account: DmAccount;
  /** The server nonce that matched (the stored one, or a reset nonce). */
  serverNonce: Uint8Array;
  nonceUsed: 'stored' | 'reset';
}

/** Options of {@link PushRouter}. @public */
export interface PushRouterOptions<T> {
  /** The tree holding the DMAcc accounts (read at every notification). */
  tree: () => ManagementTree;
  /** Starts the session; its result is returned in the outcome. */
  startSession: (trigger: PushTrigger) => Promise<T>;
  /** Nonces tried after the stored one; default {@link NOTIFICATION_RESET_NONCES}. */
  resetNonces?: readonly Uint8Array[];
  log?: NotificationLog;
  ui?: PushUi;
  clock?: Clock;
  decode?: DecodeNotificationOptions;
}

/** What happened to a push. @public */
export type PushOutcome<T> =
  | { action: 'started'; notification: Notification; nonceUsed: 'stored' | 'reset'; result: T }
  | { action: 'rejected' | 'unknown-server' | 'duplicate' | 'declined'; notification?: Notification; reason: string };

/**
 * A WAP push PDU's body when `bytes` is one carrying a DM notification (content type 0x44 or its
 * text, application id 0x07 or its URI), else `bytes` unchanged. A raw package 0 is told apart
 * by the PDU type byte (0x06) and a successful parse.
 * @public
 */
export function unwrapNotificationPush(bytes: Uint8Array): { body: Uint8Array; wsp: boolean } {
  if (bytes.length > 3 && bytes[1] === WSP_PDU_PUSH) {
    try {
      const p = unwrapWapPush(bytes);
      const ct = typeof p.contentType === 'number' ? p.contentType === WSP_CONTENT_TYPE_NOTIFICATION
        : p.contentType.toLowerCase().startsWith('application/vnd.syncml.notification');
      const app = p.applicationId === undefined || p.applicationId === WAP_APPLICATION_ID_SYNCML_DM
        || (typeof p.applicationId === 'string' && p.applicationId.toLowerCase() === 'x-wap-application:syncml.dm');
      if (ct && app) return { body: p.body, wsp: true };
    } catch (e) {
      if (!isDmError(e)) throw e;
    }
  }
  return { body: bytes, wsp: false };
}

/**
 * Routes package 0 notifications to sessions.
 *
 * @example
 * ```ts
 * const router = new PushRouter({ tree: () => client.tree, startSession: (t) => client.runSession({ kind: 'server', ... }) });
 * const outcome = await router.route(smsBytes);
 * ```
 * @public
 */
export class PushRouter<T> {
  private readonly o: PushRouterOptions<T>;
  private readonly log: NotificationLog;
  private readonly clock: Clock;

  constructor(options: PushRouterOptions<T>) {
    this.o = options;
    this.log = options.log ?? new MemoryNotificationLog();
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Handles one push. Never throws for what the bytes contain: a package 0 that cannot be decoded
   * is `rejected` with the reason. Errors of `startSession` propagate (after the session id is
   * forgotten, so a re-sent notification can try again).
   */
  async route(bytes: Uint8Array): Promise<PushOutcome<T>> {
    const { body } = unwrapNotificationPush(bytes);
    let n: Notification;
    try {
      n = decodeNotification(body, this.o.decode);
    } catch (e) {
      if (!isDmError(e)) throw e;
      return { action: 'rejected', reason: `not a valid package 0: ${e.message}` };
    }
    const account = readDmAccounts(this.o.tree()).find((a) => a.serverId === n.serverId);
    if (!account) return { action: 'unknown-server', notification: n, reason: `no DM account for server '${n.serverId}'` };
    const resets = this.o.resetNonces ?? NOTIFICATION_RESET_NONCES;
    const check = verifyNotificationDigest(n, account.serverCred.secret, account.serverCred.nonce, { resetNonces: resets });
    if (!check.valid) return { action: 'rejected', notification: n, reason: 'the digest does not verify with the server password and nonce' };
    const now = this.clock.now();
    if (await this.log.isDuplicate(n.serverId, n.sessionIdHex, now)) {
      return { action: 'duplicate', notification: n, reason: `session ${n.sessionIdHex} of '${n.serverId}' was already started` };
    }
    if (n.uiMode === 'user-interaction' && this.o.ui?.confirm) {
      if (!(await this.o.ui.confirm(n))) return { action: 'declined', notification: n, reason: 'the user declined the session' };
    } else if (n.uiMode === 'informative') {
      await this.o.ui?.inform?.(n);
    }
    const nonceUsed = check.nonceUsed === 'reset' ? 'reset' : 'stored';
    const serverNonce = nonceUsed === 'reset' ? resets[check.resetIndex!] : account.serverCred.nonce;
    await this.log.record(n.serverId, n.sessionIdHex, now);
    try {
      const result = await this.o.startSession({ notification: n, account, serverNonce, nonceUsed });
      return { action: 'started', notification: n, nonceUsed, result };
    } catch (e) {
      await this.log.forget(n.serverId, n.sessionIdHex);
      throw e;
    }
  }
}
