/**
 * OMA DM 1.2 application-level authentication formulas (DMSEC; DMPRO 2.4): `syncml:auth-basic`,
 * `syncml:auth-md5` and `syncml:auth-MAC` (the `x-syncml-hmac` header), plus nonce generation.
 * Pure functions over bytes; the session layer decides when to challenge.
 */
import { fromBase64, toBase64 } from './base64.js';
import { DmError } from './errors.js';
import { Md5, md5 } from './md5.js';

const utf8 = new TextEncoder();
const COLON = 0x3a;

/** Which nonce reading matched a credential, or false when none did (see research note 2.3). */
export type NonceMatch = 'bytes' | 'string' | false;

/** Options shared by the verifiers. */
export interface VerifyOptions {
  /**
   * Also accept credentials computed over the nonce's base64 *text* instead of its decoded bytes.
   * Default true: intel/libdmclient hashes the text, while DMSEC/MS-MDM 1.3.1 hash the bytes.
   */
  acceptStringNonce?: boolean;
}

/**
 * `syncml:auth-basic` credential: B64(user ":" password) (DMPRO 2.4).
 * @public
 */
export function basicCredential(user: string, password: string): string {
  return toBase64(utf8.encode(`${user}:${password}`));
}

/** B64(H(user ":" password)) as bytes: the shared first stage of md5, MAC and package 0 digests. */
function userKey(user: string, password: string): Uint8Array {
  return utf8.encode(toBase64(md5(`${user}:${password}`)));
}

/**
 * `syncml:auth-md5` credential: B64(H(B64(H(user ":" password)) ":" nonce)) (DMSEC). The nonce
 * is hashed as raw bytes, i.e. the *decoded* NextNonce (MS-MDM 1.3.1).
 * @public
 */
export function md5Credential(user: string, password: string, nonce: Uint8Array): string {
  return toBase64(new Md5().update(userKey(user, password)).update(Uint8Array.of(COLON)).update(nonce).digest());
}

/**
 * `syncml:auth-MAC` value: B64(H(B64(H(user ":" password)) ":" nonce ":" B64(H(body)))) (DMSEC).
 * Not RFC 2104 HMAC despite the name. `body` must be the exact transmitted message bytes.
 * @public
 */
export function hmacDigest(user: string, password: string, nonce: Uint8Array, body: Uint8Array): string {
  return toBase64(new Md5()
    .update(userKey(user, password)).update(Uint8Array.of(COLON))
    .update(nonce).update(Uint8Array.of(COLON))
    .update(toBase64(md5(body)))
    .digest());
}

function asBytes(v: Uint8Array | string): Uint8Array {
  return typeof v === 'string' ? utf8.encode(v) : v;
}

/**
 * Compares two byte strings (strings are UTF-8 encoded) without an early exit, so the time taken
 * does not reveal how long a matching prefix of a guessed credential was.
 * @public
 */
export function constantTimeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  const x = asBytes(a);
  const y = asBytes(b);
  const n = Math.max(x.length, y.length);
  let diff = x.length ^ y.length;
  for (let i = 0; i < n; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** Decodes a received base64 MD5 value to its 16 bytes, or null when it has another shape. */
function digestBytes(b64: string): Uint8Array | null {
  try {
    const d = fromBase64(b64.trim());
    return d.length === 16 ? d : null;
  } catch {
    return null;
  }
}

/** The two nonce readings to try, in order; `bytes` is null when the text is not base64. */
function nonceCandidates(nonceB64: string, options: VerifyOptions): { bytes: Uint8Array | null; text: Uint8Array | null } {
  let bytes: Uint8Array | null = null;
  try {
    bytes = fromBase64(nonceB64);
  } catch {
    bytes = null;
  }
  const text = options.acceptStringNonce === false ? null : utf8.encode(nonceB64);
  return { bytes, text };
}

/** Compares `received` with both candidates (always both, to keep timing uniform). */
function matchEither(received: Uint8Array | null, compute: (nonce: Uint8Array) => string,
  nonces: { bytes: Uint8Array | null; text: Uint8Array | null }): NonceMatch {
  const probe = received ?? new Uint8Array(16);
  const byBytes = nonces.bytes !== null && constantTimeEqual(probe, fromBase64(compute(nonces.bytes)));
  const byText = nonces.text !== null && constantTimeEqual(probe, fromBase64(compute(nonces.text)));
  if (received === null) return false;
  return byBytes ? 'bytes' : byText ? 'string' : false;
}

/**
 * Checks a received `syncml:auth-md5` credential against the expected user, password and the
 * nonce the verifier issued (as sent, base64). Tries the decoded-bytes rule, then (unless
 * `acceptStringNonce` is false) the base64-text rule, and reports which one matched.
 * @public
 */
export function verifyMd5Credential(received: string, user: string, password: string, nonceB64: string,
  options: VerifyOptions = {}): NonceMatch {
  return matchEither(digestBytes(received), (n) => md5Credential(user, password, n), nonceCandidates(nonceB64, options));
}

/** Fields of an `x-syncml-hmac` header (DMSEC). */
export interface HmacHeader {
  /** Always `MD5` after parsing (the only algorithm DMSEC defines). */
  algorithm: string;
  /** The user name, which equals LocName of the SyncHdr Source. */
  username: string;
  /** The base64 MAC computed by {@link hmacDigest}. */
  mac: string;
}

/**
 * Builds an `x-syncml-hmac` header value in the DMSEC example form:
 * `algorithm=MD5, username="Bruce2", mac=...`. Quotes and backslashes in the user name are
 * backslash-escaped so {@link parseHmacHeader} reads them back.
 * @public
 */
export function formatHmacHeader(h: { algorithm?: 'MD5'; username: string; mac: string }): string {
  const user = h.username.replace(/[\\"]/g, (c) => '\\' + c);
  return `algorithm=${h.algorithm ?? 'MD5'}, username="${user}", mac=${h.mac}`;
}

function badHeader(message: string, offset?: number): DmError {
  return new DmError('BAD_HMAC_HEADER', message, { offset, status: 401 });
}

/**
 * Parses an `x-syncml-hmac` header value tolerantly: comma-separated `key=value` pairs in any
 * order, optional whitespace, optional double quotes (with backslash escapes), case-insensitive
 * keys; unknown keys are ignored because emitters differ (research note 2.3). `algorithm`
 * defaults to MD5. Throws DmError `BAD_HMAC_HEADER` (status 401) when username or mac is missing
 * or empty, a key repeats, or the algorithm is not MD5.
 * @public
 */
export function parseHmacHeader(value: string): HmacHeader {
  const fields = new Map<string, string>();
  const n = value.length;
  let i = 0;
  const skipSpace = () => { while (i < n && (value[i] === ' ' || value[i] === '\t')) i++; };
  while (i < n) {
    skipSpace();
    if (i >= n) break;
    if (value[i] === ',') { i++; continue; }
    const keyStart = i;
    while (i < n && value[i] !== '=' && value[i] !== ',') i++;
    const key = value.slice(keyStart, i).trim().toLowerCase();
    if (i >= n || value[i] !== '=' || key === '') throw badHeader('expected key=value', keyStart);
    i++; // '='
    skipSpace();
    let val: string;
    if (value[i] === '"') {
      const quoteAt = i++;
      val = '';
      while (i < n && value[i] !== '"') {
        if (value[i] === '\\' && i + 1 < n) i++;
        val += value[i++];
      }
      if (i >= n) throw badHeader('unterminated quoted value', quoteAt);
      i++; // closing quote
      skipSpace();
      if (i < n && value[i] !== ',') throw badHeader('expected "," after quoted value', i);
    } else {
      const start = i;
      while (i < n && value[i] !== ',') i++;
      val = value.slice(start, i).trim();
    }
    if (fields.has(key)) throw badHeader(`repeated key ${key}`, keyStart);
    fields.set(key, val);
  }
  const algorithm = (fields.get('algorithm') ?? 'MD5').toUpperCase();
  if (algorithm !== 'MD5') throw badHeader(`unsupported algorithm ${JSON.stringify(fields.get('algorithm'))}`);
  const username = fields.get('username');
  const mac = fields.get('mac');
  if (username === undefined || username === '') throw badHeader('x-syncml-hmac without username');
  if (mac === undefined || mac === '') throw badHeader('x-syncml-hmac without mac');
  return { algorithm, username, mac };
}

/**
 * Verifies an `x-syncml-hmac` header against a message body: the header's username must equal
 * `user` and its mac must match {@link hmacDigest} under one of the nonce readings (as in
 * {@link verifyMd5Credential}). Throws DmError `BAD_HMAC_HEADER` for an unparsable header.
 * @public
 */
export function verifyHmac(headerValue: string, user: string, password: string, nonceB64: string,
  body: Uint8Array, options: VerifyOptions = {}): NonceMatch {
  const h = parseHmacHeader(headerValue);
  const result = matchEither(digestBytes(h.mac), (n) => hmacDigest(user, password, n, body), nonceCandidates(nonceB64, options));
  return h.username === user ? result : false;
}

/**
 * Fresh random nonce bytes (DMSEC wants unpredictable nonces; 16 bytes by default). Uses
 * `globalThis.crypto.getRandomValues` unless a source is injected (tests, HSMs).
 * Throws DmError `NO_RANDOM_SOURCE` when neither exists.
 * @public
 */
export function randomNonce(bytes = 16, random?: (n: number) => Uint8Array): Uint8Array {
  if (!Number.isInteger(bytes) || bytes < 1) {
    throw new DmError('INVALID_ARGUMENT', `nonce length must be a positive integer, got ${bytes}`);
  }
  if (random) {
    const r = random(bytes);
    if (!(r instanceof Uint8Array) || r.length !== bytes) {
      throw new DmError('INVALID_ARGUMENT', `random source returned ${r?.length} bytes, wanted ${bytes}`);
    }
    return r;
  }
  const c = (globalThis as { crypto?: { getRandomValues?: <T extends ArrayBufferView>(a: T) => T } }).crypto;
  if (!c || typeof c.getRandomValues !== 'function') {
    throw new DmError('NO_RANDOM_SOURCE', 'globalThis.crypto.getRandomValues is not available; inject a random source');
  }
  const out = new Uint8Array(bytes);
  // getRandomValues refuses more than 65536 bytes per call.
  for (let i = 0; i < bytes; i += 65536) c.getRandomValues(out.subarray(i, Math.min(bytes, i + 65536)));
  return out;
}
