/**
 * The client's side of DM authentication (DMPRO 2.4, DMSEC; docs/session-protocol.md
 * "Authentication"; research note §2): which scheme an account asks for, the Cred the client
 * sends, the `x-syncml-hmac` header it computes over its exact body bytes, and the check of the
 * credentials a server presents (Cred in its SyncHdr, or its own `x-syncml-hmac` header).
 *
 * Nonces are kept as decoded bytes (NextNonce travels base64, MS-MDM 1.3.1 hashes the bytes).
 * Some servers hash the base64 *text* instead (intel/libdmclient, research note §2.3): the client
 * can build its credentials over the text form (`form: 'text'`), which the session switches to
 * after a refusal of the bytes form.
 */
import type { Cred, Meta } from '../syncml/types.js';
import { basicCredential, constantTimeEqual, formatHmacHeader, hmacDigest, md5Credential, verifyHmac, verifyMd5Credential } from './auth.js';
import { fromBase64, toBase64 } from './base64.js';
import { isDmError } from './errors.js';

/** An authentication scheme; `none` = no application-level authentication. @public */
export type AuthScheme = 'none' | 'basic' | 'md5' | 'hmac';

/** How a nonce is fed to MD5: its decoded bytes (DMSEC, MS-MDM) or its base64 text (libdmclient). @public */
export type NonceForm = 'bytes' | 'text';

/** The `Meta/Type` of each scheme (DMREPPRO 4.1.1.6). @public */
export const AUTH_TYPE: Readonly<Record<Exclude<AuthScheme, 'none'>, string>> = Object.freeze({
  basic: 'syncml:auth-basic',
  md5: 'syncml:auth-md5',
  hmac: 'syncml:auth-MAC',
});

/** A user name and password, with the nonce to use next (decoded bytes; empty = none yet). @public */
export interface AuthSecret {
  name: string;
  secret: string;
  nonce?: Uint8Array;
}

/**
 * The scheme named by a DMAcc value or a Meta/Type: 1.2 AAuthType (`BASIC`, `DIGEST`, `HMAC`),
 * 1.1.2 AuthPref and Chal types (`syncml:auth-basic`, `syncml:auth-md5`, `syncml:auth-MAC`),
 * case-insensitively. Anything else (empty, `NONE`, certificates) is `none`.
 * @public
 */
export function schemeOf(value: string | undefined): AuthScheme {
  const v = (value ?? '').trim().toLowerCase();
  if (v === 'basic' || v === 'syncml:auth-basic') return 'basic';
  if (v === 'digest' || v === 'md5' || v === 'syncml:auth-md5') return 'md5';
  if (v === 'hmac' || v === 'mac' || v === 'syncml:auth-mac') return 'hmac';
  return 'none';
}

/**
 * A received NextNonce as bytes: base64 text is decoded; text that is not base64 is taken as its
 * UTF-8 bytes (a lenient reading of a broken peer); WBXML OPAQUE bytes are taken as they are.
 * @public
 */
export function nonceFromMeta(value: Meta['nextNonce']): Uint8Array | undefined {
  if (value === undefined) return undefined;
  if (value instanceof Uint8Array) return value.slice();
  const t = value.trim();
  try {
    return fromBase64(t);
  } catch (e) {
    if (!isDmError(e)) throw e;
    return new TextEncoder().encode(t);
  }
}

/** The nonce bytes MD5 is fed with, in the chosen form. @public */
export function nonceInput(nonce: Uint8Array, form: NonceForm): Uint8Array {
  return form === 'text' ? new TextEncoder().encode(toBase64(nonce)) : nonce;
}

/**
 * The Cred of a client message: basic always, md5 when a nonce is known, none for HMAC (which
 * travels in the HTTP header) and `none`. Meta Format is `b64` (DMREPPRO 4.1.1.2).
 * @public
 */
export function clientCredential(scheme: AuthScheme, auth: AuthSecret, form: NonceForm = 'bytes'): Cred | undefined {
  if (scheme === 'basic') {
    return { meta: { type: AUTH_TYPE.basic, format: 'b64' }, data: basicCredential(auth.name, auth.secret) };
  }
  if (scheme === 'md5' && auth.nonce !== undefined) {
    return { meta: { type: AUTH_TYPE.md5, format: 'b64' }, data: md5Credential(auth.name, auth.secret, nonceInput(auth.nonce, form)) };
  }
  return undefined;
}

/**
 * The `x-syncml-hmac` header value over the exact body bytes (DMSEC): `algorithm=MD5,
 * username="…", mac=…`, the user name being the SyncHdr Source LocName.
 * @public
 */
export function hmacHeaderValue(auth: AuthSecret, body: Uint8Array, form: NonceForm = 'bytes'): string {
  const nonce = auth.nonce ?? new Uint8Array(0);
  return formatHmacHeader({ username: auth.name, mac: hmacDigest(auth.name, auth.secret, nonceInput(nonce, form), body) });
}

/** What the check of a server's credentials found. @public */
export type ServerCheck = 'ok' | 'missing' | 'invalid';

/**
 * Checks the credentials a server presents to the client (DMSEC server authentication; the
 * account's SRVCRED): `md5` and `basic` from the SyncHdr Cred, `hmac` from the server's
 * `x-syncml-hmac` header over the exact body it sent. md5 and HMAC accept both nonce forms.
 * A Cred of another scheme than the one required is `invalid` (the type stays the same for the
 * whole session, DMSEC).
 * @public
 */
export function checkServerCredentials(scheme: Exclude<AuthScheme, 'none'>, auth: AuthSecret,
  presented: { cred?: Cred; hmacHeader?: string; body?: Uint8Array }): ServerCheck {
  const nonceB64 = toBase64(auth.nonce ?? new Uint8Array(0));
  if (scheme === 'hmac') {
    if (presented.hmacHeader === undefined || presented.hmacHeader.trim() === '') return 'missing';
    try {
      return verifyHmac(presented.hmacHeader, auth.name, auth.secret, nonceB64, presented.body ?? new Uint8Array(0)) !== false ? 'ok' : 'invalid';
    } catch (e) {
      if (isDmError(e)) return 'invalid';
      throw e;
    }
  }
  const cred = presented.cred;
  if (cred === undefined || typeof cred.data !== 'string' || cred.data.trim() === '') return 'missing';
  // SyncML's default Cred type is auth-basic (DMREPPRO 4.1.1.6).
  const sent = schemeOf(cred.meta?.type ?? AUTH_TYPE.basic);
  if (sent !== scheme) return 'invalid';
  if (scheme === 'basic') return constantTimeEqual(cred.data.trim(), basicCredential(auth.name, auth.secret)) ? 'ok' : 'invalid';
  return verifyMd5Credential(cred.data, auth.name, auth.secret, nonceB64) !== false ? 'ok' : 'invalid';
}
