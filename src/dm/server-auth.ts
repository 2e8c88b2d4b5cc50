/**
 * The server's side of DM authentication (DMPRO 2.4, DMSEC; research note §2, session contract
 * "Authentication"): checking the client's credentials, the challenge it gets, and the server's
 * own credentials. Pure: the nonces and the random source come from the caller.
 *
 * - `basic`: Cred `B64(user ":" password)`; no nonce.
 * - `md5`: Cred over the nonce the server issued last (the user is the SyncHdr Source LocName;
 *   the nonce is hashed as its decoded bytes, and, unless turned off, as its base64 text too).
 * - `hmac` (`syncml:auth-MAC`): the `x-syncml-hmac` HTTP header over the exact body, on every
 *   message, each with the nonce of the server's previous message.
 * - `none`: no application-level authentication (a TLS client certificate, or a test bench).
 *
 * Digests are compared in constant time (`auth.ts`).
 */
import type { Chal, Cred, SyncHdr } from '../syncml/types.js';
import {
  basicCredential, constantTimeEqual, md5Credential, parseHmacHeader, verifyHmac, verifyMd5Credential, type NonceMatch,
} from './auth.js';
import { fromBase64, toBase64 } from './base64.js';
import { isDmError } from './errors.js';

/** How a device authenticates. @public */
export type AuthScheme = 'none' | 'basic' | 'md5' | 'hmac';

/** The SyncML names of the schemes (Meta Type of Cred and Chal). @public */
export const AUTH_TYPES: Readonly<Record<Exclude<AuthScheme, 'none'>, string>> = Object.freeze({
  basic: 'syncml:auth-basic',
  md5: 'syncml:auth-md5',
  hmac: 'syncml:auth-MAC',
});

/** A device's credentials as the session needs them (DMAcc AAuthName / AAuthSecret). @public */
export interface DeviceAuth {
  scheme: AuthScheme;
  /** The client's user name (CLCRED AAuthName). */
  clientName?: string;
  /** The client's password (CLCRED AAuthSecret). */
  clientSecret?: string;
  /** The server's user name towards this device (SRVCRED AAuthName; the DMAcc ServerID). */
  serverId?: string;
  /** The server's password towards this device (SRVCRED AAuthSecret). Absent: the server sends no credentials. */
  serverSecret?: string;
  /**
   * How the server authenticates to the device (SRVCRED AAuthType: DMAcc has one per direction).
   * Default md5 (what the reference client expects when it has a server password); `hmac` signs
   * every server message with `x-syncml-hmac`; `none`: no server credentials.
   */
  serverScheme?: AuthScheme;
  /** The nonce the server issued and the client must use next (base64), if not used yet. */
  clientNonce?: string;
  /** The nonce the client gave the server for its own credentials (base64). */
  serverNonce?: string;
}

/** What the check of a client message's credentials says. @public */
export type ClientAuthResult =
  | { ok: true; match?: Exclude<NonceMatch, false> }
  | { ok: false; code: 401 | 407; reason: string };

/** Input of {@link checkClientAuth}. @public */
export interface ClientAuthInput {
  auth: DeviceAuth;
  header: SyncHdr;
  /** The `x-syncml-hmac` request header. */
  hmacHeader?: string;
  /** The exact request body (HMAC covers it). */
  body: Uint8Array;
  /** The nonce the client was told to use (base64); undefined when the server issued none yet. */
  nonce?: string;
  /** Also accept md5 / HMAC digests over the nonce's base64 text (intel/libdmclient; research note §2.3). */
  acceptStringNonce?: boolean;
}

function credType(cred: Cred): string {
  // SyncML RepPro: Cred Meta/Type defaults to syncml:auth-basic.
  return (cred.meta?.type ?? AUTH_TYPES.basic).trim().toLowerCase();
}

const utf8 = new TextDecoder();

function decodeB64Text(s: string): string | undefined {
  try {
    return utf8.decode(fromBase64(s.trim()));
  } catch {
    return undefined;
  }
}

/**
 * Checks the credentials of one client message against the device's scheme. 407 when none were
 * sent (or a Cred of another scheme with HMAC), 401 when they are wrong, of another scheme, or
 * cannot be checked (no nonce issued yet).
 * @public
 */
export function checkClientAuth(input: ClientAuthInput): ClientAuthResult {
  const { auth, header } = input;
  const name = auth.clientName ?? '';
  const secret = auth.clientSecret ?? '';
  const opts = { acceptStringNonce: input.acceptStringNonce !== false };
  switch (auth.scheme) {
    case 'none':
      return { ok: true };
    case 'basic': {
      const cred = header.cred;
      if (cred === undefined) return { ok: false, code: 407, reason: 'no credentials' };
      if (credType(cred) !== AUTH_TYPES.basic) return { ok: false, code: 401, reason: `credentials of type ${credType(cred)}, auth-basic expected` };
      const got = decodeB64Text(cred.data) ?? '';
      // One comparison over "user:password", in constant time.
      return constantTimeEqual(got, `${name}:${secret}`) && name !== '' ? { ok: true } : { ok: false, code: 401, reason: 'wrong user name or password' };
    }
    case 'md5': {
      const cred = header.cred;
      if (cred === undefined) return { ok: false, code: 407, reason: 'no credentials' };
      if (credType(cred) !== AUTH_TYPES.md5) return { ok: false, code: 401, reason: `credentials of type ${credType(cred)}, auth-md5 expected` };
      if (input.nonce === undefined) return { ok: false, code: 401, reason: 'no nonce issued yet' };
      const user = header.source?.locName?.trim();
      if (user !== undefined && user !== '' && user !== name) return { ok: false, code: 401, reason: 'unknown user name' };
      const m = verifyMd5Credential(cred.data, name, secret, input.nonce, opts);
      return m === false ? { ok: false, code: 401, reason: 'wrong digest' } : { ok: true, match: m };
    }
    case 'hmac': {
      if (input.hmacHeader === undefined || input.hmacHeader.trim() === '') return { ok: false, code: 407, reason: 'no x-syncml-hmac header' };
      if (input.nonce === undefined) return { ok: false, code: 401, reason: 'no nonce issued yet' };
      let m: NonceMatch;
      try {
        parseHmacHeader(input.hmacHeader);
        m = verifyHmac(input.hmacHeader, name, secret, input.nonce, input.body, opts);
      } catch (e) {
        return { ok: false, code: 401, reason: isDmError(e) ? e.message : 'bad x-syncml-hmac header' };
      }
      return m === false ? { ok: false, code: 401, reason: 'wrong mac' } : { ok: true, match: m };
    }
  }
}

/** Whether the scheme uses server-issued nonces. @public */
export function usesNonce(scheme: AuthScheme): boolean {
  return scheme === 'md5' || scheme === 'hmac';
}

/**
 * The Chal for a scheme: Meta Type, Format `b64`, and the NextNonce for md5 / HMAC (DMPRO 2.4).
 * @public
 */
export function challengeFor(scheme: AuthScheme, nextNonce?: string): Chal | undefined {
  if (scheme === 'none') return undefined;
  const chal: Chal = { meta: { type: AUTH_TYPES[scheme], format: 'b64' } };
  if (nextNonce !== undefined && usesNonce(scheme)) chal.meta.nextNonce = nextNonce;
  return chal;
}

/** A NextNonce as base64, whichever form it came in (WBXML may carry it as OPAQUE bytes). @public */
export function nonceText(n: string | Uint8Array | undefined): string | undefined {
  if (n === undefined) return undefined;
  return typeof n === 'string' ? n.trim() : toBase64(n);
}

/** The decoded bytes of a base64 nonce; empty when it is not base64. */
export function nonceBytes(b64: string | undefined): Uint8Array {
  if (b64 === undefined) return new Uint8Array(0);
  try {
    return fromBase64(b64);
  } catch {
    return new TextEncoder().encode(b64);
  }
}

/** How the server authenticates to the device: `none` without a server password, else `serverScheme` (default md5). @public */
export function serverSchemeOf(auth: DeviceAuth): AuthScheme {
  if (auth.serverSecret === undefined || auth.serverSecret === '') return 'none';
  return auth.serverScheme ?? 'md5';
}

/**
 * The server's Cred for its SyncHdr (server authentication, DMSEC; session contract §7): md5 over
 * the nonce the client gave it, or basic, per {@link serverSchemeOf}. Undefined for HMAC (that goes
 * in the HTTP header) and `none`.
 * @public
 */
export function serverCred(auth: DeviceAuth, serverId: string, serverNonce: string | undefined): Cred | undefined {
  const scheme = serverSchemeOf(auth);
  if (auth.serverSecret === undefined || scheme === 'none' || scheme === 'hmac') return undefined;
  if (scheme === 'basic') return { meta: { type: AUTH_TYPES.basic, format: 'b64' }, data: basicCredential(serverId, auth.serverSecret) };
  return { meta: { type: AUTH_TYPES.md5, format: 'b64' }, data: md5Credential(serverId, auth.serverSecret, nonceBytes(serverNonce)) };
}
