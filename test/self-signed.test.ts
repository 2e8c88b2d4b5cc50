/**
 * The demo's in-process TLS certificate: every one must load. (A serial number encoded with
 * illegal DER padding made 1 certificate in 256 unloadable: the demo then failed at random.)
 */
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../src/cli/self-signed.js';

describe('selfSignedCertificate', () => {
  it('makes certificates OpenSSL loads, every time (1000 made)', () => {
    let failures = 0;
    for (let i = 0; i < 1000; i++) {
      const c = selfSignedCertificate(['localhost', '127.0.0.1', '::1']);
      try {
        const x = new X509Certificate(c.cert);
        createSecureContext({ cert: c.cert, key: c.key });
        expect(x.checkHost('localhost')).toBe('localhost');
        expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
      } catch {
        failures++;
      }
    }
    expect(failures).toBe(0);
  });
});
