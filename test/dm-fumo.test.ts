/** FUMO (src/dm/fumo.ts, src/dm/fumo-states.ts): the MO as a handler, the State table, the final Generic Alert. */
import { describe, expect, it } from 'vitest';
import { ConfigManager } from '../src/dm/config-manager.js';
import { Dpu } from '../src/dm/dpu.js';
import { canTransition, checkTransition, FUMO_STATES, FumoState, fumoStateInfo, transitionPath } from '../src/dm/fumo-states.js';
import { FUMO_MO_TYPE, fumoAlertType, fumoResultAlert, installFumo, type FumoJob, type InstallFumoOptions } from '../src/dm/fumo.js';
import { installInbox } from '../src/dm/mo/inbox.js';
import { ManagementTree } from '../src/dm/tree.js';
import { FumoAlertType, genericAlert } from '../src/syncml/generic-alert.js';
import type { Command, Item, Results, Status, SyncML } from '../src/syncml/types.js';

const SERVER = 'dm.example.net';

function setup(options: InstallFumoOptions = {}) {
  const tree = new ManagementTree({ clock: () => new Date(Date.UTC(2024, 0, 1)) });
  const cm = new ConfigManager({ tree });
  const jobs: FumoJob[] = [];
  const states: string[] = [];
  const packages: [string, Uint8Array][] = [];
  const fumo = installFumo(cm, {
    instances: ['pkg1'],
    onJob: (j) => jobs.push(j),
    onStateChange: (i, from, to) => states.push(`${i} ${from}->${to}`),
    onPackageData: (i, d) => packages.push([i, d]),
    ...options,
  });
  const dpu = new Dpu({ configManager: cm, serverId: SERVER });
  return { tree, cm, fumo, dpu, jobs, states, packages };
}

function msg(commands: Command[], final = true): SyncML {
  return {
    header: { verDTD: '1.2', verProto: 'DM/1.2', sessionId: '1', msgId: '2', target: { locUri: 'IMEI:1' }, source: { locUri: 'https://s' } },
    body: { commands, final },
  };
}

const t = (uri: string, data?: Item['data'], meta?: Item['meta']): Item => ({ target: { locUri: uri }, ...(data !== undefined ? { data } : {}), ...(meta ? { meta } : {}) });

async function codes(dpu: Dpu, ...commands: Command[]): Promise<string[]> {
  const r = await dpu.process(msg(commands));
  return r.responses.filter((c): c is Status => c.kind === 'Status').map((s) => `${s.cmd} ${s.cmdRef}: ${s.code}`);
}

describe('the State table (FUMO 10.1)', () => {
  it('has the ten values with 70 = failed / have data and 80 = failed / no data', () => {
    expect(FUMO_STATES.map((s) => s.value)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(fumoStateInfo(70)).toMatchObject({ meaning: 'Update Failed / Have Data', terminal: true, hasData: true });
    expect(fumoStateInfo(80)).toMatchObject({ meaning: 'Update Failed / No Data', terminal: true, hasData: false });
    expect(FUMO_STATES.filter((s) => s.terminal).map((s) => s.value)).toEqual([20, 70, 80, 90, 100]);
    expect(FUMO_STATES.filter((s) => s.busy).map((s) => s.value)).toEqual([30, 60]);
  });

  it('allows the DownloadAndUpdate walk and refuses jumps', () => {
    expect(transitionPath(10, 100)).toEqual([10, 30, 40, 50, 60, 100]);
    expect(transitionPath(40, 60)).toEqual([40, 50, 60]);
    expect(canTransition(30, 20)).toBe(true);
    expect(canTransition(10, 60)).toBe(false);
    expect(canTransition(60, 10)).toBe(false);
    expect(() => checkTransition(10, 100)).toThrow(/cannot go from 10 \(Idle \/ Start\) to 100/);
    expect(() => checkTransition(10, 55)).toThrow(/not a FUMO State/);
  });
});

describe('the FUMO tree', () => {
  it('a device-installed instance has its skeleton: State 10, PkgURL leaves, PkgData', () => {
    const { tree } = setup();
    const info = tree.info('./FUMO/pkg1')!;
    expect(info.type).toBe(FUMO_MO_TYPE);
    expect(info.children).toEqual(['PkgName', 'PkgVersion', 'Download', 'Update', 'DownloadAndUpdate', 'State']);
    expect(tree.info('./FUMO/pkg1/State')).toMatchObject({ value: '10', format: 'int' });
    expect(tree.exists('./FUMO/pkg1/Download/PkgURL')).toBe(true);
    expect(tree.exists('./FUMO/pkg1/DownloadAndUpdate/PkgURL')).toBe(true);
    expect(tree.info('./FUMO/pkg1')!.scope).toBe('permanent');
  });

  it('Get, Replace of PkgURL, State read-only, ?list=', async () => {
    const { dpu, tree } = setup();
    expect(await codes(dpu,
      { kind: 'Replace', cmdId: '1', items: [t('./FUMO/pkg1/DownloadAndUpdate/PkgURL', 'http://fw.example/p.bin')] },
      { kind: 'Replace', cmdId: '2', items: [t('./FUMO/pkg1/State', '100')] },
      { kind: 'Delete', cmdId: '3', items: [t('./FUMO/pkg1/State')] },
      { kind: 'Delete', cmdId: '4', items: [t('./FUMO/pkg1')] },
    )).toEqual(['Replace 1: 200', 'Replace 2: 405', 'Delete 3: 405', 'Delete 4: 405']);
    expect(tree.info('./FUMO/pkg1/DownloadAndUpdate/PkgURL')!.value).toBe('http://fw.example/p.bin');
    const r = await dpu.process(msg([{ kind: 'Get', cmdId: '5', items: [t('./FUMO/pkg1/State'), t('./FUMO?list=Struct')] }]));
    const results = r.responses.find((c): c is Results => c.kind === 'Results')!;
    expect(results.items[0]).toMatchObject({ source: { locUri: './FUMO/pkg1/State' }, data: '10', meta: { format: 'int' } });
  });

  it('a server Adds an instance: the skeleton is created; an Add of a pre-created empty leaf sets it', async () => {
    const { dpu, tree, jobs } = setup();
    expect(await codes(dpu,
      { kind: 'Add', cmdId: '1', items: [t('./FUMO/fw2', undefined, { format: 'node' })] },
      { kind: 'Add', cmdId: '2', items: [t('./FUMO/fw2/Download/PkgURL', 'http://fw.example/2.bin')] },
      { kind: 'Add', cmdId: '3', items: [t('./FUMO/fw2/Download/PkgURL', 'again')] },
      { kind: 'Add', cmdId: '4', items: [t('./FUMO/fw2/Ext/PkgSize', '1234')] },
      { kind: 'Add', cmdId: '5', items: [t('./FUMO/fw3/DownloadAndUpdate/PkgURL', 'http://fw.example/3.bin')] },
      { kind: 'Add', cmdId: '6', items: [t('./FUMO/fw2', undefined, { format: 'node' })] },
    )).toEqual(['Add 1: 200', 'Add 2: 200', 'Add 3: 418', 'Add 4: 200', 'Add 5: 200', 'Add 6: 418']);
    expect(tree.info('./FUMO/fw2/State')!.value).toBe('10');
    expect(tree.info('./FUMO/fw2/Download/PkgURL')!.value).toBe('http://fw.example/2.bin');
    expect(tree.info('./FUMO/fw3/State')!.value).toBe('10'); // implicit instance
    expect(tree.info('./FUMO/fw2')!.scope).toBe('dynamic');
    expect(await codes(dpu, { kind: 'Exec', cmdId: '7', correlator: 'c1', items: [t('./FUMO/fw2/Download')] })).toEqual(['Exec 7: 202']);
    expect(jobs[0]).toMatchObject({ instance: './FUMO/fw2', operation: 'Download', pkgUrl: 'http://fw.example/2.bin', expectedSize: 1234, correlator: 'c1', alertSource: './FUMO/fw2', serverId: SERVER });
    expect(await codes(dpu, { kind: 'Delete', cmdId: '8', items: [t('./FUMO/fw3')] })).toEqual(['Delete 8: 200']);
  });
});

describe('Exec', () => {
  it('DownloadAndUpdate: 202, a job with the Correlator, State 30; a second Exec while busy: 405', async () => {
    const { dpu, jobs, states, tree } = setup();
    expect(await codes(dpu,
      { kind: 'Replace', cmdId: '1', items: [t('./FUMO/pkg1/DownloadAndUpdate/PkgURL', 'http://fw.example/p.bin')] },
      { kind: 'Replace', cmdId: '2', items: [t('./FUMO/pkg1/PkgVersion', '2.0')] },
      { kind: 'Exec', cmdId: '3', correlator: 'job-42', items: [t('./FUMO/pkg1/DownloadAndUpdate')] },
      { kind: 'Exec', cmdId: '4', items: [t('./FUMO/pkg1/Download')] },
      { kind: 'Replace', cmdId: '5', items: [t('./FUMO/pkg1/DownloadAndUpdate/PkgURL', 'http://other')] },
    )).toEqual(['Replace 1: 200', 'Replace 2: 200', 'Exec 3: 202', 'Exec 4: 405', 'Replace 5: 405']);
    expect(jobs).toEqual([{
      instance: './FUMO/pkg1', operation: 'DownloadAndUpdate', pkgUrl: 'http://fw.example/p.bin', correlator: 'job-42', pkgVersion: '2.0',
      alertSource: './FUMO/pkg1', serverId: SERVER,
    }]);
    expect(states).toEqual(['./FUMO/pkg1 10->30']);
    expect(tree.info('./FUMO/pkg1/State')!.value).toBe('30');
  });

  it('Update needs a package on the device: 405 at State 10; a PkgData delivered in DM makes it 40, then Update is 202', async () => {
    const { dpu, jobs, packages, states } = setup();
    expect(await codes(dpu, { kind: 'Exec', cmdId: '1', items: [t('./FUMO/pkg1/Update')] })).toEqual(['Exec 1: 405']);
    // PkgData as a large object in two messages (the DPU reassembles it).
    const r1 = await dpu.process(msg([{ kind: 'Replace', cmdId: '2', items: [{ ...t('./FUMO/pkg1/Update/PkgData', Uint8Array.of(1, 2, 3), { format: 'bin', size: 5 }), moreData: true }] }], false));
    expect(r1.responses.map((s) => (s as Status).code)).toEqual([213]);
    expect(await codes(dpu, { kind: 'Replace', cmdId: '3', items: [t('./FUMO/pkg1/Update/PkgData', Uint8Array.of(4, 5), { format: 'bin' })] }))
      .toEqual(['Replace 3: 200']);
    expect(packages).toEqual([['./FUMO/pkg1', Uint8Array.of(1, 2, 3, 4, 5)]]);
    expect(await codes(dpu, { kind: 'Exec', cmdId: '4', items: [t('./FUMO/pkg1/Update')] })).toEqual(['Exec 4: 202']);
    expect(jobs[0]).toMatchObject({ operation: 'Update', instance: './FUMO/pkg1' });
    expect(jobs[0].pkgUrl).toBeUndefined();
    expect(states).toEqual(['./FUMO/pkg1 10->30', './FUMO/pkg1 30->40', './FUMO/pkg1 40->50']);
  });

  it('without onPackageData a PkgData answers 406; Exec on a non-operation node 406; no instance 404', async () => {
    const { dpu } = setup({ onPackageData: undefined });
    expect(await codes(dpu,
      { kind: 'Replace', cmdId: '1', items: [t('./FUMO/pkg1/Update/PkgData', Uint8Array.of(1), { format: 'bin' })] },
      { kind: 'Exec', cmdId: '2', items: [t('./FUMO/pkg1/State')] },
      { kind: 'Exec', cmdId: '3', items: [t('./FUMO/nope/Download')] },
    )).toEqual(['Replace 1: 406', 'Exec 2: 406', 'Exec 3: 404']);
  });

  it('the Windows profile: ./FwUpdate, DownloadAndUpdate only (406 otherwise), Correlator required (412), alert Source = the operation node', async () => {
    const { dpu, jobs, tree } = setup({ profile: 'windows' });
    expect(tree.exists('./FwUpdate/pkg1/DownloadAndUpdate/PkgURL')).toBe(true);
    expect(tree.exists('./FwUpdate/pkg1/Download')).toBe(false);
    expect(await codes(dpu,
      { kind: 'Replace', cmdId: '1', items: [t('./FwUpdate/pkg1/DownloadAndUpdate/PkgURL', 'http://fw/p')] },
      { kind: 'Exec', cmdId: '2', items: [t('./FwUpdate/pkg1/DownloadAndUpdate')] },
      { kind: 'Exec', cmdId: '3', correlator: 'wm-1', items: [t('./FwUpdate/pkg1/DownloadAndUpdate')] },
    )).toEqual(['Replace 1: 200', 'Exec 2: 412', 'Exec 3: 202']);
    expect(jobs[0].alertSource).toBe('./FwUpdate/pkg1/DownloadAndUpdate');
  });

  it('Exec inside Atomic is refused by the DPU (500), nothing starts', async () => {
    const { dpu, jobs } = setup();
    const r = await codes(dpu, { kind: 'Atomic', cmdId: '1', commands: [{ kind: 'Exec', cmdId: '2', items: [t('./FUMO/pkg1/Download')] }] });
    expect(r).toEqual(['Atomic 1: 507', 'Exec 2: 500']);
    expect(jobs).toEqual([]);
  });

  it('an object placed through the Inbox lands in FUMO', async () => {
    const { cm, dpu, tree } = setup();
    installInbox(cm, { placements: { [FUMO_MO_TYPE]: './FUMO' } });
    expect(await codes(dpu, { kind: 'Add', cmdId: '1', items: [t('./Inbox/viaInbox', undefined, { format: 'node', type: FUMO_MO_TYPE })] })).toEqual(['Add 1: 200']);
    expect(tree.info('./FUMO/viaInbox/State')!.value).toBe('10');
  });
});

describe('the final Generic Alert', () => {
  const job = { operation: 'DownloadAndUpdate' as const, alertSource: './FUMO/pkg1', correlator: 'job-42' };

  it('Type per operation, Format int, Mark informational on success, critical on failure, the Correlator', () => {
    expect(fumoAlertType('Download')).toBe(FumoAlertType.DOWNLOAD);
    expect(fumoAlertType('Update')).toBe(FumoAlertType.UPDATE);
    const ok = genericAlert(fumoResultAlert(job, 200));
    expect(ok).toMatchObject({ code: 1226, correlator: 'job-42' });
    expect(ok.items[0]).toEqual({ source: { locUri: './FUMO/pkg1' }, meta: { format: 'int', type: FumoAlertType.DOWNLOAD_AND_UPDATE, mark: 'informational' }, data: '200' });
    expect(fumoResultAlert(job, 250).mark).toBe('informational');
    expect(fumoResultAlert(job, 410)).toMatchObject({ mark: 'critical', data: 410 });
    const none = fumoResultAlert({ operation: 'Download', alertSource: './FUMO/pkg1' }, 402);
    expect('correlator' in none).toBe(false);
    expect(() => fumoResultAlert(job, 42)).toThrow(/outside/);
  });
});
