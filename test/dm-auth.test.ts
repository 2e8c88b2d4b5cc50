import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  basicCredential, constantTimeEqual, formatHmacHeader, hmacDigest, md5Credential, parseHmacHeader,
  randomNonce, verifyHmac, verifyMd5Credential,
} from '../src/dm/auth.js';
import { fromBase64 } from '../src/dm/base64.js';
import { DmError, isDmError } from '../src/dm/errors.js';

const te = new TextEncoder();
const BODY = te.encode('<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr/><SyncBody><Final/></SyncBody></SyncML>');

function codeOf(fn: () => unknown): { code: string; status?: number } | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (!isDmError(e)) throw e;
    return { code: e.code, status: e.status };
  }
}

describe('DmError', () => {
  it('carries code, status, offset and survives the isDmError check', () => {
    const e = new DmError('URI_TOO_LONG', 'too long');
    expect(e).toBeInstanceOf(DmError);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('DmError');
    expect(e.status).toBe(414);
    expect(new DmError('BAD_URI', 'x', { offset: 3 }).message).toContain('offset 3');
    expect(new DmError('BAD_URI', 'x', { status: 404 }).status).toBe(404);
    expect(isDmError(e)).toBe(true);
    expect(isDmError(Object.assign(new Error('x'), { name: 'DmError', code: 'BAD_URI' }))).toBe(true);
    expect(isDmError(new Error('x'))).toBe(false);
    expect(isDmError(null)).toBe(false);
  });
});

describe('auth-basic', () => {
  it('DMPRO 2.4 vector', () => {
    expect(basicCredential('Bruce2', 'OhBehave')).toBe('QnJ1Y2UyOk9oQmVoYXZl');
  });
});

describe('auth-md5', () => {
  it('DMREPPRO/DMPRO vector with nonce "Nonce"', () => {
    expect(md5Credential('Bruce2', 'OhBehave', te.encode('Nonce'))).toBe('Zz6EivR3yeaaENcRN6lpAQ==');
  });

  it('decoded-bytes vs base64-text nonce readings (research note 2.3)', () => {
    expect(md5Credential('Bruce2', 'OhBehave', fromBase64('LG3iZQhhdmKNHg=='))).toBe('LAK2i25Fh0nxxGGaAzRRpg==');
    expect(md5Credential('Bruce2', 'OhBehave', te.encode('LG3iZQhhdmKNHg=='))).toBe('kpKgquN4uuyvg2Io01gZ5A==');
  });

  it('verifyMd5Credential reports which reading matched', () => {
    const nonce = 'LG3iZQhhdmKNHg==';
    expect(verifyMd5Credential('LAK2i25Fh0nxxGGaAzRRpg==', 'Bruce2', 'OhBehave', nonce)).toBe('bytes');
    expect(verifyMd5Credential('kpKgquN4uuyvg2Io01gZ5A==', 'Bruce2', 'OhBehave', nonce)).toBe('string');
    expect(verifyMd5Credential('kpKgquN4uuyvg2Io01gZ5A==', 'Bruce2', 'OhBehave', nonce, { acceptStringNonce: false })).toBe(false);
    expect(verifyMd5Credential('LAK2i25Fh0nxxGGaAzRRpg==', 'Bruce2', 'wrong', nonce)).toBe(false);
    expect(verifyMd5Credential('LAK2i25Fh0nxxGGaAzRRpg==', 'bruce2', 'OhBehave', nonce)).toBe(false);
    // Tolerates a peer that drops padding or wraps the value.
    expect(verifyMd5Credential(' LAK2i25Fh0nxxGGaAzRRpg\n', 'Bruce2', 'OhBehave', nonce)).toBe('bytes');
    // Garbage is simply "no match", never a throw.
    expect(verifyMd5Credential('not base64!', 'Bruce2', 'OhBehave', nonce)).toBe(false);
    expect(verifyMd5Credential('', 'Bruce2', 'OhBehave', nonce)).toBe(false);
  });

  it('a nonce that is not valid base64 can still match by its text', () => {
    const cred = md5Credential('u', 'p', te.encode('Nonce!'));
    expect(verifyMd5Credential(cred, 'u', 'p', 'Nonce!')).toBe('string');
    expect(verifyMd5Credential(cred, 'u', 'p', 'Nonce!', { acceptStringNonce: false })).toBe(false);
  });

  it('round-trips for random users, passwords and nonces (fast-check)', () => {
    fc.assert(fc.property(fc.string(), fc.string(), fc.uint8Array({ minLength: 1, maxLength: 32 }), (u, p, n) => {
      const nonceB64 = Buffer.from(n).toString('base64');
      return verifyMd5Credential(md5Credential(u, p, n), u, p, nonceB64) === 'bytes';
    }), { numRuns: 200 });
  });
});

describe('constantTimeEqual', () => {
  it('compares bytes and strings, including different lengths', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(constantTimeEqual(Uint8Array.of(1, 2, 0), Uint8Array.of(1, 2))).toBe(false);
    expect(constantTimeEqual('é', Uint8Array.of(0xc3, 0xa9))).toBe(true);
  });
});

describe('auth-MAC (x-syncml-hmac)', () => {
  const nonce = fromBase64('MTIzNA==');

  it('composed vector from research note 2.3', () => {
    expect(BODY).toHaveLength(81);
    expect(hmacDigest('Bruce2', 'OhBehave', nonce, BODY)).toBe('MWnPTItkYqI9mOHV65UFlw==');
  });

  it('formats the DMSEC example form', () => {
    expect(formatHmacHeader({ username: 'Bruce2', mac: 'MWnPTItkYqI9mOHV65UFlw==' }))
      .toBe('algorithm=MD5, username="Bruce2", mac=MWnPTItkYqI9mOHV65UFlw==');
    expect(formatHmacHeader({ algorithm: 'MD5', username: 'a"b\\c', mac: 'x' }))
      .toBe('algorithm=MD5, username="a\\"b\\\\c", mac=x');
  });

  it('parses the ", " (Motorola native) and no-space (Motorola JNI) emitter forms', () => {
    const want = { algorithm: 'MD5', username: 'Robert Jordan', mac: 'NTI2OTJhMDAwNjYxODkwYmQ3NWUxN2RhN2ZmYmJlMzk' };
    expect(parseHmacHeader('algorithm=MD5, username="Robert Jordan", mac=NTI2OTJhMDAwNjYxODkwYmQ3NWUxN2RhN2ZmYmJlMzk')).toEqual(want);
    expect(parseHmacHeader('algorithm=MD5,username="Robert Jordan",mac=NTI2OTJhMDAwNjYxODkwYmQ3NWUxN2RhN2ZmYmJlMzk')).toEqual(want);
  });

  it('parses any order, case-insensitive keys, optional quotes and spaces, default algorithm', () => {
    const want = { algorithm: 'MD5', username: 'Bruce2', mac: 'MWnPTItkYqI9mOHV65UFlw==' };
    for (const v of [
      'mac=MWnPTItkYqI9mOHV65UFlw==, username=Bruce2',
      'USERNAME = "Bruce2" ,  MAC = "MWnPTItkYqI9mOHV65UFlw==" , Algorithm = md5',
      '  username="Bruce2",mac=MWnPTItkYqI9mOHV65UFlw==,',
      'username="Bruce2", extra=ignored, mac=MWnPTItkYqI9mOHV65UFlw==',
      'username="Br\\uce2", mac=MWnPTItkYqI9mOHV65UFlw==', // backslash escape of an ordinary char
    ]) {
      expect(parseHmacHeader(v), v).toEqual(want);
    }
    expect(parseHmacHeader('username="a, b", mac=x').username).toBe('a, b');
  });

  it('round-trips format -> parse for arbitrary user names', () => {
    fc.assert(fc.property(fc.string({ minLength: 1 }), (u) => {
      const h = parseHmacHeader(formatHmacHeader({ username: u, mac: 'AAAA' }));
      return h.username === u && h.mac === 'AAAA' && h.algorithm === 'MD5';
    }));
  });

  it('rejects missing fields, unknown algorithms and garbage with BAD_HMAC_HEADER / 401', () => {
    for (const v of [
      '', 'mac=abc', 'username="x"', 'username="", mac=abc', 'username=x, mac=',
      'algorithm=SHA1, username=x, mac=y', 'username="x, mac=y', 'username="x" junk, mac=y',
      'username', '=x, mac=y', 'username=a, username=b, mac=y',
    ]) {
      expect(codeOf(() => parseHmacHeader(v)), v).toEqual({ code: 'BAD_HMAC_HEADER', status: 401 });
    }
  });

  it('verifyHmac checks user, mac and both nonce readings', () => {
    const header = formatHmacHeader({ username: 'Bruce2', mac: 'MWnPTItkYqI9mOHV65UFlw==' });
    expect(verifyHmac(header, 'Bruce2', 'OhBehave', 'MTIzNA==', BODY)).toBe('bytes');
    expect(verifyHmac(header, 'Bruce2', 'OhBehave', 'MTIzNA==', BODY.subarray(1))).toBe(false);
    expect(verifyHmac(header, 'Other', 'OhBehave', 'MTIzNA==', BODY)).toBe(false);
    const textMac = hmacDigest('Bruce2', 'OhBehave', te.encode('MTIzNA=='), BODY);
    const textHeader = `algorithm=MD5,username="Bruce2",mac=${textMac}`;
    expect(verifyHmac(textHeader, 'Bruce2', 'OhBehave', 'MTIzNA==', BODY)).toBe('string');
    expect(verifyHmac(textHeader, 'Bruce2', 'OhBehave', 'MTIzNA==', BODY, { acceptStringNonce: false })).toBe(false);
    expect(codeOf(() => verifyHmac('mac=x', 'Bruce2', 'OhBehave', 'MTIzNA==', BODY))?.code).toBe('BAD_HMAC_HEADER');
  });
});

describe('randomNonce', () => {
  it('defaults to 16 bytes from Web Crypto, differing each time', () => {
    const a = randomNonce();
    const b = randomNonce();
    expect(a).toHaveLength(16);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(randomNonce(70000)).toHaveLength(70000); // beyond one getRandomValues call
  });

  it('uses an injected source and checks what it returns', () => {
    expect([...randomNonce(4, (n) => new Uint8Array(n).fill(7))]).toEqual([7, 7, 7, 7]);
    expect(codeOf(() => randomNonce(4, () => new Uint8Array(3)))?.code).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => randomNonce(0))?.code).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => randomNonce(1.5))?.code).toBe('INVALID_ARGUMENT');
  });
});
