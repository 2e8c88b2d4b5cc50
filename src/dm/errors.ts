/**
 * Every way the DM protocol layer can refuse an input. Codes are stable: software may switch on
 * them. Later layers (session, tree, client) extend this union rather than inventing new classes.
 * @public
 */
export type DmErrorCode =
  // encodings and credentials (DMSEC)
  | 'BAD_BASE64' // text that is not base64 (or not canonical base64 in strict mode)
  | 'BAD_DIGEST' // a digest/credential with the wrong shape (not 16 bytes, not base64)
  | 'BAD_HMAC_HEADER' // x-syncml-hmac header missing a field, unparsable, or an unknown algorithm
  | 'AUTH_REQUIRED' // no credentials where they are needed (SyncML 407)
  | 'AUTH_FAILED' // credentials present but wrong (SyncML 401)
  | 'NO_RANDOM_SOURCE' // no globalThis.crypto.getRandomValues and none injected
  // package 0 and its WAP push framing (DMNOTI)
  | 'BAD_NOTIFICATION' // package 0 bytes that do not follow DMNOTI 6.2
  | 'UNSUPPORTED_NOTIFICATION_VERSION' // package 0 version field outside 10..12
  | 'BAD_WSP' // a WSP push PDU that cannot be taken apart
  // tree addressing and access control (DMTND)
  | 'BAD_URI' // URI syntax DMTND 8.1 forbids
  | 'URI_TOO_LONG' // URI beyond ./DevDetail/URI/MaxDepth|MaxTotLen|MaxSegLen (SyncML 414)
  | 'UNSUPPORTED_URI_QUERY' // a ?key= other than prop/list (SyncML 406)
  | 'BAD_ACL' // ACL text outside the DMTND 8.3.7.1 grammar
  | 'NOT_FOUND' // node absent (SyncML 404)
  | 'ALREADY_EXISTS' // node already there (SyncML 418)
  | 'COMMAND_NOT_ALLOWED' // command not allowed on this node (SyncML 405)
  | 'PERMISSION_DENIED' // ACL or policy refuses the command (SyncML 425)
  | 'FORBIDDEN' // refused for reasons other than ACL (SyncML 403)
  | 'OPTIONAL_FEATURE_NOT_SUPPORTED' // SyncML 406
  | 'UNSUPPORTED_MEDIA_TYPE' // SyncML 415
  | 'ENTITY_TOO_LARGE' // SyncML 413
  | 'SIZE_MISMATCH' // large object size differs from Meta/Size (SyncML 424)
  | 'DEVICE_FULL' // SyncML 420
  // sessions and messages (DMPRO)
  | 'BAD_MESSAGE' // a SyncML message that breaks DMPRO/DMREPPRO rules (SyncML 400)
  | 'PROTOCOL_ERROR' // the peer broke the package sequence
  | 'SESSION_ABORTED' // Alert 1223 received or sent
  | 'TRANSPORT' // the transport failed (HTTP error, connection reset)
  | 'COMMAND_FAILED' // generic failure (SyncML 500)
  | 'INVALID_ARGUMENT'; // API misuse: an option or field out of range

/**
 * The SyncML status code each code maps to when the caller gives none (DMREPPRO status tables,
 * research note 1.9). Codes without a natural SyncML status are absent.
 */
const DEFAULT_STATUS: Partial<Record<DmErrorCode, number>> = {
  BAD_HMAC_HEADER: 401,
  AUTH_REQUIRED: 407,
  AUTH_FAILED: 401,
  BAD_URI: 400,
  URI_TOO_LONG: 414,
  UNSUPPORTED_URI_QUERY: 406,
  BAD_ACL: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 418,
  COMMAND_NOT_ALLOWED: 405,
  PERMISSION_DENIED: 425,
  FORBIDDEN: 403,
  OPTIONAL_FEATURE_NOT_SUPPORTED: 406,
  UNSUPPORTED_MEDIA_TYPE: 415,
  ENTITY_TOO_LARGE: 413,
  SIZE_MISMATCH: 424,
  DEVICE_FULL: 420,
  BAD_MESSAGE: 400,
  COMMAND_FAILED: 500,
};

/** Extra details of a {@link DmError}. */
export interface DmErrorOptions {
  /** SyncML status a session should answer with; defaults from the code when it has one. */
  status?: number;
  /** Byte (or, for text inputs, character) offset where the problem starts. */
  offset?: number;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * The single error type of the `dm` layer.
 * @public
 */
export class DmError extends Error {
  override readonly name = 'DmError';
  readonly code: DmErrorCode;
  /** SyncML status code a session should answer with (e.g. 414 for URI_TOO_LONG). */
  readonly status: number | undefined;
  /** Where in the input the problem starts, for byte- or character-level problems. */
  readonly offset: number | undefined;

  constructor(code: DmErrorCode, message: string, options: DmErrorOptions = {}) {
    super(options.offset !== undefined ? `${message} (at offset ${options.offset})` : message,
      options.cause !== undefined ? { cause: options.cause } : undefined);
    Object.setPrototypeOf(this, new.target.prototype);
    this.code = code;
    this.status = options.status ?? DEFAULT_STATUS[code];
    this.offset = options.offset;
  }
}

/**
 * True for errors thrown by this layer. Checks `name`/`code` rather than `instanceof` so it works
 * across duplicated module copies (ESM + CJS, bundled twice).
 * @public
 */
export function isDmError(e: unknown): e is DmError {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'DmError'
    && typeof (e as { code?: unknown }).code === 'string';
}
