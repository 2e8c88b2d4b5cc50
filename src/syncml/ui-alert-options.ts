/**
 * The server side of user interaction alerts (DMPRO 2.5; research note §1.6): the parameter
 * string of Item 1 and the Alert itself. The device side's reader is `dm/ui-alert.ts`.
 *
 * Item 1 = the parameters as one URL-encoded string (empty Item Data when none), Item 2 = the
 * text, Items 3.. = the choices of 1103 / 1104, numbered from 1 in order.
 */
import type { Alert, Item } from './types.js';
import { SyncMLError } from './errors.js';

/** `IT`: alphanumeric, numeric, date (DDMMYYYY), time (hhmmss), phone number, IP address. @public */
export type UiInputTypeCode = 'A' | 'N' | 'D' | 'T' | 'P' | 'I';
/** `ET`: echo the text, or mask it as a password. @public */
export type UiEchoTypeCode = 'T' | 'P';

/** The parameters of a user interaction alert. @public */
export interface UiAlertOptions {
  /** `MINDT`: seconds the text stays on screen at least. */
  minDisplayTime?: number;
  /** `MAXDT`: seconds the device waits for the user; then the alert ends with 408. */
  maxDisplayTime?: number;
  /**
   * `DR`: the default answer. 1101: `true`/`false` (written `1`/`0`); 1102: the text; 1103: the
   * 1-based choice; 1104: the 1-based choices (written `2-3`).
   */
  defaultResponse?: string | number | boolean | readonly number[];
  /** `MAXLEN`: most characters the user may type (1102). */
  maxLength?: number;
  /** `IT` (1102). */
  inputType?: UiInputTypeCode;
  /** `ET` (1102). */
  echoType?: UiEchoTypeCode;
}

function bad(message: string): SyncMLError {
  return new SyncMLError('INVALID_ARGUMENT', message);
}

function count(v: unknown, what: string): string {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 999_999_999) throw bad(`${what} must be a non-negative integer, got ${String(v)}`);
  return String(v);
}

function dr(v: UiAlertOptions['defaultResponse']): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number') return count(v, 'defaultResponse');
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map((n) => count(n, 'defaultResponse choice')).join('-');
  throw bad('defaultResponse must be a string, a number, a boolean or a list of numbers');
}

/**
 * The parameter string of Item 1, parameters in the order of DMPRO 2.5 (`MINDT`, `MAXDT`, `DR`,
 * `MAXLEN`, `IT`, `ET`), values URL-encoded; `''` when there are none.
 *
 * @example
 * ```ts
 * formatUiAlertOptions({ minDisplayTime: 10, maxDisplayTime: 30 }); // 'MINDT=10&MAXDT=30'
 * formatUiAlertOptions({ defaultResponse: 'Hello world', inputType: 'A' }); // 'DR=Hello%20world&IT=A'
 * ```
 * @throws SyncMLError `INVALID_ARGUMENT` for a value that is not what the parameter takes
 * @public
 */
export function formatUiAlertOptions(options: UiAlertOptions): string {
  const o = options ?? {};
  const parts: string[] = [];
  if (o.minDisplayTime !== undefined) parts.push(`MINDT=${count(o.minDisplayTime, 'minDisplayTime')}`);
  if (o.maxDisplayTime !== undefined) parts.push(`MAXDT=${count(o.maxDisplayTime, 'maxDisplayTime')}`);
  if (o.defaultResponse !== undefined) parts.push(`DR=${encodeURIComponent(dr(o.defaultResponse))}`);
  if (o.maxLength !== undefined) parts.push(`MAXLEN=${count(o.maxLength, 'maxLength')}`);
  if (o.inputType !== undefined) {
    if (!['A', 'N', 'D', 'T', 'P', 'I'].includes(o.inputType)) throw bad(`inputType must be A, N, D, T, P or I, got '${String(o.inputType)}'`);
    parts.push(`IT=${o.inputType}`);
  }
  if (o.echoType !== undefined) {
    if (o.echoType !== 'T' && o.echoType !== 'P') throw bad(`echoType must be T or P, got '${String(o.echoType)}'`);
    parts.push(`ET=${o.echoType}`);
  }
  return parts.join('&');
}

/** What {@link uiAlert} takes. @public */
export interface UiAlertRequest {
  /** 1100 DISPLAY, 1101 CONFIRM OR REJECT, 1102 TEXT INPUT, 1103 SINGLE CHOICE, 1104 MULTIPLE CHOICE. */
  code: 1100 | 1101 | 1102 | 1103 | 1104;
  /** Item 2: the text (question, title). */
  text: string;
  /** Item 1: the parameters, or a parameter string already formatted. */
  options?: UiAlertOptions | string;
  /** Items 3..: the choices (1103 / 1104 only, at least one). */
  choices?: readonly string[];
  /** Default '' (numbered by the MessageBuilder). */
  cmdId?: string;
  correlator?: string;
}

/**
 * A user interaction Alert (server to client).
 *
 * @example
 * ```ts
 * builder.add(uiAlert({ code: 1101, text: 'Apply the new proxy settings now?', options: { minDisplayTime: 10, maxDisplayTime: 30 } }));
 * builder.add(uiAlert({ code: 1103, text: 'Update when?', choices: ['Now', 'Tonight'], options: { defaultResponse: 2 } }));
 * ```
 * @throws SyncMLError `INVALID_ARGUMENT` (a code outside 1100-1104, choices missing or not allowed)
 * @public
 */
export function uiAlert(request: UiAlertRequest): Alert {
  const { code, text, options, choices } = request;
  if (![1100, 1101, 1102, 1103, 1104].includes(code)) throw bad(`a user interaction alert has code 1100-1104, got ${String(code)}`);
  if (typeof text !== 'string') throw bad('text must be a string');
  const isChoice = code === 1103 || code === 1104;
  if (isChoice && (choices === undefined || choices.length === 0)) throw bad(`alert ${code} needs at least one choice`);
  if (!isChoice && choices !== undefined && choices.length > 0) throw bad(`alert ${code} takes no choices`);
  const params = typeof options === 'string' ? options : options === undefined ? '' : formatUiAlertOptions(options);
  const items: Item[] = [{ data: params }, { data: text }];
  if (isChoice) {
    for (const c of choices!) {
      if (typeof c !== 'string') throw bad('choices must be strings');
      items.push({ data: c });
    }
  }
  const alert: Alert = { kind: 'Alert', cmdId: request.cmdId ?? '', code, items };
  if (request.correlator !== undefined) alert.correlator = request.correlator;
  return alert;
}
