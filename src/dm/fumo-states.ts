/**
 * The FUMO State machine (OMA-TS-DM-FUMO-V1_0 §10.1; research note §5.2) as data: the ten
 * values of `<x>/State` and the transitions a device may make between them.
 *
 * 70 is Update Failed / **Have Data** and 80 Update Failed / **No Data** (some secondary sources
 * swap them; the research note checked four independent implementations).
 *
 * The transition table is ours where FUMO's state diagram leaves room (decisions):
 * - a new Download or DownloadAndUpdate may start from any state that is not in progress
 *   (10, 20, 40, 70, 80, 90, 100 -> 30): after the final Generic Alert the device waits for new
 *   server commands (FUMO §10.2), and those commands start from wherever the last job ended;
 * - an Update needs the package on the device: 40 (downloaded), 70 (failed, data kept) and 90
 *   (succeeded, data kept) -> 50 Ready to Update;
 * - 40 -> 50 -> 60: a DownloadAndUpdate passes Download Complete on its way (the walk the issue
 *   asks for is 10 -> 30 -> 40 -> 50 -> 60 -> 100);
 * - 50 -> 70 when the user declines the update at Ready to Update (the package stays);
 * - every state but 30 and 60 may go back to 10 (the device resets an instance).
 */
import { DmError } from './errors.js';

/** The FUMO State values (FUMO §10.1). @public */
export const FumoState = Object.freeze({
  IDLE: 10,
  DOWNLOAD_FAILED: 20,
  DOWNLOAD_PROGRESSING: 30,
  DOWNLOAD_COMPLETE: 40,
  READY_TO_UPDATE: 50,
  UPDATE_PROGRESSING: 60,
  UPDATE_FAILED_HAVE_DATA: 70,
  UPDATE_FAILED_NO_DATA: 80,
  UPDATE_SUCCESSFUL_HAVE_DATA: 90,
  UPDATE_SUCCESSFUL_NO_DATA: 100,
} as const);

/** One of the ten State values. @public */
export type FumoStateValue = (typeof FumoState)[keyof typeof FumoState];

/** One row of {@link FUMO_STATES}. @public */
export interface FumoStateInfo {
  value: FumoStateValue;
  /** FUMO §10.1 wording. */
  meaning: string;
  /** The operation has ended here (a final Generic Alert reports it). */
  terminal: boolean;
  /** A job is running: a new Exec is refused. */
  busy: boolean;
  /** The package is on the device (an Update can run). */
  hasData: boolean;
  /** States this one may move to. */
  next: readonly FumoStateValue[];
}

const S = FumoState;
/** `[value, meaning, terminal, busy, hasData, next]`. */
const TABLE: readonly [FumoStateValue, string, boolean, boolean, boolean, FumoStateValue[]][] = [
  [S.IDLE, 'Idle / Start', false, false, false, [S.DOWNLOAD_PROGRESSING]],
  [S.DOWNLOAD_FAILED, 'Download Failed', true, false, false, [S.DOWNLOAD_PROGRESSING, S.IDLE]],
  [S.DOWNLOAD_PROGRESSING, 'Download Progressing', false, true, false, [S.DOWNLOAD_COMPLETE, S.DOWNLOAD_FAILED]],
  [S.DOWNLOAD_COMPLETE, 'Download Complete', false, false, true, [S.READY_TO_UPDATE, S.DOWNLOAD_PROGRESSING, S.IDLE]],
  [S.READY_TO_UPDATE, 'Ready to Update', false, false, true, [S.UPDATE_PROGRESSING, S.UPDATE_FAILED_HAVE_DATA, S.IDLE]],
  [S.UPDATE_PROGRESSING, 'Update Progressing', false, true, true,
    [S.UPDATE_FAILED_HAVE_DATA, S.UPDATE_FAILED_NO_DATA, S.UPDATE_SUCCESSFUL_HAVE_DATA, S.UPDATE_SUCCESSFUL_NO_DATA]],
  [S.UPDATE_FAILED_HAVE_DATA, 'Update Failed / Have Data', true, false, true, [S.READY_TO_UPDATE, S.DOWNLOAD_PROGRESSING, S.IDLE]],
  [S.UPDATE_FAILED_NO_DATA, 'Update Failed / No Data', true, false, false, [S.DOWNLOAD_PROGRESSING, S.IDLE]],
  [S.UPDATE_SUCCESSFUL_HAVE_DATA, 'Update Successful / Have Data', true, false, true, [S.READY_TO_UPDATE, S.DOWNLOAD_PROGRESSING, S.IDLE]],
  [S.UPDATE_SUCCESSFUL_NO_DATA, 'Update Successful / No Data', true, false, false, [S.DOWNLOAD_PROGRESSING, S.IDLE]],
];

/** Every State value with its meaning and allowed next states, in numeric order. @public */
export const FUMO_STATES: readonly FumoStateInfo[] = Object.freeze(TABLE.map(([value, meaning, terminal, busy, hasData, next]) =>
  Object.freeze({ value, meaning, terminal, busy, hasData, next: Object.freeze([...next]) })));

const BY_VALUE = new Map<number, FumoStateInfo>(FUMO_STATES.map((s) => [s.value, s]));

/** The row of a State value, or undefined for a value FUMO does not define. @public */
export function fumoStateInfo(value: number): FumoStateInfo | undefined {
  return BY_VALUE.get(value);
}

/** Whether the State may move from `from` to `to` (see the module comment). @public */
export function canTransition(from: number, to: number): boolean {
  return BY_VALUE.get(from)?.next.includes(to as FumoStateValue) ?? false;
}

/**
 * Checks a transition. Throws DmError `INVALID_ARGUMENT` naming both states when the table does
 * not allow it (a device-side bug, not something a server can cause).
 * @public
 */
export function checkTransition(from: number, to: number): FumoStateValue {
  if (!BY_VALUE.has(to)) throw new DmError('INVALID_ARGUMENT', `${to} is not a FUMO State value`);
  if (!canTransition(from, to)) {
    throw new DmError('INVALID_ARGUMENT', `FUMO State cannot go from ${from} (${BY_VALUE.get(from)?.meaning ?? 'unknown'}) to ${to} (${BY_VALUE.get(to)!.meaning})`);
  }
  return to as FumoStateValue;
}

/**
 * The shortest walk of allowed transitions from `from` to `to` (both ends included), or
 * undefined when none exists: lets a job runner move through the intermediate states
 * (40 -> 50 -> 60) without hard-coding them.
 * @public
 */
export function transitionPath(from: number, to: number): FumoStateValue[] | undefined {
  if (!BY_VALUE.has(from) || !BY_VALUE.has(to)) return undefined;
  const prev = new Map<number, number>([[from, from]]);
  const queue = [from];
  while (queue.length > 0) {
    const s = queue.shift()!;
    if (s === to) break;
    for (const n of BY_VALUE.get(s)!.next) {
      if (!prev.has(n)) { prev.set(n, s); queue.push(n); }
    }
  }
  if (!prev.has(to)) return undefined;
  const path: FumoStateValue[] = [to as FumoStateValue];
  for (let s = to; s !== from; s = prev.get(s)!) path.unshift(prev.get(s)! as FumoStateValue);
  return path;
}
