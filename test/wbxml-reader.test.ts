import { describe, expect, it } from 'vitest';
import {
  TokenKind, WbxmlReader, WbxmlError, isWbxmlError, defineCodePageSet, CodePageRegistry, readMb, defaultMaxTableTextBytes,
} from '../src/wbxml/index.js';
import { bytes, str, thrown } from './helpers.js';

const SYNCML12 = [0x02, 0xa4, 0x01, 0x6a, 0x00];
const KIND = Object.fromEntries(Object.entries(TokenKind).map(([k, v]) => [v, k]));

/** Every token as a readable line. */
function tokens(r: WbxmlReader): string[] {
  const out: string[] = [];
  for (let k = r.next(); k !== TokenKind.EOF; k = r.next()) {
    switch (k) {
      case TokenKind.START_TAG: out.push(`<${r.tagName()}${r.hasContent ? '' : '/'}>@${r.depth}`); break;
      case TokenKind.END_TAG: out.push(`</${r.tagName()}>`); break;
      case TokenKind.TEXT: out.push(`"${r.text()}"${r.fromTable ? 'T' : ''}`); break;
      case TokenKind.ENTITY: out.push(`&#${r.entity};`); break;
      case TokenKind.OPAQUE: out.push(`[${Array.from(r.opaque()).join(',')}]`); break;
      case TokenKind.ATTR_START: out.push(`@${r.attrName()}=${r.attrValuePrefix()}`); break;
      case TokenKind.ATTR_VALUE: out.push(`+${r.attrValueText()}`); break;
      case TokenKind.EXTENSION: out.push(`ext${r.ext}${r.extKind}:${r.extKind === 'i' || r.extKind === 't' ? r.text() : ''}`); break;
      default: out.push(KIND[k]);
    }
  }
  return out;
}

describe('WbxmlReader header', () => {
  it('reads a numeric public ID, charset and empty string table', () => {
    const r = new WbxmlReader(bytes(SYNCML12, 0x6d, 0x6c, 0x71, str('1.2'), 0x01, 0x01, 0x01));
    expect(r.version).toBe(2);
    expect(r.publicId).toBe(0x1201);
    expect(r.charset).toBe(106);
    expect(r.codePages?.name).toBe('SyncML 1.2');
    expect(r.codePageSource).toBe('public-id');
    expect(tokens(r)).toEqual(['<SyncML>@1', '<SyncHdr>@2', '<VerDTD>@3', '"1.2"', '</VerDTD>', '</SyncHdr>', '</SyncML>']);
  });

  it('reads a public ID given by string table, in any case and spacing', () => {
    const pid = '-//SYNCML//DTD SYNCML 1.2//EN';
    const doc = bytes(0x02, 0x00, 0x00, 0x6a, pid.length + 1, pid, 0x00, 0x12);
    const r = new WbxmlReader(doc);
    expect(r.publicIdString).toBe(pid);
    expect(r.codePages?.name).toBe('SyncML 1.2');
    expect(r.codePageSource).toBe('public-id-string');
    expect(tokens(r)).toEqual(['<Final/>@1', '</Final>']);
  });

  it('accepts a string-table public ID without its final NUL (SyncML RTK)', () => {
    const pid = '-//SYNCML//DTD SyncML 1.1//EN';
    const r = new WbxmlReader(bytes(0x02, 0x00, 0x00, 0x6a, pid.length, pid, 0x12));
    expect(r.codePages?.name).toBe('SyncML 1.1');
  });

  it('falls back to the root tag when the public ID is unknown (0x01, kXML2)', () => {
    const r = new WbxmlReader(bytes(0x03, 0x01, 0x6a, 0x00, 0x6d, 0x6b, 0x12, 0x01, 0x01));
    expect(r.codePages?.name).toBe('SyncML 1.2');
    expect(r.codePageSource).toBe('root-tag');
    const ddf = new WbxmlReader(bytes(0x03, 0x01, 0x6a, 0x00, 0x00, 0x02, 0x60, 0x77, str('1.2'), 0x01, 0x01));
    expect(ddf.codePages?.name).toBe('DM DDF 1.2');
    expect(tokens(ddf)).toEqual(['<MgmtTree>@1', '<VerDTD>@2', '"1.2"', '</VerDTD>', '</MgmtTree>']);
  });

  it('uses the caller’s code pages when forced or as the default', () => {
    const doc = bytes(0x03, 0x01, 0x6a, 0x00, 0x4a, 0x01);
    // DevInf's root token 0x0A: sniffed as DevInf 1.2
    expect(new WbxmlReader(doc).codePages?.name).toBe('DevInf 1.2');
    expect(new WbxmlReader(doc, { codePages: 'DevInf 1.1' }).codePages?.name).toBe('DevInf 1.1');
    const unknownRoot = bytes(0x03, 0x01, 0x6a, 0x00, 0x7f, 0x01);
    expect(thrown(() => new WbxmlReader(unknownRoot)).code).toBe('UNKNOWN_PUBLIC_ID');
    const r = new WbxmlReader(unknownRoot, { defaultCodePages: 'SyncML 1.1', strict: false });
    expect(r.codePageSource).toBe('default');
  });

  it('reads WBXML 1.0 without a charset field', () => {
    const r = new WbxmlReader(bytes(0x00, 0x9f, 0x53, 0x00, 0x12));
    expect(r.version).toBe(0);
    expect(r.codePages?.name).toBe('SyncML 1.1');
    expect(tokens(r)).toEqual(['<Final/>@1', '</Final>']);
  });

  it('decodes ISO-8859-1 and US-ASCII strings and refuses other charsets', () => {
    const latin = new WbxmlReader(bytes(0x02, 0xa4, 0x01, 0x04, 0x00, 0x4f, 0x03, 0xe9, 0x74, 0xe9, 0x00, 0x01));
    expect(tokens(latin)).toEqual(['<Data>@1', '"été"', '</Data>']);
    const ascii = new WbxmlReader(bytes(0x02, 0xa4, 0x01, 0x03, 0x00, 0x4f, str('ok'), 0x01));
    expect(tokens(ascii)).toContain('"ok"');
    const badAscii = new WbxmlReader(bytes(0x02, 0xa4, 0x01, 0x03, 0x00, 0x4f, 0x03, 0xe9, 0x00, 0x01));
    badAscii.next(); badAscii.next();
    expect(thrown(() => badAscii.text()).code).toBe('BAD_ENCODING');
    const e = thrown(() => new WbxmlReader(bytes(0x02, 0xa4, 0x01, 0x81, 0x83, 0x00)));
    expect(e.code).toBe('UNSUPPORTED_CHARSET');
    expect(e.offset).toBe(3);
  });

  it('refuses versions above 1.3 in strict mode only', () => {
    expect(thrown(() => new WbxmlReader(bytes(0x04, 0xa4, 0x01, 0x6a, 0x00, 0x12))).code).toBe('BAD_VERSION');
    expect(new WbxmlReader(bytes(0x04, 0xa4, 0x01, 0x6a, 0x00, 0x12), { strict: false }).version).toBe(4);
  });
});

describe('WbxmlReader tokens', () => {
  it('keeps the code page across END and whole subtrees (lazy switches)', () => {
    // Meta, SWITCH_PAGE 1, Format, Type, END(Meta), then Data needs SWITCH_PAGE 0
    const doc = bytes(SYNCML12, 0x54, 0x5a, 0x00, 0x01, 0x47, str('b64'), 0x01, 0x53, str('x'), 0x01, 0x01, 0x00, 0x00, 0x4f, str('d'), 0x01, 0x01);
    expect(tokens(new WbxmlReader(doc))).toEqual([
      '<Item>@1', '<Meta>@2', '<Format>@3', '"b64"', '</Format>', '<Type>@3', '"x"', '</Type>', '</Meta>',
      '<Data>@2', '"d"', '</Data>', '</Item>',
    ]);
    // Without the switch back, the token after Meta is read on page 1: 0x4F = Next (MetInf)
    const lazy = bytes(SYNCML12, 0x54, 0x5a, 0x00, 0x01, 0x47, str('b64'), 0x01, 0x01, 0x4f, str('d'), 0x01, 0x01);
    expect(tokens(new WbxmlReader(lazy))).toContain('<Next>@2');
  });

  it('resolves STR_T references, also into the middle of a string', () => {
    const table = bytes('SyncHdr', 0x00, 'IMEI:1', 0x00);
    const doc = bytes(0x02, 0xa4, 0x01, 0x6a, table.length, table, 0x4f, 0x83, 0x00, 0x83, 0x04, 0x83, 0x08, 0x01);
    const r = new WbxmlReader(doc);
    expect(tokens(r)).toEqual(['<Data>@1', '"SyncHdr"T', '"Hdr"T', '"IMEI:1"T', '</Data>']);
  });

  it('refuses a string-table bomb at the reference that goes over maxTableTextBytes', () => {
    // One 1000-byte table string named 1200 times: 2 400 bytes of references standing for 1.2 MB.
    const table = bytes('A'.repeat(1000), 0x00);
    const bomb = (refs: number) => bytes(0x02, 0xa4, 0x01, 0x6a, 0x87, 0x69, table, 0x4f, ...new Array(refs).fill([0x83, 0x00]).flat(), 0x01);
    const doc = bomb(1200);
    const bodyAt = 6 + table.length;
    const drain = (r: WbxmlReader) => { let n = 0; while (r.next()) n++; return n; };
    // Default: 256 times the document's length, at least 1 MiB: here 1 MiB, so reference 1049 is one too many.
    expect(defaultMaxTableTextBytes(doc.length)).toBe(1 << 20);
    expect(defaultMaxTableTextBytes(10_000)).toBe(2_560_000);
    const e = thrown(() => drain(new WbxmlReader(doc)));
    expect(e.code).toBe('SIZE_LIMIT');
    expect(e.offset).toBe(bodyAt + 1 + 1048 * 2);
    expect(e.message).toMatch(/more than 1048576 bytes .*maxTableTextBytes/);
    const ok = new WbxmlReader(doc, { maxTableTextBytes: 1_200_000 });
    expect(drain(ok)).toBe(1202);
    expect(ok.tableTextBytes).toBe(1_200_000);
    const small = thrown(() => drain(new WbxmlReader(doc, { maxTableTextBytes: 1500 })));
    expect(small.offset).toBe(bodyAt + 1 + 1 * 2);
    // Each document has its own budget: reset() gives it back.
    const r = new WbxmlReader(undefined, { maxTableTextBytes: 5000 });
    expect(thrown(() => drain(r.reset(bomb(6)))).code).toBe('SIZE_LIMIT');
    expect(() => drain(r.reset(bomb(5)))).not.toThrow();
    expect(r.tableTextBytes).toBe(5000);
  });

  it('counts literal names and EXT_T against maxTableTextBytes like STR_T', () => {
    const table = bytes('x'.repeat(50), 0x00);
    const literal = bytes(0x02, 0xa4, 0x01, 0x6a, table.length, table, 0x4f, ...new Array(3).fill([0x04, 0x00]).flat(), 0x01);
    expect(thrown(() => { const r = new WbxmlReader(literal, { maxTableTextBytes: 120 }); while (r.next()); }).code).toBe('SIZE_LIMIT');
    expect(() => { const r = new WbxmlReader(literal, { maxTableTextBytes: 150 }); while (r.next()); }).not.toThrow();
    const ext = bytes(0x02, 0xa4, 0x01, 0x6a, table.length, table, 0x4f, 0x80, 0x00, 0x80, 0x00, 0x01);
    expect(thrown(() => { const r = new WbxmlReader(ext, { maxTableTextBytes: 99 }); while (r.next()); }).offset).toBe(5 + table.length + 3);
  });

  it('refuses a string-table reference past the table', () => {
    const doc = bytes(0x02, 0xa4, 0x01, 0x6a, 0x02, 'a', 0x00, 0x4f, 0x83, 0x02, 0x01);
    const r = new WbxmlReader(doc);
    r.next();
    const e = thrown(() => r.next());
    expect(e.code).toBe('BAD_STRING_TABLE_REF');
    expect(e.offset).toBe(8);
  });

  it('reports OPAQUE as a view into the input (zero copy)', () => {
    const doc = bytes(SYNCML12, 0x4f, 0xc3, 0x04, 0x00, 0x01, 0xff, 0x80, 0x01);
    const r = new WbxmlReader(doc);
    r.next();
    expect(r.next()).toBe(TokenKind.OPAQUE);
    const v = r.opaque();
    expect(Array.from(v)).toEqual([0x00, 0x01, 0xff, 0x80]);
    expect(v.buffer).toBe(doc.buffer);
    expect(v.byteOffset).toBe(doc.byteOffset + 8);
  });

  it('reads ENTITY, EXT_I/EXT_T/EXT and a PI', () => {
    const doc = bytes(0x02, 0xa4, 0x01, 0x6a, 0x02, 'x', 0x00, 0x43, 0x04, 0x00, 0x01, 0x4f, 0x02, 0x81, 0x20, 0x40, 'v', 0x00, 0x80, 0x00, 0xc0, 0x01);
    expect(tokens(new WbxmlReader(doc))).toEqual(['PI', '@x=', 'ATTRS_END', '<Data>@1', '&#160;', 'ext0i:v', 'ext0t:x', 'ext0:', '</Data>']);
  });

  it('refuses ENTITY values that are not Unicode scalar values', () => {
    const r = new WbxmlReader(bytes(SYNCML12, 0x4f, 0x02, 0x88, 0x80, 0x80, 0x80, 0x00, 0x01));
    r.next();
    const e = thrown(() => r.next());
    expect(e.code).toBe('BAD_ENTITY');
    expect(e.offset).toBe(6);
  });

  it('reads literal tags and attributes of a registered code page set', () => {
    const registry = new CodePageRegistry();
    registry.register(defineCodePageSet({
      name: 'Test 1.0', root: 'doc', rootPage: 0, publicId: 0x7e, publicIdString: '-//TEST//DTD Test 1.0//EN',
      pages: [{
        page: 0, namespace: 'urn:test', tags: { 0x05: 'doc', 0x06: 'item' },
        attributes: { 0x05: { name: 'href', valuePrefix: 'http://' }, 0x06: { name: 'id' } },
        attributeValues: { 0x85: '.com/' },
      }],
    }));
    const table = bytes('lit', 0x00, 'rel', 0x00);
    const doc = bytes(0x03, 0x7e, 0x6a, table.length, table,
      0x45, // doc with content
      0xc6, 0x05, str('example'), 0x85, 0x06, str('7'), 0x04, 0x04, str('x'), 0x01, // item with attrs and content
      str('t'), 0x01,
      0x44, 0x00, 0x01, // LITERAL_C 'lit' with content, END
      0x01);
    const r = new WbxmlReader(doc, { registry });
    expect(tokens(r)).toEqual([
      '<doc>@1', '<item>@2', '@href=http://', '"example"', '+.com/', '@id=', '"7"', '@rel=', '"x"', 'ATTRS_END',
      '"t"', '</item>', '<lit>@2', '</lit>', '</doc>',
    ]);
  });

  it('reports an element without content as START_TAG then END_TAG', () => {
    const r = new WbxmlReader(bytes(SYNCML12, 0x6b, 0x12, 0x01));
    expect(tokens(r)).toEqual(['<SyncBody>@1', '<Final/>@2', '</Final>', '</SyncBody>']);
  });

  it('is reusable with reset()', () => {
    const r = new WbxmlReader();
    for (let i = 0; i < 3; i++) {
      r.reset(bytes(SYNCML12, 0x4f, str(String(i)), 0x01));
      expect(tokens(r)).toEqual(['<Data>@1', `"${i}"`, '</Data>']);
    }
  });
});

describe('WbxmlReader errors', () => {
  const cases: [string, Uint8Array, string, number][] = [
    ['empty input', bytes(), 'TRUNCATED', 0],
    ['header cut', bytes(0x02, 0xa4), 'TRUNCATED', 1],
    ['mb_u_int32 of 6 bytes', bytes(0x02, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01), 'BAD_MBUINT', 1],
    ['mb_u_int32 above 2^32-1', bytes(0x02, 0x90, 0x80, 0x80, 0x80, 0x00), 'BAD_MBUINT', 1],
    ['string table past the end', bytes(0x02, 0xa4, 0x01, 0x6a, 0x10, 0x41), 'TRUNCATED', 4],
    ['inline string without NUL', bytes(SYNCML12, 0x4f, 0x03, 0x41, 0x42), 'TRUNCATED', 6],
    ['OPAQUE past the end', bytes(SYNCML12, 0x4f, 0xc3, 0x05, 0x01, 0x01), 'BAD_OPAQUE_LENGTH', 6],
    ['unknown tag 0x30', bytes(SYNCML12, 0x30), 'UNKNOWN_TAG', 5],
    ['unknown page', bytes(SYNCML12, 0x00, 0x07, 0x45, 0x01), 'UNKNOWN_CODE_PAGE', 5],
    ['trailing bytes', bytes(SYNCML12, 0x12, 0x41, 0x42), 'TRAILING_DATA', 6],
    ['text before the root', bytes(SYNCML12, str('x'), 0x12), 'UNKNOWN_TOKEN', 5],
    ['END with nothing open', bytes(SYNCML12, 0x01), 'UNKNOWN_TOKEN', 5],
    ['elements left open', bytes(SYNCML12, 0x6d, 0x6c), 'TRUNCATED', 7],
    ['no root', bytes(SYNCML12), 'NO_ROOT', 5],
    ['invalid UTF-8', bytes(SYNCML12, 0x4f, 0x03, 0xc3, 0x28, 0x00, 0x01), 'BAD_ENCODING', 7],
  ];
  for (const [what, doc, code, offset] of cases) {
    it(`${what}: ${code} at byte ${offset}`, () => {
      const e = thrown(() => {
        const r = new WbxmlReader(doc);
        while (r.next() !== TokenKind.EOF) if (r.kind === TokenKind.TEXT) r.text();
      });
      expect(isWbxmlError(e)).toBe(true);
      expect(e).toBeInstanceOf(WbxmlError);
      expect(e.code).toBe(code);
      expect(e.offset).toBe(offset);
      expect(e.message).toMatch(/at byte \d+/);
    });
  }

  it('limits depth and size', () => {
    const deep = bytes(SYNCML12, ...new Array(70).fill(0x54), ...new Array(70).fill(0x01));
    const e = thrown(() => { const r = new WbxmlReader(deep); while (r.next()); });
    expect(e.code).toBe('DEPTH_LIMIT');
    expect(e.offset).toBe(5 + 64);
    const r = new WbxmlReader(deep, { maxDepth: 100 });
    let n = 0;
    while (r.next()) n++;
    expect(n).toBe(140);
    expect(thrown(() => new WbxmlReader(deep, { maxBytes: 100 })).code).toBe('SIZE_LIMIT');
  });

  it('keeps going in lenient mode like libwbxml', () => {
    const doc = bytes(SYNCML12, 0x6b, 0x30, 0x4f, 0x03, 0xc3, 0x28, 0x00, 0x01, 0x01, 0x99, 0x98);
    const r = new WbxmlReader(doc, { strict: false });
    expect(tokens(r)).toEqual(['<SyncBody>@1', '<unknown-tag-0-30/>@2', '</unknown-tag-0-30>', '<Data>@2', '"\ufffd("', '</Data>', '</SyncBody>']);
  });
});

describe('readMb', () => {
  it('reads the examples of WBXML §5.1', () => {
    expect(readMb(bytes(0x81, 0x20), 0)).toEqual({ value: 0xa0, next: 2 });
    expect(readMb(bytes(0x60), 0)).toEqual({ value: 0x60, next: 1 });
    expect(readMb(bytes(0x8f, 0xff, 0xff, 0xff, 0x7f), 0)).toEqual({ value: 0xffffffff, next: 5 });
  });
});
