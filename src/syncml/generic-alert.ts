/**
 * Generic Alert (1226; DMPRO 2.3.7, research note §5.4): one Item per reported event, each with
 * Meta Type and Format (both REQUIRED), Mark optional (default `informational`), Source and/or
 * Target naming the node, Data the payload; the Alert's Correlator repeats the one of the Exec
 * that started an asynchronous job. Client Event (1224) has the same shape. FUMO's types and
 * result codes (FUMO 1.0 §10.2-10.3, note §5.3) are here as data.
 */
import type { Alert, Data, Item, Meta, Source, Target } from './types.js';
import { SyncMLError } from './errors.js';
import { normalizeAlertType } from './alert-type.js';

/** FUMO's Generic Alert types (FUMO 1.0 §10.2, §10.3). @public */
export const FumoAlertType = Object.freeze({
  /** Result of `Exec Download`. */
  DOWNLOAD: 'org.openmobilealliance.dm.firmwareupdate.download',
  /** Result of `Exec Update`. */
  UPDATE: 'org.openmobilealliance.dm.firmwareupdate.update',
  /** Result of `Exec DownloadAndUpdate`. */
  DOWNLOAD_AND_UPDATE: 'org.openmobilealliance.dm.firmwareupdate.downloadandupdate',
  /** The device asks for an update. */
  DEVICE_REQUEST: 'org.openmobilealliance.dm.firmwareupdate.devicerequest',
  /** The user asks for an update. */
  USER_REQUEST: 'org.openmobilealliance.dm.firmwareupdate.userrequest',
} as const);

/** One event of a Generic Alert. @public */
export interface GenericAlertItem {
  /** Meta Type: a bare name or with its `Reversed-Domain-Name:` prefix, sent as given. */
  type: string;
  /** Meta Format; default `int` for a number, `bin` for bytes, `chr` otherwise. */
  format?: string;
  /** Meta Mark: fatal, critical, minor, warning, informational, harmless, indeterminate. Written only when given. */
  mark?: string;
  /** Item Source: the node the event is about (FUMO: the `<x>` node, or the operation node). */
  source?: string | Source;
  target?: string | Target;
  /** The payload (FUMO: the result code). A number is written as its decimal text. */
  data: string | number | Uint8Array;
}

/** {@link GenericAlertItem} with the Alert-level fields of a single-event alert. @public */
export interface GenericAlertRequest extends GenericAlertItem {
  /** The Correlator of the Exec being reported; absent otherwise (FUMO). */
  correlator?: string;
  /** Default '' (numbered by the MessageBuilder). */
  cmdId?: string;
}

function bad(message: string): SyncMLError {
  return new SyncMLError('INVALID_ARGUMENT', message);
}

function toItem(g: GenericAlertItem): Item {
  if (g === null || typeof g !== 'object') throw bad('a generic alert item must be an object');
  if (typeof g.type !== 'string' || normalizeAlertType(g.type) === '') throw bad('a generic alert needs a Type (Meta/Type is required)');
  const d = g.data;
  let data: string | Uint8Array;
  let format = g.format;
  if (typeof d === 'number') {
    if (!Number.isFinite(d)) throw bad(`generic alert data ${d} is not a number that can be written`);
    data = String(d);
    format ??= 'int';
  } else if (typeof d === 'string') {
    data = d;
    format ??= 'chr';
  } else if (d instanceof Uint8Array) {
    data = d;
    format ??= 'bin';
  } else throw bad('generic alert data must be a string, a number or a Uint8Array');
  if (format === '') throw bad('a generic alert needs a Format (Meta/Format is required)');
  const meta: Meta = { format, type: g.type };
  if (g.mark !== undefined) meta.mark = g.mark;
  const item: Item = {};
  if (g.target !== undefined) item.target = typeof g.target === 'string' ? { locUri: g.target } : g.target;
  if (g.source !== undefined) item.source = typeof g.source === 'string' ? { locUri: g.source } : g.source;
  item.meta = meta;
  item.data = data;
  return item;
}

/**
 * A Generic Alert (1226) reporting one event.
 *
 * @example
 * ```ts
 * genericAlert({
 *   type: FumoAlertType.DOWNLOAD_AND_UPDATE, source: './FwUpdate/Pkg1', data: 200,
 *   mark: 'informational', correlator: 'fumo-job-0042',
 * });
 * ```
 * @throws SyncMLError `INVALID_ARGUMENT` without a Type or Format
 * @public
 */
export function genericAlert(request: GenericAlertRequest): Alert {
  return genericAlerts([request], { correlator: request.correlator, cmdId: request.cmdId });
}

/**
 * A Generic Alert carrying several events, one Item each (they share the Correlator). Microsoft's
 * clients send one event per Alert; several Alerts are always accepted.
 * @public
 */
export function genericAlerts(items: readonly GenericAlertItem[], options: { correlator?: string; cmdId?: string } = {}): Alert {
  if (!Array.isArray(items) || items.length === 0) throw bad('a generic alert needs at least one item');
  const alert: Alert = { kind: 'Alert', cmdId: options.cmdId ?? '', code: 1226, items: items.map(toItem) };
  if (options.correlator !== undefined) alert.correlator = options.correlator;
  return alert;
}

/** One event read from a Generic Alert (or Client Event). @public */
export interface GenericAlertEvent {
  /** The Type without a `Reversed-Domain-Name:` / `Content-Type:` prefix: compare this. */
  type: string;
  /** The Type as sent. */
  rawType: string;
  /** Meta Format; `chr` (the SyncML default) when absent. */
  format: string;
  /** Meta Mark; `informational` (the DMPRO default) when absent. */
  mark: string;
  source?: string;
  target?: string;
  /** Data; `''` when absent (a FUMO device request may carry none). */
  data: Data;
  /** The Alert's Correlator. */
  correlator?: string;
}

/**
 * The events of a Generic Alert (1226) or Client Event (1224): one per Item. Any other Alert
 * gives `[]`.
 *
 * @example
 * ```ts
 * for (const ev of readGenericAlerts(alert)) {
 *   if (ev.type === FumoAlertType.DOWNLOAD_AND_UPDATE) console.log(fumoResultText(Number(ev.data)));
 * }
 * ```
 * @public
 */
export function readGenericAlerts(alert: Alert): GenericAlertEvent[] {
  if (alert?.kind !== 'Alert' || (alert.code !== 1226 && alert.code !== 1224)) return [];
  const out: GenericAlertEvent[] = [];
  for (const it of alert.items ?? []) {
    const rawType = it?.meta?.type ?? '';
    const ev: GenericAlertEvent = {
      type: normalizeAlertType(rawType),
      rawType,
      format: it?.meta?.format ?? 'chr',
      mark: it?.meta?.mark ?? 'informational',
      data: it?.data ?? '',
    };
    if (it?.source?.locUri !== undefined) ev.source = it.source.locUri;
    if (it?.target?.locUri !== undefined) ev.target = it.target.locUri;
    if (alert.correlator !== undefined) ev.correlator = alert.correlator;
    out.push(ev);
  }
  return out;
}

// --- FUMO result codes ------------------------------------------------------------------------

/** A FUMO result code, or a vendor range of them. @public */
export interface FumoResultInfo {
  /** The code, or the first code of a range. */
  code: number;
  /** Last code of a range (vendor-specified codes). */
  to?: number;
  meaning: string;
}

/**
 * FUMO 1.0 result codes (Generic Alert Data; research note §5.3, cross-checked against two
 * implementations there: 412 and 500 as below, not as the transcription has them).
 * @public
 */
export const FUMO_RESULT_CODES: readonly FumoResultInfo[] = Object.freeze([
  { code: 200, meaning: 'Successful' },
  { code: 250, to: 299, meaning: 'Successful - vendor specified' },
  { code: 400, meaning: 'Management client error' },
  { code: 401, meaning: 'User cancelled' },
  { code: 402, meaning: 'Corrupted firmware update package' },
  { code: 403, meaning: 'Firmware update package - device mismatch' },
  { code: 404, meaning: 'Failed firmware update package validation' },
  { code: 405, meaning: 'Firmware update package not acceptable' },
  { code: 406, meaning: 'Alternate download authentication failure' },
  { code: 407, meaning: 'Alternate download request time-out' },
  { code: 408, meaning: 'Not implemented' },
  { code: 409, meaning: 'Undefined error' },
  { code: 410, meaning: 'Firmware update failed' },
  { code: 411, meaning: 'Malformed or bad URL' },
  { code: 412, meaning: 'Alternate download server unavailable' },
  { code: 450, to: 499, meaning: 'Client error - vendor specified' },
  { code: 500, meaning: 'Alternate download server error' },
  { code: 501, meaning: 'Download fails due to device out of memory' },
  { code: 502, meaning: 'Firmware update fails due to device out of memory' },
  { code: 503, meaning: 'Download fails due to network issues' },
  { code: 550, to: 599, meaning: 'Alternate download server error - vendor specified' },
].map((r) => Object.freeze(r as FumoResultInfo)));

/** FUMO result codes by name. @public */
export const FumoResult = Object.freeze({
  SUCCESSFUL: 200,
  CLIENT_ERROR: 400,
  USER_CANCELLED: 401,
  CORRUPTED_PACKAGE: 402,
  PACKAGE_DEVICE_MISMATCH: 403,
  PACKAGE_VALIDATION_FAILED: 404,
  PACKAGE_NOT_ACCEPTABLE: 405,
  DOWNLOAD_AUTHENTICATION_FAILURE: 406,
  DOWNLOAD_TIMEOUT: 407,
  NOT_IMPLEMENTED: 408,
  UNDEFINED_ERROR: 409,
  UPDATE_FAILED: 410,
  BAD_URL: 411,
  DOWNLOAD_SERVER_UNAVAILABLE: 412,
  DOWNLOAD_SERVER_ERROR: 500,
  DOWNLOAD_OUT_OF_MEMORY: 501,
  UPDATE_OUT_OF_MEMORY: 502,
  DOWNLOAD_NETWORK_ERROR: 503,
} as const);

/** The row (or vendor range) of a FUMO result code. @public */
export function fumoResultInfo(code: number): FumoResultInfo | undefined {
  return FUMO_RESULT_CODES.find((r) => (r.to === undefined ? r.code === code : code >= r.code && code <= r.to));
}

/** The meaning of a FUMO result code (`412` -> `Alternate download server unavailable`). @public */
export function fumoResultText(code: number): string {
  return fumoResultInfo(code)?.meaning ?? `Unknown result code (${code})`;
}

/** 200 and the vendor success range 250-299. @public */
export function isFumoSuccess(code: number): boolean {
  return code === 200 || (code >= 250 && code <= 299);
}
