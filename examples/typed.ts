// Typed SyncML: parse either encoding, answer with builders, write either encoding.
import { MessageBuilder, StatusCode, answer, parse, serialize, type SyncML } from 'syncml-dm/syncml';

const pkg1: SyncML = parse(`<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>
  <SessionID>4F2A</SessionID><MsgID>1</MsgID><Target><LocURI>https://dm.example.net/</LocURI></Target>
  <Source><LocURI>IMEI:356938035643809</LocURI></Source></SyncHdr><SyncBody>
  <Alert><CmdID>1</CmdID><Data>1201</Data></Alert>
  <Replace><CmdID>2</CmdID><Item><Source><LocURI>./DevInfo/Mod</LocURI></Source><Data>Phone 1</Data></Item></Replace>
  <Final/></SyncBody></SyncML>`);

for (const c of pkg1.body.commands) console.log(c.kind, c.cmdId);

// Package 2: a Status for the SyncHdr first, one per command, then a Get.
const reply = new MessageBuilder({
  verDTD: '1.2', verProto: 'DM/1.2', sessionId: pkg1.header.sessionId, msgId: '1',
  target: { locUri: pkg1.header.source.locUri }, source: { locUri: pkg1.header.target.locUri },
});
for (const s of answer(pkg1, () => StatusCode.OK, StatusCode.AUTHENTICATION_ACCEPTED)) reply.add(s);
reply.add({ kind: 'Get', cmdId: '', items: [{ target: { locUri: './DevDetail/SwV' } }] });
reply.final();

const bytes = serialize(reply.build(), { encoding: 'wbxml' });
console.log(bytes.length, 'bytes of WBXML');
console.log(serialize(parse(bytes), { encoding: 'xml', indent: true }));
