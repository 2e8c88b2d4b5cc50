/** The XML bridge's rules, one by one. */
import { describe, expect, it } from 'vitest';
import { DOMParser } from '@xmldom/xmldom';
import { WbxmlReader, WbxmlWriter, TokenKind, wbxmlToXml, xmlToWbxml, disassemble } from '../src/wbxml/index.js';
import { documentToWbxml, wbxmlToDocument } from '../src/wbxml/dom.js';
import { bytes, fixture, fixtureText, hex, str, thrown } from './helpers.js';

const HEAD = [0x02, 0xa4, 0x01, 0x6a, 0x00];
const ROOT = '<SyncML xmlns="SYNCML:SYNCML1.2">';

describe('WBXML -> XML', () => {
  it('writes binary OPAQUE as base64 and switches the governing Format from bin to b64', () => {
    const w = new WbxmlWriter();
    w.start('Item').start('Meta').element('Format', 'bin').end().start('Data').opaque(new Uint8Array([0, 1, 0xff, 0x80])).end().end();
    const xml = wbxmlToXml(w.finish(), { xmlDeclaration: false, doctype: false });
    expect(xml).toBe('<Item xmlns="SYNCML:SYNCML1.2"><Meta><Format xmlns="syncml:metinf">b64</Format></Meta><Data>AAH/gA==</Data></Item>');
  });

  it('writes OPAQUE text as CDATA, splitting ]]> and keeping CR as a reference', () => {
    const w = new WbxmlWriter();
    w.start('Data').opaque(new TextEncoder().encode('a]]>b\r\nc')).end();
    const xml = wbxmlToXml(w.finish(), { xmlDeclaration: false, doctype: false });
    expect(xml).toBe('<Data xmlns="SYNCML:SYNCML1.2"><![CDATA[a]]]]><![CDATA[>b]]>&#13;<![CDATA[\nc]]></Data>');
    const doc = new DOMParser().parseFromString(xml, 'text/xml');
    expect(doc.documentElement!.textContent).toBe('a]]>b\r\nc');
  });

  it('keeps text exactly: escapes, CR, leading and trailing spaces', () => {
    const doc = bytes(HEAD, 0x4f, str('  <a & b> \r\n '), 0x01);
    expect(wbxmlToXml(doc, { xmlDeclaration: false, doctype: false })).toBe('<Data xmlns="SYNCML:SYNCML1.2">  &lt;a &amp; b&gt; &#13;\n </Data>');
  });

  it('refuses characters XML cannot carry (strict) and replaces them (lenient)', () => {
    const doc = bytes(HEAD, 0x4f, str('a\u0001b'), 0x01);
    const e = thrown(() => wbxmlToXml(doc));
    expect(e.code).toBe('INVALID_XML_CHAR');
    expect(e.offset).toBe(8);
    expect(wbxmlToXml(doc, { strict: false, xmlDeclaration: false, doctype: false })).toBe('<Data xmlns="SYNCML:SYNCML1.2">a\ufffdb</Data>');
  });

  it('inlines nested DevInf and rewrites its Type to +xml; leaves it as data on request', () => {
    const b = fixture('wbxml/ds12-put-devinf12.libwbxml-n.wbxml');
    const xml = wbxmlToXml(b);
    expect(xml).toContain('<Type xmlns="syncml:metinf">application/vnd.syncml-devinf+xml</Type>');
    expect(xml).toContain('<DevInf xmlns="syncml:devinf"><VerDTD>1.2</VerDTD>');
    const kept = wbxmlToXml(b, { nested: 'opaque' });
    expect(kept).toContain('application/vnd.syncml-devinf+wbxml');
    expect(kept).not.toContain('<DevInf');
  });

  it('indents on request and writes the DOCTYPE of the document type', () => {
    const xml = wbxmlToXml(fixture('wbxml/dm12-pkg1.libwbxml-n.wbxml'), { indent: 2 });
    expect(xml.split('\n')[1]).toBe('<!DOCTYPE SyncML PUBLIC "-//SYNCML//DTD SyncML 1.2//EN" "http://www.openmobilealliance.org/tech/DTD/OMA-TS-SyncML_RepPro_DTD-V1_2.dtd">');
    expect(xml).toContain('\n  <SyncHdr>\n    <VerDTD>1.2</VerDTD>');
  });
});

describe('XML -> WBXML', () => {
  it('drops whitespace between elements and keeps whitespace-only content', () => {
    const out = xmlToWbxml(`${ROOT}\n  <SyncBody>\n    <Data>   </Data>\n  </SyncBody>\n</SyncML>`);
    expect(hex(out)).toBe(hex(bytes(HEAD, 0x6d, 0x6b, 0x4f, str('   '), 0x01, 0x01, 0x01)));
    const kept = xmlToWbxml(`${ROOT}\n<Final/></SyncML>`, { keepWhitespace: true });
    expect(hex(kept)).toBe(hex(bytes(HEAD, 0x6d, str('\n'), 0x12, 0x01)));
  });

  it('turns entities and character references into UTF-8, CDATA into OPAQUE', () => {
    const out = xmlToWbxml(`${ROOT}<Data>&lt;&#x20AC;&#13;&amp;</Data><Data><![CDATA[<x>]]></Data></SyncML>`);
    expect(hex(out)).toBe(hex(bytes(HEAD, 0x6d, 0x4f, 0x03, '<€\r&', 0x00, 0x01, 0x4f, 0xc3, 0x03, '<x>', 0x01, 0x01)));
  });

  it('embeds DevInf as a nested document and rewrites the governing Type to +wbxml', () => {
    const out = xmlToWbxml(fixtureText('wbxml/ds12-put-devinf12.xml'));
    expect(hex(out)).toBe(hex(fixture('wbxml/ds12-put-devinf12.libwbxml-n.wbxml')));
  });

  it('finds the document type by DOCTYPE, namespace or root element, or is told', () => {
    expect(new WbxmlReader(xmlToWbxml('<SyncML xmlns="SYNCML:SYNCML1.1"><Final/></SyncML>')).codePages?.name).toBe('SyncML 1.1');
    expect(new WbxmlReader(xmlToWbxml('<SyncML><Final/></SyncML>')).codePages?.name).toBe('SyncML 1.2');
    expect(new WbxmlReader(xmlToWbxml('<!DOCTYPE SyncML PUBLIC "-//SYNCML//DTD SyncML 1.0//EN" ""><SyncML><Final/></SyncML>')).codePages?.name).toBe('SyncML 1.0');
    expect(new WbxmlReader(xmlToWbxml('<MgmtTree><VerDTD>1.2</VerDTD></MgmtTree>')).codePages?.name).toBe('DM DDF 1.2');
    expect(new WbxmlReader(xmlToWbxml('<Final/>', { codePages: 'SyncML 1.1' })).codePages?.name).toBe('SyncML 1.1');
    const e = thrown(() => xmlToWbxml('<html><body/></html>'));
    expect(e.code).toBe('UNKNOWN_PUBLIC_ID');
    expect([e.line, e.column]).toEqual([1, 1]);
  });

  it('refuses unknown elements and attributes in strict mode with line:column; lenient writes literals', () => {
    const xml = `${ROOT}\n<SyncBody>\n  <Foo a="1"/>\n</SyncBody></SyncML>`;
    const e = thrown(() => xmlToWbxml(xml));
    expect([e.code, e.line, e.column]).toEqual(['UNKNOWN_TAG', 3, 3]);
    const e2 = thrown(() => xmlToWbxml(`${ROOT}<Final x="1"/></SyncML>`));
    expect(e2.code).toBe('UNKNOWN_ATTRIBUTE');
    const out = xmlToWbxml(xml, { strict: false });
    expect(wbxmlToXml(out, { xmlDeclaration: false, doctype: false })).toBe('<SyncML xmlns="SYNCML:SYNCML1.2"><SyncBody><Foo a="1"/></SyncBody></SyncML>');
  });

  it('never expands DTD entities (entity-expansion attacks)', () => {
    const bomb = '<!DOCTYPE SyncML [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><SyncML><Data>&b;</Data></SyncML>';
    expect(thrown(() => xmlToWbxml(bomb)).code).toBe('XML_UNDEFINED_ENTITY');
  });

  it('limits depth and size', () => {
    const deep = ROOT + '<Item>'.repeat(70) + '</Item>'.repeat(70) + '</SyncML>';
    expect(thrown(() => xmlToWbxml(deep)).code).toBe('DEPTH_LIMIT');
    expect(thrown(() => xmlToWbxml(`${ROOT}<Final/></SyncML>`, { maxBytes: 10 })).code).toBe('SIZE_LIMIT');
  });
});

describe('DOM interop', () => {
  it('gives a Document and takes one back', () => {
    const b = fixture('wbxml/dm12-pkg1.libwbxml-n.wbxml');
    const doc = wbxmlToDocument(b);
    expect(doc.documentElement!.localName).toBe('SyncML');
    expect(doc.getElementsByTagName('LocURI')[0]!.textContent).toBe('http://dm.example.test/omadm');
    expect(hex(documentToWbxml(doc))).toBe(hex(b));
    expect(thrown(() => documentToWbxml({} as never)).code).toBe('INVALID_ARGUMENT');
  });
});

describe('disassemble', () => {
  it('accounts for every byte and names every token', () => {
    const b = fixture('wbxml/dm12-add-tnds.libwbxml-n.wbxml');
    const { lines, error } = disassemble(b);
    expect(error).toBeUndefined();
    const texts = lines.map((l) => l.text);
    expect(texts[0]).toBe('version 1.2');
    expect(texts).toContain('SWITCH_PAGE 1');
    expect(texts.some((t) => t.startsWith('<MgmtTree>'))).toBe(true); // the nested document, inline
    expect(texts.some((t) => t.startsWith('OPAQUE 139 bytes'))).toBe(true);
  });

  it('stops at the bad byte and returns the error', () => {
    const { lines, error } = disassemble(bytes(HEAD, 0x6d, 0x30));
    expect(error?.code).toBe('UNKNOWN_TAG');
    expect(error?.offset).toBe(6);
    expect(lines.at(-1)!.text).toContain('<SyncML>');
  });
});

describe('reader detail', () => {
  it('reports END_TAG for the nested document root too', () => {
    const r = new WbxmlReader(fixture('wbxml/ds12-put-devinf12.libwbxml-n.wbxml'));
    let nested: WbxmlReader | undefined;
    while (r.next() !== TokenKind.EOF) if (r.kind === TokenKind.OPAQUE) nested = r.nested();
    expect(nested?.codePages?.name).toBe('DevInf 1.2');
  });
});
