// Runs ONE benchmark case of our codec in this process, so that the JIT
// feedback of one case never leaks into another (bench/run.mjs starts one
// process per case and file).
//
//   node bench/js-case.mjs <case> <file.xml> [--wbxml-from FILE.wbxml] [--quick]
//
// cases:
//   tokenize         WbxmlReader over the WBXML: reset(bytes), next() until 0
//   wbxml2xml        wbxmlToXml(bytes) -> string
//   xml2wbxml        xmlToWbxml(xmlText) -> Uint8Array
//   parse-typed      parse(bytes) from syncml -> typed message
//   serialize-typed  serialize(msg, { encoding: 'wbxml' }) of a message parsed once
//
// The WBXML input is xmlToWbxml(<file.xml>) unless --wbxml-from is given.
// The package is loaded from dist/ (override with BENCH_DIST=DIR). When a
// module or an export is missing, prints "skipped: <reason>" and exits 0.
//
// Output: one TSV line on stdout:
//   file  op  xml_bytes  wbxml_bytes  us_per_op  MBps_wbxml  ops_per_s  rme_pct  [commands  commands_per_s]
// us_per_op is the median over benchmark.js samples; MB = 10^6 bytes of WBXML;
// xml_bytes is the UTF-8 size of file.xml; wbxml_bytes is the WBXML consumed
// (or produced, for xml2wbxml and serialize-typed); rme_pct is benchmark.js'
// relative margin of error (95%) in percent; the last two columns only for
// the typed cases (commands = SyncBody commands of the message).

import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Benchmark from 'benchmark';

export const CASES = Object.freeze(['tokenize', 'wbxml2xml', 'xml2wbxml', 'parse-typed', 'serialize-typed']);

const HERE = dirname(fileURLToPath(import.meta.url));
const DIST = resolve(process.env.BENCH_DIST || join(HERE, '..', 'dist'));

function usage(code) {
  (code ? console.error : console.log)(
    `usage: node bench/js-case.mjs <${CASES.join('|')}> <file.xml> [--wbxml-from FILE.wbxml] [--quick]`,
  );
  process.exit(code);
}

function skip(reason) {
  console.log(`skipped: ${reason}`);
  process.exit(0);
}

function fail(message) {
  console.error(`js-case: ${message}`);
  process.exit(1);
}

// --- arguments ---------------------------------------------------------------

const args = process.argv.slice(2);
let op, xmlPath, wbxmlFrom, quick = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--quick') quick = true;
  else if (a === '--wbxml-from') {
    wbxmlFrom = args[++i];
    if (!wbxmlFrom) usage(2);
  } else if (a === '-h' || a === '--help') usage(0);
  else if (a.startsWith('-')) usage(2);
  else if (op === undefined) op = a;
  else if (xmlPath === undefined) xmlPath = a;
  else usage(2);
}
if (!op || !xmlPath) usage(2);
if (!CASES.includes(op)) {
  console.error(`js-case: unknown case '${op}'`);
  usage(2);
}

const WARMUP_MS = quick ? 200 : 1000;
const BENCH_OPTIONS = quick ? { minSamples: 5, maxTime: 0.5 } : { minSamples: 15, maxTime: 3 };

// --- loading the package -----------------------------------------------------

async function load(rel, names) {
  const path = join(DIST, rel);
  if (!existsSync(path)) skip(`${op}: ${path} not found (run npm run build)`);
  let mod;
  try {
    mod = await import(pathToFileURL(path).href);
  } catch (e) {
    skip(`${op}: cannot import ${path}: ${e && e.message ? e.message : e}`);
  }
  for (const n of names) {
    if (mod[n] === undefined) skip(`${op}: ${rel} does not export ${n}`);
  }
  return mod;
}

const xmlText = readFileSync(xmlPath, 'utf8');
const xmlBytes = Buffer.byteLength(xmlText, 'utf8');
const file = basename(xmlPath);

const wbxmlNames = [];
if (op === 'tokenize') wbxmlNames.push('WbxmlReader');
if (op === 'wbxml2xml') wbxmlNames.push('wbxmlToXml');
if (op === 'xml2wbxml' || wbxmlFrom === undefined) wbxmlNames.push('xmlToWbxml');
const wbxmlMod = wbxmlNames.length ? await load('wbxml/index.js', wbxmlNames) : {};
const typed = op === 'parse-typed' || op === 'serialize-typed';
const syncmlMod = typed ? await load('syncml/index.js', op === 'parse-typed' ? ['parse'] : ['parse', 'serialize']) : {};

/** A plain Uint8Array copy (not a Buffer from the pool). */
function plainBytes(buf) {
  const out = new Uint8Array(buf.length);
  out.set(buf);
  return out;
}

let bytes;
try {
  bytes = wbxmlFrom !== undefined ? plainBytes(readFileSync(wbxmlFrom)) : wbxmlMod.xmlToWbxml(xmlText);
} catch (e) {
  fail(`${op} ${file}: producing the WBXML input failed: ${e && e.stack ? e.stack : e}`);
}
if (!(bytes instanceof Uint8Array) || bytes.length === 0) fail(`${op} ${file}: xmlToWbxml did not return a non-empty Uint8Array`);
// libwbxml is run with -n -v 1.2 (WBXML 1.2, empty string table): say so when we differ.
if (bytes[0] !== 0x02) console.error(`js-case: warning: ${file}: WBXML version byte is 0x${bytes[0].toString(16)}, libwbxml is measured with 1.2 (0x02)`);

// --- the case ----------------------------------------------------------------

let sink = 0;
let wbxmlBytes = bytes.length;
let commands = -1;
let fn;

const countCommands = (msg) => {
  const c = msg && msg.body && msg.body.commands;
  return Array.isArray(c) ? c.length : -1;
};

switch (op) {
  case 'tokenize': {
    const reader = new wbxmlMod.WbxmlReader();
    fn = () => {
      reader.reset(bytes);
      let k, s = 0;
      while ((k = reader.next()) !== 0) s += k;
      sink += s;
    };
    break;
  }
  case 'wbxml2xml': {
    const { wbxmlToXml } = wbxmlMod;
    fn = () => {
      sink += wbxmlToXml(bytes).length;
    };
    break;
  }
  case 'xml2wbxml': {
    // The XML file's bytes, as libwbxml's converter gets them (and as a server gets a body).
    const { xmlToWbxml } = wbxmlMod;
    const xmlBytes = new TextEncoder().encode(xmlText);
    fn = () => {
      sink += xmlToWbxml(xmlBytes).length;
    };
    break;
  }
  case 'parse-typed': {
    const { parse } = syncmlMod;
    fn = () => {
      const msg = parse(bytes);
      sink += msg ? 1 : 0;
    };
    break;
  }
  case 'serialize-typed': {
    const { parse, serialize } = syncmlMod;
    let msg;
    try {
      msg = parse(bytes);
    } catch (e) {
      fail(`${op} ${file}: parse failed: ${e && e.stack ? e.stack : e}`);
    }
    fn = () => {
      sink += serialize(msg, { encoding: 'wbxml' }).length;
    };
    break;
  }
}

// --- checks before timing ------------------------------------------------------

try {
  switch (op) {
    case 'tokenize': {
      const reader = new wbxmlMod.WbxmlReader();
      reader.reset(bytes);
      let n = 0;
      while (reader.next() !== 0) if (++n > bytes.length) fail(`${op} ${file}: more tokens than bytes: next() never returns 0?`);
      if (n === 0) fail(`${op} ${file}: no tokens`);
      break;
    }
    case 'wbxml2xml': {
      const x = wbxmlMod.wbxmlToXml(bytes);
      if (typeof x !== 'string' || !x.includes('<SyncML')) fail(`${op} ${file}: wbxmlToXml did not return SyncML XML`);
      break;
    }
    case 'xml2wbxml': {
      const out = wbxmlMod.xmlToWbxml(xmlText);
      if (!(out instanceof Uint8Array) || out.length === 0) fail(`${op} ${file}: xmlToWbxml did not return a non-empty Uint8Array`);
      wbxmlBytes = out.length;
      break;
    }
    case 'parse-typed': {
      commands = countCommands(syncmlMod.parse(bytes));
      break;
    }
    case 'serialize-typed': {
      const msg = syncmlMod.parse(bytes);
      commands = countCommands(msg);
      const out = syncmlMod.serialize(msg, { encoding: 'wbxml' });
      if (!out || typeof out.length !== 'number' || out.length === 0) fail(`${op} ${file}: serialize returned nothing`);
      wbxmlBytes = out.length;
      break;
    }
  }
} catch (e) {
  fail(`${op} ${file}: ${e && e.stack ? e.stack : e}`);
}

// --- warm-up and timing ----------------------------------------------------------

try {
  const until = performance.now() + WARMUP_MS;
  let n = 0;
  while (n < 10 || performance.now() < until) {
    fn();
    n++;
  }
} catch (e) {
  fail(`${op} ${file}: ${e && e.stack ? e.stack : e}`);
}

const bench = new Benchmark(`${op} ${file}`, fn, BENCH_OPTIONS);
bench.run();
if (bench.error) fail(`${op} ${file}: ${bench.error && bench.error.stack ? bench.error.stack : bench.error}`);

const sample = bench.stats.sample.slice().sort((a, b) => a - b);
if (sample.length === 0) fail(`${op} ${file}: benchmark.js took no samples`);
const mid = sample.length >> 1;
const secPerOp = sample.length & 1 ? sample[mid] : (sample[mid - 1] + sample[mid]) / 2;
const usPerOp = secPerOp * 1e6;
const cols = [
  file,
  op,
  xmlBytes,
  wbxmlBytes,
  usPerOp.toFixed(3),
  (wbxmlBytes / secPerOp / 1e6).toFixed(2),
  (1 / secPerOp).toFixed(1),
  bench.stats.rme.toFixed(2),
];
if (typed) cols.push(commands, commands >= 0 ? (commands / secPerOp).toFixed(0) : '-');
console.log(cols.join('\t'));
console.error(`js-case: ${op} ${file}: ${sample.length} samples, ${bench.count} ops/sample (sink ${sink})`);
