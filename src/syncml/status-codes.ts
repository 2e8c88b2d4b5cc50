/**
 * The SyncML status code catalogue (OMA-TS-SyncML_RepPro-V1_2 §10 "Response Status Codes"), as
 * data. DM uses a subset of it (OMA-TS-DM_RepPro-V1_2 per-command tables, research note §1.9);
 * those rows carry `dm: true`. The other rows are the Data Synchronization codes of the same
 * table, kept so a DS message (or an odd DM peer) still prints with a meaning.
 *
 * Wording: `meaning` is the RepPro short text; `also` is the other wording in use for the same
 * code (Microsoft's table in "OMA DM protocol support", or the HTTP reason phrase the code was
 * borrowed from), which is what the research note quotes for 401, 407 and 416.
 */

/** One row of the catalogue. @public */
export interface StatusCodeInfo {
  code: number;
  /** Constant name (`REQUEST_ENTITY_TOO_LARGE`). */
  name: string;
  /** Short meaning (SyncML RepPro §10). */
  meaning: string;
  /** Other wording in use for the same code. */
  also?: string;
  /** A DM 1.2 implementation sends or receives it (research note §1.9; 505/513: SyncHdr only). */
  dm: boolean;
}

/**
 * The catalogue as written: `[code, name, meaning, dm, also?]`, numeric order.
 */
const TABLE = [
  // 1xx informational (DS)
  [101, 'IN_PROGRESS', 'In progress', false],
  // 2xx success
  [200, 'OK', 'OK', true],
  [201, 'ITEM_ADDED', 'Item added', false],
  [202, 'ACCEPTED', 'Accepted for processing', true], // async Exec (FUMO), Generic Alert accepted
  [203, 'NON_AUTHORITATIVE_RESPONSE', 'Non-authoritative response', false],
  [204, 'NO_CONTENT', 'No content', false],
  [205, 'RESET_CONTENT', 'Reset content', false],
  [206, 'PARTIAL_CONTENT', 'Partial content', false],
  [207, 'CONFLICT_RESOLVED_WITH_MERGE', 'Conflict resolved with merge', false],
  [208, 'CONFLICT_RESOLVED_CLIENT_WINNING', "Conflict resolved with client's command winning", false],
  [209, 'CONFLICT_RESOLVED_WITH_DUPLICATE', 'Conflict resolved with duplicate', false],
  [210, 'DELETE_WITHOUT_ARCHIVE', 'Delete without archive', false],
  [211, 'ITEM_NOT_DELETED', 'Item not deleted', false],
  [212, 'AUTHENTICATION_ACCEPTED', 'Authentication accepted', true], // SyncHdr: for the whole session
  [213, 'CHUNKED_ITEM_ACCEPTED', 'Chunked item accepted and buffered', true], // every non-last chunk
  [214, 'OPERATION_CANCELLED', 'Operation cancelled', true], // user cancelled a UI alert
  [215, 'NOT_EXECUTED', 'Not executed', true],
  [216, 'ATOMIC_ROLLBACK_OK', 'Atomic roll back OK', true],
  // 3xx redirection
  [300, 'MULTIPLE_CHOICES', 'Multiple choices', false],
  [301, 'MOVED_PERMANENTLY', 'Moved permanently', false],
  [302, 'FOUND', 'Found', false],
  [303, 'SEE_OTHER', 'See other', false],
  [304, 'NOT_MODIFIED', 'Not modified', true], // "No" to a 1101 confirm alert
  [305, 'USE_PROXY', 'Use proxy', false],
  // 4xx originator errors
  [400, 'BAD_REQUEST', 'Bad request', true],
  [401, 'INVALID_CREDENTIALS', 'Invalid credentials', true, 'Unauthorized'],
  [402, 'PAYMENT_REQUIRED', 'Payment required', false],
  [403, 'FORBIDDEN', 'Forbidden', true],
  [404, 'NOT_FOUND', 'Not found', true],
  [405, 'COMMAND_NOT_ALLOWED', 'Command not allowed', true],
  [406, 'OPTIONAL_FEATURE_NOT_SUPPORTED', 'Optional feature not supported', true],
  [407, 'MISSING_CREDENTIALS', 'Missing credentials', true, 'Authentication required'],
  [408, 'REQUEST_TIMEOUT', 'Request timeout', true], // UI alert not answered within MAXDT
  [409, 'CONFLICT', 'Conflict', false],
  [410, 'GONE', 'Gone', false],
  [411, 'SIZE_REQUIRED', 'Size required', false],
  [412, 'INCOMPLETE_COMMAND', 'Incomplete command', true],
  [413, 'REQUEST_ENTITY_TOO_LARGE', 'Request entity too large', true],
  [414, 'URI_TOO_LONG', 'URI too long', true],
  [415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type or format', true],
  [416, 'REQUESTED_SIZE_TOO_BIG', 'Requested size too big', true, 'Requested range not satisfiable'],
  [417, 'RETRY_LATER', 'Retry later', false],
  [418, 'ALREADY_EXISTS', 'Already exists', true],
  [419, 'CONFLICT_RESOLVED_WITH_SERVER_DATA', 'Conflict resolved with server data', false],
  [420, 'DEVICE_FULL', 'Device full', true],
  [421, 'UNKNOWN_SEARCH_GRAMMAR', 'Unknown search grammar', false],
  [422, 'BAD_CGI_SCRIPT', 'Bad CGI script', false],
  [423, 'SOFT_DELETE_CONFLICT', 'Soft-delete conflict', false],
  [424, 'SIZE_MISMATCH', 'Size mismatch', true], // reassembled large object != Meta/Size
  [425, 'PERMISSION_DENIED', 'Permission denied', true], // ACL refuses the command
  [426, 'PARTIAL_ITEM_NOT_ACCEPTED', 'Partial item not accepted', false],
  [427, 'ITEM_NOT_EMPTY', 'Item not empty', false],
  [428, 'MOVE_FAILED', 'Move failed', false],
  // 5xx recipient errors
  [500, 'COMMAND_FAILED', 'Command failed', true],
  [501, 'COMMAND_NOT_IMPLEMENTED', 'Command not implemented', false],
  [502, 'BAD_GATEWAY', 'Bad gateway', false],
  [503, 'SERVICE_UNAVAILABLE', 'Service unavailable', false],
  [504, 'GATEWAY_TIMEOUT', 'Gateway timeout', false],
  // 505 / 513 answer a SyncHdr whose VerDTD / VerProto the recipient does not support. They are in
  // RepPro §10; the DM sources read for the research note do not show them (note §1.9), but a
  // DM 1.2 peer addressed in 1.1.2 (or the reverse) is exactly where they arrive.
  [505, 'DTD_VERSION_NOT_SUPPORTED', 'DTD version not supported', true],
  [506, 'PROCESSING_ERROR', 'Processing error', false],
  [507, 'ATOMIC_FAILED', 'Atomic failed', true],
  [508, 'REFRESH_REQUIRED', 'Refresh required', false],
  [509, 'RESERVED', 'Reserved for future use', false],
  [510, 'DATA_STORE_FAILURE', 'Data store failure', true],
  [511, 'SERVER_FAILURE', 'Server failure', false],
  [512, 'SYNCHRONIZATION_FAILED', 'Synchronization failed', false],
  [513, 'PROTOCOL_VERSION_NOT_SUPPORTED', 'Protocol version not supported', true],
  [514, 'OPERATION_CANCELLED_BEFORE_PROCESSING', 'Operation cancelled', false],
  [516, 'ATOMIC_ROLLBACK_FAILED', 'Atomic roll back failed', true],
  [517, 'ATOMIC_RESPONSE_TOO_LARGE', 'Atomic response too large to fit', true],
] as const;

function row(r: (typeof TABLE)[number]): StatusCodeInfo {
  const info: StatusCodeInfo = { code: r[0], name: r[1], meaning: r[2], dm: r[3] };
  if (r.length > 4) info.also = (r as readonly unknown[])[4] as string;
  return Object.freeze(info);
}

/**
 * Every SyncML 1.2 status code, in numeric order.
 * @public
 */
export const STATUS_CODES: readonly StatusCodeInfo[] = Object.freeze(TABLE.map(row));

const BY_CODE = new Map<number, StatusCodeInfo>(STATUS_CODES.map((r) => [r.code, r]));

/** `{ OK: 200, ... }` as a type, from the table. */
type StatusCodeConstants = { readonly [R in (typeof TABLE)[number] as R[1]]: R[0] };

/**
 * The status codes by constant name, derived from {@link STATUS_CODES}.
 *
 * @example
 * ```ts
 * status.code = StatusCode.AUTHENTICATION_ACCEPTED; // 212
 * ```
 * @public
 */
export const StatusCode: StatusCodeConstants = Object.freeze(Object.fromEntries(TABLE.map((r) => [r[1], r[0]]))) as StatusCodeConstants;

/** The row of `code`, if the catalogue has it. @public */
export function statusInfo(code: number): StatusCodeInfo | undefined {
  return BY_CODE.get(code);
}

/**
 * The short meaning of a status code (`212` -> `Authentication accepted`); for a code outside the
 * catalogue, its class (`Success`, `Originator error`...) with the number.
 * @public
 */
export function statusText(code: number): string {
  const r = BY_CODE.get(code);
  if (r !== undefined) return r.meaning;
  const cls = Math.floor(code / 100);
  const name = cls === 1 ? 'Informational' : cls === 2 ? 'Success' : cls === 3 ? 'Redirection' : cls === 4 ? 'Originator error' : cls === 5 ? 'Recipient error' : 'Unknown';
  return `${name} (${code})`;
}

/** 2xx: the command (or header) succeeded, including 212/213/214/215/216. @public */
export function isSuccess(code: number): boolean {
  return Number.isInteger(code) && code >= 200 && code <= 299;
}
