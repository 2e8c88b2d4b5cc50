import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MgmtTree } from '../src/syncml/ddf-types.js';
import { applyDdf, ddfNode, describeTree } from '../src/dm/ddf-tree.js';
import { DmError, isDmError } from '../src/dm/errors.js';
import { exportTnds, importTnds, parseListQuery } from '../src/dm/tnds.js';
import { formatTStamp, ManagementTree, type TreeJson } from '../src/dm/tree.js';

/** The DmError status `fn` throws (fails the test for anything else). */
function statusOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    if (!isDmError(e)) throw e;
    return e.status;
  }
  throw new Error('expected a DmError');
}

function fakeClock(start = Date.UTC(2001, 6, 11, 16, 38, 17)) {
  let now = start;
  return { clock: () => new Date(now), advance: (s: number) => { now += s * 1000; } };
}

function value(t: ManagementTree, uri: string) {
  const g = t.get(uri);
  if (g.kind !== 'value') throw new Error('not a value');
  return g.value;
}

describe('ManagementTree basics', () => {
  it('starts with a root that has the default ACL and is permanent', () => {
    const t = new ManagementTree();
    expect(value(t, '.?prop=ACL')).toBe('Add=*&Get=*');
    expect(value(t, '.')).toBe('');
    expect(statusOf(() => t.delete('.'))).toBe(405);
    expect(statusOf(() => t.add('.', {}))).toBe(418);
  });

  it('adds leaves with implicit interior parents and reads them back', () => {
    const t = new ManagementTree();
    expect(t.add('Vendor/App/Name', { value: 'x' })).toEqual(['./Vendor', './Vendor/App', './Vendor/App/Name']);
    expect(t.get('./Vendor/App/Name')).toEqual({ kind: 'value', uri: './Vendor/App/Name', format: 'chr', type: 'text/plain', value: 'x' });
    expect(t.get('./Vendor')).toMatchObject({ format: 'node', value: 'App' });
    t.add('./Vendor/Other', { format: 'node' });
    expect(value(t, './Vendor')).toBe('App/Other');
    expect(value(t, './Vendor/Other')).toBe(''); // empty child list: <Data/> with 200
  });

  it('normalises ./A, A and percent escapes to the same node', () => {
    const t = new ManagementTree();
    t.add('./A B/x', { value: '1' });
    expect(value(t, 'A%20B/x')).toBe('1');
    expect(value(t, './A%20B')).toBe('x');
    expect(t.info('./A B')!.uri).toBe('./A%20B');
    expect(statusOf(() => t.get('./A/'))).toBe(400);
    expect(statusOf(() => t.get('/A'))).toBe(400);
  });

  it('enforces URI limits with 414', () => {
    const t = new ManagementTree({ limits: { maxDepth: 2, maxSegmentLength: 4 } });
    t.add('./A/B', {});
    expect(statusOf(() => t.add('./A/B/C', {}))).toBe(414);
    expect(statusOf(() => t.add('./ABCDE', {}))).toBe(414);
    t.setUriLimits({ maxTotalLength: 5 });
    expect(statusOf(() => t.get('./ABCDEF'))).toBe(414);
  });

  it('stores bin/b64 values as bytes and reports Size as decoded bytes', () => {
    const t = new ManagementTree();
    t.add('./Bin', { format: 'b64', value: 'AAEC' });
    expect(value(t, './Bin')).toEqual(new Uint8Array([0, 1, 2]));
    expect(value(t, './Bin?prop=Size')).toBe('3');
    t.add('./Text', { value: 'héllo' });
    expect(value(t, './Text?prop=Size')).toBe('6');
    expect(statusOf(() => t.add('./Bad', { format: 'b64', value: '!!' }))).toBe(400);
  });
});

describe('Add status rules', () => {
  it('418 on an existing node, 405 under a leaf, 404 without implicit parents, 415 unknown format', () => {
    const t = new ManagementTree();
    t.add('./A/leaf', { value: 'v' });
    expect(statusOf(() => t.add('./A/leaf', { value: 'w' }))).toBe(418);
    expect(statusOf(() => t.add('./A/leaf/x', { value: 'w' }))).toBe(405);
    expect(statusOf(() => t.add('./A/leaf/x/y', { value: 'w' }))).toBe(405);
    expect(statusOf(() => t.add('./B/C', { value: 'w' }, { implicitParents: false }))).toBe(404);
    expect(statusOf(() => t.add('./A/f', { format: 'weird' }))).toBe(415);
    expect(statusOf(() => t.add('./A?prop=Title', { value: 'w' }))).toBe(405);
    expect(statusOf(() => t.add('./A/acl', { value: 'w', acl: 'Bogus=x' }))).toBe(400);
    expect(statusOf(() => t.add('./A/t', { value: 'w', title: 'x'.repeat(256) }))).toBe(413);
    expect(t.exists('./B')).toBe(false); // a failed Add changes nothing
  });

  it('creates interior nodes only with format node', () => {
    const t = new ManagementTree();
    t.add('./I', { format: 'node', type: 'urn:x:1.0', value: 'ignored' });
    expect(t.info('./I')).toMatchObject({ leaf: false, type: 'urn:x:1.0' });
    t.add('./L', {});
    expect(t.info('./L')).toMatchObject({ leaf: true, format: 'chr' });
  });

  it('gives the first created interior node the creator ACL', () => {
    const t = new ManagementTree();
    t.add('./A/B/c', { value: '1' }, { creatorAcl: 'Add=s&Delete=s&Replace=s' });
    expect(value(t, './A?prop=ACL')).toBe('Add=s&Delete=s&Replace=s');
    expect(value(t, './A/B?prop=ACL')).toBe('');
    t.add('./X', { format: 'node' }, { creatorAcl: 'Add=s' });
    expect(value(t, './X?prop=ACL')).toBe('Add=s');
    t.add('./leaf', { value: '' }, { creatorAcl: 'Add=s' });
    expect(value(t, './leaf?prop=ACL')).toBe(''); // leaves are not covered by the exception
  });
});

describe('Get status rules and properties', () => {
  const t = new ManagementTree();
  t.add('./A/b', { value: 'v', type: 'text/x' });

  it('404 for a missing node, 406 for unknown properties and lists', () => {
    expect(statusOf(() => t.get('./Nope'))).toBe(404);
    expect(statusOf(() => t.get('./A?prop=Colour'))).toBe(406);
    expect(statusOf(() => t.get('./A?prop=Size'))).toBe(406); // Size MUST NOT exist on interior nodes
    expect(statusOf(() => t.get('./A?list=Everything'))).toBe(406);
    expect(statusOf(() => t.get('./A?list=TNDS+Value-ACL'))).toBe(406);
    expect(statusOf(() => t.get('./A?list=TNDS+Colour'))).toBe(406);
    expect(statusOf(() => t.get('./A?color=red'))).toBe(406);
  });

  it('returns every supported property', () => {
    expect(value(t, './A/b?prop=Format')).toBe('chr');
    expect(value(t, './A/b?prop=Type')).toBe('text/x');
    expect(value(t, './A/b?prop=Name')).toBe('b');
    expect(value(t, './A/b?prop=Title')).toBe('');
    expect(value(t, './A/b?prop=VerNo')).toBe('0');
    expect(value(t, './A?prop=Format')).toBe('node');
    expect(value(t, './A/b?prop=TStamp')).toMatch(/^\d{8}T\d{6}Z$/);
  });

  it('?prop=ACL on a node without a value is empty, not the inherited ACL', () => {
    expect(value(t, './A?prop=ACL')).toBe('');
    expect(t.effectiveAcl('./A/b')).toBe('Add=*&Get=*');
  });

  it('lists Struct and StructData', () => {
    const s = t.get('./A?list=Struct');
    expect(s).toEqual({
      kind: 'list', uri: './A', items: [
        { uri: './A', format: 'node', type: '' }, { uri: './A/b', format: 'chr', type: 'text/x' },
      ],
    });
    const d = t.get('./A?list=StructData');
    expect(d.kind === 'list' && d.items[1].value).toBe('v');
  });

  it('parses list queries', () => {
    expect(parseListQuery('TNDS')).toMatchObject({ kind: 'TNDS' });
    const inc = parseListQuery('TNDS+Value+ACL');
    expect(inc.kind === 'TNDS' && [...inc.props].sort()).toEqual(['ACL', 'Value']);
    const exc = parseListQuery('TNDS-Format');
    expect(exc.kind === 'TNDS' && exc.props.has('Format')).toBe(false);
    expect(exc.kind === 'TNDS' && exc.props.has('VerNo')).toBe(true);
  });
});

describe('Replace status rules', () => {
  it('never creates (404), refuses interior values (405), read-only and unknown properties', () => {
    const t = new ManagementTree();
    t.add('./A/b', { value: 'v' });
    expect(statusOf(() => t.replace('./A/c', { value: 'x' }))).toBe(404);
    expect(t.exists('./A/c')).toBe(false);
    expect(statusOf(() => t.replace('./A', { value: 'x' }))).toBe(405);
    for (const p of ['Format', 'Size', 'TStamp', 'Type', 'VerNo']) {
      expect(statusOf(() => t.replace(`./A/b?prop=${p}`, { value: '1' }))).toBe(405);
    }
    expect(statusOf(() => t.replace('./A/b?prop=Colour', { value: '1' }))).toBe(406);
    expect(statusOf(() => t.replace('./A/b?prop=ACL', { value: 'Get' }))).toBe(400);
    expect(statusOf(() => t.replace('.?prop=ACL', { value: '' }))).toBe(405);
    t.replace('./A/b?prop=Title', { value: 'Hello' });
    expect(value(t, './A/b?prop=Title')).toBe('Hello');
    t.replace('./A/b?prop=ACL', { value: 'Get=*' });
    expect(value(t, './A/b?prop=ACL')).toBe('Get=*');
  });

  it('Format/Type of permanent nodes cannot change (405); dynamic ones can', () => {
    const t = new ManagementTree();
    t.add('./P', { value: '1', format: 'int', scope: 'permanent' });
    expect(statusOf(() => t.replace('./P', { value: 'x', format: 'chr' }))).toBe(405);
    expect(statusOf(() => t.replace('./P', { value: '2', type: 'text/x' }))).toBe(405);
    t.replace('./P', { value: '2' });
    expect(value(t, './P')).toBe('2');
    t.add('./D', { value: '1', format: 'int' });
    t.replace('./D', { value: 'AAE=', format: 'b64' });
    expect(t.get('./D')).toMatchObject({ format: 'b64', value: new Uint8Array([0, 1]) });
    expect(statusOf(() => t.replace('./D', { value: 'x', format: 'node' }))).toBe(405);
  });

  it('renames with ?prop=Name, keeping the sibling order; 418 on clash, 405 for permanent', () => {
    const t = new ManagementTree();
    t.add('./A/x', { value: '1' });
    t.add('./A/y', { value: '2' });
    t.add('./A/z', { value: '3' });
    t.replace('./A/y?prop=Name', { value: 'w' });
    expect(value(t, './A')).toBe('x/w/z');
    expect(value(t, './A/w')).toBe('2');
    expect(statusOf(() => t.replace('./A/w?prop=Name', { value: 'x' }))).toBe(418);
    expect(statusOf(() => t.replace('./A/w?prop=Name', { value: 'a/b' }))).toBe(400);
    expect(statusOf(() => t.replace('.?prop=Name', { value: 'r' }))).toBe(405);
    t.add('./Perm', { value: '', scope: 'permanent' });
    expect(statusOf(() => t.replace('./Perm?prop=Name', { value: 'Other' }))).toBe(405);
  });
});

describe('VerNo and TStamp', () => {
  it('stamps from the injected clock and bumps on change', () => {
    const c = fakeClock();
    const t = new ManagementTree({ clock: c.clock });
    t.add('./A', { value: '1' });
    expect(value(t, './A?prop=TStamp')).toBe('20010711T163817Z');
    c.advance(61);
    t.replace('./A', { value: '2' });
    expect(value(t, './A?prop=TStamp')).toBe('20010711T163918Z');
    expect(value(t, './A?prop=VerNo')).toBe('1');
    expect(formatTStamp(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)))).toBe('20240102T030405Z');
  });

  it('wraps VerNo from 0xFFFF to 0', () => {
    const t = new ManagementTree();
    t.add('./A', { value: '0' });
    const json = t.toJSON();
    json.root.children![0].verNo = 0xfffe;
    const u = ManagementTree.fromJSON(json);
    u.replace('./A', { value: '1' });
    expect(value(u, './A?prop=VerNo')).toBe('65535');
    u.replace('./A', { value: '2' });
    expect(value(u, './A?prop=VerNo')).toBe('0');
  });

  it('bumps the parent when its child list changes', () => {
    const t = new ManagementTree();
    t.add('./P', { format: 'node' });
    t.add('./P/a', {});
    t.delete('./P/a');
    expect(value(t, './P?prop=VerNo')).toBe('2');
  });
});

describe('Delete and Copy', () => {
  it('deletes subtrees; root, permanent nodes and subtrees holding them answer 405; missing 404', () => {
    const t = new ManagementTree();
    t.add('./A/B/c', { value: '1' });
    t.add('./K/P', { value: '1', scope: 'permanent' });
    t.delete('./A');
    expect(t.exists('./A/B/c')).toBe(false);
    expect(statusOf(() => t.delete('./A'))).toBe(404);
    expect(statusOf(() => t.delete('./K/P'))).toBe(405);
    expect(statusOf(() => t.delete('./K'))).toBe(405);
    expect(statusOf(() => t.delete('./K?prop=ACL'))).toBe(405);
  });

  it('copies leaf to leaf, creating the target with the source format/type', () => {
    const t = new ManagementTree();
    t.add('./S', { format: 'bin', value: new Uint8Array([7]), type: 'application/x' });
    t.add('./I', { format: 'node' });
    t.copy('./S', './T/U');
    expect(t.get('./T/U')).toMatchObject({ format: 'bin', type: 'application/x', value: new Uint8Array([7]) });
    t.add('./E', { value: 'old' });
    t.copy('./S', './E');
    expect(value(t, './E')).toEqual(new Uint8Array([7]));
    expect(statusOf(() => t.copy('./I', './X'))).toBe(405);
    expect(statusOf(() => t.copy('./S', './I'))).toBe(405);
    expect(statusOf(() => t.copy('./Nope', './X'))).toBe(404);
  });
});

describe('snapshots and JSON', () => {
  it('restore() puts the tree back exactly', () => {
    const t = new ManagementTree({ clock: fakeClock().clock });
    t.add('./A/b', { value: '1' });
    const before = t.toJSON();
    const s = t.snapshot();
    t.add('./A/c', { format: 'b64', value: 'AQ==' });
    t.replace('./A/b', { value: '2' });
    t.delete('./A/b');
    applyDdf(t, { kind: 'MgmtTree', verDTD: '1.2', nodes: [ddfNode('D', { access: ['Get'], format: 'node', path: '.' })] });
    t.restore(s);
    expect(t.toJSON()).toEqual(before);
  });

  it('round-trips through JSON (bytes as base64, definitions, limits)', () => {
    const t = new ManagementTree({ limits: { maxDepth: 9 } });
    t.add('./A/bin', { format: 'bin', value: new Uint8Array([0, 255]) });
    t.add('./A/txt', { value: 'x', acl: 'Get=a+b', title: 'T' });
    applyDdf(t, { kind: 'MgmtTree', verDTD: '1.2', nodes: [ddfNode('C', { access: ['Get'], format: 'node', path: '.' }, [
      ddfNode('', { access: ['Add', 'Get'], format: 'chr', occurrence: { kind: 'ZeroOrN', n: 2 }, caseSense: 'CIS' }),
    ])] });
    const json = JSON.parse(JSON.stringify(t.toJSON())) as TreeJson;
    const u = ManagementTree.fromJSON(json);
    expect(u.toJSON()).toEqual(t.toJSON());
    expect(value(u, './A/bin')).toEqual(new Uint8Array([0, 255]));
    expect(u.uriLimits).toEqual({ maxDepth: 9 });
    expect(u.constraintsFor('./C/x')).toMatchObject({ caseSense: 'CIS' });
  });

  it('rejects malformed JSON', () => {
    expect(statusOf(() => ManagementTree.fromJSON({} as TreeJson))).toBeUndefined();
    const bad = new ManagementTree().toJSON();
    bad.root.children = [{ name: 'x', format: 'node', type: '', tStamp: '', verNo: 0, scope: 'dynamic' }];
    expect(() => ManagementTree.fromJSON(bad)).toThrow(/does not match its kind/);
  });
});

describe('TNDS', () => {
  function sample() {
    const t = new ManagementTree({ clock: fakeClock().clock });
    t.add('./Sub/Conf/Name', { value: 'n', acl: 'Get=*' });
    t.add('./Sub/Conf/Key', { format: 'bin', value: new Uint8Array([1, 2, 3]) });
    t.add('./Sub/Conf/Empty', { format: 'node', type: 'urn:x' });
    return t;
  }

  it('exports the selected properties with Path on the top node', () => {
    const t = sample();
    const doc = exportTnds(t, './Sub/Conf', { props: ['Value', 'ACL', 'Format', 'Type'] });
    expect(doc.nodes).toHaveLength(1);
    const top = doc.nodes[0];
    expect(top).toMatchObject({ nodeName: 'Conf', path: './Sub', rtProperties: { format: 'node', type: { ddfName: '' } } });
    expect(top.children.map((c) => c.nodeName)).toEqual(['Name', 'Key', 'Empty']);
    expect(top.children[0]).toMatchObject({ value: 'n', rtProperties: { acl: 'Get=*', format: 'chr', type: { mime: 'text/plain' } } });
    expect(top.children[1]).toMatchObject({ value: 'AQID', rtProperties: { format: 'bin' } });
    expect(top.children[2].value).toBeUndefined();
    const g = t.get('./Sub/Conf?list=TNDS-Format-Type-Value');
    expect(g.kind === 'tnds' && g.tree.nodes[0].rtProperties?.format).toBeUndefined();
    expect(g.kind === 'tnds' && g.tree.nodes[0].rtProperties?.verNo).toBe('2'); // two children added after its creation
  });

  it('round-trips: export then import elsewhere gives the same structure and values', () => {
    const t = sample();
    const doc = exportTnds(t, './Sub/Conf', { props: ['Value', 'ACL', 'Format', 'Type', 'Title'] });
    const u = new ManagementTree();
    importTnds(u, doc, { mode: 'add' });
    const strip = (tree: ManagementTree) => {
      const out: unknown[] = [];
      tree.walk('./Sub/Conf', (i) => { out.push([i.uri, i.format, i.type, i.acl, i.value]); });
      return out;
    };
    expect(strip(u)).toEqual(strip(t));
    // Under another name with `at`.
    importTnds(u, doc, { mode: 'add', at: './Copy/Here' });
    expect(value(u, './Copy/Here/Name')).toBe('n');
    expect(value(u, './Copy/Here/Key')).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('Add is all or nothing', () => {
    const t = new ManagementTree();
    t.add('./Dst/B', { value: 'exists' });
    const before = t.toJSON();
    const doc: MgmtTree = {
      kind: 'MgmtTree', verDTD: '1.2', nodes: [
        { nodeName: 'A', path: './Dst', children: [{ nodeName: 'x', children: [], value: '1' }] },
        { nodeName: 'B', path: './Dst', children: [], value: '2' },
      ],
    };
    expect(statusOf(() => importTnds(t, doc, { mode: 'add' }))).toBe(418);
    expect(t.toJSON()).toEqual(before);
    const refused = { ...doc, nodes: [doc.nodes[0]] };
    expect(statusOf(() => importTnds(t, refused, {
      mode: 'add', check: (_cmd, uri) => { if (uri.endsWith('/x')) throw new DmError('PERMISSION_DENIED', 'no'); },
    }))).toBe(425);
    expect(t.toJSON()).toEqual(before);
    expect(statusOf(() => importTnds(t, { ...doc, nodes: [{ nodeName: 'Z', children: [] }] }, { mode: 'add' }))).toBe(400);
    expect(statusOf(() => importTnds(t, doc, { mode: 'add', at: './Q' }))).toBe(400);
  });

  it('Replace adds new nodes, replaces leaves and deletes missing ones', () => {
    const t = sample();
    const doc: MgmtTree = {
      kind: 'MgmtTree', verDTD: '1.2', nodes: [{
        nodeName: 'Conf', children: [
          { nodeName: 'Name', children: [], value: 'new', rtProperties: { acl: 'Get=s' } },
          { nodeName: 'Added', children: [], value: 'a' },
        ],
      }],
    };
    const report = importTnds(t, doc, { mode: 'replace', at: './Sub/Conf' });
    expect(value(t, './Sub/Conf')).toBe('Name/Added');
    expect(value(t, './Sub/Conf/Name')).toBe('new');
    expect(value(t, './Sub/Conf/Name?prop=ACL')).toBe('Get=s');
    expect(report).toEqual({ added: ['./Sub/Conf/Added'], replaced: ['./Sub/Conf/Name'], deleted: ['./Sub/Conf/Key', './Sub/Conf/Empty'] });
    expect(statusOf(() => importTnds(t, doc, { mode: 'replace', at: './Sub/Nope' }))).toBe(404);
  });
});

describe('DDF', () => {
  const ddf: MgmtTree = {
    kind: 'MgmtTree', verDTD: '1.2', nodes: [
      ddfNode('App', { access: ['Get'], format: 'node', type: 'urn:vendor:app:1.0', scope: 'Permanent', path: './Vendor' }, [
        ddfNode('Version', { access: ['Get'], format: 'chr', scope: 'Permanent', defaultValue: '1.0' }),
        ddfNode('Opt', { access: ['Get', 'Replace'], format: 'int', scope: 'Dynamic', occurrence: { kind: 'ZeroOrOne' } }),
        ddfNode('Slots', { access: ['Get'], format: 'node', scope: 'Permanent' }, [
          ddfNode('', { access: ['Add', 'Delete', 'Get'], format: 'node', occurrence: { kind: 'ZeroOrN', n: 2 }, caseSense: 'CIS' }, [
            ddfNode('Val', { access: ['Add', 'Get', 'Replace'], format: 'int' }),
          ]),
        ]),
      ]),
    ],
  };

  it('creates named permanent nodes with their format, type and default value', () => {
    const t = new ManagementTree();
    applyDdf(t, ddf);
    expect(t.info('./Vendor/App')).toMatchObject({ scope: 'permanent', type: 'urn:vendor:app:1.0', leaf: false });
    expect(t.info('./Vendor/App/Version')).toMatchObject({ scope: 'permanent', value: '1.0' });
    expect(t.exists('./Vendor/App/Opt')).toBe(false); // optional dynamic: declared only
    expect(t.exists('./Vendor')).toBe(true);
    expect(statusOf(() => t.delete('./Vendor/App/Version'))).toBe(405);
    expect(t.constraintsFor('./Vendor/App/Opt')).toMatchObject({ format: 'int' });
  });

  it('placeholder children: Occurrence max -> 420, CaseSense CIS -> 418, DFFormat -> 415, undeclared -> 405', () => {
    const t = new ManagementTree();
    applyDdf(t, ddf);
    t.add('./Vendor/App/Slots/one', { format: 'node' });
    expect(statusOf(() => t.add('./Vendor/App/Slots/ONE', { format: 'node' }))).toBe(418);
    expect(value(t, './Vendor/App/Slots/ONE')).toBe(''); // CIS lookup finds `one`
    expect(statusOf(() => t.add('./Vendor/App/Slots/two', { format: 'chr' }))).toBe(415);
    t.add('./Vendor/App/Slots/two', { format: 'node' });
    expect(statusOf(() => t.add('./Vendor/App/Slots/three', { format: 'node' }))).toBe(420);
    t.add('./Vendor/App/Slots/one/Val', { format: 'int', value: '5' });
    expect(statusOf(() => t.add('./Vendor/App/Slots/one/Other', { value: '5' }))).toBe(405);
    expect(statusOf(() => t.add('./Vendor/App/Stray', { value: '5' }))).toBe(405);
    expect(statusOf(() => t.replace('./Vendor/App/Slots/one/Val', { value: 'x', format: 'chr' }))).toBe(415);
    expect(t.constraintsFor('./Vendor/App/Slots/new/Val')).toMatchObject({ accessType: ['Add', 'Get', 'Replace'] });
    // Missing format defaults to the DFFormat.
    t.delete('./Vendor/App/Slots/two');
    t.add('./Vendor/App/Slots/three');
    expect(t.info('./Vendor/App/Slots/three')!.leaf).toBe(false);
  });

  it('describeTree gives the DDF back: named nodes, placeholders, not placeholder instances', () => {
    const t = new ManagementTree();
    applyDdf(t, ddf);
    t.add('./Vendor/App/Slots/one', { format: 'node' });
    const d = describeTree(t, './Vendor/App');
    const app = d.nodes[0];
    expect(app).toMatchObject({ nodeName: 'App', path: './Vendor', dfProperties: { accessType: ['Get'], dfFormat: 'node', dfType: { ddfName: 'urn:vendor:app:1.0' }, scope: 'Permanent' } });
    expect(app.children.map((c) => c.nodeName)).toEqual(['Version', 'Slots', 'Opt']);
    const slots = app.children[1];
    expect(slots.children).toHaveLength(1);
    expect(slots.children[0]).toMatchObject({ nodeName: '', dfProperties: { occurrence: { kind: 'ZeroOrN', n: 2 }, caseSense: 'CIS' } });
    expect(slots.children[0].children[0].nodeName).toBe('Val');
    // Applying the described DDF to a fresh tree rebuilds the permanent structure.
    const u = new ManagementTree();
    applyDdf(u, d);
    expect(u.exists('./Vendor/App/Slots')).toBe(true);
    expect(statusOf(() => describeTree(u, './Nope'))).toBe(404);
  });

  it('refuses a DDF that contradicts an existing node kind', () => {
    const t = new ManagementTree();
    t.add('./Vendor/App', { value: 'leaf' });
    expect(statusOf(() => applyDdf(t, ddf))).toBe(405);
  });
});

describe('property: random operations never corrupt the tree', () => {
  const names = fc.constantFrom('a', 'b', 'c', 'D', 'x y');
  const uri = fc.array(names, { minLength: 0, maxLength: 4 }).map((s) => (s.length === 0 ? '.' : './' + s.map(encodeURIComponent).join('/')));
  const op = fc.oneof(
    fc.record({ kind: fc.constant('add' as const), uri, leaf: fc.boolean(), implicit: fc.boolean(), value: fc.string({ maxLength: 5 }) }),
    fc.record({ kind: fc.constant('replace' as const), uri, value: fc.string({ maxLength: 5 }) }),
    fc.record({ kind: fc.constant('rename' as const), uri, to: names }),
    fc.record({ kind: fc.constant('acl' as const), uri, to: fc.constantFrom('', 'Get=*', 'Add=s&Replace=t', 'Bad') }),
    fc.record({ kind: fc.constant('delete' as const), uri }),
    fc.record({ kind: fc.constant('copy' as const), uri, to: uri }),
  );

  it('keeps every node reachable, parents interior, JSON stable, and only throws DmError', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const t = new ManagementTree({ clock: () => new Date(0) });
      for (const o of ops) {
        try {
          switch (o.kind) {
            case 'add': t.add(o.uri, { format: o.leaf ? 'chr' : 'node', value: o.value }, { implicitParents: o.implicit }); break;
            case 'replace': t.replace(o.uri, { value: o.value }); break;
            case 'rename': t.replace(`${o.uri}?prop=Name`, { value: o.to }); break;
            case 'acl': t.replace(`${o.uri}?prop=ACL`, { value: o.to }); break;
            case 'delete': t.delete(o.uri); break;
            case 'copy': t.copy(o.uri, o.to); break;
          }
        } catch (e) {
          if (!isDmError(e)) throw e;
          expect(e.status).toBeGreaterThanOrEqual(400);
        }
        // Invariants: walk reaches each node once; every node with children is interior; the
        // child list of each interior node matches its Get value; JSON round-trips.
        const seen = new Set<string>();
        t.walk('.', (info) => {
          expect(seen.has(info.uri)).toBe(false);
          seen.add(info.uri);
          expect(t.exists(info.uri)).toBe(true);
          if (info.leaf) expect(info.children).toBeUndefined();
          else expect(value(t, info.uri)).toBe(info.children!.map((n) => encodeURIComponent(n)).join('/'));
        });
        const json = t.toJSON();
        expect(ManagementTree.fromJSON(json).toJSON()).toEqual(json);
        expect(t.effectiveAcl('./a/b/c')).not.toBe('');
      }
    }), { numRuns: 150 });
  });
});
