import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../src/dm/base64.js';
import { isDmError } from '../src/dm/errors.js';
import { Md5, md5, md5Hex } from '../src/dm/md5.js';

const nodeMd5 = (b: Uint8Array | string) => createHash('md5').update(b).digest('hex');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('md5', () => {
  it('matches the RFC 1321 A.5 test suite', () => {
    const suite: [string, string][] = [
      ['', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['a', '0cc175b9c0f1b6a831c399e269772661'],
      ['abc', '900150983cd24fb0d6963f7d28e17f72'],
      ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
      ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
      ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
      ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', '57edf4a22be3c955ac49da2e2107b67a'],
    ];
    for (const [input, expected] of suite) {
      expect(md5Hex(input)).toBe(expected);
      expect(hex(new Md5().update(input).digest())).toBe(expected);
    }
  });

  it('returns 16 bytes and hashes strings as UTF-8', () => {
    expect(md5('x')).toHaveLength(16);
    expect(md5Hex('żółw €')).toBe(nodeMd5(Buffer.from('żółw €', 'utf8')));
  });

  it('handles every length around the padding boundaries (55/56/63/64/65, 119/120, 127/128)', () => {
    for (let len = 0; len <= 200; len++) {
      const data = Uint8Array.from({ length: len }, (_, i) => (i * 31 + len) & 0xff);
      expect(md5Hex(data), `length ${len}`).toBe(nodeMd5(data));
    }
  });

  it('hashes a subarray view of a larger buffer correctly (non-zero byteOffset)', () => {
    const big = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const view = big.subarray(7, 7 + 130);
    expect(md5Hex(view)).toBe(nodeMd5(view));
  });

  it('matches node:crypto for random inputs of random lengths (fast-check)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1100 }), (data) => md5Hex(data) === nodeMd5(data)), { numRuns: 400 });
  });

  it('streaming over random chunkings equals one-shot, and digest() does not consume state', () => {
    fc.assert(fc.property(
      fc.uint8Array({ maxLength: 700 }),
      fc.array(fc.nat({ max: 150 }), { maxLength: 12 }),
      (data, cuts) => {
        const h = new Md5();
        let pos = 0;
        for (const c of cuts) {
          const next = Math.min(data.length, pos + c);
          h.update(data.subarray(pos, next));
          expect(hex(h.digest())).toBe(nodeMd5(data.subarray(0, next)));
          pos = next;
        }
        h.update(data.subarray(pos));
        return hex(h.digest()) === nodeMd5(data);
      }), { numRuns: 200 });
  });

  it('is reasonably fast (1 MiB in well under a second)', () => {
    const data = new Uint8Array(1 << 20).fill(0x61);
    const t = performance.now();
    expect(md5Hex(data)).toBe(nodeMd5(data));
    expect(performance.now() - t).toBeLessThan(1000);
  });
});

describe('base64', () => {
  it('encodes like Buffer for random data', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (data) =>
      toBase64(data) === Buffer.from(data).toString('base64')), { numRuns: 300 });
  });

  it('decodes Buffer output in strict and lenient mode', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
      const text = Buffer.from(data).toString('base64');
      expect(hex(fromBase64(text, { strict: true }))).toBe(hex(data));
      expect(hex(fromBase64(text))).toBe(hex(data));
    }), { numRuns: 300 });
  });

  it('lenient mode skips whitespace and accepts missing padding', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), fc.nat(), (data, seed) => {
      let text = Buffer.from(data).toString('base64').replace(/=+$/, '');
      // Insert whitespace at pseudo-random places.
      const ws = [' ', '\n', '\r\n', '\t'];
      let out = '';
      for (let i = 0; i < text.length; i++) out += text[i] + ((seed + i) % 5 === 0 ? ws[(seed + i) % 4] : '');
      text = out;
      return hex(fromBase64(text)) === hex(data);
    }), { numRuns: 200 });
    expect(hex(fromBase64('TWE'))).toBe(hex(Buffer.from('Ma')));
    expect(hex(fromBase64('TQ='))).toBe(hex(Buffer.from('M'))); // one of two '=' missing
  });

  it('strict mode rejects whitespace, missing padding and non-zero pad bits', () => {
    for (const bad of ['TWE', 'TQ', 'TQ=', 'TW E=', 'TWE=\n', 'TR==', 'TWF=']) {
      expect(() => fromBase64(bad, { strict: true }), bad).toThrowError(expect.objectContaining({ code: 'BAD_BASE64' }));
    }
  });

  it('both modes reject foreign characters, misplaced padding and a dangling character', () => {
    const cases: [string, number][] = [['TW!=', 2], ['=TWE', 0], ['T=WE', 1], ['TWE=A', 4], ['TQ===', 4], ['TWFuT', 4], ['TWE€', 3], ['TW-_', 2]];
    for (const [bad, offset] of cases) {
      for (const strict of [false, true]) {
        try {
          fromBase64(bad, { strict });
          expect.fail(`accepted ${bad}`);
        } catch (e) {
          expect(isDmError(e), bad).toBe(true);
          expect((e as { code: string }).code).toBe('BAD_BASE64');
          if (!strict || !/\s/.test(bad)) expect((e as { offset: number }).offset, bad).toBe(offset);
        }
      }
    }
  });

  it('decoding random text only throws DmError', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), fc.boolean(), (s, strict) => {
      try {
        fromBase64(s, { strict });
      } catch (e) {
        return isDmError(e);
      }
      return true;
    }), { numRuns: 500 });
  });
});
