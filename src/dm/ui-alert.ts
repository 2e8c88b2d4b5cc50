/**
 * User interaction alerts (DMPRO 2.5, DMREPPRO 4.2; research note 1.6): Alerts 1100 DISPLAY,
 * 1101 CONFIRM OR REJECT, 1102 TEXT INPUT, 1103 SINGLE CHOICE and 1104 MULTIPLE CHOICE, which a
 * server sends to have the device ask its user something.
 *
 * Layout of such an Alert: Item 1 = the optional parameters as one URL-encoded string
 * (`MINDT=10&MAXDT=30&DR=1`, an empty Item when there are none), Item 2 = the text, Items 3.. =
 * the choices of 1103/1104, numbered from 1 in order.
 *
 * This file turns that layout into typed requests for the embedder's {@link UserInteraction},
 * waits for the answer (at most MAXDT seconds) and maps it to the Status the device answers:
 *
 * | outcome | Status |
 * | --- | --- |
 * | answered (1101: yes) | 200 (+ Item(s) with the text, the index, the indexes) |
 * | 1101 answered no | 304 |
 * | the user cancelled ({@link UI_CANCELLED}) | 214 |
 * | MAXDT expired (1101-1104) | 408 |
 * | no UI, or no method for this alert | 406 |
 * | Item 2 (or, for 1103/1104, Item 3) missing | 412 |
 * | the UI cannot show it ({@link UI_CANNOT_DISPLAY}, or a thrown DmError 416) | 416 |
 * | the UI threw anything else, or answered out of range | 500 (a DmError's own status) |
 *
 * Decisions where the specification is silent:
 * - Parameters are decoded as `application/x-www-form-urlencoded` (`+` is a space, `%XX` UTF-8);
 *   an undecodable escape keeps its raw text; names match case-insensitively; unknown names,
 *   and known names with a value outside their grammar (`MAXDT=soon`, `IT=Q`), are skipped
 *   silently (DMPRO 2.5: "MUST skip unknown parameters").
 * - MAXDT on a DISPLAY is how long the text stays up, not a question left unanswered: when it
 *   expires the signal fires (the UI takes the text down) and the Alert answers 200.
 * - MINDT is the UI's business (it receives it in the request); the executor does not hold the
 *   session open for it, so a headless embedder is not slowed down.
 * - `MAXDT=0` (or absent) means no limit, unless the executor was given a default timeout.
 * - A text answer longer than MAXLEN is cut to MAXLEN characters (code points): the server said
 *   it cannot take more.
 * - For 1104 the selected indexes are answered in ascending order without duplicates (the
 *   specification allows any order); selecting nothing answers 200 with no Item.
 */
import type { Alert, Item } from '../syncml/types.js';
import { isDmError } from './errors.js';

/** The alert codes of user interaction (DMREPPRO 4.2). @public */
export const UI_ALERT_CODES = Object.freeze({ DISPLAY: 1100, CONFIRM: 1101, TEXT_INPUT: 1102, SINGLE_CHOICE: 1103, MULTIPLE_CHOICE: 1104 } as const);

/**
 * What a {@link UserInteraction} method returns when the user cancelled the dialog (Status 214;
 * the rest of the package is then not executed, 215). A registered symbol, so it survives a
 * library loaded twice (ESM + CJS).
 * @public
 */
export const UI_CANCELLED: unique symbol = Symbol.for('syncml-dm.ui.cancelled');
/** What a {@link UserInteraction} method returns when it cannot show the alert, e.g. text too long (Status 416). @public */
export const UI_CANNOT_DISPLAY: unique symbol = Symbol.for('syncml-dm.ui.cannot-display');

/** Either way a dialog can end without an answer. @public */
export type UiNoAnswer = typeof UI_CANCELLED | typeof UI_CANNOT_DISPLAY;

/** `IT`: what the user may type (DMPRO 2.5: A, N, D = DDMMYYYY, T = hhmmss, P = phone number, I = IP address). @public */
export type UiInputType = 'alphanumeric' | 'numeric' | 'date' | 'time' | 'phone' | 'ip';

/** `ET`: echo the typed text, or mask it as a password. @public */
export type UiEchoType = 'text' | 'password';

/** The parameters of Item 1, parsed. Times are in seconds, as sent. @public */
export interface AlertOptions {
  /** `MINDT`: show the text at least this long (seconds). */
  minDisplayTime?: number;
  /** `MAXDT`: wait at most this long for the user (seconds); then 408 (DISPLAY: the text goes away, 200). */
  maxDisplayTime?: number;
  /** `DR`: the default response as written (`1`, a text, `2`, `2-3`); the typed requests interpret it. */
  defaultResponse?: string;
  /** `MAXLEN`: longest text input (characters). */
  maxLength?: number;
  /** `IT`. */
  inputType?: UiInputType;
  /** `ET`. */
  echoType?: UiEchoType;
}

const INPUT_TYPES: Record<string, UiInputType> = { A: 'alphanumeric', N: 'numeric', D: 'date', T: 'time', P: 'phone', I: 'ip' };
const ECHO_TYPES: Record<string, UiEchoType> = { T: 'text', P: 'password' };

function formDecode(s: string): string {
  const plus = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

function nonNegativeInt(s: string): number | undefined {
  return /^\d{1,9}$/.test(s.trim()) ? Number(s.trim()) : undefined;
}

/**
 * Parses the parameter string of a user interaction alert (Item 1).
 *
 * @example
 * ```ts
 * parseAlertOptions('MINDT=5&MAXDT=30&DR=Hello+world&IT=A&X-VENDOR=1');
 * // { minDisplayTime: 5, maxDisplayTime: 30, defaultResponse: 'Hello world', inputType: 'alphanumeric' }
 * ```
 * @public
 */
export function parseAlertOptions(text: string): AlertOptions {
  const out: AlertOptions = {};
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = formDecode(eq < 0 ? part : part.slice(0, eq)).trim().toUpperCase();
    const value = eq < 0 ? '' : formDecode(part.slice(eq + 1));
    switch (name) {
      case 'MINDT': { const n = nonNegativeInt(value); if (n !== undefined) out.minDisplayTime = n; break; }
      case 'MAXDT': { const n = nonNegativeInt(value); if (n !== undefined) out.maxDisplayTime = n; break; }
      case 'MAXLEN': { const n = nonNegativeInt(value); if (n !== undefined) out.maxLength = n; break; }
      case 'DR': out.defaultResponse = value; break;
      case 'IT': { const t = INPUT_TYPES[value.trim().toUpperCase()]; if (t) out.inputType = t; break; }
      case 'ET': { const t = ECHO_TYPES[value.trim().toUpperCase()]; if (t) out.echoType = t; break; }
      default: break; // DMPRO 2.5: unknown parameters are skipped silently
    }
  }
  return out;
}

/** Fields every request has. @public */
export interface UiRequestBase {
  /** Item 2: the text to show (a question, a title). */
  text: string;
  /** Item 1, parsed. */
  options: AlertOptions;
  /** CmdID of the Alert, for logs. */
  cmdId: string;
}

/** 1100: show `text`; the answer is only "shown" (or cancelled). @public */
export interface DisplayRequest extends UiRequestBase { kind: 'display' }

/** 1101: yes (true, 200) or no (false, 304). @public */
export interface ConfirmRequest extends UiRequestBase {
  kind: 'confirm';
  /** `DR=1` yes, `DR=0` no. */
  defaultAnswer?: boolean;
}

/** 1102: the user types a text. @public */
export interface TextInputRequest extends UiRequestBase {
  kind: 'textInput';
  /** `DR`. */
  defaultText?: string;
  /** `MAXLEN`. */
  maxLength?: number;
  /** `IT`, default alphanumeric. */
  inputType: UiInputType;
  /** `ET`, default text. */
  echo: UiEchoType;
}

/** 1103: the user picks one of `choices`; answer its 1-based number. @public */
export interface SingleChoiceRequest extends UiRequestBase {
  kind: 'singleChoice';
  choices: string[];
  /** `DR`: 1-based. */
  defaultChoice?: number;
}

/** 1104: the user picks any of `choices`; answer their 1-based numbers. @public */
export interface MultipleChoiceRequest extends UiRequestBase {
  kind: 'multipleChoice';
  choices: string[];
  /** `DR=2-3`: 1-based. */
  defaultChoices?: number[];
}

/** Every typed request. @public */
export type UiRequest = DisplayRequest | ConfirmRequest | TextInputRequest | SingleChoiceRequest | MultipleChoiceRequest;

/**
 * The embedder's user interface. A method that is absent means the device cannot ask that kind
 * of question (406). Each receives an `AbortSignal` that fires at MAXDT (then the answer is no
 * longer awaited: take the dialog down). Return {@link UI_CANCELLED} when the user cancelled,
 * {@link UI_CANNOT_DISPLAY} (or throw a DmError with status 416) when it cannot be shown.
 *
 * @example
 * ```ts
 * const ui: UserInteraction = {
 *   display: (req) => { console.log(req.text); },
 *   confirm: async (req, signal) => askYesNo(req.text, { signal }),
 * };
 * ```
 * @public
 */
export interface UserInteraction {
  display?(request: DisplayRequest, signal: AbortSignal): void | UiNoAnswer | Promise<void | UiNoAnswer>;
  confirm?(request: ConfirmRequest, signal: AbortSignal): boolean | UiNoAnswer | Promise<boolean | UiNoAnswer>;
  textInput?(request: TextInputRequest, signal: AbortSignal): string | UiNoAnswer | Promise<string | UiNoAnswer>;
  singleChoice?(request: SingleChoiceRequest, signal: AbortSignal): number | UiNoAnswer | Promise<number | UiNoAnswer>;
  multipleChoice?(request: MultipleChoiceRequest, signal: AbortSignal): number[] | UiNoAnswer | Promise<number[] | UiNoAnswer>;
}

/** Waiting, injectable so tests need no real time. @public */
export interface Timers {
  /** Resolves after `ms`; may resolve or reject early once `signal` fires (either is ignored). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** setTimeout-based {@link Timers}. @public */
export const realTimers: Timers = {
  sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal?.aborted) { resolve(); return; }
      const t = setTimeout(() => { signal?.removeEventListener('abort', done); resolve(); }, ms);
      const done = (): void => { clearTimeout(t); resolve(); };
      signal?.addEventListener('abort', done, { once: true });
    });
  },
};

const KIND_BY_CODE: Record<number, UiRequest['kind']> = {
  1100: 'display', 1101: 'confirm', 1102: 'textInput', 1103: 'singleChoice', 1104: 'multipleChoice',
};

/** True for 1100-1104. @public */
export function isUiAlertCode(code: number): boolean {
  return KIND_BY_CODE[code] !== undefined;
}

const utf8Decoder = new TextDecoder();

/** An Item's Data as text; undefined for a structured document (DevInf, MgmtTree). */
function itemText(item: Item | undefined): string | undefined {
  const d = item?.data;
  if (d === undefined) return '';
  if (typeof d === 'string') return d;
  if (d instanceof Uint8Array) return utf8Decoder.decode(d);
  return undefined;
}

function choiceNumber(s: string | undefined, count: number): number | undefined {
  if (s === undefined) return undefined;
  const n = nonNegativeInt(s);
  return n !== undefined && n >= 1 && n <= count ? n : undefined;
}

/**
 * Builds the typed request of a user interaction Alert, or the Status code that refuses it:
 * 406 (not 1100-1104), 412 (missing Items, or Items that are not text).
 * @public
 */
export function uiRequestOf(alert: Alert): UiRequest | number {
  const kind = KIND_BY_CODE[alert.code];
  if (!kind) return 406;
  const items = alert.items ?? [];
  const choiceCount = items.length - 2;
  if (items.length < 2 || ((kind === 'singleChoice' || kind === 'multipleChoice') && choiceCount < 1)) return 412;
  const params = itemText(items[0]);
  const text = itemText(items[1]);
  if (params === undefined || text === undefined) return 412;
  const options = parseAlertOptions(params);
  const base = { text, options, cmdId: alert.cmdId };
  const dr = options.defaultResponse;
  switch (kind) {
    case 'display': return { kind, ...base };
    case 'confirm': {
      const r: ConfirmRequest = { kind, ...base };
      if (dr?.trim() === '1') r.defaultAnswer = true;
      else if (dr?.trim() === '0') r.defaultAnswer = false;
      return r;
    }
    case 'textInput': {
      const r: TextInputRequest = { kind, ...base, inputType: options.inputType ?? 'alphanumeric', echo: options.echoType ?? 'text' };
      if (dr !== undefined) r.defaultText = dr;
      if (options.maxLength !== undefined) r.maxLength = options.maxLength;
      return r;
    }
    default: {
      const choices: string[] = [];
      for (const it of items.slice(2)) {
        const c = itemText(it);
        if (c === undefined) return 412;
        choices.push(c);
      }
      if (kind === 'singleChoice') {
        const r: SingleChoiceRequest = { kind, ...base, choices };
        const d = choiceNumber(dr, choices.length);
        if (d !== undefined) r.defaultChoice = d;
        return r;
      }
      const r: MultipleChoiceRequest = { kind, ...base, choices };
      if (dr !== undefined) {
        const picks = dr.split('-').map((s) => choiceNumber(s, choices.length));
        if (picks.every((p) => p !== undefined)) r.defaultChoices = [...new Set(picks as number[])];
      }
      return r;
    }
  }
}

/** How a user interaction Alert ended: its Status code and the Items of that Status. @public */
export interface UiAlertOutcome {
  status: number;
  items?: Item[];
}

/** Options of {@link runUiAlert}. @public */
export interface RunUiAlertOptions {
  timers?: Timers;
  /** Seconds to wait when the Alert carries no MAXDT; absent = wait as long as the UI takes. */
  defaultTimeout?: number;
}

const TIMEOUT = Symbol('timeout');
const BAD_ANSWER = 500;

function truncateChars(s: string, max: number): string {
  const cps = Array.from(s);
  return cps.length <= max ? s : cps.slice(0, max).join('');
}

/** Maps an answer to the Status (see the module table). */
function answerStatus(req: UiRequest, answer: unknown): UiAlertOutcome {
  if (answer === UI_CANCELLED) return { status: 214 };
  if (answer === UI_CANNOT_DISPLAY) return { status: 416 };
  switch (req.kind) {
    case 'display': return { status: 200 };
    case 'confirm':
      if (typeof answer !== 'boolean') return { status: BAD_ANSWER };
      return { status: answer ? 200 : 304 };
    case 'textInput': {
      if (typeof answer !== 'string') return { status: BAD_ANSWER };
      const text = req.maxLength !== undefined ? truncateChars(answer, req.maxLength) : answer;
      return { status: 200, items: [{ data: text }] };
    }
    case 'singleChoice':
      if (typeof answer !== 'number' || !Number.isInteger(answer) || answer < 1 || answer > req.choices.length) return { status: BAD_ANSWER };
      return { status: 200, items: [{ data: String(answer) }] };
    default: {
      if (!Array.isArray(answer)) return { status: BAD_ANSWER };
      const picks = [...new Set(answer as unknown[])];
      if (!picks.every((p) => typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= req.choices.length)) return { status: BAD_ANSWER };
      (picks as number[]).sort((a, b) => a - b);
      return { status: 200, items: picks.map((p) => ({ data: String(p) })) };
    }
  }
}

/**
 * Asks the user (through `ui`) what a user interaction Alert (1100-1104) asks, and answers with
 * its Status (see the module table). Never throws.
 * @public
 */
export async function runUiAlert(alert: Alert, ui: UserInteraction | undefined, options: RunUiAlertOptions = {}): Promise<UiAlertOutcome> {
  const kind = KIND_BY_CODE[alert.code];
  // 406 before 412: a device without that dialog cannot run the Alert however complete it is.
  const method = kind && ui ? (ui[kind] as ((req: UiRequest, signal: AbortSignal) => unknown) | undefined) : undefined;
  if (!kind || typeof method !== 'function') return { status: 406 };
  const req = uiRequestOf(alert);
  if (typeof req === 'number') return { status: req };

  const timers = options.timers ?? realTimers;
  const maxdt = req.options.maxDisplayTime || options.defaultTimeout || 0;
  const uiAbort = new AbortController();
  const timerAbort = new AbortController();
  const answer = Promise.resolve().then(() => method.call(ui, req, uiAbort.signal));
  answer.catch(() => undefined); // an answer arriving after MAXDT is dropped, even a failure
  const racers: Promise<unknown>[] = [answer];
  if (maxdt > 0) {
    let never: Promise<never> | undefined;
    racers.push(Promise.resolve()
      .then(() => timers.sleep(maxdt * 1000, timerAbort.signal))
      .then(() => (timerAbort.signal.aborted ? (never ??= new Promise<never>(() => undefined)) : TIMEOUT),
        () => (never ??= new Promise<never>(() => undefined))));
  }
  try {
    const got = await Promise.race(racers);
    if (got === TIMEOUT) {
      uiAbort.abort();
      return { status: req.kind === 'display' ? 200 : 408 };
    }
    return answerStatus(req, got);
  } catch (e) {
    if (isDmError(e) && e.status !== undefined && e.status >= 400 && e.status <= 599) return { status: e.status };
    return { status: 500 };
  } finally {
    timerAbort.abort();
  }
}
