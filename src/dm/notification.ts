/**
 * Package 0, the server-alerted management session trigger (DMNOTI 6.2; research note 3):
 * a 16-byte MD5 digest followed by a bit-packed header, the server id and an optional vendor part.
 */
import { toBase64 } from './base64.js';
import { constantTimeEqual } from './auth.js';
import { DmError } from './errors.js';
import { Md5, md5 } from './md5.js';

/** The ui-mode field (2 bits): what the server suggests the client shows before starting. */
export type NotificationUiMode = 'not-specified' | 'background' | 'informative' | 'user-interaction';
/** The initiator field (1 bit): 0 = user/client, 1 = server. */
export type NotificationInitiator = 'client' | 'server';

const UI_MODES: readonly NotificationUiMode[] = ['not-specified', 'background', 'informative', 'user-interaction'];

/** Bytes before the server id: digest 16 + header 8 (DMNOTI 6.2). */
const HEADER_END = 24;
const DIGEST_LENGTH = 16;

/** Version value DM 1.2 clients accept today (libdmclient accepts only 11; research note 3.3). */
export const DEFAULT_NOTIFICATION_VERSION = 11;

/**
 * Nonces to retry the digest with after the stored one fails (DMNOTI 6.1 re-sync nonce
 * "0x00000000", which deployed code reads three ways; research note 3.2): 4 zero bytes
 * (Motorola/AOSP), the ASCII text `0x00000000` (intel/libdmclient), 16 ASCII zeros (Verizon fork).
 * @public
 */
export const NOTIFICATION_RESET_NONCES: readonly Uint8Array[] = Object.freeze([
  new Uint8Array(4),
  new TextEncoder().encode('0x00000000'),
  new TextEncoder().encode('0000000000000000'),
]);

/** Fields of a package 0 to build. */
export interface NotificationInput {
  /** Server identifier (DMAcc ServerID), UTF-8, at most 255 bytes. */
  serverId: string;
  /** The server password for server-to-client authentication (DMAcc AAuthSecret, SRVCRED). */
  serverPassword: string;
  /** The server nonce the client stores (decoded bytes). */
  nonce: Uint8Array;
  /** Session id, 1..0xFFFF; becomes the SyncHdr SessionID in upper-case hex. */
  sessionId: number;
  /** Default `not-specified`. */
  uiMode?: NotificationUiMode;
  /** Default `server`. */
  initiator?: NotificationInitiator;
  /** 10-bit version field, 0..1023; default 11 (see {@link DEFAULT_NOTIFICATION_VERSION}). */
  version?: number;
  /** Opaque vendor-specific bytes after the server id. */
  vendor?: Uint8Array;
}

/** A decoded package 0. */
export interface Notification {
  /** The 16-byte digest as received. */
  digest: Uint8Array;
  /** The 10-bit version field (protocol version x 10). */
  version: number;
  uiMode: NotificationUiMode;
  initiator: NotificationInitiator;
  /** The 27 future-use bits; non-zero values are reported here unless decoding is strict. */
  futureUse: number;
  sessionId: number;
  /** `sessionId` as upper-case hex without leading zeros: the SyncHdr SessionID (DMNOTI 6.2). */
  sessionIdHex: string;
  serverId: string;
  /** Vendor-specific bytes after the server id (possibly empty). */
  vendor: Uint8Array;
  /** Everything after the digest: the bytes the digest covers. */
  trigger: Uint8Array;
}

/** Options of {@link decodeNotification}. */
export interface DecodeNotificationOptions {
  /** Reject non-zero future-use bits (DMNOTI: MUST be 0). Default false: accept and report. */
  strict?: boolean;
  /** Accept any version value instead of 10..12. */
  allowAnyVersion?: boolean;
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function invalid(message: string): DmError {
  return new DmError('INVALID_ARGUMENT', message);
}

function bad(message: string, offset: number): DmError {
  return new DmError('BAD_NOTIFICATION', message, { offset });
}

/**
 * SyncHdr SessionID for a package 0 session id: upper-case hex, no leading zeros (DMNOTI 6.2).
 * @public
 */
export function sessionIdHex(sessionId: number): string {
  return sessionId.toString(16).toUpperCase();
}

/**
 * The SessionID intel/libdmclient (and its Verizon fork) sends for a notified session id: it
 * applies `ntohs` after `be64toh`, swapping the two bytes on little-endian hosts (research note
 * 3.1). Servers pairing package 1 with a pending notification may accept this as a fallback.
 * @public
 */
export function swappedSessionIdHex(sessionId: number): string {
  return sessionIdHex(((sessionId & 0xff) << 8) | ((sessionId >>> 8) & 0xff));
}

/**
 * Raw 16-byte package 0 digest: H(B64(H(server-id ":" password)) ":" nonce ":" B64(H(trigger)))
 * (DMNOTI 6.2; unlike auth-md5 the outer hash is not base64-encoded).
 * @public
 */
export function notificationDigest(serverId: string, serverPassword: string, nonce: Uint8Array,
  trigger: Uint8Array): Uint8Array {
  const colon = Uint8Array.of(0x3a);
  return new Md5()
    .update(toBase64(md5(`${serverId}:${serverPassword}`))).update(colon)
    .update(nonce).update(colon)
    .update(toBase64(md5(trigger)))
    .digest();
}

/**
 * Builds package 0 (MIME `application/vnd.syncml.notification`). Throws DmError
 * `INVALID_ARGUMENT` for out-of-range fields.
 * @public
 */
export function encodeNotification(input: NotificationInput): Uint8Array {
  const version = input.version ?? DEFAULT_NOTIFICATION_VERSION;
  const ui = UI_MODES.indexOf(input.uiMode ?? 'not-specified');
  const initiator = input.initiator ?? 'server';
  if (!Number.isInteger(version) || version < 0 || version > 1023) throw invalid(`version ${version} does not fit 10 bits`);
  if (ui < 0) throw invalid(`unknown ui-mode ${String(input.uiMode)}`);
  if (initiator !== 'server' && initiator !== 'client') throw invalid(`unknown initiator ${String(initiator)}`);
  const sid = input.sessionId;
  if (!Number.isInteger(sid) || sid < 1 || sid > 0xffff) throw invalid(`session id ${sid} is outside 1..0xFFFF`);
  const serverId = utf8.encode(input.serverId);
  if (serverId.length === 0 || serverId.length > 255) throw invalid(`server id must be 1..255 UTF-8 bytes, got ${serverId.length}`);
  const vendor = input.vendor ?? new Uint8Array(0);

  const out = new Uint8Array(HEADER_END + serverId.length + vendor.length);
  // Header bits after the digest, big-endian: version(10) ui-mode(2) initiator(1) future-use(27)
  // session-id(16) server-id-length(8) (DMNOTI 6.2). Future-use bits stay zero.
  out[16] = version >>> 2;
  out[17] = ((version & 3) << 6) | (ui << 4) | ((initiator === 'server' ? 1 : 0) << 3);
  out[21] = sid >>> 8;
  out[22] = sid & 0xff;
  out[23] = serverId.length;
  out.set(serverId, HEADER_END);
  out.set(vendor, HEADER_END + serverId.length);
  out.set(notificationDigest(input.serverId, input.serverPassword, input.nonce, out.subarray(DIGEST_LENGTH)), 0);
  return out;
}

/**
 * Parses package 0. Throws DmError `BAD_NOTIFICATION` (with the byte offset) for input shorter
 * than 24 bytes, session id 0, a server id running past the end or not UTF-8, and (strict only)
 * non-zero future-use bits; DmError `UNSUPPORTED_NOTIFICATION_VERSION` for a version outside
 * 10..12 unless `allowAnyVersion`. Does not check the digest: see {@link verifyNotificationDigest}.
 * @public
 */
export function decodeNotification(bytes: Uint8Array, options: DecodeNotificationOptions = {}): Notification {
  if (bytes.length < HEADER_END) {
    throw bad(`package 0 needs at least ${HEADER_END} bytes, got ${bytes.length}`, bytes.length);
  }
  const version = (bytes[16] << 2) | (bytes[17] >>> 6);
  // Versions are "x 10": 10 = 1.0, 11 (what DM 1.2 clients send), 12 (research note 3.3).
  if (!options.allowAnyVersion && (version < 10 || version > 12)) {
    throw new DmError('UNSUPPORTED_NOTIFICATION_VERSION', `package 0 version ${version} is not 10..12`, { offset: 16 });
  }
  const uiMode = UI_MODES[(bytes[17] >>> 4) & 3];
  const initiator: NotificationInitiator = (bytes[17] & 0x08) !== 0 ? 'server' : 'client';
  const futureUse = (((bytes[17] & 0x07) << 24) | (bytes[18] << 16) | (bytes[19] << 8) | bytes[20]) >>> 0;
  if (options.strict && futureUse !== 0) throw bad('future-use bits must be zero', 17);
  const sessionId = (bytes[21] << 8) | bytes[22];
  if (sessionId === 0) throw bad('session id 0 is not allowed (1..0xFFFF)', 21);
  const idLength = bytes[23];
  const idEnd = HEADER_END + idLength;
  if (idEnd > bytes.length) {
    throw bad(`server id of ${idLength} bytes runs past the end (${bytes.length - HEADER_END} left)`, 23);
  }
  let serverId: string;
  try {
    serverId = utf8Strict.decode(bytes.subarray(HEADER_END, idEnd));
  } catch (e) {
    throw new DmError('BAD_NOTIFICATION', 'server id is not valid UTF-8', { offset: HEADER_END, cause: e });
  }
  return {
    digest: bytes.slice(0, DIGEST_LENGTH),
    version,
    uiMode,
    initiator,
    futureUse,
    sessionId,
    sessionIdHex: sessionIdHex(sessionId),
    serverId,
    vendor: bytes.slice(idEnd),
    trigger: bytes.slice(DIGEST_LENGTH),
  };
}

/** Options of {@link verifyNotificationDigest}. */
export interface VerifyNotificationOptions {
  /** Nonces tried after the stored one, in order; default {@link NOTIFICATION_RESET_NONCES}. */
  resetNonces?: readonly Uint8Array[];
}

/** Outcome of {@link verifyNotificationDigest}. */
export interface NotificationDigestCheck {
  valid: boolean;
  /** Which nonce matched: the stored one, a reset candidate, or none. */
  nonceUsed: 'stored' | 'reset' | null;
  /** Index into the reset list when `nonceUsed` is `reset`. */
  resetIndex?: number;
}

/**
 * Checks a decoded package 0's digest with the stored server nonce, then with each re-sync nonce
 * (DMNOTI 6.1). After a `reset` match the client should run the session with that nonce and let
 * server and client exchange fresh nonces via Chal. Every candidate is computed and compared in
 * constant time.
 * @public
 */
export function verifyNotificationDigest(n: Notification, serverPassword: string, nonce: Uint8Array,
  options: VerifyNotificationOptions = {}): NotificationDigestCheck {
  const resets = options.resetNonces ?? NOTIFICATION_RESET_NONCES;
  const stored = constantTimeEqual(n.digest, notificationDigest(n.serverId, serverPassword, nonce, n.trigger));
  let resetIndex = -1;
  resets.forEach((candidate, i) => {
    const ok = constantTimeEqual(n.digest, notificationDigest(n.serverId, serverPassword, candidate, n.trigger));
    if (ok && resetIndex < 0) resetIndex = i;
  });
  if (stored) return { valid: true, nonceUsed: 'stored' };
  if (resetIndex >= 0) return { valid: true, nonceUsed: 'reset', resetIndex };
  return { valid: false, nonceUsed: null };
}
