import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACL_COMMANDS, aclAllows, formatAcl, grantAcl, isEmptyAcl, parseAcl, removeServerFromAcl, type Acl, type AclCommand,
} from '../src/dm/acl.js';
import { isDmError } from '../src/dm/errors.js';

function errorOf(fn: () => unknown): { code: string; status?: number; offset?: number } | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (!isDmError(e)) throw e;
    return { code: e.code, status: e.status, offset: e.offset };
  }
}

const EXAMPLE = 'Add=www.sonera.fi-8765&Delete=www.sonera.fi-8765&Replace=www.sonera.fi-8765+321_ibm.com&Get=*';

describe('parseAcl / formatAcl', () => {
  it('parses the DMTND 8.3.7.1 example', () => {
    const acl = parseAcl(EXAMPLE);
    expect(acl).toEqual({
      Add: ['www.sonera.fi-8765'],
      Delete: ['www.sonera.fi-8765'],
      Replace: ['www.sonera.fi-8765', '321_ibm.com'],
      Get: ['*'],
    });
    // Canonical order puts Get before Replace.
    expect(formatAcl(acl)).toBe('Add=www.sonera.fi-8765&Delete=www.sonera.fi-8765&Get=*&Replace=www.sonera.fi-8765+321_ibm.com');
    expect(Object.isFrozen(acl)).toBe(true);
  });

  it('empty text is the empty ACL (inherit)', () => {
    expect(parseAcl('')).toEqual({});
    expect(isEmptyAcl(parseAcl(''))).toBe(true);
    expect(isEmptyAcl(parseAcl('Get=*'))).toBe(false);
    expect(formatAcl({})).toBe('');
  });

  it('canonicalises: "*" alone, duplicate ids dropped, empty commands omitted', () => {
    expect(formatAcl(parseAcl('Get=a+*+b'))).toBe('Get=*');
    expect(formatAcl(parseAcl('Exec=b+a+b'))).toBe('Exec=b+a');
    expect(formatAcl({ Add: [], Get: ['x'] })).toBe('Get=x');
    expect(formatAcl({ Replace: ['s1', '*'] })).toBe('Replace=*');
  });

  it('accepts non-ASCII printable server ids and punctuation other than = & * +', () => {
    expect(parseAcl('Get=sérveur.example/ç:1_~')).toEqual({ Get: ['sérveur.example/ç:1_~'] });
  });

  it('rejects grammar errors with BAD_ACL / 400 and the position', () => {
    const cases: [string, number][] = [
      ['Copy=a', 0], // no Copy right
      ['get=a', 0], // commands are case-sensitive
      ['Add=a&Foo=b', 6],
      ['Get', 3], // no "="
      ['Get=', 4], // empty server list
      ['Add=a&Get=', 10],
      ['Get=a+', 6], // empty id
      ['Get=+a', 4],
      ['Get=a++b', 6],
      ['Get=a b', 5], // whitespace
      ['Get=a\tb', 5],
      ['Get=a\u00a0b', 5], // Unicode whitespace
      ['Get=ab*', 6], // '*' only as a whole id
      ['Get=a=b', 5],
      ['Get=a&', 6], // trailing '&' = empty entry
      ['&Get=a', 0],
      ['Get=a&Get=b', 6], // duplicate command
      ['Get=a\u0001', 5],
    ];
    for (const [text, offset] of cases) {
      expect(errorOf(() => parseAcl(text)), JSON.stringify(text)).toEqual({ code: 'BAD_ACL', status: 400, offset });
    }
  });

  it('formatAcl refuses ids the grammar cannot carry', () => {
    expect(errorOf(() => formatAcl({ Get: ['a+b'] }))?.code).toBe('BAD_ACL');
    expect(errorOf(() => formatAcl({ Get: [''] }))?.code).toBe('BAD_ACL');
  });
});

const serverId = fc.stringMatching(/^[A-Za-z0-9._:\/~\-]{1,12}$/);
const aclArb: fc.Arbitrary<Acl> = fc.record(
  Object.fromEntries(ACL_COMMANDS.map((c) => [c, fc.oneof(
    fc.constant(['*']),
    fc.uniqueArray(serverId, { minLength: 1, maxLength: 4 }),
  )])) as Record<AclCommand, fc.Arbitrary<string[]>>,
  { requiredKeys: [] },
);

describe('ACL properties', () => {
  it('parse(format(acl)) == acl for canonical ACLs', () => {
    fc.assert(fc.property(aclArb, (acl) => {
      expect(parseAcl(formatAcl(acl))).toEqual(acl);
    }), { numRuns: 300 });
  });

  it('format(parse(x)) is canonical: idempotent and in command order regardless of input order', () => {
    fc.assert(fc.property(aclArb, fc.nat(), (acl, seed) => {
      const entries = formatAcl(acl).split('&').filter(Boolean);
      // Shuffle entries deterministically from the seed.
      const shuffled = entries.map((e, i) => [((seed + 1) * (i + 7)) % 97, e] as const).sort((a, b) => a[0] - b[0]).map((p) => p[1]);
      const once = formatAcl(parseAcl(shuffled.join('&')));
      expect(once).toBe(formatAcl(acl));
      expect(formatAcl(parseAcl(once))).toBe(once);
      const order = once.split('&').filter(Boolean).map((e) => ACL_COMMANDS.indexOf(e.split('=')[0] as AclCommand));
      expect([...order].sort((a, b) => a - b)).toEqual(order);
    }), { numRuns: 300 });
  });

  it('parseAcl on random text only throws DmError', () => {
    fc.assert(fc.property(fc.string({ maxLength: 30 }), (s) => {
      try {
        parseAcl(s);
      } catch (e) {
        return isDmError(e);
      }
      return true;
    }), { numRuns: 1000 });
  });
});

describe('aclAllows / removeServerFromAcl / grantAcl', () => {
  const acl = parseAcl(EXAMPLE);

  it('grants listed servers and everyone for "*"', () => {
    expect(aclAllows(acl, 'Replace', '321_ibm.com')).toBe(true);
    expect(aclAllows(acl, 'Add', '321_ibm.com')).toBe(false);
    expect(aclAllows(acl, 'Get', 'anyone')).toBe(true);
    expect(aclAllows(acl, 'Exec', 'www.sonera.fi-8765')).toBe(false);
    expect(aclAllows(parseAcl(''), 'Get', 'x')).toBe(false);
  });

  it('removes a server and drops commands left empty, keeps "*"', () => {
    const r = removeServerFromAcl(acl, 'www.sonera.fi-8765');
    expect(r).toEqual({ Replace: ['321_ibm.com'], Get: ['*'] });
    expect(formatAcl(r)).toBe('Get=*&Replace=321_ibm.com');
    expect(removeServerFromAcl(r, '*')).toEqual({ Replace: ['321_ibm.com'] });
    expect(formatAcl(acl)).toContain('Add=www.sonera.fi-8765'); // input untouched
  });

  it('grants commands to a creator (DMTND 8.3.7.1 interior Add rule)', () => {
    const g = grantAcl(parseAcl('Get=*&Add=a'), ['Add', 'Delete', 'Replace'], 'srv');
    expect(formatAcl(g)).toBe('Add=a+srv&Delete=srv&Get=*&Replace=srv');
    expect(formatAcl(grantAcl(g, ['Add'], 'srv'))).toBe('Add=a+srv&Delete=srv&Get=*&Replace=srv');
    expect(errorOf(() => grantAcl(g, ['Get'], 'bad id'))?.code).toBe('BAD_ACL');
  });
});
