// The WBXML codec: one call each way, the pull tokenizer, and the streaming writer.
import { TokenKind, WbxmlReader, WbxmlWriter, wbxmlToXml, xmlToWbxml } from 'syncml-dm/wbxml';

const xml = `<SyncML xmlns="SYNCML:SYNCML1.2">
  <SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>
    <Target><LocURI>https://dm.example.net/</LocURI></Target><Source><LocURI>IMEI:356938035643809</LocURI></Source>
  </SyncHdr>
  <SyncBody><Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Final/></SyncBody>
</SyncML>`;

const wbxml = xmlToWbxml(xml); // Uint8Array: 02 A4 01 6A 00 6D 6C …
console.log(wbxmlToXml(wbxml, { indent: true }));

// Tokens point into the bytes; nothing is decoded until asked.
const reader = new WbxmlReader(wbxml);
for (let k = reader.next(); k !== TokenKind.EOF; k = reader.next()) {
  if (k === TokenKind.START_TAG) console.log('<' + reader.tagName(), 'page', reader.page, 'depth', reader.depth);
  else if (k === TokenKind.TEXT) console.log('  text', JSON.stringify(reader.text()), 'at byte', reader.offset);
}

// Write WBXML directly: code pages switch lazily, empty elements cost one byte.
const w = new WbxmlWriter({ codePages: 'SyncML 1.2' });
w.start('SyncML').start('SyncBody').start('Final').end().end().end();
console.log(w.finish()); // 02 a4 01 6a 00 6d 6b 12 01 01
