// Deterministic corpus of OMA DM 1.2 messages for the benchmarks.
//
//   import { generateDmXml } from './corpus.mjs'
//   generateDmXml(65536, 1)          // -> string, about 65,536 bytes of UTF-8 XML
//
//   node bench/corpus.mjs OUTDIR     // writes dm-1k.xml, dm-64k.xml, dm-1m.xml
//
// Every message is SyncML 1.2 / VerProto DM/1.2, compact (no indentation
// whitespace): a SyncHdr with Cred (syncml:auth-md5, b64) and Meta
// MaxMsgSize/MaxObjSize, then a SyncBody holding a Status for the SyncHdr,
// a seeded random mix of Replace / Get / Status / Results / Add / Exec commands
// over ./DevInfo, ./DevDetail, ./FUMO/fw1, ./DMAcc/acc1 and a vendor subtree
// (base64 blobs, some of several hundred bytes), URLs with `&amp;`, a few
// non-ASCII values, and Final. The same (targetBytes, seed) always gives the
// same string, on every platform: the only randomness is the PRNG below.
//
// Sizes are sizes of the XML. Encoded as WBXML 1.2 without a string table
// (libwbxml `xml2wbxml -n -v 1.2`) the documents shrink to about 40-45%.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The corpus written by the CLI and by bench/run.mjs: name -> XML bytes. */
export const CORPUS = Object.freeze([
  { name: 'dm-1k', size: '1k', bytes: 1024 },
  { name: 'dm-64k', size: '64k', bytes: 65536 },
  { name: 'dm-1m', size: '1m', bytes: 1048576 },
]);

/** Seed used for every corpus file. */
export const DEFAULT_SEED = 0x0d4a1202;

// --- PRNG ------------------------------------------------------------------
// A 32-bit xorshift generator whose state is first scrambled by a
// multiply-xorshift mix so that small seeds (0, 1, 2) give unrelated streams.
// Only Math.imul and integer shifts: identical output on every JS engine.

function mix32(x) {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

class Rng {
  constructor(seed) {
    this.s = mix32((seed >>> 0) ^ 0x9e3779b9) || 0x6d2b79f5;
  }
  /** Next unsigned 32-bit value. */
  u32() {
    let s = this.s;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.s = s >>> 0;
    return this.s;
  }
  /** Integer in [lo, hi] (inclusive). */
  int(lo, hi) {
    return lo + (this.u32() % (hi - lo + 1));
  }
  /** One element of a non-empty array. */
  pick(arr) {
    return arr[this.u32() % arr.length];
  }
  /** true with probability p. */
  chance(p) {
    return this.u32() / 4294967296 < p;
  }
}

// --- vocabulary ----------------------------------------------------------------

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const HEX = '0123456789abcdef';

function base64Blob(rng, rawBytes) {
  // Base64 text of `rawBytes` random bytes, with correct padding.
  const full = Math.floor(rawBytes / 3);
  const rest = rawBytes % 3;
  let out = '';
  for (let i = 0; i < full * 4; i++) out += B64[rng.u32() & 63];
  if (rest === 1) out += B64[rng.u32() & 63] + B64[rng.u32() & 48] + '==';
  else if (rest === 2) out += B64[rng.u32() & 63] + B64[rng.u32() & 63] + B64[rng.u32() & 60] + '=';
  return out;
}

function hex(rng, n) {
  let out = '';
  for (let i = 0; i < n; i++) out += HEX[rng.u32() & 15];
  return out;
}

const SERVER_URL = 'https://dm.example.test/omadm?sid=7f3a&amp;ver=1.2';
const DEVICE_ID = 'IMEI:356938035643809';

const MANUFACTURERS = ['Example Manufacturer', 'Müller Telekom GmbH', 'Société Générale des Terminaux', 'ACME Devices'];
const MODELS = ['ExamplePhone 1', 'ExampleTab 10', 'Modem X2', 'スマートフォン Z'];
const LANGS = ['en-US', 'de-DE', 'fr-FR', 'ja-JP'];

/**
 * Leaf nodes: uri, the value generator, Meta (Format, Type) for the value.
 * `w` = relative weight in the random choice.
 */
const NODES = [
  { uri: './DevInfo/DevId', fmt: 'chr', type: 'text/plain', w: 2, val: () => DEVICE_ID },
  { uri: './DevInfo/Man', fmt: 'chr', type: 'text/plain', w: 2, val: (r) => r.pick(MANUFACTURERS) },
  { uri: './DevInfo/Mod', fmt: 'chr', type: 'text/plain', w: 2, val: (r) => r.pick(MODELS) },
  { uri: './DevInfo/DmV', fmt: 'chr', type: 'text/plain', w: 1, val: () => '1.2' },
  { uri: './DevInfo/Lang', fmt: 'chr', type: 'text/plain', w: 1, val: (r) => r.pick(LANGS) },
  { uri: './DevDetail/DevTyp', fmt: 'chr', type: 'text/plain', w: 1, val: (r) => r.pick(['phone', 'tablet', 'modem']) },
  { uri: './DevDetail/OEM', fmt: 'chr', type: 'text/plain', w: 1, val: (r) => r.pick(MANUFACTURERS) },
  { uri: './DevDetail/FwV', fmt: 'chr', type: 'text/plain', w: 2, val: (r) => `${r.int(1, 9)}.${r.int(0, 20)}.${r.int(0, 999)}` },
  { uri: './DevDetail/SwV', fmt: 'chr', type: 'text/plain', w: 2, val: (r) => `build-${hex(r, 8)}` },
  { uri: './DevDetail/HwV', fmt: 'chr', type: 'text/plain', w: 1, val: (r) => `rev${r.int(1, 9)}` },
  { uri: './DevDetail/LrgObj', fmt: 'bool', type: 'text/plain', w: 1, val: (r) => (r.chance(0.5) ? 'true' : 'false') },
  { uri: './DevDetail/URI/MaxDepth', fmt: 'int', type: 'text/plain', w: 1, val: (r) => String(r.int(0, 16)) },
  { uri: './DevDetail/URI/MaxTotLen', fmt: 'int', type: 'text/plain', w: 1, val: (r) => String(r.int(64, 1024)) },
  { uri: './DevDetail/URI/MaxSegLen', fmt: 'int', type: 'text/plain', w: 1, val: (r) => String(r.int(16, 256)) },
  { uri: './FUMO/fw1/PkgName', fmt: 'chr', type: 'text/plain', w: 1, val: (r) => `firmware-${hex(r, 6)}.bin` },
  { uri: './FUMO/fw1/PkgVersion', fmt: 'chr', type: 'text/plain', w: 1, val: (r) => `${r.int(1, 9)}.${r.int(0, 99)}` },
  {
    uri: './FUMO/fw1/Download/PkgURL', fmt: 'chr', type: 'text/plain', w: 2,
    val: (r) => `https://fw.example.test/pkg?id=${hex(r, 12)}&amp;model=${r.int(100, 999)}&amp;lang=${r.pick(LANGS)}`,
  },
  {
    uri: './FUMO/fw1/Update/PkgURL', fmt: 'chr', type: 'text/plain', w: 1,
    val: (r) => `https://fw.example.test/update?pkg=${r.int(1, 9999)}&amp;sig=${hex(r, 16)}`,
  },
  { uri: './FUMO/fw1/Update/PkgData', fmt: 'b64', type: 'application/octet-stream', w: 2, val: (r) => base64Blob(r, r.int(48, 480)) },
  { uri: './FUMO/fw1/State', fmt: 'int', type: 'text/plain', w: 1, val: (r) => String(r.pick([10, 20, 30, 40, 50, 60, 70, 80, 90, 100])) },
  { uri: './FUMO/fw1/Ext/Severity', fmt: 'int', type: 'text/plain', w: 1, val: (r) => String(r.int(1, 5)) },
  { uri: './DMAcc/acc1/AppID', fmt: 'chr', type: 'text/plain', w: 1, val: () => 'w7' },
  { uri: './DMAcc/acc1/ServerID', fmt: 'chr', type: 'text/plain', w: 1, val: (r) => `dm.example.test-${r.int(1, 99)}` },
  { uri: './DMAcc/acc1/Name', fmt: 'chr', type: 'text/plain', w: 1, val: (r) => r.pick(['Example DM server', 'Gestion à distance', 'Fernwartung Süd']) },
  { uri: './DMAcc/acc1/PrefConRef', fmt: 'chr', type: 'text/plain', w: 1, val: (r) => `./ConnMO/ap${r.int(1, 4)}` },
  { uri: './DMAcc/acc1/AppAddr/srv/Addr', fmt: 'chr', type: 'text/plain', w: 1, val: () => SERVER_URL },
  { uri: './DMAcc/acc1/AppAddr/srv/AddrType', fmt: 'chr', type: 'text/plain', w: 1, val: () => 'URI' },
  { uri: './DMAcc/acc1/AAuthPref', fmt: 'chr', type: 'text/plain', w: 1, val: (r) => r.pick(['DIGEST', 'BASIC', 'HMAC']) },
  { uri: './DMAcc/acc1/AppAuth/cli/AAuthName', fmt: 'chr', type: 'text/plain', w: 1, val: (r) => `dev-${hex(r, 10)}` },
  { uri: './DMAcc/acc1/AppAuth/cli/AAuthSecret', fmt: 'chr', type: 'text/plain', w: 1, val: (r) => base64Blob(r, 18) },
  { uri: './DMAcc/acc1/AppAuth/cli/AAuthData', fmt: 'b64', type: 'text/plain', w: 1, val: (r) => base64Blob(r, 16) },
  { uri: './Vendor/Example/Config/blob', fmt: 'b64', type: 'application/vnd.example.cfg', w: 2, val: (r) => base64Blob(r, r.int(64, 600)), indexed: true },
  { uri: './Vendor/Example/Log', fmt: 'chr', type: 'text/plain', w: 1, val: (r) => `boot ok; rssi=-${r.int(40, 110)}dBm; t=${r.int(0, 86399)}s`, indexed: true },
];

const NODE_TABLE = [];
for (const n of NODES) for (let i = 0; i < n.w; i++) NODE_TABLE.push(n);

const EXEC_TARGETS = ['./FUMO/fw1/DownloadAndUpdate', './FUMO/fw1/Download', './FUMO/fw1/Update', './Vendor/Example/Reboot'];
const STATUS_CODES = ['200', '200', '200', '200', '202', '404', '405', '406', '500'];
const CMD_NAMES = ['Replace', 'Get', 'Add', 'Exec', 'Delete'];

// --- element helpers -----------------------------------------------------------

const META = (fmt, type) =>
  `<Meta><Format xmlns="syncml:metinf">${fmt}</Format><Type xmlns="syncml:metinf">${type}</Type></Meta>`;

function nodeUri(rng, node) {
  return node.indexed ? `${node.uri}${rng.int(1, 64)}` : node.uri;
}

// --- generator ---------------------------------------------------------------

class DmWriter {
  constructor(rng) {
    this.rng = rng;
    this.cmdId = 1;
    this.msgRef = rng.int(1, 5);
  }

  head() {
    const r = this.rng;
    const sessionId = hex(r, 4).toUpperCase();
    return (
      '<?xml version="1.0" encoding="UTF-8"?>' +
      '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr>' +
      '<VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>' +
      `<SessionID>${sessionId}</SessionID><MsgID>${this.msgRef + 1}</MsgID>` +
      `<Target><LocURI>${DEVICE_ID}</LocURI></Target>` +
      `<Source><LocURI>${SERVER_URL}</LocURI><LocName>dmserver</LocName></Source>` +
      `<Cred>${META('b64', 'syncml:auth-md5')}<Data>${base64Blob(r, 16)}</Data></Cred>` +
      '<Meta><MaxMsgSize xmlns="syncml:metinf">' + r.pick([10000, 16384, 65536, 524288]) + '</MaxMsgSize>' +
      '<MaxObjSize xmlns="syncml:metinf">' + r.pick([524288, 1048576, 4194304]) + '</MaxObjSize></Meta>' +
      '</SyncHdr><SyncBody>' +
      `<Status><CmdID>${this.cmdId++}</CmdID><MsgRef>${this.msgRef}</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>` +
      `<TargetRef>${SERVER_URL}</TargetRef><SourceRef>${DEVICE_ID}</SourceRef><Data>212</Data></Status>`
    );
  }

  static tail() {
    return '<Final/></SyncBody></SyncML>';
  }

  command() {
    const r = this.rng;
    const k = r.u32() % 100;
    if (k < 28) return this.itemsCommand('Replace');
    if (k < 46) return this.get();
    if (k < 66) return this.status();
    if (k < 82) return this.results();
    if (k < 93) return this.itemsCommand('Add');
    return this.exec();
  }

  itemsCommand(name) {
    const r = this.rng;
    let s = `<${name}><CmdID>${this.cmdId++}</CmdID>`;
    const n = r.int(1, 2);
    for (let i = 0; i < n; i++) {
      const node = r.pick(NODE_TABLE);
      s += `<Item><Target><LocURI>${nodeUri(r, node)}</LocURI></Target>${META(node.fmt, node.type)}<Data>${node.val(r)}</Data></Item>`;
    }
    return s + `</${name}>`;
  }

  get() {
    const r = this.rng;
    let s = `<Get><CmdID>${this.cmdId++}</CmdID>`;
    const n = r.int(1, 3);
    for (let i = 0; i < n; i++) {
      const node = r.pick(NODE_TABLE);
      s += `<Item><Target><LocURI>${nodeUri(r, node)}</LocURI></Target></Item>`;
    }
    return s + '</Get>';
  }

  status() {
    const r = this.rng;
    const cmd = r.pick(CMD_NAMES);
    let s =
      `<Status><CmdID>${this.cmdId++}</CmdID><MsgRef>${this.msgRef}</MsgRef>` +
      `<CmdRef>${r.int(2, Math.max(2, this.cmdId + 40))}</CmdRef><Cmd>${cmd}</Cmd>`;
    if (cmd !== 'Exec' && r.chance(0.6)) s += `<TargetRef>${nodeUri(r, r.pick(NODE_TABLE))}</TargetRef>`;
    return s + `<Data>${r.pick(STATUS_CODES)}</Data></Status>`;
  }

  results() {
    const r = this.rng;
    let s =
      `<Results><CmdID>${this.cmdId++}</CmdID><MsgRef>${this.msgRef}</MsgRef>` +
      `<CmdRef>${r.int(2, Math.max(2, this.cmdId + 40))}</CmdRef>`;
    const n = r.int(1, 3);
    for (let i = 0; i < n; i++) {
      const node = r.pick(NODE_TABLE);
      s += `<Item><Source><LocURI>${nodeUri(r, node)}</LocURI></Source>${META(node.fmt, node.type)}<Data>${node.val(r)}</Data></Item>`;
    }
    return s + '</Results>';
  }

  exec() {
    const r = this.rng;
    let s = `<Exec><CmdID>${this.cmdId++}</CmdID>`;
    if (r.chance(0.5)) s += `<Correlator>${hex(r, 8)}</Correlator>`;
    s += `<Item><Target><LocURI>${r.pick(EXEC_TARGETS)}</LocURI></Target>`;
    if (r.chance(0.5)) s += `${META('chr', 'text/plain')}<Data>${r.pick(['now', 'silent', 'mode=1'])}</Data>`;
    return s + '</Item></Exec>';
  }
}

const utf8Length = (s) => Buffer.byteLength(s, 'utf8');

/**
 * A deterministic OMA DM 1.2 message whose UTF-8 length is close to
 * `targetBytes`: random commands are added while they fit; after 16
 * consecutive candidates that would overshoot, the smallest of them is added
 * if that lands closer to the target than stopping. So the result is within
 * about one command of the target, but never smaller than the fixed header,
 * Status for SyncHdr and Final (~870 bytes).
 *
 * @param {number} targetBytes wanted UTF-8 length of the XML
 * @param {number} [seed] PRNG seed (uint32); same seed + size -> same string
 * @returns {string}
 */
export function generateDmXml(targetBytes, seed = DEFAULT_SEED) {
  if (!Number.isFinite(targetBytes) || targetBytes < 0) throw new RangeError(`targetBytes must be >= 0, got ${targetBytes}`);
  const w = new DmWriter(new Rng(seed));
  const tail = DmWriter.tail();
  const parts = [w.head()];
  let len = utf8Length(parts[0]) + utf8Length(tail);
  let misses = 0;
  let best = null; // the overshooting candidate that overshoots least
  while (len < targetBytes && misses < 16) {
    const saved = w.cmdId;
    const cmd = w.command();
    const cl = utf8Length(cmd);
    if (len + cl <= targetBytes) {
      parts.push(cmd);
      len += cl;
      best = null;
      misses = 0;
    } else {
      if (best === null || cl < best.cl) best = { cmd, cl, next: w.cmdId };
      w.cmdId = saved; // drop it, keep CmdIDs dense
      misses++;
    }
  }
  // Gap not filled: add the smallest overshooting candidate if that lands closer.
  if (best !== null && len + best.cl - targetBytes < targetBytes - len) {
    parts.push(best.cmd);
    len += best.cl;
    w.cmdId = best.next;
  }
  parts.push(tail);
  return parts.join('');
}

/**
 * Writes the corpus files (dm-1k.xml, dm-64k.xml, dm-1m.xml) into `outDir`.
 * @returns {{name: string, size: string, path: string, xmlBytes: number}[]}
 */
export function writeCorpus(outDir, seed = DEFAULT_SEED) {
  mkdirSync(outDir, { recursive: true });
  return CORPUS.map(({ name, size, bytes }) => {
    const xml = generateDmXml(bytes, seed);
    const path = join(outDir, `${name}.xml`);
    writeFileSync(path, xml);
    return { name, size, path, xmlBytes: utf8Length(xml) };
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out || out === '-h' || out === '--help') {
    console.error('usage: node bench/corpus.mjs OUTDIR   (writes dm-1k.xml, dm-64k.xml, dm-1m.xml)');
    process.exit(out ? 0 : 2);
  }
  for (const f of writeCorpus(out)) console.log(`${f.path}\t${f.xmlBytes}`);
}
