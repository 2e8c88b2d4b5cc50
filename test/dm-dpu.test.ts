import { describe, expect, it } from 'vitest';
import type { MgmtTree } from '../src/syncml/ddf-types.js';
import type { DevInf } from '../src/syncml/devinf-types.js';
import type {
  Add, Alert, Atomic, Command, Copy, Delete, Exec, Get, Item, Replace, Results, Sequence, Status, SyncML,
} from '../src/syncml/types.js';
import { ConfigManager } from '../src/dm/config-manager.js';
import { Dpu, type DpuOptions, type DpuResult } from '../src/dm/dpu.js';
import { DmError } from '../src/dm/errors.js';
import type { Handler, HandlerContext, NodeData } from '../src/dm/handler.js';
import { installDevDetail } from '../src/dm/mo/devdetail.js';
import { installDevInfo } from '../src/dm/mo/devinfo.js';
import { installDmAccount } from '../src/dm/mo/dmacc.js';
import { installInbox } from '../src/dm/mo/inbox.js';
import { TNDS_XML_TYPE } from '../src/dm/tnds.js';
import { ManagementTree } from '../src/dm/tree.js';
import { UI_CANCELLED, type UserInteraction } from '../src/dm/ui-alert.js';

// ---- messages ---------------------------------------------------------------------------------

const SERVER = 'dm.example.net';
const FUMO_TYPE = 'org.openmobilealliance.dm.firmwareupdate.downloadandupdate';

function msg(commands: Command[], opts: { msgId?: string; final?: boolean; noResp?: boolean } = {}): SyncML {
  return {
    header: {
      verDTD: '1.2', verProto: 'DM/1.2', sessionId: '4F2A', msgId: opts.msgId ?? '7',
      target: { locUri: 'IMEI:490154203237518' }, source: { locUri: 'https://dm.example.net/omadm' },
      ...(opts.noResp ? { noResp: true } : {}),
    },
    body: { commands, final: opts.final ?? true },
  };
}

const target = (uri: string, data?: Item['data'], meta?: Item['meta']): Item => ({
  target: { locUri: uri }, ...(data !== undefined ? { data } : {}), ...(meta ? { meta } : {}),
});
const add = (cmdId: string, ...items: Item[]): Add => ({ kind: 'Add', cmdId, items });
const replace = (cmdId: string, ...items: Item[]): Replace => ({ kind: 'Replace', cmdId, items });
const del = (cmdId: string, ...uris: string[]): Delete => ({ kind: 'Delete', cmdId, items: uris.map((u) => target(u)) });
const get = (cmdId: string, ...uris: string[]): Get => ({ kind: 'Get', cmdId, items: uris.map((u) => target(u)) });
const exec = (cmdId: string, uri: string, correlator?: string): Exec => ({ kind: 'Exec', cmdId, items: [target(uri)], ...(correlator ? { correlator } : {}) });
const copy = (cmdId: string, to: string, from: string): Copy => ({ kind: 'Copy', cmdId, items: [{ target: { locUri: to }, source: { locUri: from } }] });
const seq = (cmdId: string, ...commands: Command[]): Sequence => ({ kind: 'Sequence', cmdId, commands });
const atomic = (cmdId: string, ...commands: Command[]): Atomic => ({ kind: 'Atomic', cmdId, commands });
const alert = (cmdId: string, code: number, ...texts: string[]): Alert => ({ kind: 'Alert', cmdId, code, items: texts.map((t) => ({ data: t })) });
const confirm = (cmdId: string) => alert(cmdId, 1101, '', 'Go on?');

function statuses(r: DpuResult): Status[] {
  return r.responses.filter((c): c is Status => c.kind === 'Status');
}

/** Status code per CmdRef, in response order ("3:200"). */
function codes(r: DpuResult): string[] {
  return statuses(r).map((s) => `${s.cmdRef}:${s.code}`);
}

function statusOf(r: DpuResult, cmdRef: string): Status {
  const s = statuses(r).filter((x) => x.cmdRef === cmdRef);
  expect(s).toHaveLength(1);
  return s[0];
}

// ---- device -----------------------------------------------------------------------------------

interface Setup {
  tree: ManagementTree;
  cm: ConfigManager;
  dpu: Dpu;
  log: string[];
}

/**
 * A device with the standard objects and three test handlers:
 * - `./Vendor/Flaky`: Add/Replace fail with 420 on the value `full`, throw a plain Error on `crash`;
 * - `./Vendor/Fumo`: Exec answers 202 and queues the Generic Alert of the result;
 * - `./Vendor/Sticky`: its rollback always fails.
 */
function setup(options: Partial<DpuOptions> = {}): Setup {
  const tree = new ManagementTree({ clock: () => new Date(Date.UTC(2024, 0, 1)), rootAcl: 'Add=*&Get=*&Replace=*&Delete=*&Exec=*' });
  const cm = new ConfigManager({ tree });
  installDevInfo(cm, { devId: 'IMEI:490154203237518', man: 'Acme', mod: 'Rocket', dmV: '1.2', lang: 'en-US' });
  installDevDetail(cm, { devTyp: 'phone', oem: 'Acme', fwV: '1.0', swV: '2.0', hwV: 'A', lrgObj: true, uriLimits: { maxDepth: 0, maxTotLen: 0, maxSegLen: 0 } });
  installDmAccount(cm, { serverId: SERVER, addr: 'https://dm.example.net/omadm', clientCred: { name: 'dev', secret: 'c' }, serverCred: { secret: 's' } });
  installInbox(cm, { placements: {} });
  const log: string[] = [];
  const flaky = (what: string) => (uri: string, data: NodeData): void => {
    if (data.value === 'full') throw new DmError('DEVICE_FULL', 'no room');
    if (data.value === 'crash') throw new Error('handler bug');
    log.push(`${what} ${uri}`);
  };
  const flakyHandler: Handler = { add: flaky('add'), replace: flaky('replace'), rollback: () => { log.push('flaky rollback'); } };
  cm.mount('./Vendor/Flaky', flakyHandler);
  const fumo: Handler = {
    exec(uri: string, _data: NodeData | undefined, ctx: HandlerContext) {
      log.push(`exec ${uri} ${ctx.correlator ?? '-'}`);
      ctx.alert({ type: FUMO_TYPE, source: uri, correlator: ctx.correlator, format: 'int', mark: 'informational', data: '200' });
      return 202;
    },
  };
  cm.mount('./Vendor/Fumo', fumo);
  tree.add('./Vendor/Fumo/Pkg1/DownloadAndUpdate', { format: 'node' });
  cm.mount('./Vendor/Sticky', { add: () => undefined, rollback: () => { throw new Error('cannot undo'); } });
  tree.add('./Vendor/Flaky', { format: 'node' });
  tree.add('./Vendor/Sticky', { format: 'node' });
  tree.add('./Vendor/Bin', { format: 'bin', value: new Uint8Array([0, 1, 255]) });
  const dpu = new Dpu({ configManager: cm, serverId: SERVER, ...options });
  return { tree, cm, dpu, log };
}

// ---- tests ------------------------------------------------------------------------------------

describe('Dpu: one Status per command', () => {
  it('answers with MsgRef, CmdRef, Cmd and TargetRef, cmdId left to the session', async () => {
    const { dpu, tree } = setup();
    const r = await dpu.process(msg([replace('3', target('./DevDetail/SwV', '3.0')), add('4', target('./Vendor/A', 'x'))], { msgId: '2' }));
    expect(r.responses).toEqual([
      // DevDetail is Get only in its DDF (405 would come after the ACL, which says Get=* only: 425)
      { kind: 'Status', cmdId: '', msgRef: '2', cmdRef: '3', cmd: 'Replace', code: 425, targetRefs: ['./DevDetail/SwV'] },
      { kind: 'Status', cmdId: '', msgRef: '2', cmdRef: '4', cmd: 'Add', code: 200, targetRefs: ['./Vendor/A'] },
    ]);
    expect(tree.info('./Vendor/A')!.value).toBe('x');
    expect(r).toMatchObject({ aborted: false, cancelled: false, nextMessageRequested: false, expectingMoreData: false, alerts: [], pendingAlerts: [] });
  });

  it('a command without CmdID gets 400 with an empty CmdRef and is not executed', async () => {
    const { dpu, tree } = setup();
    const r = await dpu.process(msg([add('', target('./Vendor/A', 'x'))]));
    expect(r.responses).toEqual([{ kind: 'Status', cmdId: '', msgRef: '7', cmdRef: '', cmd: 'Add', code: 400, targetRefs: ['./Vendor/A'] }]);
    expect(tree.exists('./Vendor/A')).toBe(false);
  });

  it('Statuses from the server are collected, not answered', async () => {
    const { dpu } = setup();
    const s: Status = { kind: 'Status', cmdId: '1', msgRef: '1', cmdRef: '0', cmd: 'SyncHdr', code: 212 };
    const r = await dpu.process(msg([s, get('2', './DevInfo/Man')]));
    expect(r.receivedStatuses).toEqual([s]);
    expect(codes(r)).toEqual(['2:200']);
  });

  it('NoResp: executed, no Status (and SyncHdr NoResp silences the whole message)', async () => {
    const { dpu, tree } = setup();
    const r = await dpu.process(msg([{ ...add('3', target('./Vendor/A', 'x')), noResp: true }, add('4', target('./Vendor/B', 'y'))]));
    expect(codes(r)).toEqual(['4:200']);
    expect(tree.exists('./Vendor/A')).toBe(true);
    const r2 = await dpu.process(msg([add('5', target('./Vendor/C', 'z')), get('6', './Vendor/C')], { noResp: true }));
    expect(r2.responses.map((c) => c.kind)).toEqual(['Results']);
    expect(tree.exists('./Vendor/C')).toBe(true);
  });

  it('one Status for Items that agree (every TargetRef), one per Item when they differ', async () => {
    const { dpu } = setup();
    const r = await dpu.process(msg([
      add('3', target('./Vendor/A', '1'), target('./Vendor/B', '2')),
      add('4', target('./Vendor/C', '1'), target('./Vendor/A', '2')),
    ]));
    expect(statuses(r).map((s) => [s.cmdRef, s.code, s.targetRefs])).toEqual([
      ['3', 200, ['./Vendor/A', './Vendor/B']],
      ['4', 200, ['./Vendor/C']],
      ['4', 418, ['./Vendor/A']],
    ]);
  });

  it('maps the configuration manager statuses: 418, 404, 405, 425, 400, 412, 415, 413, 500', async () => {
    const { dpu } = setup({ maxObjSize: 8 });
    const devInf: DevInf = { kind: 'DevInf', verDTD: '1.2', devId: 'x', devTyp: 'phone', dataStores: [], ctCaps: [], exts: [] };
    const r = await dpu.process(msg([
      add('1', target('./Vendor/Bin', 'x')), // exists -> 418
      replace('2', target('./Vendor/Nope', 'x')), // never creates -> 404
      del('3', '.'), // root -> 405
      del('4', './DevInfo/Man'), // ACL Get=* -> 425
      add('5', { data: 'no target' }), // -> 400
      { kind: 'Replace', cmdId: '6', items: [] }, // -> 412
      add('7', target('./Vendor/D', devInf)), // -> 415
      add('8', target('./Vendor/Big', 'more than eight')), // -> 413
      add('9', target('./Vendor/Flaky/x', 'crash')), // handler throws an Error -> 500
      add('10', target('./Vendor/Flaky/y', 'full')), // handler throws DmError DEVICE_FULL -> 420
      add('11', target('./Bad//Uri', 'x')), // -> 400
    ]));
    expect(codes(r)).toEqual(['1:418', '2:404', '3:405', '4:425', '5:400', '6:412', '7:415', '8:413', '9:500', '10:420', '11:400']);
  });

  it('Copy: Target is the new node, Source the node copied', async () => {
    const { dpu, tree } = setup();
    const r = await dpu.process(msg([copy('3', './Vendor/ManCopy', './DevInfo/Man')]));
    expect(statusOf(r, '3')).toMatchObject({ cmd: 'Copy', code: 200, targetRefs: ['./Vendor/ManCopy'], sourceRefs: ['./DevInfo/Man'] });
    expect(tree.info('./Vendor/ManCopy')!.value).toBe('Acme');
  });

  it('passes Item Meta over command Meta, and a TNDS MgmtTree as data.tnds', async () => {
    const { dpu, tree } = setup();
    const tnds: MgmtTree = {
      kind: 'MgmtTree', verDTD: '1.2', nodes: [{
        nodeName: 'App', rtProperties: { format: 'node' }, children: [
          { nodeName: 'Color', rtProperties: { format: 'chr', type: { mime: 'text/plain' } }, value: 'red', children: [] },
        ],
      }],
    };
    const r = await dpu.process(msg([
      { kind: 'Add', cmdId: '3', meta: { format: 'int', type: 'text/plain' }, items: [target('./Vendor/N', '5'), target('./Vendor/Dir', undefined, { format: 'node' })] },
      add('4', target('./Vendor/App', tnds, { type: TNDS_XML_TYPE, format: 'xml' })),
    ]));
    expect(codes(r)).toEqual(['3:200', '4:200']);
    expect(tree.info('./Vendor/N')).toMatchObject({ format: 'int', value: '5' });
    expect(tree.info('./Vendor/Dir')!.leaf).toBe(false);
    expect(tree.info('./Vendor/App/Color')!.value).toBe('red');
  });

  it('an unexpected exception becomes 500 for that command only', async () => {
    const { dpu, cm } = setup();
    const real = cm.execute.bind(cm);
    cm.execute = async (req) => {
      if (req.uri === './Vendor/Boom') throw new TypeError('defect');
      return real(req);
    };
    const broken = { kind: 'Replace', cmdId: '4', items: null } as unknown as Command;
    const r = await dpu.process(msg([add('3', target('./Vendor/Boom', 'x')), broken, add('5', target('./Vendor/Ok', 'x'))]));
    expect(codes(r)).toEqual(['3:500', '4:412', '5:200']);
  });
});

describe('Dpu: Get and Results', () => {
  it('Status then Results; Meta only when not chr / text/plain; bytes stay bytes with Format bin', async () => {
    const { dpu } = setup();
    const r = await dpu.process(msg([get('3', './DevInfo/Man', './Vendor/Bin', './Vendor/Fumo/Pkg1')], { msgId: '4' }));
    expect(r.responses).toHaveLength(2);
    expect(r.responses[0]).toMatchObject({ kind: 'Status', cmdRef: '3', msgRef: '4', cmd: 'Get', code: 200 });
    const res = r.responses[1] as Results;
    expect(res).toEqual({
      kind: 'Results', cmdId: '', msgRef: '4', cmdRef: '3', items: [
        { source: { locUri: './DevInfo/Man' }, data: 'Acme' },
        { source: { locUri: './Vendor/Bin' }, meta: { format: 'bin' }, data: new Uint8Array([0, 1, 255]) },
        { source: { locUri: './Vendor/Fumo/Pkg1' }, meta: { format: 'node' }, data: 'DownloadAndUpdate' },
      ],
    });
  });

  it('a failed Get answers its Status only; mixed Items get one Status each and Results for the good ones', async () => {
    const { dpu } = setup();
    const r = await dpu.process(msg([get('3', './Nope'), get('4', './DevInfo/Mod', './Nope')]));
    expect(r.responses.map((c) => `${c.kind}:${c.kind === 'Status' ? c.code : (c as Results).items.length}`))
      .toEqual(['Status:404', 'Status:200', 'Status:404', 'Results:1']);
    expect(statuses(r)[1].targetRefs).toEqual(['./DevInfo/Mod']);
  });

  it('?list=TNDS answers one Item holding the MgmtTree; ?list=Struct one Item per node; ?prop= a property', async () => {
    const { dpu } = setup();
    const r = await dpu.process(msg([get('3', './DevInfo?list=TNDS+Value'), get('4', './Vendor/Fumo?list=Struct'), get('5', './DevInfo?prop=ACL')]));
    const [tnds, struct, prop] = r.responses.filter((c): c is Results => c.kind === 'Results');
    expect(codes(r)).toEqual(['3:200', '4:200', '5:200']);
    expect(tnds.items).toHaveLength(1);
    expect(tnds.items[0].source).toEqual({ locUri: './DevInfo?list=TNDS+Value' });
    expect(tnds.items[0].meta).toEqual({ format: 'xml', type: TNDS_XML_TYPE });
    expect((tnds.items[0].data as MgmtTree).kind).toBe('MgmtTree');
    expect(struct.items.map((i) => i.source!.locUri)).toEqual(['./Vendor/Fumo', './Vendor/Fumo/Pkg1', './Vendor/Fumo/Pkg1/DownloadAndUpdate']);
    expect(struct.items.every((i) => i.data === undefined && i.meta!.format === 'node')).toBe(true);
    expect(prop.items[0].data).toBe('Get=*');
  });
});

describe('Dpu: Exec and handler alerts', () => {
  it('Exec passes the Correlator; 202 comes back as is; the queued Generic Alert is returned', async () => {
    const { dpu, log } = setup();
    const r = await dpu.process(msg([exec('3', './Vendor/Fumo/Pkg1/DownloadAndUpdate', 'corr-1')]));
    expect(statusOf(r, '3')).toMatchObject({ cmd: 'Exec', code: 202, targetRefs: ['./Vendor/Fumo/Pkg1/DownloadAndUpdate'] });
    expect(log).toEqual(['exec ./Vendor/Fumo/Pkg1/DownloadAndUpdate corr-1']);
    const pending = { type: FUMO_TYPE, source: './Vendor/Fumo/Pkg1/DownloadAndUpdate', correlator: 'corr-1', format: 'int', mark: 'informational', data: '200' };
    expect(r.pendingAlerts).toEqual([pending]);
    expect(r.alerts).toEqual([{
      kind: 'Alert', cmdId: '', code: 1226, correlator: 'corr-1', items: [{
        source: { locUri: './Vendor/Fumo/Pkg1/DownloadAndUpdate' }, meta: { type: FUMO_TYPE, format: 'int', mark: 'informational' }, data: '200',
      }],
    }]);
  });

  it('Exec where no handler executes is 405, on a missing node 404', async () => {
    const { dpu } = setup();
    const r = await dpu.process(msg([exec('3', './Vendor/Bin'), exec('4', './Vendor/Fumo/Pkg9/DownloadAndUpdate'), exec('5', './DevInfo/Man')]));
    // ./DevInfo has ACL Get=*: the policy answers before anything else.
    expect(codes(r)).toEqual(['3:405', '4:404', '5:425']);
  });
});

describe('Dpu: Alert 1222 / 1223 and commands a client does not execute', () => {
  it('1222 -> 200 and nextMessageRequested', async () => {
    const { dpu } = setup();
    const r = await dpu.process(msg([alert('3', 1222)]));
    expect(statusOf(r, '3')).toMatchObject({ cmd: 'Alert', code: 200 });
    expect(r.nextMessageRequested).toBe(true);
  });

  it('1223 -> aborted, no response at all, nothing executed', async () => {
    const { dpu, tree } = setup();
    const s: Status = { kind: 'Status', cmdId: '1', msgRef: '1', cmdRef: '0', cmd: 'SyncHdr', code: 200 };
    const r = await dpu.process(msg([s, add('2', target('./Vendor/A', 'x')), alert('3', 1223)]));
    expect(r).toMatchObject({ aborted: true, responses: [], alerts: [], receivedStatuses: [s] });
    expect(tree.exists('./Vendor/A')).toBe(false);
  });

  it('unknown and client-only alert codes -> 406', async () => {
    const { dpu } = setup();
    const r = await dpu.process(msg([alert('1', 1200), alert('2', 1226, 'x'), alert('3', 1105), alert('4', 42)]));
    expect(codes(r)).toEqual(['1:406', '2:406', '3:406', '4:406']);
  });

  it('Sync, Map, Put, Search, Move and Results -> 406; Status inside Sequence and undefined elements -> 400', async () => {
    const { dpu } = setup();
    const cmds = [
      { kind: 'Sync', cmdId: '1', commands: [] },
      { kind: 'Map', cmdId: '2', target: { locUri: 'a' }, source: { locUri: 'b' }, mapItems: [] },
      { kind: 'Put', cmdId: '3', items: [target('./x')] },
      { kind: 'Search', cmdId: '4', sources: [], meta: {}, data: '' },
      { kind: 'Move', cmdId: '5', items: [target('./x')] },
      { kind: 'Results', cmdId: '6', cmdRef: '1', items: [] },
      seq('7', { kind: 'Status', cmdId: '8', msgRef: '1', cmdRef: '1', cmd: 'Get', code: 200 }),
    ] as Command[];
    const m = msg(cmds);
    m.body.unknown = [{ name: 'Frobnicate', children: [{ name: 'CmdID', children: ['9'] }] }];
    const r = await dpu.process(m);
    expect(statuses(r).map((s) => `${s.cmd}:${s.cmdRef}:${s.code}`)).toEqual([
      'Sync:1:406', 'Map:2:406', 'Put:3:406', 'Search:4:406', 'Move:5:406', 'Results:6:406', 'Sequence:7:200', 'Status:8:400', 'Frobnicate:9:400',
    ]);
  });
});

describe('Dpu: Sequence', () => {
  it('runs children in order; its own Status is 200 and comes first', async () => {
    const { dpu, tree } = setup();
    const r = await dpu.process(msg([seq('3', add('4', target('./Vendor/S', 'a')), replace('5', target('./Vendor/S', 'b')), get('6', './Vendor/S'))]));
    expect(r.responses.map((c) => `${c.kind}:${(c as Status).cmdRef}`)).toEqual(['Status:3', 'Status:4', 'Status:5', 'Status:6', 'Results:6']);
    expect(codes(r)).toEqual(['3:200', '4:200', '5:200', '6:200']);
    expect(tree.info('./Vendor/S')!.value).toBe('b');
  });

  it('a failing child does not stop it; "No" (304) does: the rest 215, commands after the Sequence still run', async () => {
    const ui: UserInteraction = { confirm: () => false };
    const { dpu, tree } = setup({ ui });
    const r = await dpu.process(msg([
      seq('3', replace('4', target('./Vendor/Nope', 'x')), confirm('5'), add('6', target('./Vendor/A', 'x')), seq('7', add('8', target('./Vendor/B', 'x')))),
      add('9', target('./Vendor/C', 'x')),
    ]));
    expect(codes(r)).toEqual(['3:200', '4:404', '5:304', '6:215', '7:215', '8:215', '9:200']);
    expect(tree.exists('./Vendor/A')).toBe(false);
    expect(tree.exists('./Vendor/C')).toBe(true);
    expect(r.cancelled).toBe(false);
  });

  it('a user cancel (214) skips the rest of the Sequence and of the package, and later messages', async () => {
    const ui: UserInteraction = { confirm: () => UI_CANCELLED };
    const { dpu, tree } = setup({ ui });
    const r = await dpu.process(msg([seq('3', confirm('4'), add('5', target('./Vendor/A', 'x'))), add('6', target('./Vendor/B', 'x'))]));
    expect(codes(r)).toEqual(['3:200', '4:214', '5:215', '6:215']);
    expect(r.cancelled).toBe(true);
    const r2 = await dpu.process(msg([get('1', './DevInfo/Man')], { msgId: '8' }));
    expect(codes(r2)).toEqual(['1:215']);
    expect(tree.exists('./Vendor/A') || tree.exists('./Vendor/B')).toBe(false);
    await dpu.reset();
    expect(codes(await dpu.process(msg([get('1', './DevInfo/Man')])))).toEqual(['1:200']);
  });
});

describe('Dpu: Atomic', () => {
  it('all children succeed: 200, changes kept, handlers committed', async () => {
    const { dpu, tree } = setup();
    const r = await dpu.process(msg([atomic('3', add('4', target('./Vendor/A', 'x')), add('5', target('./Vendor/Flaky/k', 'v')), del('6', './Vendor/Bin'))]));
    expect(codes(r)).toEqual(['3:200', '4:200', '5:200', '6:200']);
    expect(tree.exists('./Vendor/A') && tree.exists('./Vendor/Flaky/k') && !tree.exists('./Vendor/Bin')).toBe(true);
  });

  it('a failing child keeps its code, earlier ones 216, later ones 215, the Atomic 507; the tree is as before', async () => {
    const { dpu, tree, log } = setup();
    const before = tree.toJSON();
    const r = await dpu.process(msg([atomic('3',
      add('4', target('./Vendor/A', 'x')),
      replace('5', target('./Vendor/Bin', new Uint8Array([9]))),
      add('6', target('./Vendor/Flaky/k', 'v')),
      add('7', target('./Vendor/Flaky/z', 'full')),
      del('8', './Vendor/Fumo'),
    )]));
    expect(codes(r)).toEqual(['3:507', '4:216', '5:216', '6:216', '7:420', '8:215']);
    expect(statusOf(r, '7').targetRefs).toEqual(['./Vendor/Flaky/z']);
    expect(tree.toJSON()).toEqual(before);
    expect(log).toEqual(['add ./Vendor/Flaky/k', 'flaky rollback']);
  });

  it('a child failing in the tree (404) rolls back the handlers too', async () => {
    const { dpu, tree, log } = setup();
    const before = tree.toJSON();
    const r = await dpu.process(msg([atomic('3', add('4', target('./Vendor/Flaky/k', 'v')), replace('5', target('./Vendor/Nope', 'x')))]));
    expect(codes(r)).toEqual(['3:507', '4:216', '5:404']);
    expect(tree.toJSON()).toEqual(before);
    expect(log).toContain('flaky rollback');
  });

  it('a handler whose rollback fails: its children 516, the others 216, the Atomic 507', async () => {
    const { dpu } = setup();
    const r = await dpu.process(msg([atomic('3',
      add('4', target('./Vendor/Sticky/a', 'x')),
      add('5', target('./Vendor/A', 'x')),
      replace('6', target('./Vendor/Nope', 'x')),
    )]));
    expect(codes(r)).toEqual(['3:507', '4:516', '5:216', '6:404']);
  });

  it('Get inside Atomic: 500 for the Get, 507 for the Atomic, nothing executed', async () => {
    const { dpu, tree } = setup();
    const before = tree.toJSON();
    const r = await dpu.process(msg([atomic('3', add('4', target('./Vendor/A', 'x')), get('5', './DevInfo/Man'))]));
    expect(codes(r)).toEqual(['3:507', '4:215', '5:500']);
    expect(r.responses.some((c) => c.kind === 'Results')).toBe(false);
    expect(tree.toJSON()).toEqual(before);
  });

  it('nested Atomic: 500 inner, 507 outer (also through a Sequence)', async () => {
    const { dpu, tree } = setup();
    const before = tree.toJSON();
    const r = await dpu.process(msg([
      atomic('3', add('4', target('./Vendor/A', 'x')), atomic('5', add('6', target('./Vendor/B', 'x')))),
      atomic('7', seq('8', atomic('9', add('10', target('./Vendor/C', 'x'))))),
    ]));
    expect(codes(r)).toEqual(['3:507', '4:215', '5:500', '6:215', '7:507', '8:215', '9:500', '10:215']);
    expect(tree.toJSON()).toEqual(before);
  });

  it('Exec inside Atomic: 500 + 507 (DMREPPRO 4.1.6.6, not MS-MDM)', async () => {
    const { dpu, log } = setup();
    const r = await dpu.process(msg([atomic('3', exec('4', './Vendor/Fumo/Pkg1/DownloadAndUpdate'))]));
    expect(codes(r)).toEqual(['3:507', '4:500']);
    expect(log).toEqual([]);
  });

  it('a UI confirm answered "No" fails it: rollback, 507', async () => {
    const { dpu, tree } = setup({ ui: { confirm: () => false } });
    const before = tree.toJSON();
    const r = await dpu.process(msg([atomic('3', add('4', target('./Vendor/A', 'x')), confirm('5'), add('6', target('./Vendor/B', 'x')))]));
    expect(codes(r)).toEqual(['3:507', '4:216', '5:304', '6:215']);
    expect(tree.toJSON()).toEqual(before);
  });

  it('a Sequence inside Atomic runs in the transaction and is rolled back with it', async () => {
    const { dpu, tree } = setup();
    const before = tree.toJSON();
    const r = await dpu.process(msg([atomic('3', seq('4', add('5', target('./Vendor/A', 'x'))), add('6', target('./Vendor/Bin', 'x')))]));
    expect(codes(r)).toEqual(['3:507', '4:216', '5:216', '6:418']);
    expect(tree.toJSON()).toEqual(before);
  });

  it('517 when the responses exceed maxResponseCommands: everything rolled back', async () => {
    const { dpu, tree } = setup({ maxResponseCommands: 3 });
    const small = await dpu.process(msg([atomic('1', add('2', target('./Vendor/A', 'x')), add('3', target('./Vendor/B', 'x')))]));
    expect(codes(small)).toEqual(['1:200', '2:200', '3:200']);
    await dpu.process(msg([del('1', './Vendor/A', './Vendor/B')]));
    const before = tree.toJSON();
    const big = await dpu.process(msg([atomic('1', add('2', target('./Vendor/A', 'x')), add('3', target('./Vendor/B', 'x')), add('4', target('./Vendor/C', 'x')))]));
    expect(codes(big)).toEqual(['1:517', '2:216', '3:216', '4:216']);
    expect(tree.toJSON()).toEqual(before);
  });

  it('Generic Alerts queued inside a rolled-back Atomic are dropped, kept when it commits', async () => {
    const { dpu, cm, tree } = setup();
    tree.add('./Vendor/Loud', { format: 'node' });
    cm.mount('./Vendor/Loud', { add: (uri, _d, ctx) => { ctx.alert({ type: 'x.added', source: uri }); } });
    const failed = await dpu.process(msg([atomic('1', add('2', target('./Vendor/Loud/a', 'x')), replace('3', target('./Vendor/Nope', 'x')))]));
    expect(failed.pendingAlerts).toEqual([]);
    const ok = await dpu.process(msg([atomic('1', add('2', target('./Vendor/Loud/a', 'x')))]));
    expect(ok.pendingAlerts).toEqual([{ type: 'x.added', source: './Vendor/Loud/a' }]);
    expect(ok.alerts.map((a) => a.code)).toEqual([1226]);
    // outside an Atomic too
    const plain = await dpu.process(msg([add('1', target('./Vendor/Loud/b', 'x'))]));
    expect(plain.pendingAlerts).toEqual([{ type: 'x.added', source: './Vendor/Loud/b' }]);
  });

  it('a commit failure: the children of that handler 500, the Atomic 507', async () => {
    const { dpu, cm, tree } = setup();
    tree.add('./Vendor/Late', { format: 'node' });
    cm.mount('./Vendor/Late', { add: () => undefined, commit: () => { throw new Error('disk'); } });
    const r = await dpu.process(msg([atomic('1', add('2', target('./Vendor/Late/a', 'x')), add('3', target('./Vendor/A', 'x')))]));
    expect(codes(r)).toEqual(['1:507', '2:500', '3:200']);
  });

  it('an Atomic while a transaction is open elsewhere answers 500, children 215', async () => {
    const { dpu, cm } = setup();
    const tx = cm.transaction();
    const r = await dpu.process(msg([atomic('1', add('2', target('./Vendor/A', 'x')))]));
    expect(codes(r)).toEqual(['1:500', '2:215']);
    await tx.rollback();
  });

  it('an undefined element inside Atomic fails it before anything runs', async () => {
    const { dpu, tree } = setup();
    const a = atomic('1', add('2', target('./Vendor/A', 'x')));
    a.unknown = [{ name: 'Foo', children: [] }];
    const r = await dpu.process(msg([a]));
    expect(statuses(r).map((s) => `${s.cmd}:${s.cmdRef}:${s.code}`)).toEqual(['Atomic:1:507', 'Add:2:215', 'Foo::400']);
    expect(tree.exists('./Vendor/A')).toBe(false);
  });
});

describe('Dpu: robustness', () => {
  it('never throws for malformed input', async () => {
    const { dpu } = setup();
    const weird = msg([undefined as unknown as Command, { kind: 'Add', cmdId: '1' } as unknown as Command, { kind: 'Add', cmdId: '2', items: [null] } as unknown as Command]);
    const r = await dpu.process(weird);
    expect(codes(r)).toEqual([':500', '1:412', '2:400']);
    await expect(dpu.process({} as SyncML)).resolves.toMatchObject({ responses: [], aborted: false });
  });
});

describe('Dpu: options', () => {
  it('rejects limits that are not positive integers', () => {
    const { cm } = setup();
    expect(() => new Dpu({ configManager: cm, serverId: SERVER, maxObjSize: 0 })).toThrow(DmError);
    expect(() => new Dpu({ configManager: cm, serverId: SERVER, maxResponseCommands: 1.5 })).toThrow(/positive integer/);
    expect(new Dpu({ configManager: cm, serverId: SERVER, maxObjSize: 1024 }).maxObjSize).toBe(1024);
  });

  it('processes concurrent calls one after another', async () => {
    const { dpu, tree } = setup();
    const [a, b] = await Promise.all([
      dpu.process(msg([add('1', target('./Vendor/Q', '1'))])),
      dpu.process(msg([replace('1', target('./Vendor/Q', '2'))])),
    ]);
    expect([codes(a), codes(b)]).toEqual([['1:200'], ['1:200']]);
    expect(tree.info('./Vendor/Q')!.value).toBe('2');
  });
});
