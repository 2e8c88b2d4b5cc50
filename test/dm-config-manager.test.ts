import { describe, expect, it } from 'vitest';
import type { MgmtTree } from '../src/syncml/ddf-types.js';
import { AllowAllPolicy, OmaAclPolicy, RolePolicy } from '../src/dm/access-policy.js';
import { ConfigManager, type ExecuteRequest, type ResultItem } from '../src/dm/config-manager.js';
import { applyDdf, ddfNode } from '../src/dm/ddf-tree.js';
import { DmError } from '../src/dm/errors.js';
import type { Handler } from '../src/dm/handler.js';
import { TNDS_XML_TYPE } from '../src/dm/tnds.js';
import { ManagementTree } from '../src/dm/tree.js';

function setup(rootAcl?: string) {
  const tree = new ManagementTree({ clock: () => new Date(Date.UTC(2020, 0, 1)), rootAcl });
  const cm = new ConfigManager({ tree });
  const run = (req: Partial<ExecuteRequest> & Pick<ExecuteRequest, 'command' | 'uri'>) => cm.execute({ serverId: 'srv', ...req });
  return { tree, cm, run };
}

function items(r: { results?: unknown }): ResultItem[] {
  return r.results as ResultItem[];
}

describe('OmaAclPolicy', () => {
  it('inherits the whole ACL from the nearest ancestor with a value, never per command', async () => {
    const { tree, run } = setup('Add=*&Get=*&Replace=*&Delete=*');
    tree.add('./A/B/c', { value: '1' });
    tree.replace('./A?prop=ACL', { value: 'Get=srv' });
    // ./A has Get only: Replace is not inherited from the root, even though the root grants it.
    expect((await run({ command: 'Get', uri: './A/B/c' })).status).toBe(200);
    expect((await run({ command: 'Replace', uri: './A/B/c', data: { value: '2' } })).status).toBe(425);
    tree.replace('./A/B?prop=ACL', { value: 'Replace=srv' });
    // ./A/B's own ACL replaces ./A's entirely: now Get is denied below it.
    expect((await run({ command: 'Get', uri: './A/B/c' })).status).toBe(425);
    expect((await run({ command: 'Replace', uri: './A/B/c', data: { value: '2' } })).status).toBe(200);
  });

  it('* allows everyone, a list allows only its ids', async () => {
    const { tree, run } = setup();
    tree.add('./A', { value: '1', acl: 'Get=a+b' });
    tree.add('./S', { value: '1', acl: 'Get=*' });
    expect((await run({ command: 'Get', uri: './A', serverId: 'a' })).status).toBe(200);
    expect((await run({ command: 'Get', uri: './A', serverId: 'c' })).status).toBe(425);
    expect((await run({ command: 'Get', uri: './S', serverId: 'anyone' })).status).toBe(200);
  });

  it('checks Add at the nearest existing ancestor, or at the node itself when it exists', async () => {
    const { tree, run } = setup('Get=*');
    tree.add('./Open', { format: 'node', acl: 'Add=srv&Get=*' });
    expect((await run({ command: 'Add', uri: './Open/x/y', data: { value: '1' } })).status).toBe(200);
    expect((await run({ command: 'Add', uri: './Closed/x', data: { value: '1' } })).status).toBe(425);
    // A node that exists with its own ACL is checked "at the child level": 418, not 425.
    tree.add('./Pre', { format: 'node', acl: 'Add=srv' });
    tree.replace('.?prop=ACL', { value: 'Get=*' });
    expect((await run({ command: 'Add', uri: './Pre', data: { format: 'node' } })).status).toBe(418);
  });

  it('ACL changes: interior needs Replace on itself or its parent, a leaf on its parent (two-step takeover)', async () => {
    const { tree, run } = setup('Add=*&Get=*');
    tree.add('./P', { format: 'node', acl: 'Replace=boss&Get=*' });
    tree.add('./P/leaf', { value: 'v', acl: 'Replace=srv&Get=*' });
    tree.add('./P/dir', { format: 'node', acl: 'Replace=srv' });
    // srv may replace the leaf's value but not its ACL.
    expect((await run({ command: 'Replace', uri: './P/leaf', data: { value: 'w' } })).status).toBe(200);
    expect((await run({ command: 'Replace', uri: './P/leaf?prop=ACL', data: { value: 'Get=*' } })).status).toBe(425);
    // srv may change the ACL of an interior node it has Replace on.
    expect((await run({ command: 'Replace', uri: './P/dir?prop=ACL', data: { value: 'Replace=srv&Get=srv' } })).status).toBe(200);
    // boss has Replace on the parent: it can take over both children's ACLs.
    const boss = { serverId: 'boss' };
    expect((await run({ ...boss, command: 'Replace', uri: './P/leaf?prop=ACL', data: { value: 'Replace=boss' } })).status).toBe(200);
    expect((await run({ ...boss, command: 'Replace', uri: './P/dir?prop=ACL', data: { value: 'Replace=boss' } })).status).toBe(200);
    expect(tree.info('./P/dir')!.acl).toBe('Replace=boss');
  });

  it('Copy needs Get on the source and Add (or Replace when the target exists) on the target', async () => {
    const { tree, run } = setup('Get=*');
    tree.add('./Src', { value: 's', acl: 'Get=srv' });
    tree.add('./Secret', { value: 's', acl: 'Replace=srv' });
    tree.add('./Dst', { format: 'node', acl: 'Add=srv&Get=*' });
    tree.add('./Dst/old', { value: 'o', acl: 'Get=*' });
    expect((await run({ command: 'Copy', uri: './Dst/new', sourceUri: './Src' })).status).toBe(200);
    expect(tree.info('./Dst/new')!.value).toBe('s');
    expect((await run({ command: 'Copy', uri: './Dst/x', sourceUri: './Secret' })).status).toBe(425);
    expect((await run({ command: 'Copy', uri: './Dst/old', sourceUri: './Src' })).status).toBe(425); // exists: needs Replace
    tree.replace('./Dst/old?prop=ACL', { value: 'Replace=srv' });
    expect((await run({ command: 'Copy', uri: './Dst/old', sourceUri: './Src' })).status).toBe(200);
    expect((await run({ command: 'Copy', uri: './Dst/y' })).status).toBe(400);
  });

  it('gives a creator without Replace on the parent Add/Delete/Replace on the interior node it adds', async () => {
    const { tree, run } = setup('Add=*&Get=*');
    expect((await run({ command: 'Add', uri: './Mine/sub', data: { format: 'node' } })).status).toBe(200);
    expect(tree.info('./Mine')!.acl).toBe('Add=*&Delete=srv&Get=*&Replace=srv');
    expect(tree.info('./Mine/sub')!.acl).toBe('');
    expect((await run({ command: 'Delete', uri: './Mine/sub' })).status).toBe(200);
    expect((await run({ command: 'Delete', uri: './Mine', serverId: 'other' })).status).toBe(425);
    // With Replace on the parent, nothing is set.
    tree.replace('.?prop=ACL', { value: 'Add=*&Get=*&Replace=srv' });
    await run({ command: 'Add', uri: './Plain', data: { format: 'node' } });
    expect(tree.info('./Plain')!.acl).toBe('');
  });
});

describe('RolePolicy and AllowAllPolicy', () => {
  it('uses the longest matching rule and role bits', async () => {
    const tree = new ManagementTree();
    tree.add('./DMAcc/x', { value: '1' });
    tree.add('./Vendor/App/k', { value: '1' });
    tree.add('./Other', { value: '1' });
    const policy = new RolePolicy({
      serverRoles: { op: 128, mgr: 8 },
      rules: { './Vendor': { Get: 128 | 8, '*': 8 }, './Vendor/App': 8, './DMAcc': 8 },
    });
    const cm = new ConfigManager({ tree, policy });
    const st = async (serverId: string, command: ExecuteRequest['command'], uri: string) => (await cm.execute({ serverId, command, uri, data: { value: '2' } })).status;
    expect(await st('op', 'Get', './DMAcc/x')).toBe(425);
    expect(await st('mgr', 'Get', './DMAcc/x')).toBe(200);
    expect(await st('op', 'Get', './Vendor')).toBe(200);
    expect(await st('op', 'Replace', './Vendor/App/k')).toBe(425); // longest prefix ./Vendor/App wins
    expect(await st('mgr', 'Replace', './Vendor/App/k')).toBe(200);
    expect(await st('nobody', 'Get', './Other')).toBe(200); // no rule: allowed
    const strict = new ConfigManager({ tree, policy: new RolePolicy({ serverRoles: {}, rules: {}, defaultMask: 1 }) });
    expect((await strict.execute({ serverId: 'x', command: 'Get', uri: './Other' })).status).toBe(425);
  });

  it('AllowAllPolicy ignores ACLs', async () => {
    const tree = new ManagementTree({ rootAcl: 'Get=nobody' });
    const cm = new ConfigManager({ tree, policy: new AllowAllPolicy() });
    expect((await cm.execute({ serverId: 's', command: 'Add', uri: './A', data: { value: '1' } })).status).toBe(200);
  });
});

describe('ConfigManager statuses', () => {
  it('400 and 414 for bad URIs, 406 for an unknown query, 405 for queries on the wrong command', async () => {
    const tree = new ManagementTree({ limits: { maxDepth: 2 } });
    const cm = new ConfigManager({ tree });
    const run = (req: Omit<ExecuteRequest, 'serverId'>) => cm.execute({ serverId: 's', ...req });
    expect((await run({ command: 'Get', uri: './A/' })).status).toBe(400);
    expect((await run({ command: 'Get', uri: './A/B/C' })).status).toBe(414);
    expect((await run({ command: 'Get', uri: '.?x=1' })).status).toBe(406);
    expect((await run({ command: 'Delete', uri: '.?list=Struct' })).status).toBe(405);
    expect((await run({ command: 'Add', uri: './A?prop=ACL' })).status).toBe(405);
    expect((await run({ command: 'Delete', uri: '.?prop=ACL' })).status).toBe(405);
    const limited = new ConfigManager({ tree: new ManagementTree(), limits: { maxTotalLength: 4 } });
    expect((await limited.execute({ serverId: 's', command: 'Get', uri: './ABCDE' })).status).toBe(414);
  });

  it('tree semantics without handlers: 404, 418, 405, 406', async () => {
    const { run } = setup('Add=*&Get=*&Replace=*&Delete=*&Exec=*');
    expect((await run({ command: 'Get', uri: './Nope' })).status).toBe(404);
    expect((await run({ command: 'Replace', uri: './Nope', data: { value: '1' } })).status).toBe(404);
    expect((await run({ command: 'Add', uri: './A', data: { value: '1' } })).status).toBe(200);
    expect((await run({ command: 'Add', uri: './A', data: { value: '1' } })).status).toBe(418);
    expect((await run({ command: 'Add', uri: './A/b', data: { value: '1' } })).status).toBe(405);
    expect((await run({ command: 'Delete', uri: '.' })).status).toBe(405);
    expect((await run({ command: 'Get', uri: './A?prop=Bogus' })).status).toBe(406);
    const g = await run({ command: 'Get', uri: './A?prop=Format' });
    expect(items(g)).toEqual([{ uri: './A?prop=Format', format: 'chr', type: 'text/plain', value: 'chr' }]);
    expect((await run({ command: 'Exec', uri: './Nope' })).status).toBe(404);
    expect((await run({ command: 'Exec', uri: './A' })).status).toBe(405); // no handler
  });

  it('applies DDF AccessType (405; 406 for Exec) before routing', async () => {
    const { tree, run } = setup('Add=*&Get=*&Replace=*&Delete=*&Exec=*');
    applyDdf(tree, { kind: 'MgmtTree', verDTD: '1.2', nodes: [
      ddfNode('Dev', { access: ['Get'], format: 'node', scope: 'Permanent', path: '.' }, [
        ddfNode('Ro', { access: ['Get'], format: 'chr', scope: 'Permanent', defaultValue: 'x' }),
        ddfNode('Secret', { access: ['Replace'], format: 'chr', scope: 'Permanent' }),
        ddfNode('Items', { access: ['Get'], format: 'node', scope: 'Permanent' }, [
          ddfNode('', { access: ['Get', 'Delete'], format: 'chr' }),
        ]),
      ]),
    ] });
    expect((await run({ command: 'Replace', uri: './Dev/Ro', data: { value: 'y' } })).status).toBe(405);
    expect((await run({ command: 'Get', uri: './Dev/Secret' })).status).toBe(405);
    expect((await run({ command: 'Replace', uri: './Dev/Secret', data: { value: 'pw' } })).status).toBe(200);
    expect((await run({ command: 'Get', uri: './Dev/Secret?prop=Format' })).status).toBe(200); // properties follow their own table
    expect((await run({ command: 'Add', uri: './Dev/Items/a', data: { value: '1' } })).status).toBe(405); // placeholder lacks Add
    expect((await run({ command: 'Exec', uri: './Dev/Ro' })).status).toBe(406);
    expect((await run({ command: 'Copy', uri: './Dev/Other', sourceUri: './Dev/Secret' })).status).toBe(405);
  });

  it('?list= leaves out what the server may not Get and values the DDF hides', async () => {
    const { tree, run } = setup('Add=*&Get=*');
    tree.add('./L/pub', { value: 'p' });
    tree.add('./L/priv/x', { value: 'hidden', acl: 'Get=other' });
    tree.replace('./L/priv?prop=ACL', { value: 'Get=other' });
    applyDdf(tree, { kind: 'MgmtTree', verDTD: '1.2', nodes: [ddfNode('pw', { access: ['Replace'], format: 'chr', scope: 'Permanent', defaultValue: 'secret', path: './L' })] });
    const r = await run({ command: 'Get', uri: './L?list=StructData' });
    expect(r.status).toBe(200);
    expect(items(r)).toEqual([
      { uri: './L', format: 'node', type: '' },
      { uri: './L/pub', format: 'chr', type: 'text/plain', value: 'p' },
      { uri: './L/pw', format: 'chr', type: 'text/plain' },
    ]);
    const t = await run({ command: 'Get', uri: './L?list=TNDS+Value' });
    const doc = t.results as MgmtTree;
    expect(doc.nodes[0].children.map((c) => [c.nodeName, c.value])).toEqual([['pub', 'p'], ['pw', undefined]]);
  });
});

describe('handlers', () => {
  it('routes by longest prefix and falls back to the tree', async () => {
    const { tree, cm, run } = setup('Add=*&Get=*&Replace=*&Delete=*&Exec=*');
    const calls: string[] = [];
    const h = (name: string): Handler => ({
      get: (uri) => { calls.push(`${name}.get ${uri}`); return uri.endsWith('/live') ? { value: `${name}-live` } : undefined; },
      add: (uri) => { calls.push(`${name}.add ${uri}`); },
      exec: (uri, data, ctx) => { calls.push(`${name}.exec ${uri} ${ctx.correlator}`); return 202; },
    });
    cm.mount('./FUMO', h('fumo'));
    cm.mount('./FUMO/pkg1', h('pkg1'));
    tree.add('./FUMO/pkg1/Update', { value: '' });
    tree.add('./FUMO/pkg2/live', { value: 'stale' });
    expect(items(await run({ command: 'Get', uri: './FUMO/pkg2/live' }))[0].value).toBe('fumo-live');
    expect(items(await run({ command: 'Get', uri: './FUMO/pkg1/Update' }))[0].value).toBe(''); // handler declined
    const ex = await run({ command: 'Exec', uri: './FUMO/pkg1/Update', correlator: 'c1' });
    expect(ex.status).toBe(202);
    expect((await run({ command: 'Add', uri: './FUMO/pkg3/x', data: { value: 'v' } })).status).toBe(200);
    expect(tree.info('./FUMO/pkg3/x')!.value).toBe('v'); // recorded in the tree too
    expect(calls).toEqual([
      'fumo.get ./FUMO/pkg2/live', 'pkg1.get ./FUMO/pkg1/Update', 'pkg1.exec ./FUMO/pkg1/Update c1', 'fumo.add ./FUMO/pkg3/x',
    ]);
    expect(cm.route('./FUMO/pkg1x')!.mount).toBe('./FUMO');
    expect(cm.unmount('./FUMO/pkg1')).toBe(true);
    expect(cm.route('./FUMO/pkg1/Update')!.mount).toBe('./FUMO');
    expect(() => cm.mount('./FUMO', {})).toThrow(/already mounted/);
  });

  it('maps a DmError to its status and anything else to 500, and never throws', async () => {
    const { tree, cm, run } = setup('Add=*&Get=*&Replace=*&Delete=*&Exec=*');
    cm.mount('./H', {
      get: () => { throw new Error('boom'); },
      replace: () => { throw new DmError('FORBIDDEN', 'in use'); },
      delete: () => { throw 'a string'; },
      exec: () => 99,
    });
    tree.add('./H/x', { value: '1' });
    const g = await run({ command: 'Get', uri: './H/x' });
    expect(g.status).toBe(500);
    expect(g.error?.code).toBe('COMMAND_FAILED');
    expect((await run({ command: 'Replace', uri: './H/x', data: { value: '2' } })).status).toBe(403);
    expect(tree.info('./H/x')!.value).toBe('1'); // a refused Replace leaves the tree alone
    expect((await run({ command: 'Delete', uri: './H/x' })).status).toBe(500);
    expect(tree.exists('./H/x')).toBe(true);
    expect((await run({ command: 'Exec', uri: './H/x' })).status).toBe(500); // not a status code
  });

  it('a handler that owns its storage answers for its nodes; the tree is not written', async () => {
    const { tree, cm, run } = setup('Add=*&Get=*&Replace=*&Delete=*&Exec=*');
    const store = new Map<string, string>();
    cm.mount('./Ext', {
      ownsStorage: true,
      get: (uri) => (store.has(uri) ? { value: store.get(uri)! } : undefined),
      add: (uri, d) => { store.set(uri, String(d.value)); },
      delete: (uri) => { if (!store.delete(uri)) throw new DmError('NOT_FOUND', uri); },
      exec: (_u, _d, ctx) => { ctx.alert({ type: 'urn:test', data: 'done' }); return 200; },
    });
    tree.add('./Ext', { format: 'node' });
    expect((await run({ command: 'Add', uri: './Ext/a', data: { value: 'A' } })).status).toBe(200);
    expect(tree.exists('./Ext/a')).toBe(false);
    expect(items(await run({ command: 'Get', uri: './Ext/a' }))[0].value).toBe('A');
    expect((await run({ command: 'Replace', uri: './Ext/a', data: { value: 'B' } })).status).toBe(405); // no replace
    expect((await run({ command: 'Delete', uri: './Ext/a' })).status).toBe(200);
    expect((await run({ command: 'Get', uri: './Ext/a' })).status).toBe(404);
    const ex = await run({ command: 'Exec', uri: './Ext/op' });
    expect(ex).toMatchObject({ status: 200, alerts: [{ type: 'urn:test', data: 'done' }] });
  });

  it('Copy goes through handlers when they are involved', async () => {
    const { tree, cm, run } = setup('Add=*&Get=*&Replace=*&Delete=*');
    cm.mount('./Live', { get: () => ({ value: 'fresh', format: 'chr' }) });
    tree.add('./Live/v', { value: 'stale' });
    expect((await run({ command: 'Copy', uri: './Dst/v', sourceUri: './Live/v' })).status).toBe(200);
    expect(tree.info('./Dst/v')!.value).toBe('fresh');
    const copies: string[] = [];
    cm.mount('./C', { copy: (f, t) => { copies.push(`${f}->${t}`); } });
    expect((await run({ command: 'Copy', uri: './C/x', sourceUri: './Dst/v' })).status).toBe(200);
    expect(copies).toEqual(['./Dst/v->./C/x']);
    expect(tree.info('./C/x')!.value).toBe('fresh');
  });
});

describe('TNDS through the configuration manager', () => {
  const doc: MgmtTree = {
    kind: 'MgmtTree', verDTD: '1.2', nodes: [{
      nodeName: 'Conf', children: [
        { nodeName: 'a', children: [], value: '1' },
        { nodeName: 'b', children: [], value: '2' },
      ],
    }],
  };

  it('adds a subtree with one status, checking each node against the policy', async () => {
    const { tree, run } = setup('Add=*&Get=*');
    expect((await run({ command: 'Add', uri: './T/Conf', data: { type: TNDS_XML_TYPE, tnds: doc } })).status).toBe(200);
    expect(tree.info('./T/Conf/b')!.value).toBe('2');
    tree.add('./U', { format: 'node', acl: 'Get=*' });
    const before = tree.toJSON();
    expect((await run({ command: 'Add', uri: './U/Conf', data: { type: TNDS_XML_TYPE, tnds: doc } })).status).toBe(425);
    expect(tree.toJSON()).toEqual(before);
    expect((await run({ command: 'Add', uri: './V', data: { type: TNDS_XML_TYPE, value: '<MgmtTree/>' } })).status).toBe(415);
  });

  it('rolls the tree back when a handler refuses part of a TNDS Add', async () => {
    const { tree, cm, run } = setup('Add=*&Get=*');
    cm.mount('./T', { add: (uri) => { if (uri.endsWith('/b')) throw new DmError('DEVICE_FULL', 'full'); } });
    const before = tree.toJSON();
    expect((await run({ command: 'Add', uri: './T/Conf', data: { tnds: doc } })).status).toBe(420);
    expect(tree.toJSON()).toEqual(before);
  });
});

describe('transactions', () => {
  it('rollback restores the tree exactly and calls handlers touched, in reverse', async () => {
    const { tree, cm, run } = setup('Add=*&Get=*&Replace=*&Delete=*');
    const log: string[] = [];
    const h = (n: string): Handler => ({
      add: () => { log.push(`${n}.add`); },
      begin: () => { log.push(`${n}.begin`); },
      commit: () => { log.push(`${n}.commit`); },
      rollback: () => { log.push(`${n}.rollback`); },
    });
    cm.mount('./A', h('a'));
    cm.mount('./B', h('b'));
    cm.mount('./C', h('c'));
    tree.add('./A/keep', { value: 'k' });
    const before = tree.toJSON();
    const tx = cm.transaction();
    expect(() => cm.transaction()).toThrow(/nested Atomic/);
    await run({ command: 'Add', uri: './A/x', data: { value: '1' } });
    await run({ command: 'Add', uri: './B/y', data: { value: '1' } });
    await run({ command: 'Add', uri: './A/z', data: { value: '1' } });
    await run({ command: 'Replace', uri: './A/keep', data: { value: 'changed' } });
    await run({ command: 'Delete', uri: './A/keep' });
    expect(tree.toJSON()).not.toEqual(before);
    const out = await tx.rollback();
    expect(out.ok).toBe(true);
    expect(tree.toJSON()).toEqual(before);
    expect(log).toEqual(['a.begin', 'a.add', 'b.begin', 'b.add', 'a.add', 'b.rollback', 'a.rollback']);
    expect(tx.active).toBe(false);
    await expect(tx.commit()).rejects.toThrow(/already finished/);
  });

  it('commit keeps the changes and reports handler failures', async () => {
    const { tree, cm, run } = setup('Add=*&Get=*');
    cm.mount('./A', { add: () => undefined, commit: () => { throw new Error('disk'); } });
    const tx = cm.transaction();
    await run({ command: 'Add', uri: './A/x', data: { value: '1' } });
    const out = await tx.commit();
    expect(out.ok).toBe(false);
    expect(out.failures[0].mount).toBe('./A');
    expect(tree.exists('./A/x')).toBe(true);
    expect(cm.inTransaction).toBe(false);
    cm.transaction(); // a new one can open
  });

  it('uses OmaAclPolicy by default', () => {
    const { cm } = setup();
    expect(cm.policy).toBeInstanceOf(OmaAclPolicy);
  });
});
