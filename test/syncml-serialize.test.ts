import { describe, expect, it } from 'vitest';
import {
  parse, parseMessage, serialize, serializeToBytes, serializeDevInf, serializeMgmtTree, isSyncMLError,
  type SyncML, type Command, type Item, type Meta, type DevInf, type MgmtTree, type SyncMLError, type Replace, type Status,
} from '../src/syncml/index.js';
import { wbxmlToXml } from '../src/wbxml/to-xml.js';
import { toBase64 } from '../src/wbxml/base64.js';

const HDR: SyncML['header'] = { verDTD: '1.2', verProto: 'DM/1.2', sessionId: 'S', msgId: '1', target: { locUri: 'T' }, source: { locUri: 'S' } };
const message = (commands: Command[], header: Partial<SyncML['header']> = {}, final = true): SyncML => ({ header: { ...HDR, ...header }, body: { commands, final } });
const xml = (m: SyncML): string => serialize(m, { encoding: 'xml', xmlDeclaration: false });
const MI = ' xmlns="syncml:metinf"';

function caught(fn: () => unknown): SyncMLError {
  try {
    fn();
  } catch (e) {
    expect(isSyncMLError(e)).toBe(true);
    return e as SyncMLError;
  }
  throw new Error('expected an error');
}

/** The XML of the SyncBody content. */
function bodyOf(m: SyncML): string {
  const s = xml(m);
  return s.slice(s.indexOf('<SyncBody>') + 10, s.lastIndexOf('</SyncBody>'));
}

describe('DTD element order', () => {
  it('SyncHdr: VerDTD, VerProto, SessionID, MsgID, Target, Source, RespURI, NoResp, Cred, Meta', () => {
    const m = message([], {
      meta: { maxMsgSize: 1000 }, cred: { data: 'x', meta: { type: 'syncml:auth-basic' } }, noResp: true, respUri: 'http://r',
      source: { locUri: 'S', locName: 'user' }, target: { locUri: 'T' },
    });
    const s = xml(m);
    expect(s.slice(0, s.indexOf('<SyncBody>'))).toBe(
      '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>S</SessionID><MsgID>1</MsgID>'
      + '<Target><LocURI>T</LocURI></Target><Source><LocURI>S</LocURI><LocName>user</LocName></Source><RespURI>http://r</RespURI><NoResp/>'
      + `<Cred><Meta><Type${MI}>syncml:auth-basic</Type></Meta><Data>x</Data></Cred><Meta><MaxMsgSize${MI}>1000</MaxMsgSize></Meta></SyncHdr>`);
  });

  it('Status: CmdID, MsgRef, CmdRef, Cmd, TargetRef*, SourceRef*, Cred, Chal, Data, Item*', () => {
    const st: Status = {
      kind: 'Status', items: [{ data: 'i' }], code: 401, chal: { meta: { format: 'b64', type: 'syncml:auth-md5', nextNonce: 'bm9uY2U=' } },
      cred: { data: 'c' }, sourceRefs: ['s1', 's2'], targetRefs: ['t1'], cmd: 'SyncHdr', cmdRef: '0', msgRef: '1', cmdId: '1',
    };
    expect(bodyOf(message([st]))).toBe('<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><TargetRef>t1</TargetRef>'
      + '<SourceRef>s1</SourceRef><SourceRef>s2</SourceRef><Cred><Data>c</Data></Cred>'
      + `<Chal><Meta><Format${MI}>b64</Format><Type${MI}>syncml:auth-md5</Type><NextNonce${MI}>bm9uY2U=</NextNonce></Meta></Chal>`
      + '<Data>401</Data><Item><Data>i</Data></Item></Status><Final/>');
  });

  it('Alert: CmdID, NoResp, Cred, Data, Correlator, Item*; Exec: CmdID, NoResp, Cred, Meta, Correlator, Item', () => {
    expect(bodyOf(message([
      { kind: 'Alert', items: [{ data: 'x' }], correlator: 'c1', code: 1226, cred: { data: 'k' }, noResp: true, cmdId: '1' },
      { kind: 'Exec', items: [{ target: { locUri: './x' } }], correlator: 'c2', meta: { format: 'chr' }, noResp: true, cmdId: '2' },
    ], {}, false))).toBe('<Alert><CmdID>1</CmdID><NoResp/><Cred><Data>k</Data></Cred><Data>1226</Data><Correlator>c1</Correlator><Item><Data>x</Data></Item></Alert>'
      + `<Exec><CmdID>2</CmdID><NoResp/><Meta><Format${MI}>chr</Format></Meta><Correlator>c2</Correlator><Item><Target><LocURI>./x</LocURI></Target></Item></Exec>`);
  });

  it('Item: Target, Source, SourceParent, TargetParent, Meta, Data, MoreData', () => {
    const item: Item = { moreData: true, data: 'd', meta: { size: 10 }, targetParent: { locUri: 'tp' }, sourceParent: { locUri: 'sp' }, source: { locUri: 's' }, target: { locUri: 't', locName: 'n' } };
    expect(bodyOf(message([{ kind: 'Replace', cmdId: '1', items: [item] }], {}, false))).toBe('<Replace><CmdID>1</CmdID><Item><Target><LocURI>t</LocURI><LocName>n</LocName></Target>'
      + '<Source><LocURI>s</LocURI></Source><SourceParent><LocURI>sp</LocURI></SourceParent><TargetParent><LocURI>tp</LocURI></TargetParent>'
      + `<Meta><Size${MI}>10</Size></Meta><Data>d</Data><MoreData/></Item></Replace>`);
  });

  it('Results: CmdID, MsgRef, CmdRef, [Cmd only when present], Meta, TargetRef*, SourceRef*, Item+', () => {
    const r = { kind: 'Results' as const, cmdId: '2', msgRef: '1', cmdRef: '5', meta: { format: 'chr' }, targetRefs: ['t'], sourceRefs: ['s'], items: [{ data: 'x' }] };
    const without = bodyOf(message([r], {}, false));
    expect(without).toBe(`<Results><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>5</CmdRef><Meta><Format${MI}>chr</Format></Meta><TargetRef>t</TargetRef><SourceRef>s</SourceRef><Item><Data>x</Data></Item></Results>`);
    expect(bodyOf(message([{ ...r, cmd: 'Get' }], {}, false))).toBe(without.replace('</CmdRef>', '</CmdRef><Cmd>Get</Cmd>'));
  });

  it('Meta: the MetInf 1.2 DTD order (FieldLevel first, EMI* then Mem last)', () => {
    const meta: Meta = {
      mem: { freeId: 2, freeMem: 1, sharedMem: true }, emi: ['e1', 'e2'], maxObjSize: 9, maxMsgSize: 8, nextNonce: 'n', version: 'v',
      anchor: { next: 'b', last: 'a' }, size: 7, mark: 'm', type: 't', format: 'f', fieldLevel: true,
    };
    const s = bodyOf(message([{ kind: 'Get', cmdId: '1', meta, items: [{ target: { locUri: 'x' } }] }], {}, false));
    const names = [...s.matchAll(/<(\w+) xmlns="syncml:metinf"/g)].map((x) => x[1]);
    expect(names).toEqual(['FieldLevel', 'Format', 'Type', 'Mark', 'Size', 'Anchor', 'Version', 'NextNonce', 'MaxMsgSize', 'MaxObjSize', 'EMI', 'EMI', 'Mem']);
    expect(s).toContain(`<Anchor${MI}><Last>a</Last><Next>b</Next></Anchor>`);
    expect(s).toContain(`<Mem${MI}><SharedMem/><FreeMem>1</FreeMem><FreeID>2</FreeID></Mem>`);
  });

  it('Delete, Get/Put, Atomic/Sequence, Sync, Map, Search in their DTD order', () => {
    const m = message([
      { kind: 'Delete', cmdId: '1', sftDel: true, archive: true, noResp: true, items: [{ target: { locUri: 'x' } }] },
      { kind: 'Get', cmdId: '2', lang: 'en', items: [{ target: { locUri: 'x' } }] },
      { kind: 'Atomic', cmdId: '3', meta: { format: 'chr' }, commands: [{ kind: 'Add', cmdId: '4', items: [{ data: 'a' }] }] },
      { kind: 'Sync', cmdId: '5', numberOfChanges: 2, source: { locUri: 's' }, target: { locUri: 't' }, commands: [] },
      { kind: 'Map', cmdId: '6', target: { locUri: 't' }, source: { locUri: 's' }, mapItems: [{ target: { locUri: 'a' }, source: { locUri: 'b' } }] },
      { kind: 'Search', cmdId: '7', noResults: true, sources: [{ locUri: 's' }], lang: 'en', meta: { type: 'q' }, data: 'where' },
    ], {}, false);
    expect(bodyOf(m)).toBe('<Delete><CmdID>1</CmdID><NoResp/><Archive/><SftDel/><Item><Target><LocURI>x</LocURI></Target></Item></Delete>'
      + '<Get><CmdID>2</CmdID><Lang>en</Lang><Item><Target><LocURI>x</LocURI></Target></Item></Get>'
      + `<Atomic><CmdID>3</CmdID><Meta><Format${MI}>chr</Format></Meta><Add><CmdID>4</CmdID><Item><Data>a</Data></Item></Add></Atomic>`
      + '<Sync><CmdID>5</CmdID><Target><LocURI>t</LocURI></Target><Source><LocURI>s</LocURI></Source><NumberOfChanges>2</NumberOfChanges></Sync>'
      + '<Map><CmdID>6</CmdID><Target><LocURI>t</LocURI></Target><Source><LocURI>s</LocURI></Source><MapItem><Target><LocURI>a</LocURI></Target><Source><LocURI>b</LocURI></Source></MapItem></Map>'
      + `<Search><CmdID>7</CmdID><NoResults/><Source><LocURI>s</LocURI></Source><Lang>en</Lang><Meta><Type${MI}>q</Type></Meta><Data>where</Data></Search>`);
    expect(parse(serialize(m, { encoding: 'wbxml' }))).toEqual(m);
  });
});

describe('code pages, namespaces and WBXML bytes', () => {
  const m = message([{ kind: 'Alert', cmdId: '1', code: 1201, items: [] }]);

  it('a 1.2 message: public ID 0x1201, SYNCML:SYNCML1.2, empty elements cost one byte', () => {
    const b = serialize(m, { encoding: 'wbxml' });
    expect(Array.from(b.subarray(0, 8))).toEqual([0x02, 0xa4, 0x01, 0x6a, 0x00, 0x6d, 0x6c, 0x71]);
    expect(b[b.length - 3]).toBe(0x12); // Final: 0x12 without content, then END END
    expect(xml(m).startsWith('<SyncML xmlns="SYNCML:SYNCML1.2">')).toBe(true);
  });

  it('VerDTD 1.1 and 1.0 pick the SyncML 1.1 / 1.0 code pages and namespace', () => {
    const m11 = message(m.body.commands, { verDTD: '1.1', verProto: 'DM/1.1' });
    expect(Array.from(serialize(m11, { encoding: 'wbxml' }).subarray(1, 3))).toEqual([0x9f, 0x53]);
    expect(xml(m11).startsWith('<SyncML xmlns="SYNCML:SYNCML1.1">')).toBe(true);
    const m10 = message(m.body.commands, { verDTD: '1.0', verProto: 'SyncML/1.0' });
    expect(Array.from(serialize(m10, { encoding: 'wbxml' }).subarray(1, 3))).toEqual([0x9f, 0x51]);
    expect(xml(m10).startsWith('<SyncML xmlns="SYNCML:SYNCML1.0">')).toBe(true);
  });

  it('a 1.2-only element in a 1.1 message is written as a literal (WBXML) and still reads back tolerantly', () => {
    const m11 = message([{ kind: 'Exec', cmdId: '1', correlator: 'c', items: [{ target: { locUri: './x' } }] }], { verDTD: '1.1' });
    const b = serialize(m11, { encoding: 'wbxml' });
    const r = parseMessage(b, { strict: false });
    expect(r.message.body.commands[0].unknown?.[0]).toMatchObject({ name: 'Correlator', children: ['c'] });
  });

  it('wbxmlVersion and string table options', () => {
    const long = message([{ kind: 'Replace', cmdId: '1', items: [1, 2, 3].map((i) => ({ target: { locUri: './Vendor/Example/Same/Long/Path' }, data: String(i) })) }]);
    for (const [v, byte] of [['1.1', 1], ['1.2', 2], ['1.3', 3]] as const) expect(serialize(long, { encoding: 'wbxml', wbxmlVersion: v })[0]).toBe(byte);
    const plain = serialize(long, { encoding: 'wbxml' });
    const table = serialize(long, { encoding: 'wbxml', stringTable: true });
    expect(table[4]).toBeGreaterThan(0); // string table length
    expect(table.length).toBeLessThan(plain.length);
    expect(parse(table)).toEqual(parse(plain));
  });

  it('XML options: declaration, DOCTYPE, indentation as wbxmlToXml writes them', () => {
    const opts = { encoding: 'xml', indent: true, doctype: true } as const;
    const s = serialize(m, opts);
    expect(s.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE SyncML PUBLIC "-//SYNCML//DTD SyncML 1.2//EN"')).toBe(true);
    expect(s).toContain('\n  <SyncHdr>\n    <VerDTD>1.2</VerDTD>');
    expect(s).toBe(wbxmlToXml(serialize(m, { encoding: 'wbxml' }), { indent: true }));
    expect(serialize(m, { encoding: 'xml', indent: 4 })).toContain('\n    <SyncHdr>');
  });

  it('serializeToBytes returns UTF-8 for XML and the same bytes for WBXML', () => {
    expect(new TextDecoder().decode(serializeToBytes(m, { encoding: 'xml' }))).toBe(serialize(m, { encoding: 'xml' }));
    expect(serializeToBytes(m, { encoding: 'wbxml' })).toEqual(serialize(m, { encoding: 'wbxml' }));
  });
});

describe('Data', () => {
  const rep = (item: Item, meta?: Meta): SyncML => message([{ kind: 'Replace', cmdId: '1', meta, items: [item] }], {}, false);

  it('text is STR_I / escaped XML text, never trimmed', () => {
    const m = rep({ data: ' a<b & c]]>\r\n ' });
    expect(bodyOf(m)).toContain('<Data> a&lt;b &amp; c]]&gt;&#13;\n </Data>');
    expect(parse(xml(m))).toEqual(m);
    expect(parse(serialize(m, { encoding: 'wbxml' }))).toEqual(m);
  });

  it('bytes are OPAQUE in WBXML; in XML CDATA when they are text, else base64 with the governing Format switched to b64', () => {
    const textBytes = new TextEncoder().encode('line1\r\nline2 ]]> end');
    const m = rep({ data: textBytes });
    const b = serialize(m, { encoding: 'wbxml' });
    expect(Array.from(b)).toEqual(expect.arrayContaining([0xc3, textBytes.length]));
    expect((parse(b).body.commands[0] as Replace).items[0].data).toEqual(textBytes);
    expect(bodyOf(m)).toContain('<Data><![CDATA[line1]]>&#13;<![CDATA[\nline2 ]]]]><![CDATA[> end]]></Data>');
    expect((parse(xml(m)).body.commands[0] as Replace).items[0].data).toBe('line1\r\nline2 ]]> end');

    const bin = new Uint8Array([0, 1, 2, 0xff, 0xfe]);
    const own = rep({ data: bin, meta: { format: 'bin' } });
    expect(bodyOf(own)).toContain(`<Meta><Format${MI}>b64</Format></Meta><Data>${toBase64(bin)}</Data>`);
    const fromCmd = rep({ data: bin }, { format: 'bin', type: 'application/octet-stream' });
    expect(bodyOf(fromCmd)).toContain(`<Meta><Format${MI}>b64</Format><Type${MI}>application/octet-stream</Type></Meta>`);
    const other = rep({ data: bin, meta: { format: 'chr' } }, { format: 'bin' });
    expect(bodyOf(other)).toContain(`<Format${MI}>bin</Format>`);
    for (const x of [own, fromCmd, other]) expect(xml(x)).toBe(wbxmlToXml(serialize(x, { encoding: 'wbxml' }), { xmlDeclaration: false, doctype: false }));
  });

  it('a binary NextNonce is base64 in XML (its Format is left alone, as wbxmlToXml does)', () => {
    const m = message([{ kind: 'Status', cmdId: '1', msgRef: '1', cmdRef: '0', cmd: 'SyncHdr', code: 401, chal: { meta: { format: 'bin', type: 'syncml:auth-md5', nextNonce: new Uint8Array([0, 9, 0xff]) } } }]);
    expect(bodyOf(m)).toContain(`<Format${MI}>bin</Format><Type${MI}>syncml:auth-md5</Type><NextNonce${MI}>AAn/</NextNonce>`);
    expect(xml(m)).toBe(wbxmlToXml(serialize(m, { encoding: 'wbxml' }), { xmlDeclaration: false, doctype: false }));
    expect((parse(serialize(m, { encoding: 'wbxml' })).body.commands[0] as Status).chal?.meta.nextNonce).toEqual(new Uint8Array([0, 9, 0xff]));
  });

  it('DevInf and MgmtTree: nested WBXML documents under a +wbxml Type; inline elements under a +xml Type', () => {
    const devInf: DevInf = { kind: 'DevInf', verDTD: '1.2', devId: 'D', devTyp: 'phone', dataStores: [], ctCaps: [], exts: [] };
    const tree: MgmtTree = { kind: 'MgmtTree', verDTD: '1.2', nodes: [{ nodeName: 'A', children: [], value: '1' }] };
    const m = message([
      { kind: 'Put', cmdId: '1', meta: { type: 'application/vnd.syncml-devinf+xml' }, items: [{ source: { locUri: './devinf12' }, data: devInf }] },
      { kind: 'Add', cmdId: '2', items: [{ target: { locUri: './A' }, meta: { format: 'xml', type: 'application/vnd.syncml.dmtnds+wbxml' }, data: tree }] },
    ]);
    const b = serialize(m, { encoding: 'wbxml' });
    const latin = new TextDecoder('latin1').decode(b);
    expect(latin).toContain('application/vnd.syncml-devinf+wbxml');
    expect(latin).toContain('application/vnd.syncml.dmtnds+wbxml');
    expect(latin).toContain('-//OMA//DTD-DM-DDF 1.2//EN');
    const s = xml(m);
    expect(s).toContain('<Data><DevInf xmlns="syncml:devinf"><VerDTD>1.2</VerDTD><DevID>D</DevID><DevTyp>phone</DevTyp></DevInf></Data>');
    expect(s).toContain(`<Type${MI}>application/vnd.syncml.dmtnds+xml</Type></Meta><Data><MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD><Node><NodeName>A</NodeName><Value>1</Value></Node></MgmtTree></Data>`);
    // The parsed model reports the Type in its +xml spelling.
    const back = parse(b);
    expect(back.body.commands[1]).toMatchObject({ items: [{ meta: { type: 'application/vnd.syncml.dmtnds+xml' }, data: { kind: 'MgmtTree' } }] });
    expect(parse(s)).toEqual(back);
  });

  it('a DevInf without a Type announcing it cannot be written as WBXML', () => {
    const devInf: DevInf = { kind: 'DevInf', verDTD: '1.2', devId: 'D', devTyp: 'phone', dataStores: [], ctCaps: [], exts: [] };
    const e = caught(() => serialize(rep({ data: devInf, meta: { type: 'text/plain' } }), { encoding: 'wbxml' }));
    expect([e.code, e.path]).toEqual(['INVALID_ARGUMENT', 'SyncBody/Replace[1]/Item[1]']);
    expect(caught(() => serialize(rep({ data: devInf }), { encoding: 'wbxml' })).path).toBe('SyncBody/Replace[1]');
  });
});

describe('unknown elements and Results.cmd are written back', () => {
  it('known names get their token, unknown names a literal with their namespace', () => {
    const m = message([{
      kind: 'Get', cmdId: '1', items: [{
        target: { locUri: './x' },
        unknown: [
          { name: 'LocURI', children: ['./misplaced'] },
          { name: 'Extra', namespace: 'urn:vendor', attributes: { level: '2' }, children: ['v', { name: 'Inner', namespace: 'urn:vendor', children: [] }] },
        ],
      }],
    }]);
    const s = bodyOf(m);
    expect(s).toContain('<LocURI>./misplaced</LocURI><Extra xmlns="urn:vendor" level="2">v<Inner/></Extra></Item>');
    const b = serialize(m, { encoding: 'wbxml' });
    expect(wbxmlToXml(b, { xmlDeclaration: false, doctype: false })).toBe(xml(m));
    for (const input of [b, xml(m)]) {
      const r = parseMessage(input, { strict: false });
      expect(r.message).toEqual(m);
      expect(r.warnings.map((w) => w.code)).toEqual(['UNEXPECTED_ELEMENT', 'UNKNOWN_ELEMENT']);
    }
  });
});

describe('invalid values: SyncMLError INVALID_ARGUMENT with the path', () => {
  const ok = message([{ kind: 'Status', cmdId: '1', msgRef: '1', cmdRef: '0', cmd: 'SyncHdr', code: 200 }]);

  it('numbers, strings, commands', () => {
    const cases: [SyncML, string][] = [
      [message([{ ...(ok.body.commands[0] as Status), code: NaN }]), 'SyncBody/Status[1]'],
      [message([{ kind: 'Replace', cmdId: '1', items: [{ meta: { size: -1 } }] }]), 'SyncBody/Replace[1]/Item[1]'],
      [message([{ kind: 'Replace', cmdId: 1 as unknown as string, items: [] }]), 'SyncBody/Replace[1]'],
      [message([{ kind: 'Nope' } as unknown as Command]), 'SyncBody/Nope[1]'],
      [{ ...ok, header: { ...HDR, target: undefined as never } }, 'SyncHdr'],
    ];
    for (const [m, path] of cases) {
      for (const encoding of ['wbxml', 'xml'] as const) {
        const e = caught(() => serialize(m, { encoding }));
        expect([e.code, e.path]).toEqual(['INVALID_ARGUMENT', path]);
      }
    }
  });

  it('characters an encoding cannot carry', () => {
    const nul = message([{ kind: 'Replace', cmdId: '1', items: [{ data: 'a\u0000b' }] }]);
    expect(caught(() => serialize(nul, { encoding: 'wbxml' })).path).toBe('SyncBody/Replace[1]/Item[1]');
    const ctl = message([{ kind: 'Replace', cmdId: '1', items: [{ data: 'a\u0001b' }] }]);
    expect(caught(() => serialize(ctl, { encoding: 'xml' })).code).toBe('INVALID_ARGUMENT');
    expect(parse(serialize(ctl, { encoding: 'wbxml' }))).toEqual(ctl); // WBXML carries it
  });

  it('bad options and non-messages', () => {
    expect(caught(() => serialize(ok, { encoding: 'json' } as never)).code).toBe('INVALID_ARGUMENT');
    expect(caught(() => serialize(ok, { encoding: 'wbxml', wbxmlVersion: '2.0' as never })).code).toBe('INVALID_ARGUMENT');
    expect(caught(() => serialize(null as never, { encoding: 'xml' })).code).toBe('INVALID_ARGUMENT');
    expect(caught(() => serializeDevInf(null as never, { encoding: 'xml' })).code).toBe('INVALID_ARGUMENT');
    expect(caught(() => serializeMgmtTree({ kind: 'MgmtTree', verDTD: '1.2', nodes: [{ nodeName: 'a', children: [], dfProperties: { accessType: [], dfFormat: 'text' as never, dfType: { mime: 'x' } } }] }, { encoding: 'wbxml' })).code).toBe('INVALID_ARGUMENT');
  });
});
