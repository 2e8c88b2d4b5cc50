/**
 * Properties of the codec, checked with fast-check:
 * - random well-formed token trees round-trip through the writer and reader, and through XML;
 * - random and mutated bytes (100 000 inputs in all) only ever raise WbxmlError with an offset,
 *   and a reader keeps working after any of them.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  TokenKind, WbxmlReader, WbxmlWriter, codePageSet, isWbxmlError, wbxmlToXml, xmlToWbxml, type WbxmlVersion,
} from '../src/wbxml/index.js';
import { canon } from './xml-canon.js';
import { fixture, fixtureText, hex, root } from './helpers.js';

const set = codePageSet('SyncML 1.2');
/** Every (page, token, name) of SyncML 1.2's pages. */
const TAGS = set.tagNames.flatMap((names, page) =>
  (names ?? []).flatMap((name, token) => (name === undefined ? [] : [{ page, token, name }])));

type Node = { tag: (typeof TAGS)[number]; content: Content };
type Content = { kind: 'empty' } | { kind: 'text'; text: string } | { kind: 'opaque'; bytes: Uint8Array } | { kind: 'children'; children: Node[] };

// Characters XML 1.0 can carry (no C0 controls but tab/LF; CR is kept through &#13;), incl. astral.
const xmlChar = fc.oneof(
  fc.constantFrom('a', 'Z', '0', ' ', '&', '<', '>', '"', "'", ']', '\t', '\n', '\r', 'é', '€', '日', '😀'),
  fc.integer({ min: 0x20, max: 0xd7ff }).map((c) => String.fromCharCode(c)),
);
const text = fc.array(xmlChar, { minLength: 1, maxLength: 24 }).map((a) => a.join(''));

const tree: fc.Arbitrary<Node> = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.record({
    tag: fc.constantFrom(...TAGS),
    content: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant<Content>({ kind: 'empty' }),
      text.map<Content>((t) => ({ kind: 'text', text: t })),
      fc.uint8Array({ minLength: 0, maxLength: 40 }).map<Content>((b) => ({ kind: 'opaque', bytes: b })),
      fc.array(tie('node'), { minLength: 1, maxLength: 4 }).map<Content>((c) => ({ kind: 'children', children: c })),
    ),
  }),
})).node.filter((n) => !nestedRootInData(n));

/**
 * A DevInf or MgmtTree element right inside Data is an embedded document: XML -> WBXML writes it
 * as a nested WBXML document in OPAQUE, on purpose (wbxml-bridge.test.ts checks that), so the
 * tree changes shape through XML. The round trip here is about everything else.
 */
function nestedRootInData(n: Node): boolean {
  const c = n.content;
  if (c.kind !== 'children') return false;
  if (n.tag.name === 'Data' && c.children.some((k) => k.tag.name === 'MgmtTree' || k.tag.name === 'DevInf')) return true;
  return c.children.some(nestedRootInData);
}

function write(w: WbxmlWriter, n: Node): void {
  w.startToken(n.tag.page, n.tag.token);
  const c = n.content;
  if (c.kind === 'text') w.text(c.text);
  else if (c.kind === 'opaque') w.opaque(c.bytes);
  else if (c.kind === 'children') for (const k of c.children) write(w, k);
  w.end();
}

/** Reads one element (its START_TAG is current) back into a Node. */
function read(r: WbxmlReader): Node {
  const tag = TAGS.find((t) => t.page === r.page && t.token === r.token)!;
  const children: Node[] = [];
  let content: Content = { kind: 'empty' };
  for (let k = r.next(); k !== TokenKind.END_TAG; k = r.next()) {
    if (k === TokenKind.START_TAG) children.push(read(r));
    else if (k === TokenKind.TEXT) content = { kind: 'text', text: (content.kind === 'text' ? content.text : '') + r.text() };
    else if (k === TokenKind.OPAQUE) content = { kind: 'opaque', bytes: r.opaque().slice() };
    else throw new Error(`unexpected token ${k}`);
  }
  if (children.length) content = { kind: 'children', children };
  return { tag, content };
}

function isText(b: Uint8Array): boolean {
  try {
    const s = new TextDecoder('utf-8', { fatal: true }).decode(b);
    return !/[\0-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/.test(s);
  } catch {
    return false;
  }
}

/** Opaque data XML cannot carry as text comes back as base64 text. */
function viaXml(n: Node): Node {
  const c = n.content;
  if (c.kind === 'opaque' && !isText(c.bytes)) {
    let s = '';
    for (const b of c.bytes) s += String.fromCharCode(b);
    return { tag: n.tag, content: c.bytes.length ? { kind: 'text', text: btoa(s) } : c };
  }
  if (c.kind === 'children') return { tag: n.tag, content: { kind: 'children', children: c.children.map(viaXml) } };
  return n;
}

describe('inline strings', () => {
  it('a reader reset to a new document forgets which strings of the last one were ASCII', () => {
    // doc1: an ASCII string at offset 14 (content); doc2: a non-ASCII attribute value at offset 14.
    const doc1 = Uint8Array.from([0x02, 0xa4, 0x01, 0x6a, 0x00, 0x6d, 0x03, 0x78, 0x78, 0x78, 0x78, 0x78, 0x00, 0x03, 0x61, 0x62, 0x00, 0x01]);
    const w = new WbxmlWriter();
    w.start('SyncML');
    w.attribute('lang', 'é');
    w.element('VerDTD', '1.2');
    w.end();
    const doc2 = w.finish();
    const texts = (r: WbxmlReader) => {
      const out: [number, string][] = [];
      for (let k = r.next(); k !== TokenKind.EOF; k = r.next()) if (k === TokenKind.TEXT) out.push([r.start, r.text()]);
      return out;
    };
    const r = new WbxmlReader(doc1);
    expect(texts(r)).toEqual([[7, 'xxxxx'], [14, 'ab']]);
    expect(texts(r.reset(doc2))).toEqual([[14, 'é'], [20, '1.2']]);
  });

  it('decode like TextDecoder whatever their bytes (ASCII fast path or not), and strict mode refuses exactly the invalid UTF-8', () => {
    const strict = new TextDecoder('utf-8', { fatal: true });
    const lenient = new TextDecoder('utf-8');
    const byte = fc.oneof(fc.integer({ min: 1, max: 0x7f }), fc.integer({ min: 1, max: 0xff }), fc.constantFrom(0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f));
    fc.assert(fc.property(fc.array(fc.array(byte, { minLength: 0, maxLength: 70 }), { minLength: 1, maxLength: 4 }), (strings) => {
      // <SyncML> STR_I ... END, text only (SyncML 1.2 public ID, UTF-8).
      const body: number[] = [0x02, 0xa4, 0x01, 0x6a, 0x00, 0x6d];
      for (const str of strings) body.push(0x03, ...str, 0x00);
      body.push(0x01);
      const bytes = Uint8Array.from(body);
      for (const mode of [false, true]) {
        const r = new WbxmlReader(bytes, { strict: mode });
        r.next();
        for (const str of strings) {
          expect(r.next()).toBe(TokenKind.TEXT);
          const raw = Uint8Array.from(str);
          let valid = true;
          try { strict.decode(raw); } catch { valid = false; }
          if (mode && !valid) {
            expect(() => r.text()).toThrow();
            return;
          }
          expect(r.text()).toBe(lenient.decode(raw));
        }
      }
    }), { numRuns: 3000 });
  });
});

describe('round trips of random token trees', () => {
  it('writer -> reader gives the same tree, for every WBXML version', () => {
    fc.assert(fc.property(tree, fc.constantFrom<WbxmlVersion>('1.1', '1.2', '1.3'), fc.boolean(), (n, version, stringTable) => {
      const w = new WbxmlWriter({ version, stringTable });
      write(w, n);
      const r = new WbxmlReader(w.finish());
      expect(r.next()).toBe(TokenKind.START_TAG);
      expect(read(r)).toEqual(n);
      expect(r.next()).toBe(TokenKind.EOF);
    }), { numRuns: 1000 });
  });

  it('WBXML -> XML -> WBXML is byte-identical when opaque data is text, and the same tree otherwise', () => {
    fc.assert(fc.property(tree, (n) => {
      const w = new WbxmlWriter();
      write(w, n);
      const wb = w.finish();
      const xml = wbxmlToXml(wb);
      const back = xmlToWbxml(xml);
      const r = new WbxmlReader(back);
      r.next();
      const again = read(r);
      expect(again).toEqual(viaXml(n));
      if (JSON.stringify(viaXml(n)) === JSON.stringify(n)) expect(hex(back)).toBe(hex(wb));
      // and xmldom, the oracle, reads our XML as well-formed with the same element structure
      expect(canon(xml).n).toBe(n.tag.name);
    }), { numRuns: 1000 });
  });
});

/** Runs the whole reader and converter over `b`: returns normally or throws. */
function consume(b: Uint8Array, strict: boolean): void {
  const r = new WbxmlReader(b, { strict });
  for (let k = r.next(); k !== TokenKind.EOF; k = r.next()) {
    if (k === TokenKind.TEXT || k === TokenKind.EXTENSION) r.text();
    if (k === TokenKind.START_TAG) r.tagName();
  }
  wbxmlToXml(b, { strict });
}

function onlyWbxmlErrors(b: Uint8Array, strict: boolean): void {
  try {
    consume(b, strict);
  } catch (e) {
    if (!isWbxmlError(e)) throw new Error(`non-WbxmlError escaped for ${hex(b)}: ${String(e)}`);
    expect(typeof e.offset).toBe('number');
    expect(e.offset).toBeGreaterThanOrEqual(-1);
    expect(e.offset).toBeLessThanOrEqual(b.length);
  }
}

const wbxmlFixtures = readdirSync(join(root, 'fixtures', 'wbxml')).filter((f) => f.endsWith('.wbxml')).map((f) => fixture(`wbxml/${f}`));
const xmlFixtures = readdirSync(join(root, 'fixtures', 'wbxml')).filter((f) => f.endsWith('.xml')).map((f) => fixtureText(`wbxml/${f}`));

/** A fixture with a few bytes flipped, inserted, deleted or truncated. */
const mutated = fc.record({
  base: fc.constantFrom(...wbxmlFixtures),
  edits: fc.array(fc.record({ at: fc.nat(), op: fc.constantFrom('flip', 'set', 'insert', 'delete', 'cut'), v: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }),
}).map(({ base, edits }) => {
  let b = Array.from(base);
  for (const e of edits) {
    const at = e.at % (b.length + 1);
    if (e.op === 'flip') b[at % b.length] ^= 1 << (e.v & 7);
    else if (e.op === 'set') b[at % b.length] = e.v;
    else if (e.op === 'insert') b.splice(at, 0, e.v);
    else if (e.op === 'delete') b.splice(at, 1);
    else b = b.slice(0, at);
  }
  return new Uint8Array(b);
});

describe('bad input only ever raises WbxmlError (100 000 inputs)', () => {
  it('random bytes, strict and lenient (30 000)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (b, strict) => onlyWbxmlErrors(b, strict)), { numRuns: 20000 });
    // random bodies behind a valid header reach the tokenizer instead of failing in the header
    fc.assert(fc.property(fc.uint8Array({ maxLength: 96 }), fc.boolean(), (b, strict) => {
      onlyWbxmlErrors(new Uint8Array([0x02, 0xa4, 0x01, 0x6a, 0x00, ...b]), strict);
    }), { numRuns: 10000 });
  });

  it('mutated fixtures, strict and lenient (60 000)', () => {
    fc.assert(fc.property(mutated, fc.boolean(), (b, strict) => onlyWbxmlErrors(b, strict)), { numRuns: 60000 });
  });

  it('mutated XML only raises WbxmlError with a line and column (10 000)', () => {
    const mutatedXml = fc.record({
      base: fc.constantFrom(...xmlFixtures),
      at: fc.nat(),
      insert: fc.constantFrom('<', '>', '&', ']]>', '</x>', '<a>', '\u0001', '"', "'", '&#0;', '&bogus;', '<!--', '<![CDATA[', ''),
      cut: fc.nat({ max: 6 }),
    }).map(({ base, at, insert, cut }) => {
      const i = at % (base.length + 1);
      return base.slice(0, i) + insert + base.slice(i + cut);
    });
    fc.assert(fc.property(mutatedXml, (xml) => {
      try {
        xmlToWbxml(xml);
      } catch (e) {
        if (!isWbxmlError(e)) throw new Error(`non-WbxmlError escaped: ${String(e)}`);
        if (e.code !== 'UNKNOWN_TAG' && e.code !== 'UNKNOWN_PUBLIC_ID' && e.code !== 'UNKNOWN_ATTRIBUTE') {
          expect(e.line).toBeGreaterThan(0);
          expect(e.column).toBeGreaterThan(0);
        }
      }
    }), { numRuns: 10000 });
  });

  it('a reader stays usable after any error', () => {
    const r = new WbxmlReader();
    const good = wbxmlFixtures[0];
    fc.assert(fc.property(mutated, (b) => {
      try {
        r.reset(b);
        while (r.next() !== TokenKind.EOF) { /* walk */ }
      } catch (e) {
        if (!isWbxmlError(e)) throw e;
      }
      r.reset(good);
      let n = 0;
      while (r.next() !== TokenKind.EOF) n++;
      expect(n).toBeGreaterThan(0);
    }), { numRuns: 2000 });
  });
});
