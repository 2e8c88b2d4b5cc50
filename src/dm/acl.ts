/**
 * OMA DM access control lists (DMTND 8.3.7.1; research note 4.2):
 * `acl ::= entry ("&" entry)* | empty`, `entry ::= command "=" server-id ("+" server-id)*`.
 * Inheritance (an empty ACL takes the nearest ancestor's whole ACL) belongs to the tree layer.
 */
import { DmError } from './errors.js';

/** The commands an ACL can grant (there is no Copy right: Copy needs the equivalent rights). */
export type AclCommand = 'Add' | 'Delete' | 'Exec' | 'Get' | 'Replace';

/** Canonical order of commands in {@link formatAcl}. */
export const ACL_COMMANDS: readonly AclCommand[] = Object.freeze(['Add', 'Delete', 'Exec', 'Get', 'Replace']);

/**
 * A parsed ACL: for each command present, its server ids (`['*']` = everyone). A command that is
 * absent grants nothing; `{}` is the empty ACL (no value: inherit).
 */
export type Acl = { readonly [C in AclCommand]?: readonly string[] };

function bad(message: string, offset?: number): DmError {
  return new DmError('BAD_ACL', message, { offset, status: 400 });
}

function isCommand(s: string): s is AclCommand {
  return (ACL_COMMANDS as readonly string[]).includes(s);
}

/**
 * Index of the first character a server id may not contain: `=`, `&`, `*`, `+`, whitespace and
 * control characters (the grammar allows printable characters only), or -1.
 */
function badServerIdChar(id: string): number {
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x21 || c === 0x7f || c === 0x3d || c === 0x26 || c === 0x2a || c === 0x2b
      || (c >= 0x80 && /\s/.test(id[i]))) return i;
  }
  return -1;
}

/** Canonical id list: `*` alone when present (it overrides specific ids), duplicates dropped. */
function canonicalIds(ids: Iterable<string>): readonly string[] {
  const list = [...new Set(ids)];
  return Object.freeze(list.includes('*') ? ['*'] : list);
}

function freezeAcl(entries: Partial<Record<AclCommand, readonly string[]>>): Acl {
  const out: { [C in AclCommand]?: readonly string[] } = {};
  for (const c of ACL_COMMANDS) {
    const ids = entries[c];
    if (ids && ids.length > 0) out[c] = canonicalIds(ids);
  }
  return Object.freeze(out);
}

/**
 * Parses ACL text. `''` is the empty ACL. Throws DmError `BAD_ACL` (status 400, `offset` = the
 * character position) for an unknown command, a missing `=`, an empty server list or id, a
 * server id with `=`, `&`, `*`, `+` or whitespace, or a command listed twice.
 * @public
 */
export function parseAcl(text: string): Acl {
  if (text === '') return freezeAcl({});
  const entries: Partial<Record<AclCommand, string[]>> = {};
  let pos = 0;
  for (const entry of text.split('&')) {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    if (!isCommand(name)) {
      throw bad(entry === '' ? 'empty ACL entry' : `unknown ACL command ${JSON.stringify(name)}`, pos);
    }
    if (eq < 0) throw bad(`ACL entry for ${name} has no "="`, pos + entry.length);
    if (entries[name]) throw bad(`ACL command ${name} appears twice`, pos);
    const list = entry.slice(eq + 1);
    if (list === '') throw bad(`ACL command ${name} has no server ids`, pos + eq + 1);
    const ids: string[] = [];
    let idPos = pos + eq + 1;
    for (const id of list.split('+')) {
      if (id === '') throw bad(`empty server id in ${name}`, idPos);
      if (id !== '*') {
        const at = badServerIdChar(id);
        if (at >= 0) throw bad(`illegal character ${JSON.stringify(id[at])} in server id`, idPos + at);
      }
      ids.push(id);
      idPos += id.length + 1;
    }
    entries[name] = ids;
    pos += entry.length + 1;
  }
  return freezeAcl(entries);
}

/**
 * ACL text in canonical form: commands in the order Add, Delete, Exec, Get, Replace; `*` alone
 * when present; commands without ids left out. Throws DmError `BAD_ACL` for an id the grammar
 * cannot carry, so the output always parses back.
 * @public
 */
export function formatAcl(acl: Acl): string {
  const parts: string[] = [];
  for (const c of ACL_COMMANDS) {
    const ids = acl[c];
    if (!ids || ids.length === 0) continue;
    const canon = canonicalIds(ids);
    for (const id of canon) {
      if (id === '' || (id !== '*' && badServerIdChar(id) >= 0)) {
        throw bad(`server id ${JSON.stringify(id)} cannot be written in an ACL`);
      }
    }
    parts.push(`${c}=${canon.join('+')}`);
  }
  return parts.join('&');
}

/**
 * True when `acl` grants `command` to `serverId` (or to everyone via `*`). The caller resolves
 * inheritance first: an empty ACL grants nothing here.
 * @public
 */
export function aclAllows(acl: Acl, command: AclCommand, serverId: string): boolean {
  const ids = acl[command];
  return ids !== undefined && (ids.includes('*') || ids.includes(serverId));
}

/**
 * True for the empty ACL (no value), which means "inherit from the nearest ancestor".
 * @public
 */
export function isEmptyAcl(acl: Acl): boolean {
  return ACL_COMMANDS.every((c) => !acl[c] || acl[c]!.length === 0);
}

/**
 * The ACL without `serverId`; commands left without ids are removed (DMTND 8.3.7.1 removal scan).
 * `*` entries are kept. For the root the caller restores `*` or the factory default where a
 * command disappeared.
 * @public
 */
export function removeServerFromAcl(acl: Acl, serverId: string): Acl {
  const out: Partial<Record<AclCommand, readonly string[]>> = {};
  for (const c of ACL_COMMANDS) {
    const ids = acl[c];
    if (ids) out[c] = ids.filter((id) => id !== serverId);
  }
  return freezeAcl(out);
}

/**
 * The ACL with `serverId` added to each of `commands`, e.g. Add, Delete, Replace for the creator
 * of an interior node that lacks Replace on its parent (DMTND 8.3.7.1).
 * Throws DmError `BAD_ACL` for an id the grammar cannot carry.
 * @public
 */
export function grantAcl(acl: Acl, commands: readonly AclCommand[], serverId: string): Acl {
  if (serverId === '' || (serverId !== '*' && badServerIdChar(serverId) >= 0)) {
    throw bad(`server id ${JSON.stringify(serverId)} cannot be written in an ACL`);
  }
  const out: Partial<Record<AclCommand, readonly string[]>> = { ...acl };
  for (const c of commands) out[c] = [...(acl[c] ?? []), serverId];
  return freezeAcl(out);
}
