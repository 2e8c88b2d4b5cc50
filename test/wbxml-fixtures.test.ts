/**
 * Every fixture through the codec: XML -> WBXML -> XML is the same document, WBXML -> XML -> WBXML
 * is byte-identical, and libwbxml's encodings of our fixtures decode to the same document.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { wbxmlToXml, xmlToWbxml, WbxmlReader } from '../src/wbxml/index.js';
import { canon } from './xml-canon.js';
import { fixture, fixtureText, hex, root } from './helpers.js';

const dir = join(root, 'fixtures', 'wbxml');
const xmlFixtures = readdirSync(dir).filter((f) => f.endsWith('.xml')).map((f) => f.slice(0, -4));
const libwbxmlFiles = readdirSync(dir).filter((f) => f.endsWith('.wbxml'));

describe.each(xmlFixtures)('fixture %s', (name) => {
  const xml = fixtureText(`wbxml/${name}.xml`);

  it('XML -> WBXML -> XML is the same document', () => {
    const wb = xmlToWbxml(xml);
    expect(canon(wbxmlToXml(wb), { namespaces: true })).toEqual(canon(xml, { namespaces: true }));
    expect(canon(wbxmlToXml(wb, { indent: true }))).toEqual(canon(xml));
  });

  it('WBXML -> XML -> WBXML is byte-identical (for every WBXML version and with a string table)', () => {
    for (const version of ['1.1', '1.2', '1.3'] as const) {
      for (const stringTable of [false, true]) {
        const wb = xmlToWbxml(xml, { version, stringTable });
        const again = xmlToWbxml(wbxmlToXml(wb), { version, stringTable });
        expect(hex(again)).toBe(hex(wb));
      }
    }
  });

  it('is deterministic', () => {
    expect(hex(xmlToWbxml(xml))).toBe(hex(xmlToWbxml(xml)));
  });
});

describe.each(libwbxmlFiles)('libwbxml encoding %s', (file) => {
  const bytes = fixture(`wbxml/${file}`);
  const source = fixtureText(`wbxml/${file.replace(/\.libwbxml-[a-z]+\.wbxml$/, '.xml')}`);

  it('decodes to the document libwbxml encoded', () => {
    const xml = wbxmlToXml(bytes);
    // libwbxml trims text, turns LF into CRLF in Add/Replace data, rewrites nested Types.
    const o = { trim: true, crlf: true, nestedType: true };
    expect(canon(xml, o)).toEqual(canon(source, o));
  });

  it('re-encodes byte-identically through our XML', () => {
    if (file.includes('strtbl')) {
      // libwbxml's table choice differs from ours; the document must still be the same.
      const back = xmlToWbxml(wbxmlToXml(bytes));
      expect(canon(wbxmlToXml(back), { trim: true, crlf: true })).toEqual(canon(wbxmlToXml(bytes), { trim: true, crlf: true }));
      return;
    }
    const back = xmlToWbxml(wbxmlToXml(bytes), { keepWhitespace: file.includes('-k.') });
    expect(hex(back)).toBe(hex(bytes));
  });

  it('tokenizes', () => {
    const r = new WbxmlReader(bytes);
    let n = 0;
    while (r.next() !== 0) n++;
    expect(n).toBeGreaterThan(10);
  });
});
