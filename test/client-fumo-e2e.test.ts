/**
 * FUMO end to end (DmClient + client session + DPU + FUMO MO + download + installer + report):
 * a scripted DM server on loopback starts a job with Exec, a package server serves the firmware
 * (with Range, and with a connection it cuts half-way), and the final Generic Alert must reach a
 * server that first refuses it. The clock is fake: retries and back-offs take no time.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DmClient, type DmClientOptions, type FumoInstaller } from '../src/client/dm-client.js';
import { JsonFileStore, MemoryStore } from '../src/client/store.js';
import type { Clock } from '../src/client/transport.js';
import type { FumoJob } from '../src/dm/fumo.js';
import { answer, MessageBuilder } from '../src/syncml/builder.js';
import { FumoAlertType, readGenericAlerts, type GenericAlertEvent } from '../src/syncml/generic-alert.js';
import { parse } from '../src/syncml/parse.js';
import { serializeToBytes } from '../src/syncml/serialize.js';
import type { Alert, Command, Status, SyncML } from '../src/syncml/types.js';

const closers: (() => void)[] = [];
afterEach(() => { for (const c of closers.splice(0)) c(); });

async function listen(handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closers.push(() => { s.closeAllConnections?.(); s.close(); });
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

function fakeClock(): Clock & { sleeps: number[] } {
  let t = 1_700_000_000_000;
  const sleeps: number[] = [];
  return { sleeps, now: () => t, sleep: async (ms) => { sleeps.push(ms); t += ms; } };
}

// ---- the package server -----------------------------------------------------------------------

const FIRMWARE = randomBytes(200_000);
const SHA = createHash('sha256').update(FIRMWARE).digest('hex');

interface PackageServer { base: string; requests: { path: string; range?: string }[] }

async function packageServer(): Promise<PackageServer> {
  const requests: { path: string; range?: string }[] = [];
  let cuts = 0;
  const base = await listen((rq, rs) => {
    const path = rq.url ?? '';
    requests.push({ path, ...(rq.headers.range ? { range: rq.headers.range } : {}) });
    if (path === '/missing.bin') { rs.writeHead(404).end(); return; }
    const data = path === '/bad.bin' ? Buffer.from(FIRMWARE).fill(7, 0, 10) : FIRMWARE;
    const m = /^bytes=(\d+)-$/.exec(rq.headers.range ?? '');
    if (m) {
      const from = Number(m[1]);
      rs.writeHead(206, { 'content-length': String(data.length - from), 'content-range': `bytes ${from}-${data.length - 1}/${data.length}` });
      rs.end(data.subarray(from));
      return;
    }
    rs.writeHead(200, { 'content-length': String(data.length), 'content-type': 'application/octet-stream' });
    if (path === '/cut.bin' && cuts++ === 0) {
      // Half the package, then the connection drops.
      rs.write(data.subarray(0, data.length / 2), () => setTimeout(() => rs.socket?.destroy(), 20));
      return;
    }
    rs.end(data);
  });
  return { base, requests };
}

// ---- the scripted DM server -------------------------------------------------------------------

interface DmSession { index: number; step: number; alerts: GenericAlertEvent[] }

interface DmScript {
  /** Commands for the server's message answering `msg` (none: Status only, the session ends). */
  commands?(msg: SyncML, s: DmSession): Command[];
  /** Status code for a received Generic Alert (default 200). */
  alertStatus?(s: DmSession): number;
}

async function dmServer(script: DmScript): Promise<{ url: string; sessions: DmSession[]; messages: SyncML[] }> {
  const sessions = new Map<string, DmSession>();
  const all: DmSession[] = [];
  const messages: SyncML[] = [];
  const base = await listen((rq, rs) => {
    const chunks: Buffer[] = [];
    rq.on('data', (c: Buffer) => chunks.push(c));
    rq.on('end', () => {
      const msg = parse(new Uint8Array(Buffer.concat(chunks)));
      messages.push(msg);
      const isPkg1 = msg.body.commands.some((c) => c.kind === 'Alert' && (c.code === 1200 || c.code === 1201));
      let s = sessions.get(msg.header.sessionId);
      if (!s || isPkg1) {
        s = { index: all.length, step: 0, alerts: [] };
        all.push(s);
        sessions.set(msg.header.sessionId, s);
      }
      s.step++;
      const session = s;
      for (const c of msg.body.commands) if (c.kind === 'Alert') session.alerts.push(...readGenericAlerts(c));
      const b = new MessageBuilder({
        verDTD: msg.header.verDTD, verProto: msg.header.verProto, sessionId: msg.header.sessionId, msgId: String(s.step),
        target: { locUri: msg.header.source.locUri }, source: { locUri: msg.header.target.locUri }, respUri: `${base}/dm?s=${msg.header.sessionId}`,
      });
      const statuses = answer(msg, (c) => (c.kind === 'Alert' && (c as Alert).code === 1226 ? (script.alertStatus?.(session) ?? 200) : 200), 212);
      for (const st of statuses) b.add(st);
      for (const c of script.commands?.(msg, session) ?? []) b.add(c);
      rs.writeHead(200, { 'content-type': 'application/vnd.syncml.dm+wbxml' });
      rs.end(Buffer.from(serializeToBytes(b.final().build(), { encoding: 'wbxml' })));
    });
  });
  return { url: `${base}/dm`, sessions: all, messages };
}

/** Session 0, package 2: set PkgURL (and Ext hints), Exec the operation with a Correlator. */
function startJob(op: 'Download' | 'DownloadAndUpdate', pkgUrl: string, ext: Record<string, string> = {}): DmScript['commands'] {
  return (_msg, s) => {
    if (s.index !== 0 || s.step !== 1) return [];
    const cmds: Command[] = [{ kind: 'Replace', cmdId: '', items: [{ target: { locUri: `./FUMO/pkg1/${op}/PkgURL` }, data: pkgUrl }] }];
    for (const [k, v] of Object.entries(ext)) cmds.push({ kind: 'Add', cmdId: '', items: [{ target: { locUri: `./FUMO/pkg1/Ext/${k}` }, data: v }] });
    cmds.push({ kind: 'Exec', cmdId: '', correlator: 'corr-1', items: [{ target: { locUri: `./FUMO/pkg1/${op}` } }] });
    return cmds;
  };
}

interface Run {
  client: DmClient;
  states: number[];
  clock: Clock & { sleeps: number[] };
  installed: { job: FumoJob; bytes: Buffer }[];
}

async function open(url: string, installer: Partial<FumoInstaller> | undefined, over: Partial<DmClientOptions> = {}): Promise<Run> {
  const clock = fakeClock();
  const states: number[] = [10];
  const installed: { job: FumoJob; bytes: Buffer }[] = [];
  const inst: FumoInstaller | undefined = installer === undefined ? undefined : {
    install: (job, file) => { installed.push({ job, bytes: readFileSync(file) }); },
    ...installer,
  };
  const client = await DmClient.open({
    deviceId: 'IMEI:490154203237518',
    server: { url, serverId: 'dm.example.net', username: 'device01', password: 'devsecret', authType: 'basic' },
    clock,
    transport: { clock },
    fumo: { instances: ['pkg1'], installer: inst, downloadDir: await mkdtemp(join(tmpdir(), 'syncml-dm-fumo-')) },
    alertRetry: { attempts: 5, initialBackoffMs: 1000 },
    onFumoState: (_i, _from, to) => states.push(to),
    ...over,
  });
  return { client, states, clock, installed };
}

function finalAlert(sessions: DmSession[]): GenericAlertEvent {
  const events = sessions.flatMap((s) => s.alerts);
  expect(events.length).toBeGreaterThan(0);
  return events.at(-1)!;
}

describe('FUMO end to end', () => {
  it('DownloadAndUpdate: 202, State 10 -> 30 -> 40 -> 50 -> 60 -> 100, Generic Alert retried until acknowledged', async () => {
    const pkg = await packageServer();
    const dm = await dmServer({
      commands: startJob('DownloadAndUpdate', `${pkg.base}/fw.bin`, { PkgSize: String(FIRMWARE.length), PkgSHA256: SHA }),
      // The first report session is answered 500 (keep it), the second 200.
      alertStatus: (s) => (s.index === 1 ? 500 : 200),
    });
    const run = await open(dm.url, {});
    const report = await run.client.runSession();
    expect(report).toMatchObject({ reason: 'completed', jobs: [expect.objectContaining({ operation: 'DownloadAndUpdate', correlator: 'corr-1' })] });
    // Package 3 answered the Exec with 202.
    const pkg3 = dm.messages[1];
    const execStatus = pkg3.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmd === 'Exec')!;
    expect(execStatus.code).toBe(202);
    expect(run.states).toEqual([10, 30, 40, 50, 60, 100]);
    expect(run.installed).toHaveLength(1);
    expect(run.installed[0].bytes.equals(FIRMWARE)).toBe(true);
    // Sessions: 0 the job, 1 the report refused with 500, 2 the report acknowledged.
    expect(dm.sessions).toHaveLength(3);
    expect(dm.sessions[1].alerts).toHaveLength(1);
    const ga = finalAlert(dm.sessions);
    expect(ga).toMatchObject({
      type: FumoAlertType.DOWNLOAD_AND_UPDATE, format: 'int', mark: 'informational', source: './FUMO/pkg1', data: '200', correlator: 'corr-1',
    });
    expect(run.clock.sleeps).toContain(1000); // the back-off between the two report sessions
    expect(run.client.pendingAlerts()).toEqual([]);
    expect(run.client.pendingJobs()).toEqual([]);
    expect(run.client.tree.info('./FUMO/pkg1/State')!.value).toBe('100');
    // The report sessions are client-initiated (1201) and carry the alert in package 1.
    const reportPkg1 = dm.messages.find((m) => m.body.commands.some((c) => c.kind === 'Alert' && c.code === 1226))!;
    expect(reportPkg1.header.msgId).toBe('1');
    expect(reportPkg1.body.commands.some((c) => c.kind === 'Alert' && c.code === 1201)).toBe(true);
  });

  it('Download only: State 10 -> 30 -> 40, alert type download with 200; the package stays on the device', async () => {
    const pkg = await packageServer();
    const dm = await dmServer({ commands: startJob('Download', `${pkg.base}/fw.bin`) });
    const run = await open(dm.url, {});
    await run.client.runSession();
    expect(run.states).toEqual([10, 30, 40]);
    expect(finalAlert(dm.sessions)).toMatchObject({ type: FumoAlertType.DOWNLOAD, data: '200', mark: 'informational', correlator: 'corr-1' });
    expect(run.installed).toEqual([]);
    expect(run.client.tree.info('./FUMO/pkg1/State')!.value).toBe('40');
  });

  it('a download cut half-way resumes with Range', async () => {
    const pkg = await packageServer();
    const dm = await dmServer({ commands: startJob('DownloadAndUpdate', `${pkg.base}/cut.bin`, { PkgSHA256: SHA }) });
    const progress: number[] = [];
    const run = await open(dm.url, {}, {});
    (run.client.options.fumo as { onDownloadProgress?: unknown }).onDownloadProgress = (_j: FumoJob, p: { received: number }) => progress.push(p.received);
    await run.client.runSession();
    expect(pkg.requests).toHaveLength(2);
    expect(pkg.requests[0].range).toBeUndefined();
    const m = /^bytes=(\d+)-$/.exec(pkg.requests[1].range ?? '');
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(Number(m![1])).toBeLessThanOrEqual(FIRMWARE.length / 2);
    expect(run.installed[0].bytes.equals(FIRMWARE)).toBe(true);
    expect(finalAlert(dm.sessions)).toMatchObject({ data: '200' });
    expect(progress.at(-1)).toBe(FIRMWARE.length);
  });

  it('a package whose SHA-256 differs from the announced one: 402, State 20, mark critical', async () => {
    const pkg = await packageServer();
    const dm = await dmServer({ commands: startJob('DownloadAndUpdate', `${pkg.base}/bad.bin`, { PkgSHA256: SHA }) });
    const run = await open(dm.url, {});
    await run.client.runSession();
    expect(run.states).toEqual([10, 30, 20]);
    expect(finalAlert(dm.sessions)).toMatchObject({ type: FumoAlertType.DOWNLOAD_AND_UPDATE, data: '402', mark: 'critical', correlator: 'corr-1' });
    expect(run.installed).toEqual([]);
  });

  it('a PkgURL the server does not have: 411 (malformed or bad URL)', async () => {
    const pkg = await packageServer();
    const dm = await dmServer({ commands: startJob('Download', `${pkg.base}/missing.bin`) });
    const run = await open(dm.url, {});
    await run.client.runSession();
    expect(finalAlert(dm.sessions)).toMatchObject({ type: FumoAlertType.DOWNLOAD, data: '411', mark: 'critical' });
    expect(run.states).toEqual([10, 30, 20]);
  });

  it('the installer fails: 410 (Firmware update failed), State 70 (the package is kept)', async () => {
    const pkg = await packageServer();
    const dm = await dmServer({ commands: startJob('DownloadAndUpdate', `${pkg.base}/fw.bin`) });
    const run = await open(dm.url, { install: () => { throw new Error('flash write error'); } });
    await run.client.runSession();
    expect(run.states).toEqual([10, 30, 40, 50, 60, 70]);
    expect(finalAlert(dm.sessions)).toMatchObject({ data: '410', mark: 'critical', correlator: 'corr-1' });
  });

  it('the installer reports its own code (403 device mismatch) and the user may decline (401)', async () => {
    const pkg = await packageServer();
    const dm = await dmServer({ commands: startJob('DownloadAndUpdate', `${pkg.base}/fw.bin`) });
    const run = await open(dm.url, { install: () => { throw Object.assign(new Error('wrong model'), { fumoResult: 403 }); } });
    await run.client.runSession();
    expect(finalAlert(dm.sessions)).toMatchObject({ data: '403' });
    const dm2 = await dmServer({ commands: startJob('DownloadAndUpdate', `${pkg.base}/fw.bin`) });
    const run2 = await open(dm2.url, { confirm: () => false });
    await run2.client.runSession();
    expect(finalAlert(dm2.sessions)).toMatchObject({ data: '401', mark: 'critical' });
    expect(run2.states).toEqual([10, 30, 40, 50, 70]);
  });

  it('a job survives a restart: the store keeps it, a new client runs and reports it', async () => {
    const pkg = await packageServer();
    const dm = await dmServer({ commands: startJob('DownloadAndUpdate', `${pkg.base}/fw.bin`) });
    const dir = await mkdtemp(join(tmpdir(), 'syncml-dm-restart-'));
    const store = JsonFileStore.forDevice(dir, 'IMEI:490154203237518');
    const first = await open(dm.url, {}, { store, fumo: { instances: ['pkg1'], autoRun: false } });
    const r = await first.client.runSession();
    expect(r.jobs).toHaveLength(1);
    expect(first.client.pendingJobs()).toEqual([expect.objectContaining({ phase: 'queued' })]);
    // "Reboot": a new client on the same store.
    const second = await open(dm.url, {}, { store });
    expect(second.client.tree.info('./FUMO/pkg1/State')!.value).toBe('30');
    const reports = await second.client.runFumoJobs();
    expect(reports).toEqual([expect.objectContaining({ instance: './FUMO/pkg1', operation: 'DownloadAndUpdate', result: 200 })]);
    expect(second.installed).toHaveLength(1);
    expect(finalAlert(dm.sessions)).toMatchObject({ data: '200', correlator: 'corr-1' });
    expect((await store.load()).fumoJobs).toEqual([]);
    expect(existsSync(join(dir, 'IMEI_490154203237518', 'state.json'))).toBe(true);
  });

  it('without an installer an update reports 408 (not implemented)', async () => {
    const pkg = await packageServer();
    const dm = await dmServer({ commands: startJob('DownloadAndUpdate', `${pkg.base}/fw.bin`) });
    const run = await open(dm.url, undefined, { store: new MemoryStore() });
    await run.client.runSession();
    expect(finalAlert(dm.sessions)).toMatchObject({ data: '408' });
  });
});
