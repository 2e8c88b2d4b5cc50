import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDmError } from '../src/dm/errors.js';
import {
  decodeSegment, encodeSegment, isAncestor, joinUri, normalizeUri, parentUri, parseUri, uriDepth,
} from '../src/dm/uri.js';

function errorOf(fn: () => unknown): { code: string; status?: number; offset?: number } | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (!isDmError(e)) throw e;
    return { code: e.code, status: e.status, offset: e.offset };
  }
}

describe('normalizeUri (DMTND 8.1)', () => {
  it('makes ./DMAcc/x and DMAcc/x the same node; root is "."', () => {
    expect(normalizeUri('DMAcc/x')).toBe('./DMAcc/x');
    expect(normalizeUri('./DMAcc/x')).toBe('./DMAcc/x');
    expect(normalizeUri('.')).toBe('.');
    expect(normalizeUri('DevInfo')).toBe('./DevInfo');
  });

  it('allows dots inside names and a first segment ".name"', () => {
    expect(normalizeUri('./a.b/.hidden/c..d')).toBe('./a.b/.hidden/c..d');
    expect(normalizeUri('.x')).toBe('./.x');
  });

  it('keeps segment text (case, percent escapes, spaces) as given', () => {
    expect(normalizeUri('./Vendor/MSFT/My%20App/X')).toBe('./Vendor/MSFT/My%20App/X');
    expect(normalizeUri('./ DevDetail')).toBe('./ DevDetail');
  });

  it('rejects malformed URIs with BAD_URI / 400 and the position', () => {
    const cases: [string, number][] = [
      ['', 0],
      ['/DMAcc', 0], // leading "/"
      ['./', 2], // the root is ".", not "./"
      ['./DMAcc/', 8], // trailing "/"
      ['DMAcc/', 6],
      ['./A//B', 4], // empty segment
      ['./A/./B', 4], // "." after the prefix
      ['./A/../B', 4], // ".."
      ['../A', 0],
      ['./..', 2],
      ['././A', 2],
      ['A/.', 2],
      ['./A\u0000B', 3], // control character
      ['./A\nB', 3],
    ];
    for (const [uri, offset] of cases) {
      expect(errorOf(() => normalizeUri(uri)), JSON.stringify(uri)).toEqual({ code: 'BAD_URI', status: 400, offset });
    }
  });

  it('enforces MaxDepth, MaxTotLen, MaxSegLen with URI_TOO_LONG / 414; 0 = unlimited', () => {
    const uri = './A/BB/CCC';
    expect(normalizeUri(uri, { maxDepth: 3, maxTotalLength: 10, maxSegmentLength: 3 })).toBe(uri);
    expect(normalizeUri('A/BB/CCC', { maxTotalLength: 10 })).toBe(uri); // measured on the canonical form
    expect(normalizeUri(uri, { maxDepth: 0, maxTotalLength: 0, maxSegmentLength: 0 })).toBe(uri);
    for (const limits of [{ maxDepth: 2 }, { maxTotalLength: 9 }, { maxSegmentLength: 2 }]) {
      expect(errorOf(() => normalizeUri(uri, limits)), JSON.stringify(limits)).toEqual({ code: 'URI_TOO_LONG', status: 414, offset: undefined });
    }
    // Lengths count UTF-8 bytes: "é" is two.
    expect(errorOf(() => normalizeUri('./é', { maxSegmentLength: 1 }))?.code).toBe('URI_TOO_LONG');
    expect(normalizeUri('./é', { maxSegmentLength: 2, maxTotalLength: 4 })).toBe('./é');
    // The query does not count towards MaxTotLen.
    expect(normalizeUri('./A?prop=ACL', { maxTotalLength: 3 })).toBe('./A?prop=ACL');
    expect(errorOf(() => normalizeUri('./A', { maxDepth: -1 }))?.code).toBe('INVALID_ARGUMENT');
  });
});

describe('parseUri queries (DMTND 8.3 / 8.4)', () => {
  it('splits ?prop= and ?list=', () => {
    expect(parseUri('DMAcc/x?prop=ACL')).toEqual({ path: './DMAcc/x', segments: ['DMAcc', 'x'], query: { prop: 'ACL' } });
    expect(parseUri('./Vendor?list=TNDS+Value+ACL')).toEqual({ path: './Vendor', segments: ['Vendor'], query: { list: 'TNDS+Value+ACL' } });
    expect(parseUri('.?list=Struct')).toEqual({ path: '.', segments: [], query: { list: 'Struct' } });
    expect(parseUri('./A?prop=msft%3AAccessRole').query).toEqual({ prop: 'msft%3AAccessRole' });
    expect(parseUri('./A')).toEqual({ path: './A', segments: ['A'] });
    expect(normalizeUri('A/B?prop=Name')).toBe('./A/B?prop=Name');
    expect(normalizeUri('A/B?list=StructData')).toBe('./A/B?list=StructData');
  });

  it('rejects malformed queries with BAD_URI and unknown keys with UNSUPPORTED_URI_QUERY / 406', () => {
    expect(errorOf(() => parseUri('./A?prop'))).toEqual({ code: 'BAD_URI', status: 400, offset: 4 });
    expect(errorOf(() => parseUri('./A?=x'))).toEqual({ code: 'BAD_URI', status: 400, offset: 4 });
    expect(errorOf(() => parseUri('./A?prop='))).toEqual({ code: 'BAD_URI', status: 400, offset: 9 });
    expect(errorOf(() => parseUri('./A?prop=ACL&list=Struct'))?.code).toBe('BAD_URI');
    expect(errorOf(() => parseUri('./A?prop=A?B'))?.code).toBe('BAD_URI');
    expect(errorOf(() => parseUri('./A?foo=bar'))).toEqual({ code: 'UNSUPPORTED_URI_QUERY', status: 406, offset: 4 });
    expect(errorOf(() => parseUri('?prop=ACL'))).toEqual({ code: 'BAD_URI', status: 400, offset: 0 });
    expect(errorOf(() => parseUri('./?prop=ACL'))?.code).toBe('BAD_URI');
  });
});

describe('tree helpers', () => {
  it('parentUri', () => {
    expect(parentUri('./A/B/C')).toBe('./A/B');
    expect(parentUri('A')).toBe('.');
    expect(parentUri('.')).toBeNull();
    expect(parentUri('./A/B?prop=ACL')).toBe('./A');
  });

  it('joinUri', () => {
    expect(joinUri('.', 'DMAcc')).toBe('./DMAcc');
    expect(joinUri('DMAcc', 'x', 'AppAuth/1')).toBe('./DMAcc/x/AppAuth/1');
    expect(joinUri('./A')).toBe('./A');
    for (const bad of ['', '..', './B', '.', 'B/', 'a?prop=ACL']) {
      expect(errorOf(() => joinUri('./A', bad))?.code, bad).toBe('BAD_URI');
    }
  });

  it('uriDepth', () => {
    expect(uriDepth('.')).toBe(0);
    expect(uriDepth('DMAcc')).toBe(1);
    expect(uriDepth('./A/B')).toBe(2);
  });

  it('isAncestor works segment-wise', () => {
    expect(isAncestor('.', './A')).toBe(true);
    expect(isAncestor('./A', './A/B/C')).toBe(true);
    expect(isAncestor('A', './A/B')).toBe(true);
    expect(isAncestor('./A', './AB')).toBe(false);
    expect(isAncestor('./A/B', './A')).toBe(false);
    expect(isAncestor('./A', './A')).toBe(false);
    expect(isAncestor('./A', 'A', true)).toBe(true);
    expect(isAncestor('.', '.')).toBe(false);
    expect(isAncestor('.', '.', true)).toBe(true);
  });
});

describe('segment encoding', () => {
  it('decodeSegment decodes UTF-8 percent escapes', () => {
    expect(decodeSegment('My%20App')).toBe('My App');
    expect(decodeSegment('caf%C3%A9')).toBe('café');
    expect(decodeSegment('a%2fb')).toBe('a/b');
    expect(decodeSegment('plain')).toBe('plain');
    expect(decodeSegment('é%20')).toBe('é ');
    for (const bad of ['%', '%2', '%zz', 'a%G1', '%C3', '%FF']) {
      expect(errorOf(() => decodeSegment(bad))?.code, bad).toBe('BAD_URI');
    }
  });

  it('encodeSegment produces one valid segment that decodes back', () => {
    expect(encodeSegment('My App/v1?#%')).toBe('My%20App%2Fv1%3F%23%25');
    expect(encodeSegment('café')).toBe('caf%C3%A9');
    expect(encodeSegment('IMEI:123')).toBe('IMEI:123');
    for (const bad of ['', '.', '..']) expect(errorOf(() => encodeSegment(bad))?.code).toBe('BAD_URI');
    fc.assert(fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), (name) => {
      fc.pre(name !== '.' && name !== '..');
      const seg = encodeSegment(name);
      expect(parseUri(`./X/${seg}`).segments).toEqual(['X', seg]);
      expect(decodeSegment(seg)).toBe(name);
    }), { numRuns: 300 });
  });

  it('parseUri on random text only throws DmError, and normalizing is idempotent', () => {
    fc.assert(fc.property(fc.string({ maxLength: 20, unit: fc.constantFrom('a', '.', '/', '?', '=', 'p', '%', ' ') }), (s) => {
      try {
        const n = normalizeUri(s);
        return normalizeUri(n) === n;
      } catch (e) {
        return isDmError(e);
      }
    }), { numRuns: 2000 });
  });
});
