/**
 * DevInfo (DMSTDOBJ 5.x; research note 4.5): who the device is, sent in every package 1.
 * Installed from its DDF, as data; every node is permanent, Get-only for everyone.
 */
import type { MgmtTree } from '../../syncml/ddf-types.js';
import type { ConfigManager } from '../config-manager.js';
import { applyDdf, ddfNode } from '../ddf-tree.js';
import type { ManagementTree } from '../tree.js';
import { encodeSegment } from '../uri.js';

/** MO identifier of DevInfo. @public */
export const DEVINFO_TYPE = 'urn:oma:mo:oma-dm-devinfo:1.0';

/** Values of `./DevInfo`. @public */
export interface DevInfoValues {
  /** Globally unique device id, URN form (`IMEI:...`, `MAC:...`). */
  devId: string;
  man: string;
  mod: string;
  /** DM client version string. */
  dmV: string;
  /** RFC 1766 language tag. */
  lang: string;
  /** Vendor extension leaves, `./DevInfo/Ext/<name>`. */
  ext?: Record<string, string>;
}

const LEAF = { access: ['Get'] as const, format: 'chr' as const, scope: 'Permanent' as const, occurrence: { kind: 'One' as const } };

/** The DevInfo DDF (AccessType Get everywhere; Ext optional). @public */
export function devInfoDdf(values: DevInfoValues): MgmtTree {
  const leaf = (name: string, value: string) => {
    const n = ddfNode(name, { ...LEAF, access: [...LEAF.access] });
    n.value = value;
    return n;
  };
  return {
    kind: 'MgmtTree', verDTD: '1.2', nodes: [
      ddfNode('DevInfo', {
        access: ['Get'], format: 'node', type: DEVINFO_TYPE, scope: 'Permanent', occurrence: { kind: 'One' }, path: '.', acl: 'Get=*',
      }, [
        leaf('DevId', values.devId),
        leaf('Man', values.man),
        leaf('Mod', values.mod),
        leaf('DmV', values.dmV),
        leaf('Lang', values.lang),
        ddfNode('Ext', { access: ['Get'], format: 'node', scope: 'Dynamic', occurrence: { kind: 'ZeroOrOne' } }),
      ]),
    ],
  };
}

/**
 * Installs `./DevInfo` (Type `urn:oma:mo:oma-dm-devinfo:1.0`, ACL `Get=*`, permanent, DDF
 * AccessType Get: servers get 405 on Add/Replace/Delete). `ext` values become permanent leaves
 * under `./DevInfo/Ext`.
 * @public
 */
export function installDevInfo(cm: ConfigManager, values: DevInfoValues): void {
  const tree = cm.tree;
  const ddf = devInfoDdf(values);
  applyDdf(tree, ddf);
  // Re-installing over an existing DevInfo updates its values (the DDF creates missing nodes only).
  for (const n of ddf.nodes[0].children) {
    const uri = `./DevInfo/${n.nodeName}`;
    if (n.value !== undefined && tree.info(uri)?.value !== n.value) tree.replace(uri, { value: n.value });
  }
  if (values.ext) {
    if (!tree.exists('./DevInfo/Ext')) tree.add('./DevInfo/Ext', { format: 'node', scope: 'permanent' });
    for (const [name, value] of Object.entries(values.ext)) {
      const uri = `./DevInfo/Ext/${encodeSegment(name)}`;
      if (tree.exists(uri)) tree.replace(uri, { value });
      else tree.add(uri, { format: 'chr', value, scope: 'permanent' });
    }
  }
}

/**
 * The DevInfo leaves a client sends in package 1 (a Replace with one item each), in tree order:
 * DevId, Man, Mod, DmV, Lang, then Ext leaves.
 * @public
 */
export function devInfoItems(tree: ManagementTree): { uri: string; value: string }[] {
  const out: { uri: string; value: string }[] = [];
  if (!tree.exists('./DevInfo')) return out;
  tree.walk('./DevInfo', (info) => {
    if (info.leaf) out.push({ uri: info.uri, value: typeof info.value === 'string' ? info.value : new TextDecoder().decode(info.value) });
  });
  return out;
}
