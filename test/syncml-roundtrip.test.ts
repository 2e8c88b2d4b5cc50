/**
 * Round trips: every fixture through both encodings; the XML written from the model against
 * `wbxmlToXml` of the WBXML written from the model; libwbxml's decoder as an independent oracle;
 * random typed messages (fast-check) through WBXML and XML; random and mutated input into the
 * parser, which may only ever throw SyncMLError.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import {
  parse, parseMessage, parseMgmtTree, serialize, serializeMgmtTree, isSyncMLError,
  type SyncML, type Command, type Item, type Meta, type Target, type Source, type Cred, type Data,
} from '../src/syncml/index.js';
import { isXmlText } from '../src/syncml/sink.js';
import { wbxmlToXml } from '../src/wbxml/to-xml.js';
import { toBase64 } from '../src/wbxml/base64.js';
import { root } from './helpers.js';

const DIR = join(root, 'fixtures', 'syncml');
const FILES = readdirSync(DIR).sort();
const MESSAGES = FILES.filter((f) => !f.startsWith('ddf-'));
const DDFS = FILES.filter((f) => f.startsWith('ddf-'));
const read = (f: string): string => readFileSync(join(DIR, f), 'utf8');
const strictFor = (f: string): boolean => !f.startsWith('windows-');
const NO_PROLOG = { xmlDeclaration: false, doctype: false } as const;

describe('fixtures round trip', () => {
  it.each(MESSAGES)('%s: XML and WBXML written from the model parse back to the same message', (f) => {
    const strict = strictFor(f);
    const m = parseMessage(read(f), { strict }).message;
    const wbxml = serialize(m, { encoding: 'wbxml' });
    const xml = serialize(m, { encoding: 'xml' });
    expect(parseMessage(wbxml, { strict }).message).toEqual(m);
    expect(parseMessage(xml, { strict }).message).toEqual(m);
    expect(parseMessage(serialize(m, { encoding: 'xml', indent: true }), { strict }).message).toEqual(m);
    expect(parseMessage(serialize(m, { encoding: 'wbxml', stringTable: true, wbxmlVersion: '1.3' }), { strict }).message).toEqual(m);
  });

  it.each(MESSAGES)('%s: the XML written from the model is wbxmlToXml of the WBXML written from it', (f) => {
    const m = parseMessage(read(f), { strict: strictFor(f) }).message;
    const wbxml = serialize(m, { encoding: 'wbxml' });
    expect(wbxmlToXml(wbxml, NO_PROLOG)).toBe(serialize(m, { encoding: 'xml', xmlDeclaration: false }));
    expect(wbxmlToXml(wbxml, { indent: true })).toBe(serialize(m, { encoding: 'xml', indent: true, doctype: true }));
  });

  it.each(DDFS)('%s: standalone DDF through both encodings', (f) => {
    const t = parseMgmtTree(read(f));
    const wbxml = serializeMgmtTree(t, { encoding: 'wbxml' });
    expect(parseMgmtTree(wbxml)).toEqual(t);
    expect(parseMgmtTree(serializeMgmtTree(t, { encoding: 'xml' }))).toEqual(t);
    expect(wbxmlToXml(wbxml, NO_PROLOG)).toBe(serializeMgmtTree(t, { encoding: 'xml', xmlDeclaration: false }));
  });
});

// --- libwbxml as an oracle -------------------------------------------------------------------

const hasLibwbxml = spawnSync('sh', ['-c', 'command -v wbxml2xml && command -v xml2wbxml'], { encoding: 'utf8' }).status === 0;
if (!hasLibwbxml) console.warn('libwbxml (wbxml2xml, xml2wbxml) is not on PATH: the interop tests are skipped');

type Canon = { n: string; c: (Canon | string)[] };

/** A document reduced to element local names and text: no xmlns, DOCTYPE, whitespace-only text, CDATA/text distinction. */
function canon(xml: string): Canon {
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level: string, msg: string) => { if (level !== 'warning') errors.push(msg); } }).parseFromString(xml, 'text/xml');
  if (errors.length) throw new Error('not well-formed: ' + errors.join('; '));
  const walk = (e: Element): Canon => {
    const parts: (Canon | string)[] = [];
    for (const k of Array.from(e.childNodes as unknown as ArrayLike<Node>)) {
      if (k.nodeType === 3 || k.nodeType === 4) {
        const last = parts[parts.length - 1];
        if (typeof last === 'string') parts[parts.length - 1] = last + (k as Text).data;
        else parts.push((k as Text).data);
      } else if (k.nodeType === 1) parts.push(walk(k as Element));
    }
    const mixed = parts.some((p) => typeof p !== 'string');
    const c = parts
      .filter((p) => !(mixed && typeof p === 'string' && p.trim() === ''))
      .map((p) => (typeof p === 'string' ? p.replace(/^(application\/vnd\.syncml(?:-devinf|\.dmtnds))\+wbxml$/, '$1+xml') : p))
      .filter((p) => p !== '');
    return { n: e.localName ?? e.nodeName, c };
  };
  return walk(doc.documentElement as unknown as Element);
}

function tool(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

describe.skipIf(!hasLibwbxml)('libwbxml interop', () => {
  it.each(FILES)('%s: wbxml2xml decodes our WBXML to the same document as our XML', (f) => {
    const dir = mkdtempSync(join(tmpdir(), 'syncml-interop-'));
    try {
      let wbxml: Uint8Array;
      let xml: string;
      const lang: string[] = [];
      if (f.startsWith('ddf-')) {
        const t = parseMgmtTree(read(f));
        wbxml = serializeMgmtTree(t, { encoding: 'wbxml' });
        xml = serializeMgmtTree(t, { encoding: 'xml' });
        lang.push('-l', 'DMDDF12');
      } else {
        const m = parseMessage(read(f), { strict: strictFor(f) }).message;
        wbxml = serialize(m, { encoding: 'wbxml' });
        xml = serialize(m, { encoding: 'xml' });
      }
      writeFileSync(join(dir, 'in.wbxml'), wbxml);
      tool('wbxml2xml', [...lang, '-o', join(dir, 'out.xml'), join(dir, 'in.wbxml')]);
      expect(canon(readFileSync(join(dir, 'out.xml'), 'utf8'))).toEqual(canon(xml));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(MESSAGES.filter(strictFor))('%s: xml2wbxml output of our XML parses strictly to the same commands', (f) => {
    const dir = mkdtempSync(join(tmpdir(), 'syncml-interop-'));
    try {
      const m = parse(read(f));
      writeFileSync(join(dir, 'in.xml'), serialize(m, { encoding: 'xml' }));
      tool('xml2wbxml', ['-n', '-v', '1.2', '-o', join(dir, 'out.wbxml'), join(dir, 'in.xml')]);
      const back = parse(new Uint8Array(readFileSync(join(dir, 'out.wbxml'))));
      // libwbxml turns Add/Replace Data into OPAQUE (its vObject rule, LF -> CRLF): compare as text.
      const text = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (_k, v) => (v instanceof Uint8Array ? new TextDecoder().decode(v).replace(/\r\n/g, '\n') : v)));
      expect(text(back)).toEqual(text(m));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// --- random typed messages -------------------------------------------------------------------

const ident = fc.stringMatching(/^[A-Za-z0-9./:_?=-]{1,12}$/);
const textChar = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...'abcXYZ019 <>&"\'/:.-_[]'.split('')) },
  { weight: 2, arbitrary: fc.constantFrom('\t', '\n', '\r', ' ', ']]>') },
  { weight: 1, arbitrary: fc.constantFrom('é', '€', '中', '\u{1F600}', '\u00A0', '\u2028') },
);
const text = fc.array(textChar, { maxLength: 12 }).map((a) => a.join(''));
const bytes = fc.oneof(fc.uint8Array({ maxLength: 12 }), text.map((t) => new TextEncoder().encode(t)));
const nat = fc.oneof(fc.nat(), fc.integer({ min: 0, max: 999_999_999_999_999 }));
const yes = fc.constant(true as const);

const meta: fc.Arbitrary<Meta> = fc.record({
  fieldLevel: yes, format: fc.oneof(ident, fc.constant('bin')), type: ident, mark: text, size: nat,
  anchor: fc.record({ last: text, next: text }, { requiredKeys: ['next'] }), version: text, nextNonce: fc.oneof(text, bytes),
  maxMsgSize: nat, maxObjSize: nat, emi: fc.array(text, { minLength: 1, maxLength: 2 }),
  mem: fc.record({ sharedMem: yes, freeMem: nat, freeId: nat }, { requiredKeys: ['freeMem', 'freeId'] }),
}, { requiredKeys: [] });
const source: fc.Arbitrary<Source> = fc.record({ locUri: ident, locName: text }, { requiredKeys: ['locUri'] });
const cred: fc.Arbitrary<Cred> = fc.record({ meta, data: text }, { requiredKeys: ['data'] });
const data: fc.Arbitrary<Data> = fc.oneof(text, bytes);
const plainItem: fc.Arbitrary<Item> = fc.record({
  target: source, source, sourceParent: fc.record({ locUri: ident }), targetParent: fc.record({ locUri: ident }), meta, data, moreData: yes,
}, { requiredKeys: [] });
const filter = fc.record({
  meta, field: fc.record({ meta, item: plainItem }, { requiredKeys: ['item'] }), record: fc.record({ meta, item: plainItem }, { requiredKeys: ['item'] }), filterType: ident,
}, { requiredKeys: ['meta'] });
const target: fc.Arbitrary<Target> = fc.oneof(
  { weight: 6, arbitrary: source },
  { weight: 1, arbitrary: fc.record({ locUri: ident, locName: text, filter }, { requiredKeys: ['locUri', 'filter'] }) },
);
const item: fc.Arbitrary<Item> = fc.record({
  target, source, sourceParent: fc.record({ locUri: ident }), targetParent: fc.record({ locUri: ident }), meta, data, moreData: yes,
}, { requiredKeys: [] });
const items = (min: number, max: number): fc.Arbitrary<Item[]> => fc.array(item, { minLength: min, maxLength: max });
const refs = fc.array(ident, { minLength: 1, maxLength: 2 });

function itemCmd<K extends 'Add' | 'Replace' | 'Copy' | 'Move'>(kind: K): fc.Arbitrary<Command> {
  return fc.record({ kind: fc.constant(kind), cmdId: ident, noResp: yes, cred, meta, items: items(1, 2) }, { requiredKeys: ['kind', 'cmdId', 'items'] }) as fc.Arbitrary<Command>;
}
const leafCommands: Record<string, fc.Arbitrary<Command>> = {
  Add: itemCmd('Add'), Replace: itemCmd('Replace'), Copy: itemCmd('Copy'), Move: itemCmd('Move'),
  Delete: fc.record({ kind: fc.constant('Delete' as const), cmdId: ident, noResp: yes, archive: yes, sftDel: yes, cred, meta, items: items(1, 2) }, { requiredKeys: ['kind', 'cmdId', 'items'] }),
  Get: fc.record({ kind: fc.constant('Get' as const), cmdId: ident, noResp: yes, lang: text, cred, meta, items: items(1, 2) }, { requiredKeys: ['kind', 'cmdId', 'items'] }),
  Put: fc.record({ kind: fc.constant('Put' as const), cmdId: ident, noResp: yes, lang: text, cred, meta, items: items(1, 2) }, { requiredKeys: ['kind', 'cmdId', 'items'] }),
  Exec: fc.record({ kind: fc.constant('Exec' as const), cmdId: ident, noResp: yes, cred, meta, correlator: ident, items: items(1, 1) }, { requiredKeys: ['kind', 'cmdId', 'items'] }),
  Alert: fc.record({ kind: fc.constant('Alert' as const), cmdId: ident, noResp: yes, cred, code: nat, correlator: ident, items: items(0, 2) }, { requiredKeys: ['kind', 'cmdId', 'code', 'items'] }),
  Map: fc.record({ kind: fc.constant('Map' as const), cmdId: ident, target: source, source, cred, meta, mapItems: fc.array(fc.record({ target: source, source }), { minLength: 1, maxLength: 2 }) }, { requiredKeys: ['kind', 'cmdId', 'target', 'source', 'mapItems'] }),
};
const bodyOnly: Record<string, fc.Arbitrary<Command>> = {
  Status: fc.record({
    kind: fc.constant('Status' as const), cmdId: ident, msgRef: ident, cmdRef: ident, cmd: ident, targetRefs: refs, sourceRefs: refs, cred,
    chal: fc.record({ meta }), code: nat, items: items(1, 2),
  }, { requiredKeys: ['kind', 'cmdId', 'msgRef', 'cmdRef', 'cmd', 'code'] }),
  Results: fc.record({ kind: fc.constant('Results' as const), cmdId: ident, msgRef: ident, cmdRef: ident, meta, targetRefs: refs, sourceRefs: refs, items: items(1, 2) }, { requiredKeys: ['kind', 'cmdId', 'msgRef', 'cmdRef', 'items'] }),
  Search: fc.record({ kind: fc.constant('Search' as const), cmdId: ident, noResp: yes, noResults: yes, cred, target: source, sources: fc.array(source, { minLength: 1, maxLength: 2 }), lang: text, meta, data }, { requiredKeys: ['kind', 'cmdId', 'sources', 'meta', 'data'] }),
};
const pick = (names: string[], containers: Record<string, fc.Arbitrary<Command>>): fc.Arbitrary<Command> =>
  fc.oneof(...names.map((n) => leafCommands[n] ?? containers[n]).filter((a): a is fc.Arbitrary<Command> => a !== undefined));

/** Commands with Atomic / Sequence / Sync nesting down to `depth` levels. */
function commands(depth: number): Record<string, fc.Arbitrary<Command>> {
  const inner = depth > 0 ? commands(depth - 1) : {};
  const list = (names: string[], min: number): fc.Arbitrary<Command[]> => fc.array(pick(names, inner), { minLength: min, maxLength: 2 });
  const out: Record<string, fc.Arbitrary<Command>> = {};
  if (depth > 0) {
    out.Atomic = fc.record({ kind: fc.constant('Atomic' as const), cmdId: ident, noResp: yes, meta, commands: list(['Add', 'Delete', 'Atomic', 'Map', 'Move', 'Replace', 'Sequence', 'Sync', 'Copy', 'Get', 'Exec', 'Alert'], 1) }, { requiredKeys: ['kind', 'cmdId', 'commands'] });
    out.Sequence = fc.record({ kind: fc.constant('Sequence' as const), cmdId: ident, noResp: yes, meta, commands: list(['Add', 'Replace', 'Delete', 'Copy', 'Atomic', 'Map', 'Move', 'Sync', 'Get', 'Alert', 'Exec'], 1) }, { requiredKeys: ['kind', 'cmdId', 'commands'] });
    out.Sync = fc.record({ kind: fc.constant('Sync' as const), cmdId: ident, noResp: yes, cred, target: source, source, meta, numberOfChanges: nat, commands: list(['Add', 'Atomic', 'Copy', 'Delete', 'Move', 'Replace', 'Sequence'], 0) }, { requiredKeys: ['kind', 'cmdId', 'commands'] });
  }
  return out;
}
const nested = commands(2);
const bodyCommand = fc.oneof(...Object.values(leafCommands), ...Object.values(nested), ...Object.values(bodyOnly));

const message: fc.Arbitrary<SyncML> = fc.record({
  header: fc.record({
    verDTD: fc.constant('1.2'), verProto: ident, sessionId: ident, msgId: ident, target: source, source, respUri: ident, noResp: yes, cred, meta,
  }, { requiredKeys: ['verDTD', 'verProto', 'sessionId', 'msgId', 'target', 'source'] }),
  body: fc.record({ commands: fc.array(bodyCommand, { minLength: 1, maxLength: 4 }), final: fc.boolean() }),
});

/**
 * What XML makes of bytes: CDATA (read back as text) when they are XML text, else base64 with
 * the governing Format (the Item's, else the command's) switched from `bin` to `b64`.
 */
function viaXml(m: SyncML): SyncML {
  const copy: SyncML = structuredClone(m);
  const asText = (b: Uint8Array): string => (isXmlText(b) ? new TextDecoder().decode(b) : toBase64(b));
  const metaNonce = (x: Meta | undefined): void => { if (x?.nextNonce instanceof Uint8Array) x.nextNonce = asText(x.nextNonce); };
  const itemData = (it: Item, cmdMeta: Meta | undefined): void => {
    metaNonce(it.meta);
    visitTarget(it.target);
    if (it.data instanceof Uint8Array) {
      if (!isXmlText(it.data)) {
        const gov = it.meta?.format !== undefined ? it.meta : cmdMeta;
        if (gov?.format === 'bin') gov.format = 'b64';
      }
      it.data = asText(it.data);
    }
  };
  const visitTarget = (t: Target | undefined): void => {
    const f = t?.filter;
    if (f === undefined) return;
    metaNonce(f.meta);
    for (const fr of [f.field, f.record]) if (fr) { metaNonce(fr.meta); itemData(fr.item, fr.meta); }
  };
  const cmd = (c: Command): void => {
    const anyC = c as { meta?: Meta; cred?: Cred; items?: Item[]; commands?: Command[]; chal?: { meta: Meta }; target?: Target };
    metaNonce(anyC.meta);
    metaNonce(anyC.cred?.meta);
    metaNonce(anyC.chal?.meta);
    visitTarget(anyC.target);
    if (c.kind === 'Search') {
      if (c.data instanceof Uint8Array) {
        if (!isXmlText(c.data) && c.meta.format === 'bin') c.meta.format = 'b64';
        c.data = asText(c.data);
      }
      return;
    }
    if (anyC.items) for (const it of anyC.items) itemData(it, c.kind === 'Status' || c.kind === 'Alert' ? undefined : anyC.meta);
    if (anyC.commands) for (const x of anyC.commands) cmd(x);
  };
  metaNonce(copy.header.meta);
  metaNonce(copy.header.cred?.meta);
  for (const c of copy.body.commands) cmd(c);
  return copy;
}

describe('property: random typed messages', () => {
  it('round-trip through WBXML (strict parse, deep-equal)', () => {
    fc.assert(fc.property(message, fc.constantFrom('1.1', '1.2', '1.3' as const), fc.boolean(), (m, v, table) => {
      const back = parse(serialize(m, { encoding: 'wbxml', wbxmlVersion: v, stringTable: table }));
      expect(back).toEqual(m);
    }), { numRuns: 600 });
  });

  it('round-trip through XML (strict parse, deep-equal after what XML makes of bytes)', () => {
    fc.assert(fc.property(message, fc.boolean(), (m, indent) => {
      const back = parse(serialize(m, { encoding: 'xml', indent }));
      expect(back).toEqual(viaXml(m));
    }), { numRuns: 600 });
  });

  it('the XML written from the model is wbxmlToXml of the WBXML written from it', () => {
    fc.assert(fc.property(message, (m) => {
      expect(wbxmlToXml(serialize(m, { encoding: 'wbxml' }), NO_PROLOG)).toBe(serialize(m, { encoding: 'xml', xmlDeclaration: false }));
    }), { numRuns: 300 });
  });
});

// --- robustness ------------------------------------------------------------------------------

/** Parses in both modes: success, or a SyncMLError with a path or an offset; nothing else. */
function onlySyncMLErrors(input: Uint8Array): void {
  for (const strict of [true, false]) {
    try {
      parseMessage(input, { strict });
    } catch (e) {
      if (!isSyncMLError(e)) throw e;
      if (e.message.startsWith('internal error')) throw e;
      expect(e.path !== '' || typeof e.offset === 'number').toBe(true);
    }
  }
}

const seeds: Uint8Array[] = MESSAGES.flatMap((f) => {
  const m = parseMessage(read(f), { strict: strictFor(f) }).message;
  return [serialize(m, { encoding: 'wbxml' }), new TextEncoder().encode(read(f))];
});

describe('robustness: only SyncMLError escapes', () => {
  it('random bytes (5000)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), onlySyncMLErrors), { numRuns: 5000 });
  });

  it('random bodies behind a SyncML 1.2 WBXML header (5000)', () => {
    const head = [0x02, 0xa4, 0x01, 0x6a, 0x00, 0x6d];
    const body = fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x00, 0x01, 0x03, 0x43, 0x83, 0xc3, 0x04, 0x02, 0x6c, 0x6b, 0x29, 0x4f, 0x54)), { maxLength: 120 });
    fc.assert(fc.property(body, (b) => onlySyncMLErrors(new Uint8Array([...head, ...b]))), { numRuns: 5000 });
  });

  it('mutated fixtures, WBXML and XML (10000)', () => {
    const mutation = fc.tuple(fc.constantFrom('set', 'insert', 'delete', 'truncate'), fc.nat(), fc.integer({ min: 0, max: 255 }));
    fc.assert(fc.property(fc.nat({ max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (si, muts) => {
      let b = Array.from(seeds[si]);
      for (const [op, at, v] of muts) {
        const i = at % (b.length + 1);
        if (op === 'set' && i < b.length) b[i] = v;
        else if (op === 'insert') b.splice(i, 0, v);
        else if (op === 'delete') b.splice(i, 1);
        else if (op === 'truncate') b = b.slice(0, i);
      }
      onlySyncMLErrors(new Uint8Array(b));
    }), { numRuns: 10000 });
  });
});
