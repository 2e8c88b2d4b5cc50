/**
 * Inbox (DMSTDOBJ, optional; research note 4.5): a server Adds a management object to
 * `./Inbox/<name>` and the device places it where it keeps objects of that type. Get on `./Inbox`
 * or below answers 405.
 *
 * The MO type comes from the TNDS document (the top node's RTProperties Type or DFType) or, for
 * a plain interior Add, from Meta Type. The placed node is named after the Inbox name
 * (`./Inbox/fw1` -> `<parent>/fw1`). Later Adds below `./Inbox/<name>/...` in the same session go
 * to the placed node. Each placement is a normal Add at the real location, so the access policy,
 * the DDF and the handler mounted there all apply.
 */
import type { MgmtTree } from '../../syncml/ddf-types.js';
import type { ConfigManager } from '../config-manager.js';
import { applyDdf, ddfNode } from '../ddf-tree.js';
import { DmError } from '../errors.js';
import type { Handler, HandlerContext, NodeData } from '../handler.js';
import { isTndsType } from '../tnds.js';
import { encodeSegment } from '../uri.js';

/** MO identifier of the Inbox. @public */
export const INBOX_TYPE = 'urn:oma:mo:oma-dm-inbox:1.0';

/** Options of {@link installInbox}. @public */
export interface InboxOptions {
  /** Where objects of each MO type go: `{ 'urn:oma:mo:oma-fumo:1.0': './FUMO' }`. */
  placements: Record<string, string>;
}

function inboxDdf(): MgmtTree {
  return {
    kind: 'MgmtTree', verDTD: '1.2', nodes: [
      ddfNode('Inbox', { access: ['Add'], format: 'node', type: INBOX_TYPE, occurrence: { kind: 'ZeroOrOne' }, scope: 'Permanent', path: '.' }),
    ],
  };
}

function moTypeOf(data: NodeData): string | undefined {
  if (data.tnds) {
    const top = data.tnds.nodes[0];
    const t = top?.rtProperties?.type ?? top?.dfProperties?.dfType;
    if (t) return 'mime' in t ? t.mime : t.ddfName;
    return undefined;
  }
  return isTndsType(data.type) ? undefined : data.type;
}

/**
 * Installs `./Inbox` (permanent, DDF AccessType Add only) and mounts its handler.
 * Statuses of an Add below it: 200; 400 (a TNDS with more than one top-level node, or an Add at
 * `./Inbox/<name>/...` when `<name>` was never placed: 404); 415 (no MO type, or a type without
 * a placement); whatever the Add at the real location answers (425, 418, 405...).
 * Get, Replace, Delete, Exec below `./Inbox` answer 405.
 * @public
 */
export function installInbox(cm: ConfigManager, options: InboxOptions): void {
  const placements = new Map<string, string>();
  for (const [type, parent] of Object.entries(options.placements)) placements.set(type, cm.tree.resolve(parent).path);
  applyDdf(cm.tree, inboxDdf());
  /** Inbox name -> URI of the placed node. */
  const placed = new Map<string, string>();

  const forward = async (command: 'Add', uri: string, data: NodeData, ctx: HandlerContext): Promise<void> => {
    const r = await cm.execute({ command, uri, data, serverId: ctx.serverId, correlator: ctx.correlator, meta: ctx.meta });
    for (const a of r.alerts ?? []) ctx.alert(a);
    if (r.status >= 300) throw r.error ?? new DmError('COMMAND_FAILED', `Add at ${uri} failed`, { status: r.status });
  };
  const refuse = (what: string): never => {
    throw new DmError('COMMAND_NOT_ALLOWED', `${what} is not allowed on the Inbox (DMSTDOBJ)`);
  };

  const handler: Handler = {
    ownsStorage: true,
    get: () => refuse('Get'),
    replace: () => refuse('Replace'),
    delete: () => refuse('Delete'),
    exec: () => refuse('Exec'),
    copy: () => refuse('Copy'),
    async add(uri, data, ctx) {
      const names = cm.tree.resolve(uri).names.slice(1); // below Inbox
      if (names.length === 0) refuse('Add on ./Inbox itself');
      const [first, ...rest] = names;
      if (rest.length > 0) {
        const base = placed.get(first);
        if (!base) throw new DmError('NOT_FOUND', `./Inbox/${encodeSegment(first)} was not placed in this session`);
        await forward('Add', `${base}/${rest.map(encodeSegment).join('/')}`, data, ctx);
        return;
      }
      if (data.tnds && data.tnds.nodes.length !== 1) {
        throw new DmError('BAD_MESSAGE', 'an Inbox TNDS carries exactly one management object', { status: 400 });
      }
      const type = moTypeOf(data);
      if (!type) throw new DmError('UNSUPPORTED_MEDIA_TYPE', 'the Inbox needs the MO type (TNDS Type or Meta Type)');
      const parent = placements.get(type);
      if (!parent) throw new DmError('UNSUPPORTED_MEDIA_TYPE', `no place for management objects of type ${type}`);
      const target = `${parent === '.' ? '.' : parent}/${encodeSegment(first)}`;
      const forwarded: NodeData = data.tnds ? data : { format: 'node', type };
      await forward('Add', target, forwarded, ctx);
      placed.set(first, target);
    },
  };
  cm.mount('./Inbox', handler);
}
