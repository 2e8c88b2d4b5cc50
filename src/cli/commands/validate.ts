import type { Command, Data, Item, SyncML } from '../../syncml/types.js';
import { parseArgs, UsageError } from '../args.js';
import { readInput } from '../io.js';

export const help = `Usage: syncml-dm validate [FILE|-] [--strict]

Reads a SyncML message (WBXML or XML, told apart by its first bytes), checks it against the
SyncML 1.2 / DM 1.2 content models and prints one line per command, children indented, then
every defect that was accepted as "warning: <element path>: <what>". Exit status 0.

When the message cannot be read, every problem found is printed with its element path and the
exit status is 1.

  FILE       the message; - or nothing reads standard input
  --strict   enforce the DTD's content models: every defect is an error (default: tolerant,
             the defects real clients send are warnings)
`;

/** Longest value shown before it is shortened. */
const VALUE_WIDTH = 40;

/** Warnings a strict parse reports without failing (they are not content-model violations). */
const STRICT_WARNINGS = new Set(['DUPLICATE_CMD_ID', 'MISSING_MSG_REF']);

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { flags: ['strict'] });
  if (a.flags.help) return void process.stdout.write(help), 0;
  if (a.positionals.length > 1) throw new UsageError('validate takes one input');
  const input = await readInput(a.positionals[0]);
  const strict = !!a.flags.strict;
  const syncml = await import('../../syncml/index.js');
  let parsed: ReturnType<typeof syncml.parseMessage>;
  try {
    parsed = syncml.parseMessage(input, { strict });
  } catch (e) {
    if (!strict || !syncml.isSyncMLError(e)) throw e;
    // A strict parse stops at the first problem: a tolerant one finds the others.
    let others: { code: string; path: string; message: string }[];
    try {
      others = syncml.parseMessage(input, { strict: false }).warnings.filter((w) => !STRICT_WARNINGS.has(w.code));
    } catch {
      throw e;
    }
    const first = e.message.replace(/ \(at [^)]*\)$/, '');
    const lines = [describe(e)];
    for (const w of others) {
      if (w.path === e.path && w.message === first) continue;
      lines.push(`syncml-dm: ${w.code}${w.path ? ` at ${w.path}` : ''}: ${oneLine(w.message)}`);
    }
    process.stderr.write(lines.join('\n') + '\n');
    return 1;
  }
  const { message, warnings, encoding } = parsed;
  const out = [headerLine(message, encoding, input.length)];
  for (const c of message.body.commands) commandLines(c, 0, out, syncml);
  if (message.body.final) out.push('Final');
  for (const w of warnings) out.push(`warning: ${w.path || '(document)'}: ${oneLine(w.message)}`);
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

type Lib = typeof import('../../syncml/index.js');

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ');
}

/** The one line `src/cli/errors.ts` would print for a SyncMLError. */
function describe(e: { code: string; path: string; line?: number; column?: number; offset?: number; message: string }): string {
  let where = '';
  if (typeof e.line === 'number' && typeof e.column === 'number') where = ` at line ${e.line}:${e.column}`;
  else if (typeof e.offset === 'number' && e.offset >= 0) where = ` at byte ${e.offset}`;
  if (e.path) where += `${where ? ',' : ' at'} ${e.path}`;
  return `syncml-dm: ${e.code}${where}: ${oneLine(e.message.replace(/ \((at [^)]*)\)$/, ''))}`;
}

function headerLine(m: SyncML, encoding: 'wbxml' | 'xml', bytes: number): string {
  const h = m.header;
  const v = (s: string | undefined): string => (s === undefined || s === '' ? '?' : s);
  return `SyncML ${v(h.verDTD)} ${v(h.verProto)} session ${v(h.sessionId)} msg ${v(h.msgId)} from ${v(h.source?.locUri)} to ${v(h.target?.locUri)}, ${encoding === 'wbxml' ? 'WBXML' : 'XML'} ${bytes} bytes`;
}

function shorten(s: string): string {
  const chars = Array.from(s);
  return chars.length > VALUE_WIDTH ? chars.slice(0, VALUE_WIDTH - 1).join('') + '…' : s;
}

function value(d: Data): string {
  if (typeof d === 'string') return JSON.stringify(shorten(d));
  if (d instanceof Uint8Array) return `<${d.length} bytes>`;
  if (d.kind === 'DevInf') return `<DevInf ${d.devId}>`;
  return `<MgmtTree, ${d.nodes.length} node${d.nodes.length === 1 ? '' : 's'}>`;
}

function itemText(it: Item): string {
  const src = it.source?.locUri;
  const tgt = it.target?.locUri;
  let s = src !== undefined && tgt !== undefined ? `${src} -> ${tgt}` : tgt ?? src ?? '(no URI)';
  if (it.data !== undefined) s += ` = ${value(it.data)}`;
  const m = it.meta;
  const notes: string[] = [];
  if (m?.format !== undefined && m.format !== 'chr') notes.push(m.format);
  if (m?.type !== undefined) notes.push(m.type);
  if (m?.mark !== undefined) notes.push(`mark ${m.mark}`);
  if (m?.size !== undefined) notes.push(`size ${m.size}`);
  if (it.moreData) notes.push('more data');
  if (notes.length > 0) s += ` (${notes.join(', ')})`;
  return s;
}

/** The command's line(s): one line, its Items inline when there is one, indented below when more. */
function commandLines(c: Command, depth: number, out: string[], lib: Lib): void {
  const pad = '  '.repeat(depth);
  const id = c.cmdId ? `#${c.cmdId}` : '(no CmdID)';
  const flags = c.noResp ? ' [NoResp]' : '';
  const items = (c as { items?: Item[] }).items ?? [];
  const withItems = (head: string, tail = ''): void => {
    if (items.length === 1) out.push(`${pad}${head} ${itemText(items[0])}${tail}${flags}`);
    else {
      out.push(`${pad}${head}${items.length > 1 ? ` (${items.length} items)` : ''}${tail}${flags}`);
      for (const it of items) out.push(`${pad}  ${itemText(it)}`);
    }
  };
  const correlator = (x: string | undefined): string => (x === undefined ? '' : ` correlator ${x}`);
  switch (c.kind) {
    case 'Status': {
      let head = `Status ${id} -> ${c.cmd} (msg ${c.msgRef}, cmd ${c.cmdRef}): ${c.code} ${lib.statusText(c.code)}`;
      if (c.chal !== undefined) head += ` [challenge ${c.chal.meta.type ?? '?'}${c.chal.meta.nextNonce !== undefined ? ' with nonce' : ''}]`;
      const refs = [...(c.targetRefs ?? []), ...(c.sourceRefs ?? [])];
      if (refs.length > 0 && c.cmd !== 'SyncHdr') head += ` [${refs.join(', ')}]`;
      out.push(`${pad}${head}`);
      for (const it of items) out.push(`${pad}  ${itemText(it)}`);
      return;
    }
    case 'Results':
      withItems(`Results ${id} -> msg ${c.msgRef ?? '(none)'}, cmd ${c.cmdRef}:`);
      return;
    case 'Alert':
      withItems(`Alert ${id} ${c.code} ${lib.alertLabel(c.code)}`, correlator(c.correlator));
      return;
    case 'Exec':
      withItems(`Exec ${id}`, correlator(c.correlator));
      return;
    case 'Atomic': case 'Sequence':
      out.push(`${pad}${c.kind} ${id} (${c.commands.length} command${c.commands.length === 1 ? '' : 's'})${flags}`);
      for (const x of c.commands) commandLines(x, depth + 1, out, lib);
      return;
    case 'Sync':
      out.push(`${pad}Sync ${id} ${c.source?.locUri ?? '?'} -> ${c.target?.locUri ?? '?'} (${c.commands.length} command${c.commands.length === 1 ? '' : 's'})${flags}`);
      for (const x of c.commands) commandLines(x, depth + 1, out, lib);
      return;
    case 'Map':
      out.push(`${pad}Map ${id} ${c.source.locUri} -> ${c.target.locUri} (${c.mapItems.length} item${c.mapItems.length === 1 ? '' : 's'})`);
      return;
    case 'Search':
      out.push(`${pad}Search ${id} ${c.sources.map((s) => s.locUri).join(', ')}${c.target ? ` -> ${c.target.locUri}` : ''} = ${value(c.data)}${flags}`);
      return;
    default:
      withItems(`${c.kind} ${id}`);
  }
}
