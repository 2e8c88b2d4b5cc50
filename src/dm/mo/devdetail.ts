/**
 * DevDetail (DMSTDOBJ 5.x; research note 4.5): device details a server fetches with Get, and the
 * URI limits (`URI/MaxDepth`, `URI/MaxTotLen`, `URI/MaxSegLen`, 0 = unlimited) the tree enforces
 * with 414. Permanent, Get-only for everyone.
 */
import type { MgmtTree } from '../../syncml/ddf-types.js';
import type { ConfigManager } from '../config-manager.js';
import { applyDdf, ddfNode } from '../ddf-tree.js';
import { DmError } from '../errors.js';
import type { ManagementTree } from '../tree.js';
import type { UriLimits } from '../uri.js';

/** MO identifier of DevDetail. @public */
export const DEVDETAIL_TYPE = 'urn:oma:mo:oma-dm-devdetail:1.0';

/** Values of `./DevDetail`. @public */
export interface DevDetailValues {
  devTyp: string;
  oem: string;
  fwV: string;
  swV: string;
  hwV: string;
  /** Whether the client supports large objects. */
  lrgObj: boolean;
  /** 0 = unlimited. */
  uriLimits: { maxDepth: number; maxTotLen: number; maxSegLen: number };
}

/** The DevDetail DDF (AccessType Get everywhere). @public */
export function devDetailDdf(v: DevDetailValues): MgmtTree {
  const leaf = (name: string, value: string, format: 'chr' | 'bool' = 'chr') => {
    const n = ddfNode(name, { access: ['Get'], format, scope: 'Permanent', occurrence: { kind: 'One' } });
    n.value = value;
    return n;
  };
  const interior = { access: ['Get'] as ('Get')[], format: 'node' as const, scope: 'Permanent' as const, occurrence: { kind: 'One' as const } };
  return {
    kind: 'MgmtTree', verDTD: '1.2', nodes: [
      ddfNode('DevDetail', { ...interior, type: DEVDETAIL_TYPE, path: '.', acl: 'Get=*' }, [
        ddfNode('URI', interior, [
          leaf('MaxDepth', String(v.uriLimits.maxDepth)),
          leaf('MaxTotLen', String(v.uriLimits.maxTotLen)),
          leaf('MaxSegLen', String(v.uriLimits.maxSegLen)),
        ]),
        leaf('DevTyp', v.devTyp),
        leaf('OEM', v.oem),
        leaf('FwV', v.fwV),
        leaf('SwV', v.swV),
        leaf('HwV', v.hwV),
        leaf('LrgObj', v.lrgObj ? 'true' : 'false', 'bool'),
        ddfNode('Ext', { access: ['Get'], format: 'node', scope: 'Dynamic', occurrence: { kind: 'ZeroOrOne' } }),
      ]),
    ],
  };
}

/** Device-side: leaf values of `nodes` written where they differ (the DDF's values win). */
function updateValues(tree: ManagementTree, parent: string, nodes: MgmtTree['nodes']): void {
  for (const n of nodes) {
    const uri = `${parent === '.' ? '.' : parent}/${n.nodeName}`;
    if (n.children.length > 0) updateValues(tree, uri, n.children);
    else if (n.value !== undefined && tree.info(uri)?.value !== n.value) tree.replace(uri, { value: n.value });
  }
}

function limitValue(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 0) throw new DmError('INVALID_ARGUMENT', `${name} must be a non-negative integer`);
  return v;
}

/**
 * Reads `./DevDetail/URI/*` into the tree's URI limits (call after changing them device-side).
 * Missing or non-numeric values count as 0 (unlimited).
 * @public
 */
export function syncUriLimits(tree: ManagementTree): UriLimits {
  const read = (name: string): number => {
    const v = tree.info(`./DevDetail/URI/${name}`)?.value;
    const n = typeof v === 'string' ? Number.parseInt(v, 10) : 0;
    return Number.isInteger(n) && n > 0 ? n : 0;
  };
  const limits: UriLimits = { maxDepth: read('MaxDepth'), maxTotalLength: read('MaxTotLen'), maxSegmentLength: read('MaxSegLen') };
  tree.setUriLimits(limits);
  return limits;
}

/**
 * Installs `./DevDetail` (Type `urn:oma:mo:oma-dm-devdetail:1.0`, ACL `Get=*`, permanent, DDF
 * AccessType Get) and makes the tree enforce its URI limits (414 beyond them).
 * Throws INVALID_ARGUMENT for a negative or fractional limit.
 * @public
 */
export function installDevDetail(cm: ConfigManager, values: DevDetailValues): void {
  limitValue(values.uriLimits.maxDepth, 'maxDepth');
  limitValue(values.uriLimits.maxTotLen, 'maxTotLen');
  limitValue(values.uriLimits.maxSegLen, 'maxSegLen');
  const ddf = devDetailDdf(values);
  applyDdf(cm.tree, ddf);
  // Re-installing over an existing DevDetail (e.g. after a firmware update) updates its values.
  updateValues(cm.tree, '.', ddf.nodes);
  syncUriLimits(cm.tree);
}
