import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  parse, parseMessage, parseDevInf, parseMgmtTree, normalizeAlertType, isSyncMLError, SyncMLError,
  serialize, serializeDevInf, serializeMgmtTree,
  type Alert, type Exec, type Get, type Replace, type Results, type Status, type Atomic, type Sequence, type Put,
  type Add, type DevInf, type MgmtTree, type SyncML,
} from '../src/syncml/index.js';
import { WbxmlWriter } from '../src/wbxml/writer.js';
import { xmlToWbxml } from '../src/wbxml/from-xml.js';
import { fixtureText, root } from './helpers.js';

const DIR = join(root, 'fixtures', 'syncml');
const fx = (name: string): string => fixtureText(join('syncml', name));
const enc = new TextEncoder();

function caught(fn: () => unknown): SyncMLError {
  try {
    fn();
  } catch (e) {
    return e as SyncMLError;
  }
  throw new Error('expected an error, nothing was thrown');
}

describe('fixtures', () => {
  it('each starts with a provenance comment', () => {
    for (const f of readdirSync(DIR)) {
      expect(fx(f).startsWith('<!-- hand-written for '), f).toBe(true);
    }
  });

  it('every message fixture parses (strict, the defect fixture tolerant), from XML and from WBXML', () => {
    for (const f of readdirSync(DIR).filter((n) => !n.startsWith('ddf-'))) {
      const strict = !f.startsWith('windows-');
      const fromXml = parseMessage(fx(f), { strict });
      expect(fromXml.encoding).toBe('xml');
      const fromWbxml = parseMessage(serialize(fromXml.message, { encoding: 'wbxml' }), { strict });
      expect(fromWbxml.encoding).toBe('wbxml');
      expect(fromWbxml.message).toEqual(fromXml.message);
    }
  });
});

describe('DM 1.2 session', () => {
  it('package 1: SyncHdr with Cred and MaxMsgSize, Alert 1201, DevInfo Replace, Final', () => {
    const m = parse(fx('dm12-pkg1.xml'));
    expect(m.header).toMatchObject({
      verDTD: '1.2', verProto: 'DM/1.2', sessionId: '1A2B', msgId: '1',
      target: { locUri: 'http://dm.example.test/omadm' },
      source: { locUri: 'IMEI:356938035643809', locName: 'device01' },
      cred: { meta: { format: 'b64', type: 'syncml:auth-md5' }, data: 'Zz6EivR3yeaaENcRN6lpAQ==' },
      meta: { maxMsgSize: 10000, maxObjSize: 524288 },
    });
    const [alert, replace] = m.body.commands as [Alert, Replace];
    expect(alert).toMatchObject({ kind: 'Alert', cmdId: '1', code: 1201, items: [] });
    expect(replace.kind).toBe('Replace');
    expect(replace.items.map((i) => i.source?.locUri)).toEqual(['./DevInfo/DevId', './DevInfo/Man', './DevInfo/Mod', './DevInfo/DmV', './DevInfo/Lang']);
    expect(replace.items[0].meta).toMatchObject({ format: 'chr', type: 'text/plain' });
    expect(replace.items[3].data).toBe('1.2');
    expect(m.body.final).toBe(true);
  });

  it('package 2: Status 212, UI alert 1101, Get, Replace, Atomic, Sequence, Exec with Correlator', () => {
    const m = parse(fx('dm12-pkg2.xml'));
    const c = m.body.commands;
    expect(c.map((x) => x.kind)).toEqual(['Status', 'Status', 'Status', 'Alert', 'Get', 'Replace', 'Atomic', 'Sequence']);
    expect(c[0]).toMatchObject({ cmdRef: '0', cmd: 'SyncHdr', code: 212, targetRefs: ['http://dm.example.test/omadm'], sourceRefs: ['IMEI:356938035643809'] });
    const ui = c[3] as Alert;
    expect(ui.code).toBe(1101);
    expect(ui.items.map((i) => i.data)).toEqual(['MINDT=10&MAXDT=30', 'Apply the new proxy settings now?']);
    expect((c[4] as Get).items[0].target?.locUri).toBe('./DevDetail');
    const atomic = c[6] as Atomic;
    expect(atomic.commands.map((x) => [x.kind, x.cmdId])).toEqual([['Add', '8'], ['Add', '9']]);
    expect((atomic.commands[0] as Add).items[0].meta?.format).toBe('node');
    const seq = c[7] as Sequence;
    const exec = seq.commands[1] as Exec;
    expect(exec).toMatchObject({ kind: 'Exec', cmdId: '12', correlator: 'fumo-job-0042' });
    expect(exec.items[0].target?.locUri).toBe('./FwUpdate/Pkg1/DownloadAndUpdate');
  });

  it('package 3: Status for everything and Results after the Get Status', () => {
    const m = parse(fx('dm12-pkg3.xml'));
    const results = m.body.commands.find((x) => x.kind === 'Results') as Results;
    expect(results).toMatchObject({ cmdId: '4', msgRef: '1', cmdRef: '5' });
    expect(results.items[0]).toMatchObject({ source: { locUri: './DevDetail' }, meta: { format: 'node' }, data: 'URI/DevTyp/OEM/FwV/SwV/HwV/LrgObj' });
    expect(results.cmd).toBeUndefined();
    const codes = m.body.commands.filter((x): x is Status => x.kind === 'Status').map((s) => [s.cmd, s.code]);
    expect(codes).toContainEqual(['Exec', 202]);
    expect(codes).toHaveLength(10);
  });

  it('package 4: Status and Final only', () => {
    const m = parse(fx('dm12-pkg4.xml'));
    expect(m.body.commands).toHaveLength(1);
    expect(m.body.final).toBe(true);
  });
});

describe('other fixtures', () => {
  it('DM 1.1.2 package 1 (SYNCML1.1 namespace and DOCTYPE, VerDTD 1.1)', () => {
    const r = parseMessage(fx('dm112-pkg1.xml'));
    expect(r.message.header).toMatchObject({ verDTD: '1.1', verProto: 'DM/1.1', cred: { meta: { type: 'syncml:auth-basic' } } });
    expect(r.warnings).toEqual([]);
    const wbxml = serialize(r.message, { encoding: 'wbxml' });
    expect(Array.from(wbxml.subarray(0, 3))).toEqual([0x02, 0x9f, 0x53]); // SyncML 1.1 public ID 0x0FD3
    expect(parse(wbxml)).toEqual(r.message);
  });

  it('Generic Alert 1226 with Correlator; the Type is kept as sent', () => {
    const m = parse(fx('dm12-generic-alert-fumo.xml'));
    const ga = m.body.commands[1] as Alert;
    expect(ga).toMatchObject({ code: 1226, correlator: 'fumo-job-0042' });
    const item = ga.items[0];
    expect(item.meta).toMatchObject({ format: 'int', mark: 'critical' });
    expect(item.meta?.type).toBe('Reversed-Domain-Name: org.openmobilealliance.dm.firmwareupdate.downloadandupdate');
    expect(normalizeAlertType(item.meta!.type!)).toBe('org.openmobilealliance.dm.firmwareupdate.downloadandupdate');
    expect(item.data).toBe('200');
  });

  it('large object chunk: MoreData and Size', () => {
    const m = parse(fx('dm12-large-object.xml'));
    const item = (m.body.commands[1] as Replace).items[0];
    expect(item.moreData).toBe(true);
    expect(item.meta?.size).toBe(2816);
    expect(m.header.meta?.maxObjSize).toBe(1048576);
    expect(m.body.final).toBe(false);
  });

  it('challenge: Status 401 with Chal and NextNonce; RespURI', () => {
    const m = parse(fx('dm12-challenge.xml'));
    expect(m.header.respUri).toBe('http://dm.example.test/omadm?s=7f3a');
    const s = m.body.commands[0] as Status;
    expect(s.code).toBe(401);
    expect(s.chal?.meta).toMatchObject({ type: 'syncml:auth-md5', format: 'b64', nextNonce: 'q2Fh9nW4c1Q3WkP0xY8zAg==' });
  });

  it('DS Put with an inline DevInf 1.2 (XML) and as a nested WBXML document', () => {
    const m = parse(fx('ds12-put-devinf12.xml'));
    const put = m.body.commands[0] as Put;
    expect(put.meta?.type).toBe('application/vnd.syncml-devinf+xml');
    const d = put.items[0].data as DevInf;
    expect(d.kind).toBe('DevInf');
    expect(d).toMatchObject({ verDTD: '1.2', man: 'Example Manufacturer', devId: 'IMEI:356938035643809', devTyp: 'phone', utc: true, supportLargeObjs: true, supportNumberOfChanges: true });
    const ds = d.dataStores[0];
    expect(ds).toMatchObject({ sourceRef: './contacts', maxGUIDSize: 32, rxPref: { ctType: 'text/x-vcard', verCT: '2.1' }, syncCap: ['1', '2'] });
    expect(ds.ctCaps[0].properties[0]).toMatchObject({ propName: 'TEL', maxSize: 40, propParams: [{ paramName: 'TYPE', valEnums: ['CELL', 'HOME'] }] });
    // WBXML: OPAQUE holding a DevInf document, announced by a +wbxml Type; reported as +xml.
    const wbxml = serialize(m, { encoding: 'wbxml' });
    const text = new TextDecoder('latin1').decode(wbxml);
    expect(text).toContain('application/vnd.syncml-devinf+wbxml');
    expect(parse(wbxml)).toEqual(m);
  });

  it('DM Add with an embedded TNDS MgmtTree', () => {
    const m = parse(fx('dm12-add-tnds.xml'));
    const item = (m.body.commands[1] as Add).items[0];
    const t = item.data as MgmtTree;
    expect(t.kind).toBe('MgmtTree');
    expect(t.nodes[0]).toMatchObject({ nodeName: 'Example', path: './Vendor', rtProperties: { format: 'node', type: { ddfName: 'urn:example:mo:1.0' } } });
    expect(t.nodes[0].children[0]).toMatchObject({ nodeName: 'Enabled', value: 'true', rtProperties: { format: 'bool', type: { mime: 'text/plain' } } });
    expect(parse(serialize(m, { encoding: 'wbxml' }))).toEqual(m);
  });

  it('standalone DDF: every DFProperties element, Occurrence, Scope and CaseSense variants, MSFT extensions', () => {
    const t = parseMgmtTree(fx('ddf-example-mo.xml'));
    expect(t).toMatchObject({ verDTD: '1.2', man: 'Example Manufacturer', mod: 'ExamplePhone 1' });
    const top = t.nodes[0];
    expect(top.dfProperties).toMatchObject({ accessType: ['Get'], dfFormat: 'node', occurrence: { kind: 'One' }, scope: 'Permanent', dfType: { ddfName: 'urn:example:mo:settings:1.0' } });
    const interval = top.children[0].dfProperties!;
    expect(interval).toMatchObject({
      accessType: ['Add', 'Copy', 'Delete', 'Get', 'Replace'], defaultValue: '3600', description: 'Polling interval in seconds',
      dfFormat: 'int', occurrence: { kind: 'ZeroOrOne' }, scope: 'Dynamic', dfTitle: 'Interval', dfType: { mime: 'text/plain' }, caseSense: 'CS',
    });
    expect(interval.unknown).toEqual([{
      name: 'Applicability', namespace: 'http://schemas.microsoft.com/MobileDevice/DM', attributes: undefined,
      children: [
        { name: 'OsBuildVersion', namespace: 'http://schemas.microsoft.com/MobileDevice/DM', attributes: undefined, children: ['10.0.10240'] },
        { name: 'CspVersion', namespace: 'http://schemas.microsoft.com/MobileDevice/DM', attributes: undefined, children: ['1.0'] },
      ],
    }]);
    const servers = top.children[2];
    expect(servers.dfProperties).toMatchObject({ occurrence: { kind: 'OneOrMore' }, dfType: { ddfName: '' } });
    const placeholder = servers.children[0];
    expect(placeholder.nodeName).toBe('');
    expect(placeholder.dfProperties?.occurrence).toEqual({ kind: 'ZeroOrN', n: 5 });
    const [addr, port, enabled, cert] = placeholder.children;
    expect(addr.dfProperties).toMatchObject({ occurrence: { kind: 'OneOrN', n: 3 }, caseSense: 'CIS', dfFormat: 'chr' });
    expect(port.dfProperties?.occurrence).toEqual({ kind: 'ZeroOrMore' });
    expect(enabled.dfProperties?.dfFormat).toBe('bool');
    expect(cert.dfProperties?.dfType).toEqual({ mime: 'application/pkix-cert', moreMimes: ['application/x-x509-ca-cert'] });
    // WBXML: code page 2, public ID by string table.
    const wbxml = serializeMgmtTree(t, { encoding: 'wbxml' });
    expect(new TextDecoder().decode(wbxml.subarray(0, 40))).toContain('-//OMA//DTD-DM-DDF 1.2//EN');
    expect(parseMgmtTree(wbxml)).toEqual(t);
  });
});

describe('input detection', () => {
  const xml = fx('dm12-pkg4.xml');
  const expected = parse(xml);

  it('a string, bytes, bytes with a BOM and with leading white space are XML', () => {
    expect(parse(enc.encode(xml))).toEqual(expected);
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode(xml.slice(xml.indexOf('<SyncML')))]);
    expect(parse(bom)).toEqual(expected);
    expect(parse('\n  ' + xml.slice(xml.indexOf('<SyncML')))).toEqual(expected);
  });

  it('bytes starting 0x00-0x03 are WBXML', () => {
    for (const v of ['1.1', '1.2', '1.3'] as const) {
      const b = serialize(expected, { encoding: 'wbxml', wbxmlVersion: v });
      expect(parseMessage(b).encoding).toBe('wbxml');
    }
  });

  it('anything else is BAD_DOCUMENT', () => {
    for (const b of [new Uint8Array([0x41, 0x42]), new Uint8Array(0), enc.encode('   hello')]) {
      const e = caught(() => parse(b));
      expect(isSyncMLError(e)).toBe(true);
      expect(e.code).toBe('BAD_DOCUMENT');
      expect(e.offset).toBeTypeOf('number');
    }
    expect(caught(() => parse(42 as unknown as string)).code).toBe('INVALID_ARGUMENT');
  });

  it('a document that is not SyncML is BAD_DOCUMENT', () => {
    expect(caught(() => parse('<Foo/>')).code).toBe('BAD_DOCUMENT');
    expect(caught(() => parse('<DevInf xmlns="syncml:devinf"/>', { strict: false })).code).toBe('BAD_DOCUMENT');
  });
});

describe('string-table budget (maxTableTextBytes)', () => {
  // Three Results, each with a nested WBXML DevInf whose own string table holds one 300-byte
  // string named three times: 900 bytes of table text per embedded document.
  const devinf: DevInf = { kind: 'DevInf', verDTD: '1.2', man: 'A'.repeat(300), mod: 'A'.repeat(300), fwV: 'A'.repeat(300), devId: 'IMEI:1', devTyp: 'phone', dataStores: [], ctCaps: [], exts: [] };
  const results = (i: number): Results => ({ kind: 'Results', cmdId: String(i), msgRef: '1', cmdRef: '1', items: [{ source: { locUri: `./d${i}` }, meta: { type: 'application/vnd.syncml-devinf+wbxml' }, data: devinf }] });
  const msg: SyncML = { header: { verDTD: '1.2', verProto: 'DM/1.2', sessionId: '1', msgId: '1', target: { locUri: 's' }, source: { locUri: 'IMEI:1' } }, body: { commands: [results(1), results(2), results(3)], final: true } };
  const bytes = serialize(msg, { encoding: 'wbxml', stringTable: true }) as Uint8Array;

  it('the default leaves honest repetition alone: one 2 KB value replaced into 1 000 nodes, string table on', () => {
    const value = 'MIIC'.repeat(512);
    const many: SyncML = { header: msg.header, body: { commands: [{ kind: 'Replace', cmdId: '1', items: Array.from({ length: 1000 }, (_, i) => ({ target: { locUri: `./Certs/${i}` }, data: value })) }], final: true } };
    const wb = serialize(many, { encoding: 'wbxml', stringTable: true }) as Uint8Array;
    expect(wb.length * 64).toBeLessThan(1000 * value.length); // 25 KB standing for 2 MB: a ratio of 82
    expect((parseMessage(wb).message.body.commands[0] as Replace).items[999].data).toBe(value);
  });

  it('is one budget for all embedded documents of a message, not one each', () => {
    expect((parseMessage(bytes, { maxTableTextBytes: 2700 }).message.body.commands[2] as Results).items[0].data).toEqual(devinf);
    // 2 000 bytes: the first two documents (1 800) fit, the third goes over.
    const e = caught(() => parseMessage(bytes, { maxTableTextBytes: 2000 }));
    expect(e.code).toBe('BAD_DOCUMENT');
    expect(e.message).toMatch(/SIZE_LIMIT.*maxTableTextBytes/);
    const tolerant = parseMessage(bytes, { maxTableTextBytes: 2000, strict: false });
    expect((tolerant.message.body.commands[1] as Results).items[0].data).toEqual(devinf);
    expect((tolerant.message.body.commands[2] as Results).items[0].data).toBeInstanceOf(Uint8Array);
    expect(tolerant.warnings.some((w) => /embedded document kept as bytes: .*SIZE_LIMIT/.test(w.message))).toBe(true);
  });
});

describe('WBXML specifics', () => {
  /** A small message built with the WBXML writer, with `data` written by the callback. */
  function wbxml(write: (w: WbxmlWriter) => void, hdrMeta?: (w: WbxmlWriter) => void): Uint8Array {
    const w = new WbxmlWriter({ codePages: 'SyncML 1.2' });
    w.start('SyncML').start('SyncHdr').element('VerDTD', '1.2').element('VerProto', 'DM/1.2').element('SessionID', '1')
      .element('MsgID', '1').start('Target').element('LocURI', 'a').end().start('Source').element('LocURI', 'b').end();
    if (hdrMeta) { w.start('Meta'); hdrMeta(w); w.end(); }
    w.end().start('SyncBody');
    write(w);
    w.end().end();
    return w.finish();
  }

  it('text split at ENTITY tokens (Horde) is one string', () => {
    const b = wbxml((w) => {
      w.start('Alert').element('CmdID', '1').start('Data').text('12').entity(0x30).text('1').end();
      w.start('Item').start('Data').text('caf').entity(0xe9).text(' & ').entity(0x1f600).end().end().end();
    });
    const a = parse(b).body.commands[0] as Alert;
    expect(a.code).toBe(1201);
    expect(a.items[0].data).toBe('café & \u{1f600}');
  });

  it('OPAQUE Data is a copy, not a view of the input; NextNonce OPAQUE stays bytes', () => {
    const b = wbxml((w) => {
      w.start('Status').element('CmdID', '1').element('MsgRef', '1').element('CmdRef', '0').element('Cmd', 'SyncHdr');
      w.start('Chal').start('Meta').start('Format', 1).text('b64').end().start('NextNonce', 1).opaque(new Uint8Array([0, 1, 2, 0xff])).end().end().end();
      w.element('Data', '401').start('Item').start('Data').opaque(new Uint8Array([0xde, 0xad, 0xbe, 0xef])).end().end().end();
    });
    const m = parse(b);
    const s = m.body.commands[0] as Status;
    const data = s.items![0].data as Uint8Array;
    expect(Array.from(data)).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(Array.from(s.chal!.meta.nextNonce as Uint8Array)).toEqual([0, 1, 2, 0xff]);
    expect(data.buffer).not.toBe(b.buffer);
    b.fill(0);
    expect(Array.from(data)).toEqual([0xde, 0xad, 0xbe, 0xef]);
  });

  it('OPAQUE under a Type naming DevInf but holding garbage: strict error in the nested document, tolerant keeps the bytes', () => {
    const b = wbxml((w) => {
      w.start('Put').element('CmdID', '1').start('Meta').start('Type', 1).text('application/vnd.syncml-devinf+wbxml').end().end();
      w.start('Item').start('Data').opaque(new Uint8Array([0x02, 0xa4, 0x03, 0x6a, 0x00, 0x4a, 0x01])).end().end().end();
    });
    const e = caught(() => parse(b));
    expect(e.code).toBe('MISSING_ELEMENT');
    expect(e.path).toBe('SyncBody/Put[1]/Item[1]/Data/DevInf');
    const r = parseMessage(b, { strict: false });
    const put = r.message.body.commands[0] as Put;
    expect(put.items[0].data).toBeInstanceOf(DevInfShape);
    expect(r.warnings.map((w) => w.code)).toEqual(['MISSING_ELEMENT', 'MISSING_ELEMENT', 'MISSING_ELEMENT']);
  });

  it('an embedded document that is not WBXML at all: tolerant keeps the bytes with a warning', () => {
    const b = wbxml((w) => {
      w.start('Put').element('CmdID', '1').start('Meta').start('Type', 1).text('application/vnd.syncml-devinf+wbxml').end().end();
      w.start('Item').start('Data').opaque(new Uint8Array([0x09, 0x09])).end().end().end();
    });
    expect(caught(() => parse(b)).path).toMatch(/^SyncBody\/Put\[1\]\/Item\[1\]\/Data/);
    const r = parseMessage(b, { strict: false });
    expect((r.message.body.commands[0] as Put).items[0].data).toBeInstanceOf(Uint8Array);
    expect(r.warnings[0].path).toBe('SyncBody/Put[1]/Item[1]/Data');
  });

  it('a WbxmlError below is wrapped (BAD_DOCUMENT, offset, cause) and never escapes', () => {
    const good = serialize(parse(fx('dm12-pkg4.xml')), { encoding: 'wbxml' });
    const truncated = good.subarray(0, good.length - 3);
    const e = caught(() => parse(truncated));
    expect(e).toBeInstanceOf(SyncMLError);
    expect(e.code).toBe('BAD_DOCUMENT');
    expect(e.offset).toBeTypeOf('number');
    expect((e as { cause?: { name?: string } }).cause?.name).toBe('WbxmlError');
    expect(e.path).not.toBe('');
  });

  it('libwbxml-style documents: string table, WBXML 1.3, a 1.1 public ID on a 1.2 body', () => {
    const m = parse(fx('dm12-pkg1.xml'));
    const xml = serialize(m, { encoding: 'xml' });
    const withTable = xmlToWbxml(xml, { stringTable: true, version: '1.3' });
    expect(parse(withTable)).toEqual(m);
    const as11 = xmlToWbxml(xml, { codePages: 'SyncML 1.1' });
    const r = parseMessage(as11, { strict: false });
    expect(r.message).toEqual(m);
    expect(r.warnings.map((w) => w.code)).toEqual(['VERSION_MISMATCH']);
  });
});

describe('XML specifics', () => {
  it('CDATA is text; entities decoded; white space between elements ignored; Data never trimmed', () => {
    const m = parse('<SyncML xmlns="SYNCML:SYNCML1.2">\n <SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>'
      + '<Target><LocURI>a</LocURI></Target><Source><LocURI>b</LocURI></Source></SyncHdr>\n <SyncBody>\n'
      + '  <Replace><CmdID>1</CmdID><Item><Data><![CDATA[<x a="1">]]>&amp;&#x41;</Data></Item>'
      + '<Item><Data>  two  </Data></Item><Item><Data>   </Data></Item><Item><Data/></Item></Replace>\n </SyncBody>\n</SyncML>');
    expect((m.body.commands[0] as Replace).items.map((i) => i.data)).toEqual(['<x a="1">&A', '  two  ', '   ', '']);
  });

  it('MetInf elements are found by name whatever their namespace declaration (libwbxml rule)', () => {
    const m = parse('<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>'
      + '<Target><LocURI>a</LocURI></Target><Source><LocURI>b</LocURI></Source><Meta><MaxMsgSize>100</MaxMsgSize></Meta></SyncHdr>'
      + '<SyncBody><Get><CmdID>1</CmdID><Meta><m:Type xmlns:m="syncml:metinf">text/plain</m:Type></Meta><Item><Target><LocURI>./x</LocURI></Target></Item></Get></SyncBody></SyncML>');
    expect(m.header.meta?.maxMsgSize).toBe(100);
    expect((m.body.commands[0] as Get).meta?.type).toBe('text/plain');
  });

  it('errors carry line and column', () => {
    const e = caught(() => parse('<SyncML xmlns="SYNCML:SYNCML1.2">\n<SyncHdr>\n<VerDTD>1.2</VerProto>'));
    expect(e.code).toBe('BAD_DOCUMENT');
    expect(e.line).toBe(3);
    expect(e.column).toBeGreaterThan(0);
    expect(e.path).toBe('SyncHdr/VerDTD');
    const u = caught(() => parse('<SyncML xmlns="SYNCML:SYNCML1.2">\n<SyncHdr>\n  <Oops/>'));
    expect(u.code).toBe('UNKNOWN_ELEMENT');
    expect([u.line, u.column, u.path]).toEqual([3, 3, 'SyncHdr/Oops']);
  });
});

describe('standalone DevInf', () => {
  const devInf11 = '<!-- DevInf 1.1 with flat CTCap --><DevInf xmlns="syncml:devinf"><VerDTD>1.1</VerDTD><Man>M</Man><DevID>D1</DevID><DevTyp>phone</DevTyp>'
    + '<DataStore><SourceRef>./c</SourceRef><Rx-Pref><CTType>text/x-vcard</CTType><VerCT>2.1</VerCT></Rx-Pref><Tx-Pref><CTType>text/x-vcard</CTType><VerCT>2.1</VerCT></Tx-Pref>'
    + '<DSMem><MaxID>100</MaxID></DSMem><SyncCap><SyncType>1</SyncType></SyncCap></DataStore>'
    + '<CTCap><CTType>text/x-vcard</CTType><PropName>BEGIN</PropName><ValEnum>VCARD</ValEnum><PropName>TEL</PropName><ParamName>TYPE</ParamName><ValEnum>CELL</ValEnum>'
    + '<CTType>text/calendar</CTType><PropName>DTSTART</PropName><DataType>chr</DataType><Size>32</Size></CTCap>'
    + '<Ext><XNam>X-Foo</XNam><XVal>1</XVal><XVal>2</XVal></Ext></DevInf>';

  it('DevInf 1.1: flat CTCap kept in legacy pairs, one CTCap per CTType', () => {
    const d = parseDevInf(devInf11);
    expect(d.ctCaps).toEqual([
      { ctType: 'text/x-vcard', verCT: undefined, fieldLevel: undefined, properties: [], legacy: [
        { name: 'PropName', value: 'BEGIN' }, { name: 'ValEnum', value: 'VCARD' }, { name: 'PropName', value: 'TEL' },
        { name: 'ParamName', value: 'TYPE' }, { name: 'ValEnum', value: 'CELL' }] },
      { ctType: 'text/calendar', verCT: undefined, fieldLevel: undefined, properties: [], legacy: [
        { name: 'PropName', value: 'DTSTART' }, { name: 'DataType', value: 'chr' }, { name: 'Size', value: '32' }] },
    ]);
    expect(d.dataStores[0].dsMem).toEqual({ sharedMem: undefined, maxMem: undefined, maxId: 100 });
    expect(d.exts).toEqual([{ xNam: 'X-Foo', xVals: ['1', '2'] }]);
    // Both encodings (DevInf 1.1 code pages in WBXML: public ID 0x0FD4).
    const w = serializeDevInf(d, { encoding: 'wbxml' });
    expect(Array.from(w.subarray(0, 3))).toEqual([0x02, 0x9f, 0x54]);
    expect(parseDevInf(w)).toEqual(d);
    expect(parseDevInf(serializeDevInf(d, { encoding: 'xml' }))).toEqual(d);
  });

  it('DevInf 1.2 standalone round trip', () => {
    const m = parse(fx('ds12-put-devinf12.xml'));
    const d = (m.body.commands[0] as Put).items[0].data as DevInf;
    const w = serializeDevInf(d, { encoding: 'wbxml' });
    expect(Array.from(w.subarray(0, 3))).toEqual([0x02, 0xa4, 0x03]);
    expect(parseDevInf(w)).toEqual(d);
  });

  it('a standalone document of the wrong type is BAD_DOCUMENT', () => {
    expect(caught(() => parseDevInf(fx('dm12-pkg4.xml'))).code).toBe('BAD_DOCUMENT');
    expect(caught(() => parseMgmtTree(devInf11)).code).toBe('BAD_DOCUMENT');
  });
});

describe('normalizeAlertType', () => {
  it('strips an optional prefix and trims', () => {
    expect(normalizeAlertType('org.openmobilealliance.dm.firmwareupdate.download')).toBe('org.openmobilealliance.dm.firmwareupdate.download');
    expect(normalizeAlertType('  Reversed-Domain-Name:org.example.x ')).toBe('org.example.x');
    expect(normalizeAlertType('reversed-domain-name: org.example.x')).toBe('org.example.x');
    expect(normalizeAlertType('Content-Type: com.microsoft:mdm.unenrollment.userrequest')).toBe('com.microsoft:mdm.unenrollment.userrequest');
    expect(normalizeAlertType('')).toBe('');
  });
});

/** DevInf objects are plain objects: a matcher for "a parsed DevInf". */
class DevInfShape {
  static [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === 'object' && v !== null && (v as { kind?: string }).kind === 'DevInf';
  }
}

// Type-level check: the exported types are usable to build messages.
const sample: SyncML = {
  header: { verDTD: '1.2', verProto: 'DM/1.2', sessionId: '1', msgId: '1', target: { locUri: 'a' }, source: { locUri: 'b' } },
  body: { commands: [{ kind: 'Alert', cmdId: '1', code: 1201, items: [] }], final: true },
};
void sample;
