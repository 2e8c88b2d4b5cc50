/**
 * Hooks: code the embedder runs when something happened, always after it was stored. A hook that
 * throws (or rejects) is logged and does not change what the device is told.
 */
import type { StoredAlert } from './store.js';
import type { JobState } from '../dm/jobs.js';
import type { ServerSessionEndReason } from '../dm/server-session.js';
import type { ServerLogger } from './log.js';

/** What the server tells its embedder. @public */
export interface ServerHooks {
  /**
   * A Generic Alert (1226) or Client Event (1224) arrived and was stored. `solicited` is true when
   * it reported on a job (a FUMO campaign's result); unasked alerts have `solicited: false`.
   */
  onAlert?(alert: Omit<StoredAlert, 'id'> & { solicited: boolean }): void | Promise<void>;
  /** A job changed state. */
  onJobUpdate?(update: { jobId: string; state: JobState; step?: string; error?: string }): void | Promise<void>;
  /** A session ended. */
  onSessionEnd?(session: { token: string; deviceId: string; sessionId: string; reason: ServerSessionEndReason }): void | Promise<void>;
}

/** Runs a hook without letting it fail the caller. */
export function runHook(log: ServerLogger, name: string, fn: (() => void | Promise<void>) | undefined): void {
  if (fn === undefined) return;
  try {
    const r = fn();
    if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch((e) => log.error(`hook ${name}`, e));
  } catch (e) {
    log.error(`hook ${name}`, e);
  }
}
