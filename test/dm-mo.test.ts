import { describe, expect, it } from 'vitest';
import type { MgmtTree } from '../src/syncml/ddf-types.js';
import { ConfigManager, type ExecuteRequest, type ResultItem } from '../src/dm/config-manager.js';
import { DEVDETAIL_TYPE, installDevDetail } from '../src/dm/mo/devdetail.js';
import { DEVINFO_TYPE, devInfoItems, installDevInfo } from '../src/dm/mo/devinfo.js';
import { DMACC_TYPE, installDmAccount, readDmAccounts, updateAccountNonce, type DmAccountInit } from '../src/dm/mo/dmacc.js';
import { INBOX_TYPE, installInbox } from '../src/dm/mo/inbox.js';
import { TNDS_XML_TYPE } from '../src/dm/tnds.js';
import { ManagementTree } from '../src/dm/tree.js';

function setup() {
  const tree = new ManagementTree({ clock: () => new Date(Date.UTC(2020, 0, 1)) });
  const cm = new ConfigManager({ tree });
  const run = (req: Omit<ExecuteRequest, 'serverId'> & { serverId?: string }) => cm.execute({ serverId: 'srv', ...req });
  return { tree, cm, run };
}

function listing(tree: ManagementTree, uri: string): string[] {
  const out: string[] = [];
  tree.walk(uri, (i) => { out.push(i.leaf ? `${i.uri}=${typeof i.value === 'string' ? i.value : `[${i.value!.length}]`}` : i.uri); });
  return out;
}

const DEVINFO = { devId: 'IMEI:490154203237518', man: 'Acme', mod: 'Rocket', dmV: '1.2', lang: 'en-US' };

describe('DevInfo', () => {
  it('installs the standard layout, permanent and readable by everyone', async () => {
    const { tree, cm, run } = setup();
    installDevInfo(cm, { ...DEVINFO, ext: { Color: 'red' } });
    expect(listing(tree, './DevInfo')).toEqual([
      './DevInfo', './DevInfo/DevId=IMEI:490154203237518', './DevInfo/Man=Acme', './DevInfo/Mod=Rocket',
      './DevInfo/DmV=1.2', './DevInfo/Lang=en-US', './DevInfo/Ext', './DevInfo/Ext/Color=red',
    ]);
    expect(tree.info('./DevInfo')).toMatchObject({ type: DEVINFO_TYPE, acl: 'Get=*', scope: 'permanent' });
    expect(tree.info('./DevInfo/Man')!.scope).toBe('permanent');
    const any = { serverId: 'someone-else' };
    expect((await run({ ...any, command: 'Get', uri: './DevInfo/Mod' })).status).toBe(200);
    expect((await run({ command: 'Replace', uri: './DevInfo/Mod', data: { value: 'x' } })).status).toBe(425);
    expect((await run({ command: 'Delete', uri: './DevInfo' })).status).toBe(425);
    expect(devInfoItems(tree)).toEqual([
      { uri: './DevInfo/DevId', value: 'IMEI:490154203237518' }, { uri: './DevInfo/Man', value: 'Acme' },
      { uri: './DevInfo/Mod', value: 'Rocket' }, { uri: './DevInfo/DmV', value: '1.2' },
      { uri: './DevInfo/Lang', value: 'en-US' }, { uri: './DevInfo/Ext/Color', value: 'red' },
    ]);
  });

  it('re-installing updates the values', () => {
    const { tree, cm } = setup();
    installDevInfo(cm, DEVINFO);
    installDevInfo(cm, { ...DEVINFO, dmV: '1.3' });
    expect(tree.info('./DevInfo/DmV')!.value).toBe('1.3');
    expect(tree.exists('./DevInfo/Ext')).toBe(false);
  });
});

describe('DevDetail', () => {
  const values = {
    devTyp: 'phone', oem: 'Acme', fwV: '1.0', swV: '2.0', hwV: 'A', lrgObj: true,
    uriLimits: { maxDepth: 5, maxTotLen: 60, maxSegLen: 16 },
  };

  it('installs the standard layout and makes the tree enforce its URI limits', async () => {
    const { tree, cm, run } = setup();
    installDevDetail(cm, values);
    expect(listing(tree, './DevDetail')).toEqual([
      './DevDetail', './DevDetail/URI', './DevDetail/URI/MaxDepth=5', './DevDetail/URI/MaxTotLen=60', './DevDetail/URI/MaxSegLen=16',
      './DevDetail/DevTyp=phone', './DevDetail/OEM=Acme', './DevDetail/FwV=1.0', './DevDetail/SwV=2.0', './DevDetail/HwV=A',
      './DevDetail/LrgObj=true',
    ]);
    expect(tree.info('./DevDetail')).toMatchObject({ type: DEVDETAIL_TYPE, acl: 'Get=*' });
    expect(tree.info('./DevDetail/LrgObj')!.format).toBe('bool');
    expect(tree.uriLimits).toEqual({ maxDepth: 5, maxTotalLength: 60, maxSegmentLength: 16 });
    expect((await run({ command: 'Get', uri: './A/B/C/D/E/F' })).status).toBe(414);
    expect((await run({ command: 'Get', uri: './ABCDEFGHIJKLMNOPQ' })).status).toBe(414);
    expect((await run({ command: 'Get', uri: './DevDetail/URI/MaxDepth' })).status).toBe(200);
    expect(() => installDevDetail(cm, { ...values, uriLimits: { maxDepth: -1, maxTotLen: 0, maxSegLen: 0 } })).toThrow(/non-negative/);
  });
});

const ACCOUNT: DmAccountInit = {
  serverId: 'mdm.example.com', name: 'Example MDM', addr: 'https://mdm.example.com/dm', port: 443, authPref: 'DIGEST',
  clientCred: { name: 'device1', secret: 'cpw', nonce: new Uint8Array([1, 2]) },
  serverCred: { secret: 'spw', nonce: new Uint8Array([3]) },
};

describe('DMAcc', () => {
  it('installs the DM 1.2 layout with per-server ACL and unreadable secrets', async () => {
    const { tree, cm, run } = setup();
    const uri = installDmAccount(cm, ACCOUNT);
    expect(uri).toBe('./DMAcc/mdm.example.com');
    expect(listing(tree, uri)).toEqual([
      uri, `${uri}/AppID=w7`, `${uri}/ServerID=mdm.example.com`, `${uri}/Name=Example MDM`,
      `${uri}/AppAddr`, `${uri}/AppAddr/1`, `${uri}/AppAddr/1/Addr=https://mdm.example.com/dm`, `${uri}/AppAddr/1/AddrType=URI`,
      `${uri}/AppAddr/1/Port`, `${uri}/AppAddr/1/Port/1`, `${uri}/AppAddr/1/Port/1/PortNbr=443`,
      `${uri}/AAuthPref=DIGEST`,
      `${uri}/AppAuth`, `${uri}/AppAuth/CLCRED`, `${uri}/AppAuth/CLCRED/AAuthLevel=CLCRED`, `${uri}/AppAuth/CLCRED/AAuthType=DIGEST`,
      `${uri}/AppAuth/CLCRED/AAuthName=device1`, `${uri}/AppAuth/CLCRED/AAuthSecret=cpw`, `${uri}/AppAuth/CLCRED/AAuthData=[2]`,
      `${uri}/AppAuth/SRVCRED`, `${uri}/AppAuth/SRVCRED/AAuthLevel=SRVCRED`, `${uri}/AppAuth/SRVCRED/AAuthType=DIGEST`,
      `${uri}/AppAuth/SRVCRED/AAuthName=mdm.example.com`, `${uri}/AppAuth/SRVCRED/AAuthSecret=spw`, `${uri}/AppAuth/SRVCRED/AAuthData=[1]`,
    ]);
    expect(tree.info(uri)).toMatchObject({ type: DMACC_TYPE, acl: 'Get=mdm.example.com&Replace=mdm.example.com' });
    expect(tree.info('./DMAcc')!.scope).toBe('permanent');
    const own = { serverId: 'mdm.example.com' };
    expect((await run({ ...own, command: 'Get', uri: `${uri}/ServerID` })).status).toBe(200);
    expect((await run({ command: 'Get', uri: `${uri}/ServerID` })).status).toBe(425); // another server
    expect((await run({ ...own, command: 'Get', uri: `${uri}/AppAuth/CLCRED/AAuthSecret` })).status).toBe(405);
    expect((await run({ ...own, command: 'Get', uri: `${uri}/AppAuth/SRVCRED/AAuthData` })).status).toBe(405);
    expect((await run({ ...own, command: 'Replace', uri: `${uri}/AppAuth/CLCRED/AAuthSecret`, data: { value: 'new' } })).status).toBe(200);
    const list = await run({ ...own, command: 'Get', uri: `${uri}/AppAuth?list=StructData` });
    const secret = (list.results as ResultItem[]).find((i) => i.uri.endsWith('/AAuthSecret'));
    expect(secret).toBeDefined();
    expect(secret!.value).toBeUndefined();
    expect(() => installDmAccount(cm, ACCOUNT)).toThrow(/exists/);
  });

  it('reads 1.2 accounts back, wherever they are, and stores new nonces', () => {
    const { tree, cm } = setup();
    installDmAccount(cm, ACCOUNT);
    installDmAccount(cm, { ...ACCOUNT, serverId: 'other', nodeName: 'acc2', port: undefined }, { parent: './SyncML/DMAcc' });
    const accounts = readDmAccounts(tree);
    expect(accounts).toHaveLength(2);
    expect(accounts[0]).toEqual({
      uri: './DMAcc/mdm.example.com', layout: '1.2', serverId: 'mdm.example.com', name: 'Example MDM',
      addr: 'https://mdm.example.com/dm', addrType: 'URI', port: 443, authPref: 'DIGEST',
      clientCred: { type: 'DIGEST', name: 'device1', secret: 'cpw', nonce: new Uint8Array([1, 2]) },
      serverCred: { type: 'DIGEST', name: 'mdm.example.com', secret: 'spw', nonce: new Uint8Array([3]) },
    });
    expect(accounts[1]).toMatchObject({ uri: './SyncML/DMAcc/acc2', serverId: 'other' });
    expect(accounts[1].port).toBeUndefined();
    updateAccountNonce(tree, accounts[0], 'client', new Uint8Array([9, 9, 9]));
    updateAccountNonce(tree, accounts[0], 'server', new Uint8Array([8]));
    const again = readDmAccounts(tree)[0];
    expect(again.clientCred.nonce).toEqual(new Uint8Array([9, 9, 9]));
    expect(again.serverCred.nonce).toEqual(new Uint8Array([8]));
    expect(() => updateAccountNonce(tree, { uri: './DMAcc/gone', layout: '1.2' }, 'client', new Uint8Array())).toThrow(/no account/);
  });

  it('installs and reads the flat DM 1.1.2 layout', async () => {
    const { tree, cm, run } = setup();
    const uri = installDmAccount(cm, { ...ACCOUNT, authPref: 'syncml:auth-md5' }, { layout: '1.1.2' });
    expect(listing(tree, uri)).toEqual([
      uri, `${uri}/Addr=https://mdm.example.com/dm`, `${uri}/AddrType=URI`, `${uri}/PortNbr=443`, `${uri}/ServerId=mdm.example.com`,
      `${uri}/ServerPW=spw`, `${uri}/ServerNonce=[1]`, `${uri}/UserName=device1`, `${uri}/ClientPW=cpw`, `${uri}/ClientNonce=[2]`,
      `${uri}/AuthPref=syncml:auth-md5`, `${uri}/Name=Example MDM`,
    ]);
    const [acc] = readDmAccounts(tree);
    expect(acc).toMatchObject({
      layout: '1.1.2', serverId: 'mdm.example.com', addr: 'https://mdm.example.com/dm', port: 443, authPref: 'syncml:auth-md5',
      clientCred: { type: 'syncml:auth-md5', name: 'device1', secret: 'cpw', nonce: new Uint8Array([1, 2]) },
      serverCred: { name: 'mdm.example.com', secret: 'spw', nonce: new Uint8Array([3]) },
    });
    updateAccountNonce(tree, acc, 'server', new Uint8Array([4, 4]));
    expect(readDmAccounts(tree)[0].serverCred.nonce).toEqual(new Uint8Array([4, 4]));
    expect((await run({ serverId: 'mdm.example.com', command: 'Get', uri: `${uri}/ClientPW` })).status).toBe(405);
    // One container holds one layout.
    expect(() => installDmAccount(cm, { ...ACCOUNT, serverId: 'x' })).toThrow(/holds DM 1.1.2/);
  });

  it('lets a server add an account under the 1.2 DDF, refusing undeclared nodes', async () => {
    const { cm, run, tree } = setup();
    installDmAccount(cm, ACCOUNT);
    const add = (uri: string, value: string) => run({ command: 'Add', uri, data: { format: 'chr', value } });
    expect((await add('./DMAcc/new/ServerID', 'srv')).status).toBe(200);
    expect(tree.info('./DMAcc/new')!.type).toBe(DMACC_TYPE);
    expect((await add('./DMAcc/new/Bogus', 'x')).status).toBe(405);
    expect((await run({ command: 'Add', uri: './DMAcc/new/AppAuth/X/AAuthData', data: { format: 'chr', value: 'x' } })).status).toBe(415);
  });
});

describe('Inbox', () => {
  const FUMO = 'urn:oma:mo:oma-fumo:1.0';

  function inboxSetup() {
    const s = setup();
    s.tree.add('./FUMO', { format: 'node', scope: 'permanent' });
    installInbox(s.cm, { placements: { [FUMO]: './FUMO' } });
    return s;
  }

  it('places an object by its Meta Type and forwards later Adds below it', async () => {
    const { tree, run } = inboxSetup();
    expect(tree.info('./Inbox')).toMatchObject({ type: INBOX_TYPE, scope: 'permanent' });
    expect((await run({ command: 'Add', uri: './Inbox/fw1', data: { format: 'node', type: FUMO } })).status).toBe(200);
    expect(tree.info('./FUMO/fw1')).toMatchObject({ leaf: false, type: FUMO });
    expect(tree.exists('./Inbox/fw1')).toBe(false);
    expect((await run({ command: 'Add', uri: './Inbox/fw1/PkgName', data: { value: 'update.bin' } })).status).toBe(200);
    expect(tree.info('./FUMO/fw1/PkgName')!.value).toBe('update.bin');
    expect((await run({ command: 'Add', uri: './Inbox/never/x', data: { value: '1' } })).status).toBe(404);
  });

  it('places a TNDS object by the Type of its top node', async () => {
    const { tree, run } = inboxSetup();
    const tnds: MgmtTree = {
      kind: 'MgmtTree', verDTD: '1.2', nodes: [{
        nodeName: 'whatever', rtProperties: { format: 'node', type: { ddfName: FUMO } },
        children: [{ nodeName: 'PkgName', children: [], value: 'p' }],
      }],
    };
    expect((await run({ command: 'Add', uri: './Inbox/fw2', data: { type: TNDS_XML_TYPE, tnds } })).status).toBe(200);
    expect(tree.info('./FUMO/fw2')!.type).toBe(FUMO);
    expect(tree.info('./FUMO/fw2/PkgName')!.value).toBe('p');
    expect((await run({ command: 'Add', uri: './Inbox/two', data: { tnds: { ...tnds, nodes: [...tnds.nodes, ...tnds.nodes] } } })).status).toBe(400);
  });

  it('refuses Get (405), unknown types (415), and passes on errors at the real location', async () => {
    const { tree, run } = inboxSetup();
    expect((await run({ command: 'Get', uri: './Inbox' })).status).toBe(405);
    expect((await run({ command: 'Get', uri: './Inbox/x' })).status).toBe(405);
    expect((await run({ command: 'Get', uri: './Inbox?list=Struct' })).status).toBe(405);
    expect((await run({ command: 'Add', uri: './Inbox/x', data: { format: 'node', type: 'urn:unknown' } })).status).toBe(415);
    expect((await run({ command: 'Add', uri: './Inbox/x', data: { format: 'node' } })).status).toBe(415);
    tree.replace('.?prop=ACL', { value: 'Add=*&Delete=*&Get=*' });
    expect((await run({ command: 'Delete', uri: './Inbox/x' })).status).toBe(405);
    await run({ command: 'Add', uri: './Inbox/dup', data: { format: 'node', type: FUMO } });
    expect((await run({ command: 'Add', uri: './Inbox/dup', data: { format: 'node', type: FUMO } })).status).toBe(418);
    tree.replace('./FUMO?prop=ACL', { value: 'Get=*' });
    expect((await run({ command: 'Add', uri: './Inbox/denied', data: { format: 'node', type: FUMO } })).status).toBe(425);
  });
});
