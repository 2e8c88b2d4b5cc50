/**
 * Strict mode enforces the DTD content models (one test per rule); tolerant mode accepts what
 * real clients send, with a warning per defect, and never throws on well-formed input.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import {
  parse, parseMessage, parseMgmtTree, serialize, isSyncMLError, type SyncMLError, type Results, type Status,
  type Alert, type Replace, type Atomic, type Get,
} from '../src/syncml/index.js';
import { fixtureText } from './helpers.js';
import { xmlToWbxml } from '../src/wbxml/from-xml.js';

const HDR = '<VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>'
  + '<Target><LocURI>http://s.test/dm</LocURI></Target><Source><LocURI>IMEI:1</LocURI></Source>';

/** A DM 1.2 message around `body`, with `hdr` as the SyncHdr content. */
function msg(body: string, hdr = HDR, root = '<SyncML xmlns="SYNCML:SYNCML1.2">'): string {
  return `${root}<SyncHdr>${hdr}</SyncHdr><SyncBody>${body}</SyncBody></SyncML>`;
}

/** MetInf children with their namespace. */
function metinf(inner: string): string {
  return `<Meta>${inner.replace(/<(\w+)>/g, '<$1 xmlns="syncml:metinf">')}</Meta>`;
}

const STATUS = '<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>';
const GET = '<Get><CmdID>2</CmdID><Item><Target><LocURI>./DevDetail</LocURI></Target></Item></Get>';

function strictError(xml: string): SyncMLError {
  try {
    parse(xml);
  } catch (e) {
    expect(isSyncMLError(e)).toBe(true);
    return e as SyncMLError;
  }
  throw new Error('strict parse accepted the message');
}

/** Strict refuses with `code` at `path`; tolerant accepts with a warning of `warn` at `path`. */
function rule(xml: string, code: string, path: string, warn: string = code): ReturnType<typeof parseMessage> {
  const e = strictError(xml);
  expect([e.code, e.path]).toEqual([code, path]);
  expect(e.message).toContain(path);
  // The WBXML form fails the same way (paths come from the document, not the encoding).
  const tolerant = parseMessage(xml, { strict: false });
  expect(tolerant.warnings.map((w) => [w.code, w.path])).toContainEqual([warn, path]);
  return tolerant;
}

describe('strict: missing required elements', () => {
  it('SyncHdr without MsgID', () => {
    const r = rule(msg(STATUS, HDR.replace('<MsgID>1</MsgID>', '')), 'MISSING_ELEMENT', 'SyncHdr');
    expect(r.message.header.msgId).toBe('');
  });

  it('SyncHdr without Target or Source', () => {
    rule(msg(STATUS, HDR.replace(/<Target>.*<\/Target>/, '')), 'MISSING_ELEMENT', 'SyncHdr');
  });

  it('Status without CmdRef, Cmd or Data', () => {
    for (const drop of ['<CmdRef>0</CmdRef>', '<Cmd>SyncHdr</Cmd>', '<Data>200</Data>', '<MsgRef>1</MsgRef>']) {
      const e = strictError(msg(STATUS.replace(drop, '')));
      expect([e.code, e.path]).toEqual(['MISSING_ELEMENT', 'SyncBody/Status[1]']);
      expect(e.message).toContain(drop.slice(1, drop.indexOf('>')));
    }
  });

  it('a command without CmdID (tolerant: cmdId empty)', () => {
    const r = rule(msg(STATUS + GET.replace('<CmdID>2</CmdID>', '')), 'MISSING_ELEMENT', 'SyncBody/Get[1]');
    expect(r.message.body.commands[1].cmdId).toBe('');
  });

  it('an Add without Item', () => {
    rule(msg(STATUS + '<Add><CmdID>2</CmdID></Add>'), 'MISSING_ELEMENT', 'SyncBody/Add[1]');
  });

  it('an Alert without Data (the DM RepPro needs the code)', () => {
    rule(msg('<Alert><CmdID>1</CmdID></Alert>'), 'MISSING_ELEMENT', 'SyncBody/Alert[1]');
  });

  it('Results without CmdRef or Item', () => {
    rule(msg(STATUS + '<Results><CmdID>2</CmdID><MsgRef>1</MsgRef><Item><Data>x</Data></Item></Results>'), 'MISSING_ELEMENT', 'SyncBody/Results[1]');
    rule(msg(STATUS + '<Results><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>2</CmdRef></Results>'), 'MISSING_ELEMENT', 'SyncBody/Results[1]');
  });

  it('Target without LocURI, Chal without Meta, Cred without Data, Anchor without Next, Mem without FreeID', () => {
    rule(msg(STATUS + '<Get><CmdID>2</CmdID><Item><Target><LocName>x</LocName></Target></Item></Get>'), 'MISSING_ELEMENT', 'SyncBody/Get[1]/Item[1]/Target');
    rule(msg(STATUS.replace('<Data>', '<Chal></Chal><Data>')), 'MISSING_ELEMENT', 'SyncBody/Status[1]/Chal');
    rule(msg(STATUS, HDR + '<Cred><Meta/></Cred>'), 'MISSING_ELEMENT', 'SyncHdr/Cred');
    rule(msg(STATUS, HDR + metinf('<Anchor><Last>1</Last></Anchor>')), 'MISSING_ELEMENT', 'SyncHdr/Meta/Anchor');
    rule(msg(STATUS, HDR + metinf('<Mem><FreeMem>10</FreeMem></Mem>')), 'MISSING_ELEMENT', 'SyncHdr/Meta/Mem');
  });

  it('a SyncBody without commands, a message without SyncBody', () => {
    rule(msg('<Final/>'), 'MISSING_ELEMENT', 'SyncBody');
    rule(`<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr>${HDR}</SyncHdr></SyncML>`, 'MISSING_ELEMENT', 'SyncML');
  });

  it('an Atomic without commands', () => {
    rule(msg(STATUS + '<Atomic><CmdID>2</CmdID></Atomic>'), 'MISSING_ELEMENT', 'SyncBody/Atomic[1]');
  });
});

describe('strict: elements not allowed where they are', () => {
  it('Cmd in Results (tolerant keeps it in results.cmd)', () => {
    const r = rule(msg(STATUS + '<Results><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>2</CmdRef><Cmd>Get</Cmd><Item><Data>x</Data></Item></Results>'),
      'UNEXPECTED_ELEMENT', 'SyncBody/Results[1]/Cmd');
    expect((r.message.body.commands[1] as Results).cmd).toBe('Get');
  });

  it('a known element in the wrong parent is kept as unknown', () => {
    const r = rule(msg(STATUS + '<Get><CmdID>2</CmdID><Item><LocURI>./x</LocURI><Target><LocURI>./y</LocURI></Target></Item></Get>'),
      'UNEXPECTED_ELEMENT', 'SyncBody/Get[1]/Item[1]/LocURI');
    expect((r.message.body.commands[1] as Get).items[0].unknown).toEqual([{ name: 'LocURI', namespace: undefined, attributes: undefined, children: ['./x'] }]);
  });

  it('Atomic holds commands the DTD lists (Get and Exec included: the DM layer answers 500), not Status, Results, Put, Search', () => {
    const ok = parse(msg(STATUS + `<Atomic><CmdID>2</CmdID>${GET.replace('<CmdID>2', '<CmdID>3')}<Exec><CmdID>4</CmdID><Item><Target><LocURI>./x</LocURI></Target></Item></Exec></Atomic>`));
    expect((ok.body.commands[1] as Atomic).commands.map((c) => c.kind)).toEqual(['Get', 'Exec']);
    rule(msg(STATUS + `<Atomic><CmdID>2</CmdID>${STATUS.replace('<CmdID>1', '<CmdID>3')}</Atomic>`), 'UNEXPECTED_ELEMENT', 'SyncBody/Atomic[1]/Status[1]');
    rule(msg(STATUS + '<Sequence><CmdID>2</CmdID><Put><CmdID>3</CmdID><Item><Data>x</Data></Item></Put></Sequence>'), 'UNEXPECTED_ELEMENT', 'SyncBody/Sequence[1]/Put[1]');
  });

  it('an element no code page defines', () => {
    const r = rule(msg(STATUS + '<Get><CmdID>2</CmdID><Item><Target><LocURI>./x</LocURI></Target><Priority>1</Priority></Item></Get>'),
      'UNKNOWN_ELEMENT', 'SyncBody/Get[1]/Item[1]/Priority');
    expect((r.message.body.commands[1] as Get).items[0].unknown?.[0].name).toBe('Priority');
  });

  it('an element in a foreign namespace', () => {
    rule(msg(STATUS + '<x:Note xmlns:x="urn:example">hi</x:Note>'), 'UNKNOWN_ELEMENT', 'SyncBody/Note');
  });

  it('a SyncML name in a namespace that is not SyncML (the syncml:metinfo typo)', () => {
    const r = rule(msg(STATUS, HDR + '<Meta><MaxMsgSize xmlns="syncml:metinfo">100</MaxMsgSize></Meta>'), 'UNKNOWN_ELEMENT', 'SyncHdr/Meta/MaxMsgSize', 'UNKNOWN_NAMESPACE');
    expect(r.message.header.meta?.maxMsgSize).toBe(100);
  });

  it('attributes on SyncML elements (MS-MDM msft:originalerror)', () => {
    const r = rule(msg(STATUS.replace('<Data>', '<Data xmlns:msft="urn:msft" msft:originalerror="0x86000002">')),
      'UNEXPECTED_ELEMENT', 'SyncBody/Status[1]/Data', 'IGNORED_ATTRIBUTE');
    expect((r.message.body.commands[0] as Status).code).toBe(200);
  });

  it('text where the DTD has only elements', () => {
    rule(msg(STATUS.replace('<CmdID>', 'stray<CmdID>')), 'UNEXPECTED_ELEMENT', 'SyncBody/Status[1]', 'IGNORED_CONTENT');
  });

  it('content in an EMPTY element', () => {
    const r = rule(msg(STATUS + '<Final>yes</Final>'), 'BAD_VALUE', 'SyncBody/Final', 'IGNORED_CONTENT');
    expect(r.message.body.final).toBe(true);
  });
});

describe('strict: singletons and order', () => {
  it('two MsgID', () => {
    const r = rule(msg(STATUS, HDR.replace('<MsgID>1</MsgID>', '<MsgID>1</MsgID><MsgID>2</MsgID>')), 'DUPLICATE_ELEMENT', 'SyncHdr/MsgID[2]');
    expect(r.message.header.msgId).toBe('1');
  });

  it('Exec with more than one Item', () => {
    const item = '<Item><Target><LocURI>./x</LocURI></Target></Item>';
    const r = rule(msg(STATUS + `<Exec><CmdID>2</CmdID>${item}${item}</Exec>`), 'DUPLICATE_ELEMENT', 'SyncBody/Exec[1]/Item[2]');
    expect(r.message.body.commands[1]).toMatchObject({ kind: 'Exec', items: [{}, {}] });
  });

  it('SyncHdr children out of DTD order', () => {
    const swapped = HDR.replace('<SessionID>1</SessionID><MsgID>1</MsgID>', '<MsgID>1</MsgID><SessionID>1</SessionID>');
    const r = rule(msg(STATUS, swapped), 'ELEMENT_ORDER', 'SyncHdr/SessionID');
    expect(r.message.header).toMatchObject({ sessionId: '1', msgId: '1' });
  });

  it('Item children out of DTD order (Data before Meta)', () => {
    rule(msg(STATUS + `<Replace><CmdID>2</CmdID><Item><Target><LocURI>./x</LocURI></Target><Data>1</Data>${metinf('<Format>int</Format>')}</Item></Replace>`),
      'ELEMENT_ORDER', 'SyncBody/Replace[1]/Item[1]/Meta');
  });

  it('MetInf children out of MetInf 1.2 DTD order (Type before Format)', () => {
    rule(msg(STATUS, HDR + metinf('<Type>text/plain</Type><Format>chr</Format>')), 'ELEMENT_ORDER', 'SyncHdr/Meta/Format');
  });

  it('a command after Final', () => {
    rule(msg(STATUS + '<Final/>' + GET), 'ELEMENT_ORDER', 'SyncBody/Get[1]');
  });
});

describe('strict: values', () => {
  it('non-integer numbers', () => {
    const r = rule(msg(STATUS, HDR + metinf('<MaxMsgSize>10k</MaxMsgSize>')), 'BAD_VALUE', 'SyncHdr/Meta/MaxMsgSize');
    expect(r.message.header.meta?.maxMsgSize).toBeUndefined();
    rule(msg(STATUS.replace('<Data>200', '<Data>2OO')), 'BAD_VALUE', 'SyncBody/Status[1]/Data');
    rule(msg('<Alert><CmdID>1</CmdID><Data>-1201</Data></Alert>'), 'BAD_VALUE', 'SyncBody/Alert[1]/Data');
    rule(msg(STATUS + `<Replace><CmdID>2</CmdID><Item>${metinf('<Size>1.5</Size>')}<Data>x</Data></Item></Replace>`), 'BAD_VALUE', 'SyncBody/Replace[1]/Item[1]/Meta/Size');
  });

  it('an empty CmdID', () => {
    const r = rule(msg(STATUS + GET.replace('<CmdID>2</CmdID>', '<CmdID/>')), 'BAD_VALUE', 'SyncBody/Get[1]');
    expect(r.message.body.commands[1].cmdId).toBe('');
  });

  it('an empty MsgID', () => {
    rule(msg(STATUS, HDR.replace('<MsgID>1</MsgID>', '<MsgID></MsgID>')), 'BAD_VALUE', 'SyncHdr');
  });

  it('padded identifiers, codes and Type (tolerant trims them; Data is never trimmed)', () => {
    const r = rule(msg(STATUS.replace('<CmdRef>0</CmdRef>', '<CmdRef> 0 </CmdRef>')), 'BAD_VALUE', 'SyncBody/Status[1]/CmdRef', 'PADDED_VALUE');
    expect((r.message.body.commands[0] as Status).cmdRef).toBe('0');
    const t = rule(msg(STATUS + `<Replace><CmdID>2</CmdID><Item>${metinf('<Type>\n text/plain\n</Type>')}<Data> v </Data></Item></Replace>`),
      'BAD_VALUE', 'SyncBody/Replace[1]/Item[1]/Meta/Type', 'PADDED_VALUE');
    expect((t.message.body.commands[1] as Replace).items[0]).toMatchObject({ meta: { type: 'text/plain' }, data: ' v ' });
    rule(msg(STATUS.replace('<Data>200', '<Data> 200')), 'BAD_VALUE', 'SyncBody/Status[1]/Data', 'PADDED_VALUE');
  });

  it('a declared SyncML version that differs from VerDTD (SYNCML1.1 namespace on a DM 1.2 body)', () => {
    rule(msg(STATUS, HDR, '<SyncML xmlns="SYNCML:SYNCML1.1">'), 'BAD_VALUE', 'SyncHdr/VerDTD', 'VERSION_MISMATCH');
    const wbxml = serialize(parse(msg(STATUS)), { encoding: 'wbxml' });
    wbxml[1] = 0x9f; // SyncML 1.1 public ID 0x0FD3 on a 1.2 message
    wbxml[2] = 0x53;
    const e = strictError(wbxml as unknown as string);
    expect([e.code, e.path]).toEqual(['BAD_VALUE', 'SyncHdr/VerDTD']);
  });
});

describe('strict: embedded documents', () => {
  const put = (devInf: string): string => msg(STATUS + `<Put><CmdID>2</CmdID>${metinf('<Type>application/vnd.syncml-devinf+xml</Type>')}<Item><Source><LocURI>./devinf12</LocURI></Source><Data>${devInf}</Data></Item></Put>`);

  it('DevInf without DevID, in XML and in WBXML (the path goes through Data)', () => {
    const xml = put('<DevInf xmlns="syncml:devinf"><VerDTD>1.2</VerDTD><DevTyp>phone</DevTyp></DevInf>');
    rule(xml, 'MISSING_ELEMENT', 'SyncBody/Put[1]/Item[1]/Data/DevInf');
    const e = strictError(xmlToWbxml(xml) as unknown as string);
    expect([e.code, e.path]).toEqual(['MISSING_ELEMENT', 'SyncBody/Put[1]/Item[1]/Data/DevInf']);
  });

  it('DataStore children out of order', () => {
    rule(put('<DevInf xmlns="syncml:devinf"><VerDTD>1.2</VerDTD><DevID>1</DevID><DevTyp>phone</DevTyp><DataStore><DisplayName>c</DisplayName><SourceRef>./c</SourceRef>'
      + '<Rx-Pref><CTType>a</CTType><VerCT>1</VerCT></Rx-Pref><Tx-Pref><CTType>a</CTType><VerCT>1</VerCT></Tx-Pref></DataStore></DevInf>'),
    'ELEMENT_ORDER', 'SyncBody/Put[1]/Item[1]/Data/DevInf/DataStore[1]/SourceRef[1]');
  });

  it('DDF: DFProperties without DFFormat; two formats; an occurrence bound out of range', () => {
    const tree = (df: string): string => `<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD><Node><NodeName>A</NodeName><DFProperties>${df}</DFProperties></Node></MgmtTree>`;
    const e = (x: string): SyncMLError => { try { parseMgmtTree(x); } catch (err) { return err as SyncMLError; } throw new Error('accepted'); };
    expect([e(tree('<AccessType><Get/></AccessType><DFType><MIME>text/plain</MIME></DFType>')).code, e(tree('<AccessType/><DFType><MIME>x</MIME></DFType>')).path])
      .toEqual(['MISSING_ELEMENT', 'Node[1]/DFProperties']);
    expect(e(tree('<AccessType/><DFFormat><chr/><int/></DFFormat><DFType><MIME>x</MIME></DFType>')).code).toBe('DUPLICATE_ELEMENT');
    expect(e(tree('<AccessType/><DFFormat><chr/></DFFormat><Occurrence><ZeroOrN>1</ZeroOrN></Occurrence><DFType><MIME>x</MIME></DFType>')).code).toBe('BAD_VALUE');
    const t = parseMgmtTree(tree('<AccessType><Get/></AccessType><DFType><MIME>text/plain</MIME></DFType>'), { strict: false });
    expect(t.nodes[0].dfProperties?.dfFormat).toBe('chr');
  });
});

describe('duplicate CmdIDs and Results without MsgRef: warnings in both modes', () => {
  it('warns, never throws', () => {
    const xml = msg(STATUS + GET.replace('<CmdID>2', '<CmdID>1') + '<Results><CmdID>3</CmdID><CmdRef>2</CmdRef><Item><Data>x</Data></Item></Results>');
    for (const strict of [true, false]) {
      const r = parseMessage(xml, { strict });
      expect(r.warnings.map((w) => [w.code, w.path])).toEqual([['DUPLICATE_CMD_ID', 'SyncBody/Get[1]'], ['MISSING_MSG_REF', 'SyncBody/Results[1]']]);
      expect((r.message.body.commands[2] as Results).msgRef).toBeUndefined();
    }
  });
});

describe('tolerant mode: the Windows-style defect fixture', () => {
  const xml = fixtureText(join('syncml', 'windows-defects.xml'));

  it('strict mode refuses it', () => {
    expect(strictError(xml).code).toBe('ELEMENT_ORDER');
  });

  it('tolerant mode reads it, with one warning per defect', () => {
    const { message: m, warnings } = parseMessage(xml, { strict: false });
    expect(warnings.map((w) => [w.code, w.path])).toEqual([
      ['ELEMENT_ORDER', 'SyncHdr/Target'],
      ['VERSION_MISMATCH', 'SyncHdr/VerDTD'],
      ['IGNORED_ATTRIBUTE', 'SyncBody/Status[2]/Data'],
      ['UNEXPECTED_ELEMENT', 'SyncBody/Results[1]/Cmd'],
      ['UNKNOWN_NAMESPACE', 'SyncBody/Results[1]/Item[1]/Meta/Format'],
      ['PADDED_VALUE', 'SyncBody/Results[1]/Item[1]/Meta/Type'],
      ['UNKNOWN_ELEMENT', 'SyncBody/Results[1]/Item[1]/Extra'],
      ['MISSING_MSG_REF', 'SyncBody/Results[1]'],
      ['DUPLICATE_CMD_ID', 'SyncBody/Status[3]'],
      ['ELEMENT_ORDER', 'SyncBody/Alert[1]/Item[1]/Meta/Format'],
      ['MISSING_ELEMENT', 'SyncBody/Replace[1]'],
    ]);
    for (const w of warnings) expect(w.message.length).toBeGreaterThan(10);
    expect(m.header).toMatchObject({ verDTD: '1.2', target: { locUri: 'https://mdm.example.test/omadm' }, source: { locUri: '{6F5DE1C5-0D8E-4C9B-8D6A-2A0C4D8A3E11}' } });
    const [, s2, results, , alert, replace] = m.body.commands as [Status, Status, Results, Status, Alert, Replace];
    expect(s2.code).toBe(404);
    expect(results).toMatchObject({ cmdId: '3', msgRef: undefined, cmdRef: '3', cmd: 'Get' });
    expect(results.items[0]).toMatchObject({
      source: { locUri: './ DevDetail/HwV' }, meta: { format: 'chr', type: 'text/plain' }, data: 'Surface Laptop 4',
      unknown: [{ name: 'Extra', namespace: 'http://schemas.microsoft.com/MobileDevice/MDM', children: ['kept'] }],
    });
    expect(alert.items[0].meta).toMatchObject({ type: 'com.microsoft:mdm.unenrollment.userrequest', format: 'int' });
    expect(replace).toMatchObject({ kind: 'Replace', cmdId: '' });
    expect(m.body.final).toBe(true);
  });

  it('tolerant mode only throws for input that is not well-formed', () => {
    const broken = xml.replace('</Results>', '');
    const e = (() => { try { parse(broken, { strict: false }); } catch (err) { return err as SyncMLError; } return undefined; })();
    expect(e?.code).toBe('BAD_DOCUMENT');
    // Structural defects never throw in tolerant mode.
    for (const x of [
      '<SyncML xmlns="SYNCML:SYNCML1.2"/>',
      '<SyncML><SyncBody/><SyncHdr/><SyncBody><Final/><Foo/></SyncBody></SyncML>',
      msg('<Status/><Alert/><Atomic/><Sequence/><Sync/><Map/><Search/><Results/><Exec/><Put/>'),
      msg('<Status><Chal/><Cred/><Item><Data><Foo/></Data></Item></Status>'),
    ]) {
      expect(() => parseMessage(x, { strict: false })).not.toThrow();
    }
  });
});
