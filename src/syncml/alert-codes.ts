/**
 * Alert codes as data: the DM 1.2 codes (OMA-TS-DM_RepPro-V1_2 §4.2, research note §1.5 — only
 * these are valid in DM) and the Data Synchronization codes of SyncML RepPro 1.2 (sync types
 * 200-210, 221-225), so that a DS message still prints with names.
 */

/** One alert code. @public */
export interface AlertCodeInfo {
  code: number;
  /** Constant name (`CLIENT_INITIATED_MGMT`). */
  name: string;
  /** The specification's label (`CLIENT-INITIATED MGMT`). */
  label: string;
  /** Valid in OMA DM (DM RepPro §4.2); false: SyncML DS only. */
  dm: boolean;
  /** Who sends it, where the specification says. */
  direction?: 'server-to-client' | 'client-to-server' | 'either';
}

/** `[code, name, label, dm, direction?]`, numeric order. */
const TABLE = [
  // SyncML DS (RepPro 1.2 §7; the DS 1.2 "Alert Codes" table)
  [100, 'DS_DISPLAY', 'DISPLAY', false],
  [200, 'TWO_WAY', 'TWO-WAY', false],
  [201, 'SLOW_SYNC', 'SLOW SYNC', false],
  [202, 'ONE_WAY_FROM_CLIENT', 'ONE-WAY FROM CLIENT', false],
  [203, 'REFRESH_FROM_CLIENT', 'REFRESH FROM CLIENT', false],
  [204, 'ONE_WAY_FROM_SERVER', 'ONE-WAY FROM SERVER', false],
  [205, 'REFRESH_FROM_SERVER', 'REFRESH FROM SERVER', false],
  [206, 'TWO_WAY_BY_SERVER', 'TWO-WAY BY SERVER', false],
  [207, 'ONE_WAY_FROM_CLIENT_BY_SERVER', 'ONE-WAY FROM CLIENT BY SERVER', false],
  [208, 'REFRESH_FROM_CLIENT_BY_SERVER', 'REFRESH FROM CLIENT BY SERVER', false],
  [209, 'ONE_WAY_FROM_SERVER_BY_SERVER', 'ONE-WAY FROM SERVER BY SERVER', false],
  [210, 'REFRESH_FROM_SERVER_BY_SERVER', 'REFRESH FROM SERVER BY SERVER', false],
  [221, 'RESULT_ALERT', 'RESULT ALERT', false],
  [222, 'DS_NEXT_MESSAGE', 'NEXT MESSAGE', false],
  [223, 'DS_NO_END_OF_DATA', 'NO END OF DATA', false],
  [224, 'SUSPEND', 'SUSPEND', false],
  [225, 'RESUME', 'RESUME', false],
  // OMA DM 1.2 (DM RepPro §4.2). 1100-1104: user interaction (DMPRO 2.5), server to client only.
  [1100, 'DISPLAY', 'DISPLAY', true, 'server-to-client'],
  [1101, 'CONFIRM_OR_REJECT', 'CONFIRM OR REJECT', true, 'server-to-client'],
  [1102, 'TEXT_INPUT', 'TEXT INPUT', true, 'server-to-client'],
  [1103, 'SINGLE_CHOICE', 'SINGLE CHOICE', true, 'server-to-client'],
  [1104, 'MULTIPLE_CHOICE', 'MULTIPLE CHOICE', true, 'server-to-client'],
  // Package 1: 1200 answers a package 0 notification, 1201 otherwise.
  [1200, 'SERVER_INITIATED_MGMT', 'SERVER-INITIATED MGMT', true, 'client-to-server'],
  [1201, 'CLIENT_INITIATED_MGMT', 'CLIENT-INITIATED MGMT', true, 'client-to-server'],
  [1222, 'NEXT_MESSAGE', 'NEXT MESSAGE', true, 'either'],
  [1223, 'SESSION_ABORT', 'SESSION ABORT', true, 'either'],
  [1224, 'CLIENT_EVENT', 'CLIENT EVENT', true, 'client-to-server'],
  [1225, 'NO_END_OF_DATA', 'NO END OF DATA', true, 'either'],
  [1226, 'GENERIC_ALERT', 'GENERIC ALERT', true, 'client-to-server'],
] as const;

function row(r: (typeof TABLE)[number]): AlertCodeInfo {
  const info: AlertCodeInfo = { code: r[0], name: r[1], label: r[2], dm: r[3] };
  if (r.length > 4) info.direction = (r as readonly unknown[])[4] as AlertCodeInfo['direction'];
  return Object.freeze(info);
}

/** Every alert code known, in numeric order. @public */
export const ALERT_CODES: readonly AlertCodeInfo[] = Object.freeze(TABLE.map(row));

const BY_CODE = new Map<number, AlertCodeInfo>(ALERT_CODES.map((r) => [r.code, r]));

type AlertCodeConstants = { readonly [R in (typeof TABLE)[number] as R[1]]: R[0] };

/**
 * Alert codes by constant name, derived from {@link ALERT_CODES}. DS codes whose DM twin has the
 * same label carry a `DS_` prefix (`DS_NEXT_MESSAGE` = 222, `NEXT_MESSAGE` = 1222).
 *
 * @example
 * ```ts
 * const alert: Alert = { kind: 'Alert', cmdId: '', code: AlertCode.CLIENT_INITIATED_MGMT, items: [] };
 * ```
 * @public
 */
export const AlertCode: AlertCodeConstants = Object.freeze(Object.fromEntries(TABLE.map((r) => [r[1], r[0]]))) as AlertCodeConstants;

/** The row of `code`, if known. @public */
export function alertInfo(code: number): AlertCodeInfo | undefined {
  return BY_CODE.get(code);
}

/** The label of `code` (`1201` -> `CLIENT-INITIATED MGMT`); `UNKNOWN` when not in the table. @public */
export function alertLabel(code: number): string {
  return BY_CODE.get(code)?.label ?? 'UNKNOWN';
}

/** 1100-1104: a user interaction alert (DMPRO 2.5). @public */
export function isUiAlert(code: number): boolean {
  return code >= 1100 && code <= 1104 && Number.isInteger(code);
}

/** A code valid in OMA DM 1.2 (anything else in a DM session is answered 406). @public */
export function isDmAlert(code: number): boolean {
  return BY_CODE.get(code)?.dm === true;
}
