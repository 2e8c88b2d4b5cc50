// `npm run bench`: our codec vs libwbxml on the same OMA DM 1.2 documents.
//
//   node bench/run.mjs [--filter REGEX] [--quick] [--json FILE]
//
// 1. checks that dist/ exists (npm run build);
// 2. writes the corpus (bench/corpus.mjs) to bench/.out/dm-{1k,64k,1m}.xml and
//    our encoder's WBXML of each to bench/.out/dm-*.wbxml;
// 3. builds bench/peers/libwbxml.c into bench/.out/wbxml_bench when gcc and
//    libwbxml2 (pkg-config) are there, and runs it: xml2wbxml on the XML files,
//    wbxml2xml / tree / parse on OUR .wbxml files (same bytes for both codecs);
// 4. runs every JS case (bench/js-case.mjs) for every file, one child process
//    each, one after the other;
// 5. prints a Markdown table (stdout; progress goes to stderr).
//
// --filter REGEX selects cases by name "<op>/<size>", e.g. tokenize/64k,
// parse-typed/1m: `--filter 64k`, `--filter '^(tokenize|wbxml2xml)/'`.
// BENCH_DIST=DIR loads the package from DIR instead of dist/ (for testing).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeCorpus } from './corpus.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const OUT = join(HERE, '.out');
const DIST = resolve(process.env.BENCH_DIST || join(ROOT, 'dist'));
const JS_CASE = join(HERE, 'js-case.mjs');
const HARNESS_SRC = join(HERE, 'peers', 'libwbxml.c');
const HARNESS = join(OUT, 'wbxml_bench');

/** Our operations, in table order, with the libwbxml operation each is compared with. */
const OPS = [
  { op: 'tokenize', peer: 'parse', xml: false },
  { op: 'wbxml2xml', peer: 'wbxml2xml', xml: true },
  { op: 'xml2wbxml', peer: 'xml2wbxml', xml: true },
  { op: 'parse-typed', peer: 'tree', xml: false, typed: true },
  { op: 'serialize-typed', peer: null, xml: false, typed: true },
];

// --- arguments -------------------------------------------------------------------

function usage(code) {
  (code ? console.error : console.log)('usage: node bench/run.mjs [--filter REGEX] [--quick] [--json FILE]');
  process.exit(code);
}

let filter = null;
let quick = false;
let jsonFile = null;
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--quick') quick = true;
    else if (a[i] === '--filter' && i + 1 < a.length) {
      try {
        filter = new RegExp(a[++i]);
      } catch (e) {
        console.error(`bench: bad --filter: ${e.message}`);
        process.exit(2);
      }
    } else if (a[i] === '--json' && i + 1 < a.length) jsonFile = resolve(a[++i]);
    else if (a[i] === '-h' || a[i] === '--help') usage(0);
    else usage(2);
  }
}

const log = (msg) => process.stderr.write(`bench: ${msg}\n`);

// --- 1. dist ---------------------------------------------------------------------------

if (!existsSync(DIST) || !statSync(DIST).isDirectory()) {
  console.error(`bench: ${relative(process.cwd(), DIST) || DIST} not found: run \`npm run build\` first.`);
  process.exit(1);
}

// --- 2. corpus + our WBXML ---------------------------------------------------------------

const files = writeCorpus(OUT); // [{ name, size, path, xmlBytes }]
log(`corpus: ${files.map((f) => `${f.name}.xml ${f.xmlBytes} B`).join(', ')}`);

const selected = (op, size) => !filter || filter.test(`${op}/${size}`);

const notes = [];
let xmlToWbxml = null;
{
  const p = join(DIST, 'wbxml', 'index.js');
  if (existsSync(p)) {
    try {
      const m = await import(pathToFileURL(p).href);
      if (typeof m.xmlToWbxml === 'function') xmlToWbxml = m.xmlToWbxml;
      else notes.push('dist/wbxml/index.js does not export xmlToWbxml: no WBXML of ours; libwbxml decodes its own WBXML.');
    } catch (e) {
      notes.push(`cannot import dist/wbxml/index.js (${e.message}): libwbxml decodes its own WBXML.`);
    }
  } else notes.push('dist/wbxml/index.js not found: libwbxml decodes its own WBXML.');
}
for (const f of files) {
  f.wbxmlPath = null;
  if (!xmlToWbxml) continue;
  try {
    const b = xmlToWbxml(readFileSync(f.path, 'utf8'));
    f.wbxmlPath = join(OUT, `${f.name}.wbxml`);
    writeFileSync(f.wbxmlPath, b);
    f.ourWbxmlBytes = b.length;
  } catch (e) {
    notes.push(`xmlToWbxml failed on ${f.name}.xml (${e.message}): libwbxml decodes its own WBXML for it.`);
  }
}

// --- 3. libwbxml -----------------------------------------------------------------------

function sh(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: !r.error && r.status === 0, stdout: r.stdout || '', stderr: r.stderr || '', error: r.error };
}

let libwbxmlVersion = null;
function buildHarness() {
  if (!sh('gcc', ['--version']).ok || !sh('pkg-config', ['--exists', 'libwbxml2']).ok) return false;
  libwbxmlVersion = sh('pkg-config', ['--modversion', 'libwbxml2']).stdout.trim();
  const cflags = sh('pkg-config', ['--cflags', 'libwbxml2']).stdout.trim().split(/\s+/).filter(Boolean);
  // `pkg-config --libs` prints a relative -Llib/... on Debian: keep only absolute -L dirs.
  const libsL = sh('pkg-config', ['--libs-only-L', 'libwbxml2']).stdout.trim().split(/\s+/).filter((s) => s.startsWith('-L/'));
  const libsl = sh('pkg-config', ['--libs-only-l', 'libwbxml2']).stdout.trim().split(/\s+/).filter(Boolean);
  const r = sh('gcc', ['-O2', '-Wall', '-o', HARNESS, HARNESS_SRC, ...cflags, ...libsL, ...(libsl.length ? libsl : ['-lwbxml2'])]);
  if (!r.ok) {
    notes.push('building bench/peers/libwbxml.c failed: peer figures skipped.');
    log(`gcc failed:\n${r.stderr}`);
    return false;
  }
  return true;
}

/** Parses harness / js-case TSV lines into objects keyed by column name. */
function parseTsv(stdout, typed) {
  const rows = [];
  for (const line of stdout.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const c = line.split('\t');
    if (c.length < 6) continue;
    const row = {
      file: c[0], op: c[1], xmlBytes: Number(c[2]), wbxmlBytes: Number(c[3]), usPerOp: Number(c[4]), mbps: Number(c[5]),
    };
    if (c.length >= 8) {
      row.opsPerSec = Number(c[6]);
      row.rmePct = Number(c[7]);
    }
    if (typed && c.length >= 10) {
      row.commands = Number(c[8]);
      row.commandsPerSec = c[9] === '-' ? null : Number(c[9]);
    }
    rows.push(row);
  }
  return rows;
}

const peer = new Map(); // `${op}/${size}` -> row (with .source: 'our-wbxml' | 'own-wbxml')
const harnessArgs = [...(quick ? ['-s', '5', '-t', '10'] : ['-s', '15', '-t', '50']), '-n', '-v', '1.2'];

function runHarness(args, source, size) {
  const r = spawnSync(HARNESS, [...harnessArgs, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const errLines = (r.stderr || '').split('\n').filter((l) => l && !l.includes(': done (sink'));
  for (const l of errLines) log(`libwbxml: ${l}`);
  for (const row of parseTsv(r.stdout || '', false)) peer.set(`${row.op}/${size}`, { ...row, source });
  return errLines;
}

let peerAvailable = false;
if (buildHarness()) {
  peerAvailable = true;
  for (const f of files) {
    const want = OPS.filter((o) => o.peer && selected(o.op, f.size));
    if (!want.length) continue;
    // Decoders on our bytes first; whatever could not run there falls back to libwbxml's own WBXML.
    const dec = want.filter((o) => o.peer !== 'xml2wbxml').map((o) => o.peer);
    if (dec.length && f.wbxmlPath) {
      log(`libwbxml ${dec.join(',')} on ${f.name}.wbxml (ours)`);
      runHarness(['-o', dec.join(','), '--wbxml', f.wbxmlPath], 'our-wbxml', f.size);
    }
    const rest = want.map((o) => o.peer).filter((p) => !peer.has(`${p}/${f.size}`));
    if (rest.length) {
      log(`libwbxml ${rest.join(',')} on ${f.name}.xml`);
      runHarness(['-o', rest.join(','), f.path], 'own-wbxml', f.size);
      for (const p of rest) {
        if (p !== 'xml2wbxml' && f.wbxmlPath && peer.has(`${p}/${f.size}`)) {
          notes.push(`libwbxml ${p} could not decode our ${f.name}.wbxml: its figure is on its own WBXML (${peer.get(`${p}/${f.size}`).wbxmlBytes} B).`);
        }
      }
    }
  }
} else {
  console.error('bench: libwbxml not installed: peer figures skipped');
}

// --- 4. our JS cases -----------------------------------------------------------------------

const ours = new Map(); // `${op}/${size}` -> row | { skipped } | { error }
for (const f of files) {
  for (const o of OPS) {
    if (!selected(o.op, f.size)) continue;
    const args = [JS_CASE, o.op, f.path];
    if (f.wbxmlPath) args.push('--wbxml-from', f.wbxmlPath);
    if (quick) args.push('--quick');
    log(`${o.op} ${f.name}`);
    const r = spawnSync(process.execPath, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, BENCH_DIST: DIST },
    });
    const out = r.stdout || '';
    const skipped = out.split('\n').find((l) => l.startsWith('skipped:'));
    const rows = parseTsv(out, o.typed);
    if (skipped) ours.set(`${o.op}/${f.size}`, { skipped: skipped.slice(8).trim() });
    else if (r.status === 0 && rows.length) ours.set(`${o.op}/${f.size}`, rows[0]);
    else ours.set(`${o.op}/${f.size}`, { error: `exit ${r.status ?? r.signal}` });
  }
}

// --- 5. report -----------------------------------------------------------------------------

const fmt = (x, d = 1) => (x == null || !Number.isFinite(x) ? '—' : x >= 100 ? x.toFixed(0) : x.toFixed(d));
const fmtInt = (x) => (x == null || !Number.isFinite(x) ? '—' : Math.round(x).toLocaleString('en-US'));
const mbps = (bytes, us) => bytes / us; // bytes per µs == MB/s (10^6)

const cpus = os.cpus();
const meta = {
  date: new Date().toISOString(),
  node: process.version,
  v8: process.versions.v8,
  cpu: cpus.length ? cpus[0].model : 'unknown',
  cores: cpus.length,
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  libwbxml: peerAvailable ? libwbxmlVersion : null,
  mode: quick ? 'quick' : 'full',
  filter: filter ? filter.source : null,
};

const rows = [];
const lines = [];
lines.push('## syncml-dm WBXML benchmark');
lines.push('');
lines.push(
  `Node ${meta.node} (V8 ${meta.v8}) · ${meta.cpu} · ${meta.cores} cores · ${meta.platform} · ` +
    `libwbxml ${meta.libwbxml ?? 'not installed'} · ${meta.date}${quick ? ' · --quick (few samples: smoke only)' : ''}`,
);
lines.push('');
lines.push('MB/s = 10^6 bytes of WBXML per second (XML MB/s: bytes of the corpus XML). Ratio = libwbxml time / our time on the same input (> 1: we are faster).');
lines.push('');
lines.push('| size | operation | ours MB/s | libwbxml MB/s | ratio | ours XML MB/s | libwbxml XML MB/s | commands/s | ours ±rme |');
lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const f of files) {
  for (const o of OPS) {
    const key = `${o.op}/${f.size}`;
    if (!selected(o.op, f.size)) continue;
    const u = ours.get(key);
    const p = o.peer ? peer.get(`${o.peer}/${f.size}`) : undefined;
    const ok = u && !u.skipped && !u.error;
    const row = {
      case: key, size: f.size, op: o.op, peerOp: o.peer, xmlBytes: f.xmlBytes,
      ours: u ?? null, libwbxml: p ?? null,
      ratio: ok && p ? p.usPerOp / u.usPerOp : null,
    };
    rows.push(row);
    const oursCell = ok ? fmt(u.mbps) : u?.skipped ? 'skipped' : u?.error ? 'error' : '—';
    const peerLabel = o.peer ? `${fmt(p?.mbps)}${p && p.source === 'own-wbxml' && o.peer !== 'xml2wbxml' ? '*' : ''}` : 'n/a';
    const opLabel = o.peer ? `${o.op} (vs ${o.peer})` : o.op;
    lines.push(
      `| ${f.size} | ${opLabel} | ${oursCell} | ${peerLabel} | ${row.ratio == null ? '—' : `${row.ratio.toFixed(2)}×`} | ` +
        `${o.xml && ok ? fmt(mbps(f.xmlBytes, u.usPerOp)) : '—'} | ${o.xml && p ? fmt(mbps(f.xmlBytes, p.usPerOp)) : '—'} | ` +
        `${o.typed && ok ? fmtInt(u.commandsPerSec) : '—'} | ${ok && u.rmePct != null ? `${u.rmePct.toFixed(1)}%` : '—'} |`,
    );
  }
}
lines.push('');

// Scaling: 1m figure / 64k figure (1.0 = linear; well below 1 = superlinear cost).
const scale = (src, op) => {
  const a = src.get(`${op}/64k`), b = src.get(`${op}/1m`);
  return a && b && a.mbps && b.mbps ? b.mbps / a.mbps : null;
};
const scalingOurs = OPS.map((o) => [o.op, scale(ours, o.op)]).filter(([, s]) => s != null);
const scalingPeer = OPS.filter((o) => o.peer).map((o) => [o.peer, scale(peer, o.peer)]).filter(([, s]) => s != null);
if (scalingOurs.length) lines.push(`Scaling, ours (MB/s at 1m ÷ MB/s at 64k; 1.00 = linear): ${scalingOurs.map(([n, s]) => `${n} ${s.toFixed(2)}`).join(', ')}`);
if (scalingPeer.length) lines.push(`Scaling, libwbxml: ${scalingPeer.map(([n, s]) => `${n} ${s.toFixed(2)}`).join(', ')}`);
if (scalingOurs.length || scalingPeer.length) lines.push('');

// js-case prints "skipped: <op>: <reason>": group the ops by reason.
const skippedBy = new Map();
for (const [key, u] of ours) {
  if (!u.skipped) continue;
  const op = key.slice(0, key.lastIndexOf('/'));
  const reason = u.skipped.startsWith(`${op}: `) ? u.skipped.slice(op.length + 2) : u.skipped;
  if (!skippedBy.has(reason)) skippedBy.set(reason, new Set());
  skippedBy.get(reason).add(op);
}
for (const [reason, ops] of skippedBy) lines.push(`- skipped (${[...ops].join(', ')}): ${reason}`);
const errored = [...ours.entries()].filter(([, u]) => u.error).map(([k, u]) => `${k} (${u.error})`);
if (errored.length) lines.push(`- errors: ${errored.join(', ')} (see stderr)`);
if ([...peer.values()].some((p) => p.source === 'own-wbxml' && p.op !== 'xml2wbxml')) lines.push('- \\* libwbxml decoded its own WBXML (`xml2wbxml -n -v 1.2` of the same XML), not ours.');
if (!peerAvailable) lines.push('- libwbxml not installed: peer figures skipped (apt-get install libwbxml2-dev pkg-config gcc).');
for (const n of [...new Set(notes)]) lines.push(`- ${n}`);

console.log(lines.join('\n'));

if (jsonFile) {
  mkdirSync(dirname(jsonFile), { recursive: true });
  writeFileSync(
    jsonFile,
    JSON.stringify(
      {
        meta,
        corpus: files.map((f) => ({ name: f.name, size: f.size, xmlBytes: f.xmlBytes, ourWbxmlBytes: f.ourWbxmlBytes ?? null })),
        rows,
        scaling: { ours: Object.fromEntries(scalingOurs), libwbxml: Object.fromEntries(scalingPeer) },
        notes: [...new Set(notes)],
      },
      null,
      2,
    ) + '\n',
  );
  log(`results written to ${jsonFile}`);
}

process.exit(errored.length ? 1 : 0);
