import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TokenKind, WbxmlReader, WbxmlWriter, codePageSet, mbSize, putMb, readMb } from '../src/wbxml/index.js';
import { bytes, hex, str, thrown } from './helpers.js';

describe('WbxmlWriter', () => {
  it('writes the header libwbxml writes for SyncML 1.2 (-n -v 1.2)', () => {
    const w = new WbxmlWriter();
    w.start('SyncML').start('SyncBody').start('Final').end().end().end();
    expect(hex(w.finish())).toBe('02 a4 01 6a 00 6d 6b 12 01 01');
  });

  it('writes versions 1.1 and 1.3 and the public ID forms', () => {
    const doc = (o: object) => hex(new WbxmlWriter(o).start('Final').end().finish());
    expect(doc({ version: '1.1' })).toBe('01 a4 01 6a 00 12');
    expect(doc({ version: '1.3' })).toBe('03 a4 01 6a 00 12');
    expect(doc({ publicId: 'unknown' })).toBe('02 01 6a 00 12');
    const s = '-//SYNCML//DTD SyncML 1.2//EN';
    expect(doc({ publicId: 'string' })).toBe(hex(bytes(0x02, 0x00, 0x00, 0x6a, s.length + 1, s, 0x00, 0x12)));
    expect(thrown(() => new WbxmlWriter({ version: '1.0' as never })).code).toBe('INVALID_ARGUMENT');
  });

  it('writes a DDF document with its string-table public ID and SWITCH_PAGE 2', () => {
    const w = new WbxmlWriter({ codePages: 'DM DDF 1.2' });
    w.start('MgmtTree').element('VerDTD', '1.2').end();
    const pid = '-//OMA//DTD-DM-DDF 1.2//EN';
    expect(hex(w.finish())).toBe(hex(bytes(0x02, 0x00, 0x00, 0x6a, pid.length + 1, pid, 0x00, 0x00, 0x02, 0x60, 0x77, str('1.2'), 0x01, 0x01)));
  });

  it('switches code pages lazily, only before a tag on another page', () => {
    const w = new WbxmlWriter();
    w.start('Item').start('Meta').element('Format', 'b64').element('Type', 'x').end().element('Data', 'd').end();
    expect(hex(w.finish())).toBe(hex(bytes(0x02, 0xa4, 0x01, 0x6a, 0x00, 0x54, 0x5a, 0x00, 0x01, 0x47, str('b64'), 0x01, 0x53, str('x'), 0x01, 0x01, 0x00, 0x00, 0x4f, str('d'), 0x01, 0x01)));
  });

  it('uses the page a caller names when a name exists on several pages', () => {
    const w = new WbxmlWriter();
    w.start('Data').start('Format', 2).start('node', 2).end().end().end();
    expect(hex(w.finish())).toBe(hex(bytes(0x02, 0xa4, 0x01, 0x6a, 0x00, 0x4f, 0x00, 0x02, 0x5c, 0x25, 0x01, 0x01)));
  });

  it('writes opaque data, entities, UTF-8 text and literal tags', () => {
    const w = new WbxmlWriter();
    w.start('Data').opaque(new Uint8Array([0, 1, 255])).entity(0xa0).text('é€😀').start('X-Vendor').end().end();
    const out = w.finish();
    const r = new WbxmlReader(out);
    const seen: string[] = [];
    for (let k = r.next(); k !== TokenKind.EOF; k = r.next()) {
      if (k === TokenKind.START_TAG) seen.push('<' + r.tagName());
      if (k === TokenKind.OPAQUE) seen.push(Array.from(r.opaque()).join(','));
      if (k === TokenKind.ENTITY) seen.push('&' + r.entity);
      if (k === TokenKind.TEXT) seen.push(r.text());
    }
    expect(seen).toEqual(['<Data', '0,1,255', '&160', 'é€😀', '<X-Vendor']);
  });

  it('refuses NUL in text, content outside the root and unbalanced calls', () => {
    expect(thrown(() => new WbxmlWriter().start('Data').text('a\0b')).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => new WbxmlWriter().start('Data').text('é\0')).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => new WbxmlWriter().text('x')).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => new WbxmlWriter().end()).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => new WbxmlWriter().start('Data').finish()).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => new WbxmlWriter().start('Data').end().start('Data')).code).toBe('INVALID_ARGUMENT');
  });

  it('builds a string table in one pass from repeated text (linear time)', () => {
    const w = new WbxmlWriter({ stringTable: true });
    w.start('SyncBody');
    for (let i = 0; i < 3; i++) w.element('LocURI', './DevInfo/DevId').element('Data', 'abc');
    w.end();
    const out = w.finish();
    const r = new WbxmlReader(out);
    expect(r.stringTableEnd - r.stringTableStart).toBe('./DevInfo/DevId'.length + 1);
    const texts: string[] = [];
    while (r.next() !== TokenKind.EOF) if (r.kind === TokenKind.TEXT) texts.push(r.text() + (r.fromTable ? '@T' : ''));
    expect(texts).toEqual(['./DevInfo/DevId@T', 'abc', './DevInfo/DevId@T', 'abc', './DevInfo/DevId@T', 'abc']);

    // 20 000 strings, 5 000 distinct: every one comes back right
    const big = new WbxmlWriter({ stringTable: true });
    big.start('SyncBody');
    for (let i = 0; i < 20000; i++) big.element('LocURI', `./Vendor/node${i % 5000}`);
    big.end();
    const doc = big.finish();
    const rr = new WbxmlReader(doc);
    let n = 0;
    while (rr.next() !== TokenKind.EOF) if (rr.kind === TokenKind.TEXT) { expect(rr.text()).toBe(`./Vendor/node${n % 5000}`); n++; }
    expect(n).toBe(20000);
  });

  it('is deterministic and reusable', () => {
    const w = new WbxmlWriter({ stringTable: true });
    const make = () => w.reset().start('SyncML').element('LocURI', 'abcd').element('LocURI', 'abcd').end().finish();
    expect(hex(make())).toBe(hex(make()));
  });

  it('grows its buffer without losing bytes', () => {
    const w = new WbxmlWriter({ initialCapacity: 64 });
    w.start('SyncBody');
    const big = 'x'.repeat(100000);
    w.element('Data', big);
    w.end();
    const r = new WbxmlReader(w.finish());
    r.next(); r.next(); r.next();
    expect(r.text()).toBe(big);
  });
});

describe('mb_u_int32', () => {
  it('round-trips every bit length', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => {
      const b = new Uint8Array(5);
      const end = putMb(b, 0, v);
      expect(end).toBe(mbSize(v));
      expect(readMb(b, 0)).toEqual({ value: v, next: end });
    }));
  });
});

describe('code pages', () => {
  it('match the research tables at their edges', () => {
    const s = codePageSet('SyncML 1.2');
    expect(s.tagNames[0]![0x05]).toBe('Add');
    expect(s.tagNames[0]![0x30]).toBeUndefined();
    expect(s.tagNames[0]![0x3c]).toBe('Correlator');
    expect(s.tagNames[1]![0x16]).toBe('FieldLevel');
    expect(s.tagNames[2]![0x24]).toBe('Node');
    expect(s.tagNames[2]![0x25]).toBe('node');
    expect(codePageSet('SyncML 1.1').tagNames[0]![0x3c]).toBeUndefined();
    expect(codePageSet('SyncML 1.1').tagNames[1]![0x16]).toBeUndefined();
    expect(codePageSet('DevInf 1.2').tagNames[0]![0x1c]).toBe('MaxSize');
    expect(codePageSet('DevInf 1.2').tagNames[0]![0x2f]).toBeUndefined();
    expect(codePageSet('DevInf 1.1').tagNames[0]![0x1c]).toBe('Size');
    expect(codePageSet('DevInf 1.2').tagTokens.get('Size')).toBe(0x1c);
    expect(codePageSet('DM DDF 1.2').tagNames[2]![0x3c]).toBe('ZeroOrOne');
  });
});
