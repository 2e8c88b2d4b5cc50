/**
 * Text helpers of the demo: colours (only on a terminal, never with NO_COLOR), numbers, times,
 * and the one-line summary of a SyncML message the trace prints.
 */
import type { Command, Item, SyncML } from '../../syncml/types.js';

/** ANSI styling, or the identity when colour is off. */
export interface Style {
  readonly enabled: boolean;
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  magenta(s: string): string;
}

/** Colour on a terminal unless NO_COLOR is set (https://no-color.org) or TERM is dumb. */
export function colourWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

export function makeStyle(enabled: boolean): Style {
  const wrap = (open: number, close: number) => (s: string) => (enabled ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return {
    enabled,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
    magenta: wrap(35, 39),
  };
}

/** Visible length of a string that may hold ANSI colour codes. */
export function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/** 1234567 -> `1,234,567` (the same in every locale, so the output is stable). */
export function int(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Milliseconds as `12 ms` or `1.23 s`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** Bytes as `812 B`, `256 KiB`, `1.5 MiB`. */
export function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Number.isInteger(n / 1024) ? n / 1024 : (n / 1024).toFixed(1)} KiB`;
  return `${(n / 1048576).toFixed(1)} MiB`;
}

function quote(d: Item['data']): string {
  if (d === undefined) return '';
  if (typeof d === 'string') return d.length > 24 ? `"${d.slice(0, 23)}…"` : `"${d}"`;
  if (d instanceof Uint8Array) return `<${int(d.length)} bytes>`;
  return '<document>';
}

function uriOf(it: Item): string {
  return it.target?.locUri ?? it.source?.locUri ?? '?';
}

/** `./DevInfo/{DevId,Man,Mod}` for items under one parent, else the first URI and a count. */
function uriGroup(items: Item[]): string {
  const uris = items.map(uriOf);
  const parents = new Set(uris.map((u) => u.slice(0, u.lastIndexOf('/'))));
  if (parents.size === 1 && uris.every((u) => u.includes('/'))) {
    const parent = [...parents][0];
    const names = uris.map((u) => u.slice(parent.length + 1));
    const shown = names.length > 6 ? [...names.slice(0, 5), '…'] : names;
    return `${parent}/{${shown.join(',')}}`;
  }
  return `${uris[0]} …`;
}

function itemsText(kind: string, items: Item[], withValue: boolean): string {
  if (items.length === 1) {
    const v = withValue ? quote(items[0].data) : '';
    return `${kind} ${uriOf(items[0])}${v ? ` = ${v}` : ''}${items[0].moreData ? ' (chunk)' : ''}`;
  }
  return `${kind}(${items.length}) ${uriGroup(items)}`;
}

/** Short names of Meta Types the demo shows (chal md5, Generic Alert types). */
function shortType(t: string | undefined): string {
  if (t === undefined) return '';
  return t.replace(/^syncml:auth-/, '').replace(/^org\.openmobilealliance\.dm\.firmwareupdate\./, 'fumo.').replace(/^urn:oma:at:fumo:1\.0:/, 'fumo.');
}

/** The summary of one command, e.g. `Replace(5) ./DevInfo/{DevId,…}`, `Atomic{Replace …, Add …}`. */
export function commandText(c: Command, style: Style): string {
  switch (c.kind) {
    case 'Status': {
      const chal = c.chal?.meta?.type ? ` [chal ${shortType(c.chal.meta.type)}]` : '';
      const code = c.code >= 400 ? style.red(String(c.code)) : c.code >= 300 || c.code === 216 ? style.yellow(String(c.code)) : String(c.code);
      return `${c.cmd} ${code}${chal}`;
    }
    case 'Alert': {
      if (c.code === 1226 || c.code === 1224) {
        const it = c.items[0];
        const corr = c.correlator !== undefined ? ` corr ${c.correlator}` : '';
        return `Alert ${c.code} ${shortType(it?.meta?.type)}${it ? ` ${uriOf(it)} = ${quote(it.data)}` : ''}${corr}`;
      }
      return `Alert ${c.code}`;
    }
    case 'Atomic': case 'Sequence':
      return `${c.kind}{${c.commands.map((x) => commandText(x, style)).join(', ')}}`;
    case 'Results':
      return itemsText('Results', c.items, true);
    case 'Exec': {
      const corr = c.correlator !== undefined ? ` corr ${c.correlator}` : '';
      return `${itemsText('Exec', c.items, false)}${corr}`;
    }
    case 'Add': case 'Replace': case 'Copy': case 'Get': case 'Delete':
      return itemsText(c.kind, c.items, c.kind !== 'Get' && c.kind !== 'Delete');
    default:
      return c.kind;
  }
}

/**
 * The commands of a message as short phrases: the Statuses first as one phrase
 * (`Status SyncHdr 212 [chal md5], Alert 200`), then one per command; `(no Final)` when the
 * package continues in another message.
 */
export function messageParts(msg: SyncML, style: Style): string[] {
  const parts: string[] = [];
  const statuses = msg.body.commands.filter((c) => c.kind === 'Status');
  if (statuses.length > 0) {
    // Runs of the same command and code collapse: `Get 200 ×5`.
    const runs: { text: string; n: number }[] = [];
    for (const s of statuses) {
      const t = commandText(s, style);
      const last = runs[runs.length - 1];
      if (last && last.text === t) last.n++;
      else runs.push({ text: t, n: 1 });
    }
    parts.push(`Status ${runs.map((r) => (r.n > 1 ? `${r.text} ×${r.n}` : r.text)).join(', ')}`);
  }
  for (const c of msg.body.commands) if (c.kind !== 'Status') parts.push(commandText(c, style));
  if (!msg.body.final) parts.push('(no Final)');
  if (parts.length === 0) parts.push('(empty)');
  return parts;
}

/**
 * Joins phrases with `, ` into lines of at most `width` visible characters; the first line starts
 * after a prefix of `first` characters, the others are indented by `indent`.
 */
export function wrapParts(parts: string[], first: number, indent: number, width: number): string[] {
  const lines: string[] = [];
  let cur = '';
  let room = Math.max(20, width - first);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] + (i < parts.length - 1 ? ',' : '');
    if (cur !== '' && visibleLength(cur) + 1 + visibleLength(p) > room) {
      lines.push(cur);
      cur = '';
      room = Math.max(20, width - indent);
    }
    cur = cur === '' ? p : `${cur} ${p}`;
  }
  if (cur !== '') lines.push(cur);
  return lines;
}
