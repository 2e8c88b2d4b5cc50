/**
 * The server session state machine without I/O: every rule of docs/session-protocol.md the server
 * side owns, driven by a scripted client (test/server-helpers.ts).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse, parseMessage, serializeToBytes, genericAlert, FumoAlertType, type Alert, type Command, type Status, type SyncML } from '../src/syncml/index.js';
import { fromBase64, md5Credential } from '../src/dm/index.js';
import { step, expireSession, errorReply } from '../src/dm/server-session.js';
import { parseJobSpec, stepCommands, fumoAlertMatches } from '../src/dm/jobs.js';
import {
  DEVICE, MiniStore, PureSession, ScriptedClient, commandsOf, fakeRandom, headerCode, statusesOf,
} from './server-helpers.js';
import { fixtureText } from './helpers.js';

const md5Device = () => new MiniStore({ auth: { scheme: 'md5', clientName: 'device01', clientSecret: 'secret', serverId: 'dm.example.test', serverSecret: 'srvsecret' } });

/** Runs the md5 challenge: pkg 1 without Cred (407), pkg 1 again with Cred (212). */
async function md5Login(s: PureSession, c: ScriptedClient, extra: Command[] = []): Promise<SyncML> {
  const r1 = await s.send(c.pkg1({ extra }));
  expect(headerCode(r1.reply)).toBe(407);
  c.read(r1.reply);
  const r2 = await s.send(c.pkg1({ cred: c.cred('md5'), extra }));
  expect(headerCode(r2.reply)).toBe(212);
  return r2.reply;
}

describe('session start and the package loop', () => {
  it('answers a client-initiated session with no jobs with Status + Final only, and ends it', async () => {
    const store = new MiniStore({ auth: { scheme: 'none' } });
    const s = new PureSession(store);
    const c = new ScriptedClient();
    const r = await s.send(c.pkg1());
    expect(headerCode(r.reply)).toBe(200);
    expect(commandsOf(r.reply)).toEqual([]);
    expect(r.reply.body.final).toBe(true);
    expect(r.closed).toBe(true);
    // Status for the SyncHdr first, then the Alert and the Replace in order (MS-MDM 2.2.6.1).
    expect(statusesOf(r.reply).map((x) => [x.cmdRef, x.cmd, x.code])).toEqual([['0', 'SyncHdr', 200], ['1', 'Alert', 200], ['2', 'Replace', 200]]);
    expect(r.reply.header.msgId).toBe('1');
    expect(r.reply.header.target.locUri).toBe(DEVICE);
    expect(store.devInfo).toMatchObject({ Man: 'Example Manufacturer', Mod: 'ExamplePhone 1', DmV: '1.2', Lang: 'en-US' });
    expect(store.sessions.map((x) => x.action)).toEqual(['start', 'update', 'end']);
    expect(store.sessions.at(-1)!.reason).toBe('completed');
  });

  it('runs 1 → 2 → 3 → 4 → 3 → 4 until the queue is empty, with RespURI and MsgIDs', async () => {
    const store = md5Device();
    const get = store.addJob({ kind: 'command', command: { verb: 'Get', target: './DevDetail/SwV' } });
    const rep = store.addJob({ kind: 'command', command: { verb: 'Replace', target: './Vendor/X/Interval', data: '60' } });
    const s = new PureSession(store, { config: { maxJobsPerPackage: 1 } });
    const c = new ScriptedClient();
    const pkg2 = await md5Login(s, c);
    expect(pkg2.header.respUri).toMatch(/^http:\/\/dm\.example\.test\/omadm\?s=[0-9a-f]{32}$/);
    expect(pkg2.header.msgId).toBe('2');
    expect(commandsOf(pkg2).map((x) => x.kind)).toEqual(['Get']);
    expect(store.job(get.id).state).toBe('sent');
    expect(store.job(rep.id).state).toBe('queued');
    const pkg4 = (await s.send(c.answer(pkg2, { tree: { './DevDetail/SwV': '2.0.7' } }))).reply;
    expect(store.job(get.id).state).toBe('answered');
    expect(store.job(get.id).statuses.map((x) => x.code)).toEqual([200]);
    expect(store.job(get.id).results).toMatchObject([{ uri: './DevDetail/SwV', data: '2.0.7' }]);
    expect(store.tree.get('./DevDetail/SwV')).toBe('2.0.7');
    expect(commandsOf(pkg4).map((x) => x.kind)).toEqual(['Replace']);
    expect(pkg4.header.msgId).toBe('3');
    const end = await s.send(c.answer(pkg4));
    expect(store.job(rep.id).state).toBe('answered');
    expect(commandsOf(end.reply)).toEqual([]);
    expect(end.reply.body.final).toBe(true);
    expect(end.closed).toBe(true);
  });

  it('answers a message for a session it does not know with 408 + Alert 1223', async () => {
    const store = md5Device();
    const c = new ScriptedClient();
    c.out.next(); // MsgID 1 is gone: this is a later message of a lost session
    const r = await new PureSession(store).send(c.message([{ kind: 'Alert', cmdId: '', code: 1222, items: [] }]));
    expect(headerCode(r.reply)).toBe(408);
    expect(commandsOf(r.reply).map((x) => (x as Alert).code)).toEqual([1223]);
    expect(r.closed).toBe(true);
    expect(r.effects).toEqual([]);
  });

  it('refuses a MsgID that does not grow (400, nothing processed)', async () => {
    const store = new MiniStore({ auth: { scheme: 'none' } });
    store.addJob({ kind: 'command', command: { verb: 'Get', target: './A' } });
    const s = new PureSession(store);
    const c = new ScriptedClient();
    const pkg1 = c.pkg1();
    const r = await s.send(pkg1);
    const pkg3 = c.answer(r.reply);
    pkg3.header.msgId = '1';
    const r2 = await s.send(pkg3);
    expect(headerCode(r2.reply)).toBe(400);
    expect(store.jobs[0].state).toBe('sent');
  });

  it('answers DM 1.1.2 in DM 1.1.2', async () => {
    const store = new MiniStore({ auth: { scheme: 'basic', clientName: 'device01', clientSecret: 'secret' } });
    store.addJob({ kind: 'command', command: { verb: 'Get', target: './DevInfo/Mod' } });
    const msg = parse(fixtureText('syncml/dm112-pkg1.xml'));
    const r = await new PureSession(store).send(msg);
    expect(r.reply.header.verDTD).toBe('1.1');
    expect(r.reply.header.verProto).toBe('DM/1.1');
    expect(headerCode(r.reply)).toBe(212);
    expect(commandsOf(r.reply).map((x) => x.kind)).toEqual(['Get']);
    expect(store.devInfo.DmV).toBe('1.1.2');
    expect(r.effects.find((e) => e.type === 'device')).toMatchObject({ version: '1.1.2' });
  });

  it('refuses another protocol version with 513 / 505', async () => {
    const store = new MiniStore({ auth: { scheme: 'none' } });
    const c = new ScriptedClient();
    const m = c.pkg1();
    m.header.verProto = 'SyncML/1.2';
    expect(headerCode((await new PureSession(store).send(m)).reply)).toBe(513);
    const m2 = new ScriptedClient().pkg1();
    m2.header.verDTD = '2.0';
    expect(headerCode((await new PureSession(store).send(m2)).reply)).toBe(505);
  });
});

describe('authentication', () => {
  it('basic: 407 + Chal without Cred, 212 with it, 401 with a wrong password', async () => {
    const store = new MiniStore({ auth: { scheme: 'basic', clientName: 'device01', clientSecret: 'secret' } });
    const s = new PureSession(store);
    const c = new ScriptedClient();
    const r1 = await s.send(c.pkg1());
    expect(headerCode(r1.reply)).toBe(407);
    const hs = statusesOf(r1.reply)[0];
    expect(hs.chal?.meta).toEqual({ type: 'syncml:auth-basic', format: 'b64' });
    // A 401/407 message holds only Status commands, the same code for every command (DMPRO 2.4).
    expect(r1.reply.body.commands.every((x) => x.kind === 'Status' && x.code === 407)).toBe(true);
    const r2 = await s.send(c.pkg1({ cred: c.cred('basic', { password: 'wrong' }) }));
    expect(headerCode(r2.reply)).toBe(401);
    const r3 = await s.send(c.pkg1({ cred: c.cred('basic') }));
    expect(headerCode(r3.reply)).toBe(212);
    expect(r3.effects.filter((e) => e.type === 'auth').map((e) => (e as { outcome: string }).outcome)).toEqual(['accepted']);
    expect(store.devInfo.Man).toBe('Example Manufacturer');
  });

  it('md5: challenge with a fresh nonce, 212 + NextNonce for the next session, the nonce used once', async () => {
    const store = md5Device();
    const s = new PureSession(store);
    const c = new ScriptedClient();
    const r1 = await s.send(c.pkg1());
    const chal = statusesOf(r1.reply)[0].chal!;
    expect(chal.meta.type).toBe('syncml:auth-md5');
    expect(chal.meta.format).toBe('b64');
    const n1 = chal.meta.nextNonce as string;
    expect(fromBase64(n1).length).toBe(16);
    c.read(r1.reply);
    const pkg1 = c.pkg1({ cred: c.cred('md5') });
    const r2 = await s.send(pkg1);
    expect(headerCode(r2.reply)).toBe(212);
    const n2 = statusesOf(r2.reply)[0].chal!.meta.nextNonce as string;
    expect(n2).not.toBe(n1);
    expect(store.device.auth.clientNonce).toBe(n2);
    expect(r2.effects.filter((e) => e.type === 'nonce').map((e) => [(e as { action: string }).action, (e as { value: string }).value])).toEqual([['consumed', n1], ['issued', n2]]);
    // Next session: the nonce given with 212 works once...
    const c2 = new ScriptedClient({ sessionId: '1A2C' });
    c2.nonce = n2;
    const s2 = new PureSession(store);
    expect(headerCode((await s2.send(c2.pkg1({ cred: c2.cred('md5') }))).reply)).toBe(212);
    // ...and a replay of the same package 1 (same nonce) is refused.
    const replay = new ScriptedClient({ sessionId: '1A2D' });
    replay.nonce = n2;
    const r4 = await new PureSession(store).send(replay.pkg1({ cred: replay.cred('md5') }));
    expect(headerCode(r4.reply)).toBe(401);
    expect(statusesOf(r4.reply)[0].chal?.meta.nextNonce).toBeDefined();
  });

  it('md5: accepts the digest over the nonce text too (libdmclient), and reports which matched', async () => {
    const store = md5Device();
    store.device.auth.clientNonce = 'LG3iZQhhdmKNHg==';
    const c = new ScriptedClient();
    const cred = { meta: { type: 'syncml:auth-md5', format: 'b64' }, data: md5Credential('device01', 'secret', new TextEncoder().encode('LG3iZQhhdmKNHg==')) };
    const r = await new PureSession(store).send(c.pkg1({ cred }));
    expect(headerCode(r.reply)).toBe(212);
    expect(r.effects.find((e) => e.type === 'auth')).toMatchObject({ outcome: 'accepted', match: 'string' });
    const store2 = md5Device();
    store2.device.auth.clientNonce = 'LG3iZQhhdmKNHg==';
    const r2 = await new PureSession(store2, { config: { acceptStringNonce: false } }).send(new ScriptedClient().pkg1({ cred }));
    expect(headerCode(r2.reply)).toBe(401);
  });

  it('three failures close the session: the third is 401 without Chal', async () => {
    const store = md5Device();
    store.addJob({ kind: 'command', command: { verb: 'Get', target: './A' } });
    const s = new PureSession(store);
    const c = new ScriptedClient();
    const r1 = await s.send(c.pkg1());
    expect(headerCode(r1.reply)).toBe(407);
    c.read(r1.reply);
    const r2 = await s.send(c.pkg1({ cred: c.cred('md5', { password: 'nope' }) }));
    expect(headerCode(r2.reply)).toBe(401);
    expect(statusesOf(r2.reply)[0].chal).toBeDefined();
    c.read(r2.reply);
    const r3 = await s.send(c.pkg1({ cred: c.cred('md5', { password: 'nope' }) }));
    expect(headerCode(r3.reply)).toBe(401);
    expect(statusesOf(r3.reply)[0].chal).toBeUndefined();
    expect(r3.closed).toBe(true);
    expect(store.sessions.at(-1)).toMatchObject({ action: 'end', reason: 'auth-failed' });
    expect(store.jobs[0].state).toBe('queued');
    expect(store.devInfo).toEqual({});
  });

  it('an unknown device is challenged like a known one; allowUnknownDevices lets it in', async () => {
    const store = new MiniStore({ known: false, auth: { scheme: 'none' } });
    const r = await new PureSession(store).send(new ScriptedClient().pkg1());
    expect(headerCode(r.reply)).toBe(407);
    expect(statusesOf(r.reply)[0].chal?.meta.type).toBe('syncml:auth-md5');
    const r2 = await new PureSession(store, { config: { allowUnknownDevices: true } }).send(new ScriptedClient({ sessionId: '9' }).pkg1());
    expect(headerCode(r2.reply)).toBe(200);
  });

  it('HMAC: 200 + a new NextNonce on every message, each message checked, replay refused, replies signed', async () => {
    const store = new MiniStore({ auth: { scheme: 'hmac', clientName: 'device01', clientSecret: 'secret', serverId: 'dm.example.test', serverSecret: 'srvsecret', serverScheme: 'hmac', serverNonce: 'MTIzNA==' } });
    store.addJob({ kind: 'command', command: { verb: 'Get', target: './A' } });
    store.addJob({ kind: 'command', command: { verb: 'Get', target: './B' } });
    const s = new PureSession(store, { config: { maxJobsPerPackage: 1 } });
    const c = new ScriptedClient();
    const m1 = c.pkg1();
    const r1 = await s.send(m1, { body: serializeToBytes(m1, { encoding: 'xml' }) });
    expect(headerCode(r1.reply)).toBe(407);
    expect(statusesOf(r1.reply)[0].chal?.meta.type).toBe('syncml:auth-MAC');
    expect(r1.sign).toBeUndefined();
    c.read(r1.reply);
    const m2 = c.pkg1();
    const b2 = serializeToBytes(m2, { encoding: 'xml' });
    const r2 = await s.send(m2, { body: b2, hmac: c.hmac(b2) });
    expect(headerCode(r2.reply)).toBe(200);
    const n2 = statusesOf(r2.reply)[0].chal!.meta.nextNonce;
    expect(n2).toBeDefined();
    expect(r2.sign).toMatchObject({ username: 'dm.example.test', password: 'srvsecret' });
    expect(Buffer.from(r2.sign!.nonce).toString('base64')).toBe('MTIzNA==');
    c.read(r2.reply);
    const m3 = c.answer(r2.reply);
    const b3 = serializeToBytes(m3, { encoding: 'xml' });
    // The same body replayed with the previous message's MAC: refused.
    const replayed = await new PureSession(store).send(m2, { body: b2, hmac: c.hmac(b2, { nonce: statusesOf(r1.reply)[0].chal!.meta.nextNonce as string }) });
    expect(headerCode(replayed.reply)).toBe(401);
    const r3 = await s.send(m3, { body: b3, hmac: c.hmac(b3) });
    expect(headerCode(r3.reply)).toBe(200);
    const n3 = statusesOf(r3.reply)[0].chal!.meta.nextNonce;
    expect(n3).not.toBe(n2);
    c.read(r3.reply);
    // A message without the header, mid-session: 407, its Statuses not taken.
    const m4 = c.answer(r3.reply);
    const r4 = await s.send(m4, { body: serializeToBytes(m4, { encoding: 'xml' }) });
    expect(headerCode(r4.reply)).toBe(407);
    expect(store.jobs[1].state).toBe('sent');
  });

  it('sends the server Cred (md5 over the nonce the client gave) until the client answers 212', async () => {
    const store = md5Device();
    store.device.auth.serverNonce = 'MTIzNA==';
    store.addJob({ kind: 'command', command: { verb: 'Get', target: './A' } });
    store.addJob({ kind: 'command', command: { verb: 'Get', target: './B' } });
    const s = new PureSession(store, { config: { maxJobsPerPackage: 1 } });
    const c = new ScriptedClient();
    const pkg2 = await md5Login(s, c);
    expect(pkg2.header.cred).toEqual({ meta: { type: 'syncml:auth-md5', format: 'b64' }, data: md5Credential('dm.example.test', 'srvsecret', fromBase64('MTIzNA==')) });
    expect(pkg2.header.source.locName).toBe('dm.example.test');
    c.serverNonce = 'bmV3bm9uY2U=';
    const pkg4 = (await s.send(c.answer(pkg2, { headerCode: 212 }))).reply;
    expect(store.device.auth.serverNonce).toBe('bmV3bm9uY2U=');
    expect(pkg4.header.cred).toBeUndefined();
  });

  it('the server scheme is its own (SRVCRED): md5 by default whatever the client uses, or none', async () => {
    const store = new MiniStore({ auth: { scheme: 'basic', clientName: 'device01', clientSecret: 'secret', serverId: 'srv', serverSecret: 'sp', serverNonce: 'MTIzNA==' } });
    store.addJob({ kind: 'command', command: { verb: 'Get', target: './A' } });
    const c = new ScriptedClient();
    const r = await new PureSession(store).send(c.pkg1({ cred: c.cred('basic') }));
    expect(headerCode(r.reply)).toBe(212);
    expect(r.reply.header.cred).toEqual({ meta: { type: 'syncml:auth-md5', format: 'b64' }, data: md5Credential('srv', 'sp', fromBase64('MTIzNA==')) });
    expect(r.sign).toBeUndefined();
    store.device.auth = { ...store.device.auth, serverScheme: 'basic' };
    const c2 = new ScriptedClient({ sessionId: '77' });
    const r2 = await new PureSession(store).send(c2.pkg1({ cred: c2.cred('basic') }));
    expect(r2.reply.header.cred?.meta?.type).toBe('syncml:auth-basic');
    store.device.auth = { ...store.device.auth, serverScheme: 'none' };
    const c3 = new ScriptedClient({ sessionId: '78' });
    const r3 = await new PureSession(store).send(c3.pkg1({ cred: c3.cred('basic') }));
    expect(r3.reply.header.cred).toBeUndefined();
  });

  it('the client refusing the server Cred: nothing counted as executed, the commands go again', async () => {
    const store = md5Device();
    const job = store.addJob({ kind: 'command', command: { verb: 'Replace', target: './A', data: '1' } });
    const s = new PureSession(store);
    const c = new ScriptedClient();
    const pkg2 = await md5Login(s, c);
    expect(commandsOf(pkg2).length).toBe(1);
    c.serverNonce = 'Zmlyc3Q=';
    const r = await s.send(c.answer(pkg2, { headerCode: 401, code: () => 401 }));
    expect(store.job(job.id).statuses).toEqual([]);
    expect(commandsOf(r.reply).map((x) => x.kind)).toEqual(['Replace']);
    expect(r.reply.header.cred?.data).toBe(md5Credential('dm.example.test', 'srvsecret', fromBase64('Zmlyc3Q=')));
    const end = await s.send(c.answer(r.reply, { headerCode: 212 }));
    expect(store.job(job.id).state).toBe('answered');
    expect(store.job(job.id).attempts).toBe(2);
    expect(end.closed).toBe(true);
  });
});

describe('jobs', () => {
  it('records an Atomic rolled back: 507, the failing child, 216 for the rest', async () => {
    const store = new MiniStore({ auth: { scheme: 'none' } });
    const job = store.addJob(parseJobSpec({
      kind: 'group', group: 'Atomic', commands: [
        { verb: 'Add', target: './Vendor/X/A', data: '1' }, { verb: 'Replace', target: './Vendor/X/B', data: '2' },
      ],
    }));
    const s = new PureSession(store);
    const c = new ScriptedClient();
    const pkg2 = (await s.send(c.pkg1())).reply;
    const atomic = commandsOf(pkg2)[0] as Command & { kind: 'Atomic' };
    expect(atomic.kind).toBe('Atomic');
    expect(atomic.commands.map((x) => x.kind)).toEqual(['Add', 'Replace']);
    const codes: Record<string, number> = { Atomic: 507, Add: 216, Replace: 404 };
    await s.send(c.answer(pkg2, { code: (x) => codes[x.kind] }));
    const j = store.job(job.id);
    expect(j.state).toBe('answered');
    expect(j.statuses.map((x) => [x.path, x.cmd, x.code])).toEqual([['0', 'Atomic', 507], ['0.0', 'Add', 216], ['0.1', 'Replace', 404]]);
  });

  it('sends a UI alert and records the answer the user gave', async () => {
    const store = new MiniStore({ auth: { scheme: 'none' } });
    const job = store.addJob(parseJobSpec({ kind: 'ui-alert', alert: { code: 1103, text: 'Update when?', choices: ['Now', 'Tonight'], options: { maxDisplayTime: 30 } } }));
    const s = new PureSession(store);
    const c = new ScriptedClient();
    const pkg2 = (await s.send(c.pkg1())).reply;
    const a = commandsOf(pkg2)[0] as Alert;
    expect(a.code).toBe(1103);
    expect(a.items.map((i) => i.data)).toEqual(['MAXDT=30', 'Update when?', 'Now', 'Tonight']);
    await s.send(c.answer(pkg2, { statusItems: () => [{ data: '2' }] }));
    expect(store.job(job.id).state).toBe('answered');
    expect(store.job(job.id).statuses[0]).toMatchObject({ cmd: 'Alert', code: 200, items: ['2'] });
  });

  it('runs a FUMO campaign: Add, Replace PkgURL, Exec + Correlator, Generic Alert, State', async () => {
    const store = md5Device();
    const job = store.addJob(parseJobSpec({ kind: 'fumo', fumo: { node: './FUMO/fw1', pkgUrl: 'https://fw.example.test/1.2.bin' } }));
    const s = new PureSession(store);
    const c = new ScriptedClient();
    const pkg2 = await md5Login(s, c);
    expect(commandsOf(pkg2)).toMatchObject([{ kind: 'Add', items: [{ target: { locUri: './FUMO/fw1' }, meta: { format: 'node', type: 'urn:oma:mo:oma-fumo:1.0' } }] }]);
    const pkg4 = (await s.send(c.answer(pkg2, { code: () => 418 }))).reply;
    expect(commandsOf(pkg4)).toMatchObject([{ kind: 'Replace', items: [{ target: { locUri: './FUMO/fw1/DownloadAndUpdate/PkgURL' }, data: 'https://fw.example.test/1.2.bin' }] }]);
    const pkg6 = (await s.send(c.answer(pkg4, { code: () => 404 }))).reply;
    expect(commandsOf(pkg6)).toMatchObject([{ kind: 'Add', items: [{ target: { locUri: './FUMO/fw1/DownloadAndUpdate/PkgURL' } }] }]);
    const pkg8 = (await s.send(c.answer(pkg6))).reply;
    expect(commandsOf(pkg8)).toMatchObject([{ kind: 'Exec', correlator: `fumo-${job.id}`, items: [{ target: { locUri: './FUMO/fw1/DownloadAndUpdate' } }] }]);
    const end = await s.send(c.answer(pkg8));
    expect(end.closed).toBe(true);
    expect(store.job(job.id).state).toBe('waiting-alert');
    // A later session: the device reports the result in package 1; the server reads State.
    const c2 = new ScriptedClient({ sessionId: '2B' });
    c2.nonce = store.device.auth.clientNonce;
    const s2 = new PureSession(store);
    const alert = genericAlert({ type: `Reversed-Domain-Name: ${FumoAlertType.DOWNLOAD_AND_UPDATE}`, source: './FUMO/fw1', data: 200, correlator: `fumo-${job.id}` });
    const r = await s2.send(c2.pkg1({ cred: c2.cred('md5'), extra: [alert] }));
    expect(headerCode(r.reply)).toBe(212);
    expect(store.job(job.id).fumo).toMatchObject({ resultCode: 200, alertType: FumoAlertType.DOWNLOAD_AND_UPDATE });
    expect(store.alerts[0]).toMatchObject({ jobId: job.id, alert: { code: 1226, data: '200', correlator: `fumo-${job.id}` } });
    expect(commandsOf(r.reply)).toMatchObject([{ kind: 'Get', items: [{ target: { locUri: './FUMO/fw1/State' } }] }]);
    await s2.send(c2.answer(r.reply, { tree: { './FUMO/fw1/State': '100' } }));
    expect(store.job(job.id)).toMatchObject({ state: 'done', fumo: { resultCode: 200, finalState: 100, correlator: `fumo-${job.id}` } });
  });

  it('FUMO: a failure result ends the campaign failed, with the code and the State kept', async () => {
    const store = new MiniStore({ auth: { scheme: 'none' } });
    const job = store.addJob(parseJobSpec({ kind: 'fumo', fumo: { node: './FwUpdate/Pkg1', pkgUrl: 'http://x/y', createInstance: false } }));
    const s = new PureSession(store);
    const c = new ScriptedClient();
    const pkg2 = (await s.send(c.pkg1())).reply;
    expect(commandsOf(pkg2)[0].kind).toBe('Replace');
    const pkg4 = (await s.send(c.answer(pkg2))).reply;
    // The alert comes with the Exec's Status (a device that ran it at once), Source = the operation node (WM-GA).
    const alert = genericAlert({ type: FumoAlertType.DOWNLOAD_AND_UPDATE, source: './FwUpdate/Pkg1/DownloadAndUpdate', data: 410, mark: 'critical' });
    const pkg6 = (await s.send(c.answer(pkg4, { code: () => 200, extra: [alert] }))).reply;
    expect(commandsOf(pkg6)[0].kind).toBe('Get');
    await s.send(c.answer(pkg6, { tree: { './FwUpdate/Pkg1/State': '80' } }));
    expect(store.job(job.id)).toMatchObject({ state: 'failed', fumo: { resultCode: 410, finalState: 80 } });
  });

  it('stores unsolicited Generic Alerts and Client Events, unmatched', async () => {
    const store = new MiniStore({ auth: { scheme: 'none' } });
    const c = new ScriptedClient();
    const ev: Alert = { kind: 'Alert', cmdId: '', code: 1224, items: [{ meta: { type: 'com.microsoft/MDM/LoginStatus', format: 'chr' }, data: 'user' }] };
    const ga = genericAlert({ type: 'com.microsoft:mdm.unenrollment.userrequest', source: './Vendor/MSFT/DMClient/Unenroll', data: 1 });
    const r = await new PureSession(store).send(c.pkg1({ extra: [ev, ga] }));
    expect(statusesOf(r.reply).map((x) => x.code)).toEqual([200, 200, 200, 200, 200]);
    expect(store.alerts.map((a) => [a.alert.code, a.alert.type, a.jobId])).toEqual([[1224, 'com.microsoft/MDM/LoginStatus', undefined], [1226, 'com.microsoft:mdm.unenrollment.userrequest', undefined]]);
  });

  it('does not send an object above the client MaxObjSize: the job fails', async () => {
    const store = new MiniStore({ auth: { scheme: 'none' } });
    const job = store.addJob({ kind: 'command', command: { verb: 'Replace', target: './A', data: 'x'.repeat(5000) } });
    const r = await new PureSession(store).send(new ScriptedClient({ maxObjSize: 1000 }).pkg1());
    expect(store.job(job.id).state).toBe('failed');
    expect(store.job(job.id).error).toMatch(/MaxObjSize/);
    expect(r.closed).toBe(true);
  });

  it('a job that never gets its Status is sent again in the next session, then fails after maxJobAttempts', async () => {
    const store = new MiniStore({ auth: { scheme: 'none' } });
    const job = store.addJob({ kind: 'command', command: { verb: 'Get', target: './A' } });
    for (let i = 1; i <= 3; i++) {
      const s = new PureSession(store, { config: { maxJobAttempts: 2 } });
      const c = new ScriptedClient({ sessionId: String(i) });
      const pkg2 = (await s.send(c.pkg1())).reply;
      if (i <= 2) {
        expect(commandsOf(pkg2).length).toBe(1);
        // Windows-style: only the SyncHdr answered (research note §6.5).
        const r = await s.send(c.message([], { server: pkg2 }));
        expect(r.closed).toBe(true);
        expect(store.job(job.id).state).toBe('queued');
      } else {
        expect(commandsOf(pkg2)).toEqual([]);
        expect(store.job(job.id).state).toBe('failed');
      }
    }
  });
});

describe('multi-message packages and large objects', () => {
  it('answers a non-final client message with Statuses + Alert 1222 and no Final', async () => {
    const store = new MiniStore({ auth: { scheme: 'none' } });
    store.addJob({ kind: 'command', command: { verb: 'Get', target: './A' } });
    const s = new PureSession(store);
    const c = new ScriptedClient();
    const r1 = await s.send(c.pkg1({ final: false }));
    expect(r1.reply.body.final).toBe(false);
    expect(commandsOf(r1.reply).map((x) => (x as Alert).code)).toEqual([1222]);
    expect(statusesOf(r1.reply).map((x) => x.cmd)).toEqual(['SyncHdr', 'Alert', 'Replace']);
    const ga = genericAlert({ type: 'x.y', data: 'z' });
    const r2 = await s.send(c.message([ga], { server: r1.reply, final: true }));
    expect(r2.reply.body.final).toBe(true);
    expect(commandsOf(r2.reply).map((x) => x.kind)).toEqual(['Get']);
  });

  it('sends a large object in chunks under the client MaxMsgSize and takes 213 for each', async () => {
    const store = new MiniStore({ auth: { scheme: 'none' } });
    const big = 'ABCDEFGHIJ'.repeat(1200);
    const job = store.addJob({ kind: 'command', command: { verb: 'Replace', target: './Vendor/X/Blob', data: big } });
    const s = new PureSession(store);
    const c = new ScriptedClient({ maxMsgSize: 3000 });
    let reply = (await s.send(c.pkg1())).reply;
    const chunks: string[] = [];
    let guard = 0;
    while (!reply.body.final && guard++ < 20) {
      expect(serializeToBytes(reply, { encoding: 'xml' }).length).toBeLessThanOrEqual(3000);
      const rep = commandsOf(reply)[0] as Command & { kind: 'Replace' };
      expect(rep.items[0].moreData).toBe(true);
      chunks.push(rep.items[0].data as string);
      if (chunks.length === 1) expect(rep.items[0].meta?.size).toBe(big.length);
      reply = (await s.send(c.answer(reply, { final: false, nextMessage: true }))).reply;
    }
    const last = commandsOf(reply)[0] as Command & { kind: 'Replace' };
    expect(last.items[0].moreData).toBeUndefined();
    chunks.push(last.items[0].data as string);
    expect(chunks.join('')).toBe(big);
    expect(chunks.length).toBeGreaterThan(3);
    const end = await s.send(c.answer(reply));
    expect(end.closed).toBe(true);
    const j = store.job(job.id);
    expect(j.state).toBe('answered');
    expect(j.statuses.map((x) => x.code)).toEqual([...Array(chunks.length - 1).fill(213), 200]);
  });

  it('takes chunked Results from the client: 213 + 1222 per chunk, the object joined', async () => {
    const store = new MiniStore({ auth: { scheme: 'none' } });
    const job = store.addJob({ kind: 'command', command: { verb: 'Get', target: './Vendor/X/Log' } });
    const s = new PureSession(store);
    const c = new ScriptedClient();
    const pkg2 = (await s.send(c.pkg1())).reply;
    const get = commandsOf(pkg2)[0] as Command & { kind: 'Get' };
    const whole = 'log line\n'.repeat(300);
    const parts = [whole.slice(0, 1000), whole.slice(1000, 2000), whole.slice(2000)];
    const b = c.out.next();
    const { headerStatus, commandStatus } = await import('../src/syncml/index.js');
    b.add(headerStatus(pkg2, 200));
    b.add(commandStatus(pkg2, get, 200));
    b.add({ kind: 'Results', cmdId: '', msgRef: pkg2.header.msgId, cmdRef: get.cmdId, items: [{ source: { locUri: './Vendor/X/Log' }, meta: { size: whole.length }, data: parts[0], moreData: true }] });
    const r1 = await s.send(b.build());
    expect(r1.reply.body.final).toBe(false);
    expect(statusesOf(r1.reply).map((x) => [x.cmd, x.code])).toEqual([['SyncHdr', 200], ['Results', 213]]);
    expect(commandsOf(r1.reply).map((x) => (x as Alert).code)).toEqual([1222]);
    const r2 = await s.send(c.message([{ kind: 'Results', cmdId: '', msgRef: pkg2.header.msgId, cmdRef: get.cmdId, items: [{ source: { locUri: './Vendor/X/Log' }, data: parts[1], moreData: true }] }], { server: r1.reply, final: false }));
    const r3 = await s.send(c.message([{ kind: 'Results', cmdId: '', msgRef: pkg2.header.msgId, cmdRef: get.cmdId, items: [{ source: { locUri: './Vendor/X/Log' }, data: parts[2] }] }], { server: r2.reply, final: true }));
    // No Status for the last chunk (a Results answered 200), and the session ends.
    expect(statusesOf(r3.reply).map((x) => x.cmd)).toEqual(['SyncHdr']);
    expect(r3.closed).toBe(true);
    expect(store.job(job.id).results).toMatchObject([{ uri: './Vendor/X/Log', data: whole }]);
    expect(store.tree.get('./Vendor/X/Log')).toBe(whole);
  });

  it('refuses chunked Results whose size does not match (424)', async () => {
    const store = new MiniStore({ auth: { scheme: 'none' } });
    store.addJob({ kind: 'command', command: { verb: 'Get', target: './L' } });
    const s = new PureSession(store);
    const c = new ScriptedClient();
    const pkg2 = (await s.send(c.pkg1())).reply;
    const get = commandsOf(pkg2)[0];
    const r1 = await s.send(c.message([{ kind: 'Results', cmdId: '', msgRef: '1', cmdRef: get.cmdId, items: [{ source: { locUri: './L' }, meta: { size: 10 }, data: 'abc', moreData: true }] }], { server: pkg2, final: false }));
    const r2 = await s.send(c.message([{ kind: 'Results', cmdId: '', msgRef: '1', cmdRef: get.cmdId, items: [{ source: { locUri: './L' }, data: 'de' }] }], { server: r1.reply }));
    expect(statusesOf(r2.reply).map((x) => [x.cmd, x.code])).toEqual([['SyncHdr', 200], ['Results', 424]]);
    expect(store.tree.has('./L')).toBe(false);
  });

  it('handles Alert 1223 from the client: Status only, Final, jobs in flight queued again', async () => {
    const store = new MiniStore({ auth: { scheme: 'none' } });
    const job = store.addJob({ kind: 'command', command: { verb: 'Exec', target: './Vendor/X/Reboot' } });
    const s = new PureSession(store);
    const c = new ScriptedClient();
    const pkg2 = (await s.send(c.pkg1())).reply;
    const r = await s.send(c.message([{ kind: 'Alert', cmdId: '', code: 1223, items: [] }], { server: pkg2 }));
    expect(commandsOf(r.reply)).toEqual([]);
    expect(statusesOf(r.reply).map((x) => [x.cmd, x.code])).toEqual([['SyncHdr', 200], ['Alert', 200]]);
    expect(r.reply.body.final).toBe(true);
    expect(r.closed).toBe(true);
    expect(store.job(job.id).state).toBe('queued');
    expect(store.sessions.at(-1)).toMatchObject({ reason: 'client-abort' });
  });
});

describe('tolerance and edges', () => {
  it('accepts the Windows-style defects of windows-defects.xml', async () => {
    const store = new MiniStore({ id: '{6F5DE1C5-0D8E-4C9B-8D6A-2A0C4D8A3E11}', auth: { scheme: 'none' } });
    store.addJob({ kind: 'command', command: { verb: 'Get', target: './DevDetail/SwV' } });
    store.addJob({ kind: 'command', command: { verb: 'Get', target: './DevDetail/HwV' } });
    store.addJob({ kind: 'command', command: { verb: 'Replace', target: './Vendor/X', data: '1' } });
    const s = new PureSession(store);
    // A Windows package 1: DM 1.2 body under the SYNCML1.1 namespace, decimal SessionID, Alert 1224.
    const pkg1 = parseMessage(`<SyncML xmlns="SYNCML:SYNCML1.1"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>2</SessionID><MsgID>1</MsgID>
      <Target><LocURI>https://mdm.example.test/omadm</LocURI></Target><Source><LocURI>{6F5DE1C5-0D8E-4C9B-8D6A-2A0C4D8A3E11}</LocURI></Source></SyncHdr>
      <SyncBody><Alert><CmdID>1</CmdID><Data>1201</Data></Alert>
      <Alert><CmdID>2</CmdID><Data>1224</Data><Item><Meta><Type xmlns="syncml:metinf">com.microsoft/MDM/LoginStatus</Type></Meta><Data>user</Data></Item></Alert>
      <Replace><CmdID>3</CmdID><Item><Source><LocURI>./DevInfo/DevId</LocURI></Source><Data>{6F5DE1C5-0D8E-4C9B-8D6A-2A0C4D8A3E11}</Data></Item>
      <Item><Source><LocURI>./DevInfo/DmV</LocURI></Source><Data>1.3</Data></Item></Replace><Final/></SyncBody></SyncML>`, { strict: false }).message;
    const r1 = await s.send(pkg1);
    expect(r1.reply.header.verDTD).toBe('1.2');
    expect(commandsOf(r1.reply).map((x) => x.kind)).toEqual(['Get', 'Get', 'Replace']);
    expect(commandsOf(r1.reply).map((x) => x.cmdId)).toEqual(['5', '6', '7']);
    // The fixture's package 3 answers MsgID 1 with those CmdIDs shifted; renumber it to this session's message.
    const { message, warnings } = parseMessage(fixtureText('syncml/windows-defects.xml'), { strict: false });
    expect(warnings.length).toBeGreaterThan(5);
    for (const cmd of message.body.commands) {
      if (cmd.kind === 'Status' && cmd.cmdRef !== '0') { cmd.msgRef = '1'; cmd.cmdRef = String(Number(cmd.cmdRef) + 3); }
      if (cmd.kind === 'Status' && cmd.cmdRef === '0') cmd.msgRef = '1';
      if (cmd.kind === 'Results') cmd.cmdRef = '6';
    }
    const r2 = await s.send(message);
    expect(headerCode(r2.reply)).toBe(200);
    // Missing CmdID: 400 with an empty CmdRef; the Generic Alert: 200.
    expect(statusesOf(r2.reply).map((x) => [x.cmd, x.cmdRef, x.code])).toEqual([['SyncHdr', '0', 200], ['Alert', '5', 200], ['Replace', '', 400]]);
    const jobs = store.jobs;
    expect(jobs[0]).toMatchObject({ state: 'answered', statuses: [{ code: 404 }] });
    // The Results without MsgRef and without a Status of their own count as the Get's 200; the URI is cleaned.
    expect(jobs[1]).toMatchObject({ state: 'answered', statuses: [{ code: 200 }], results: [{ uri: './DevDetail/HwV', data: 'Surface Laptop 4' }] });
    expect(jobs[2]).toMatchObject({ state: 'answered', statuses: [{ code: 200 }] });
    expect(store.alerts.map((a) => a.alert.type)).toEqual(['com.microsoft/MDM/LoginStatus', 'com.microsoft:mdm.unenrollment.userrequest']);
    expect(r2.closed).toBe(true);
  });

  it('pairs Alert 1200 with the pending package 0', async () => {
    const store = new MiniStore({ auth: { scheme: 'none' } });
    const r = await new PureSession(store).send(new ScriptedClient({ sessionId: '4F2A' }).pkg1({ alert: 1200 }), { notification: { id: 'n1' } });
    expect(store.notifications).toEqual(['n1']);
    expect(store.sessions[0]).toMatchObject({ action: 'start', initiator: 'server' });
    expect(r.closed).toBe(true);
  });

  it('a new package 1 with the same SessionID replaces the open session', async () => {
    const store = new MiniStore({ auth: { scheme: 'none' } });
    const job = store.addJob({ kind: 'command', command: { verb: 'Get', target: './A' } });
    const s = new PureSession(store);
    await s.send(new ScriptedClient().pkg1());
    expect(store.job(job.id).state).toBe('sent');
    const r = await s.send(new ScriptedClient().pkg1());
    expect(store.sessions.some((x) => x.action === 'end' && x.reason === 'replaced')).toBe(true);
    expect(commandsOf(r.reply).map((x) => x.kind)).toEqual(['Get']);
    expect(store.job(job.id).attempts).toBe(2);
  });

  it('expireSession queues the jobs in flight again; errorReply answers 400 in the session', async () => {
    const store = new MiniStore({ auth: { scheme: 'none' } });
    const job = store.addJob({ kind: 'command', command: { verb: 'Get', target: './A' } });
    const s = new PureSession(store);
    await s.send(new ScriptedClient().pkg1());
    const err = errorReply(s.state!);
    expect(headerCode(err)).toBe(400);
    expect(err.header.sessionId).toBe('1A2B');
    store.apply(await expireSession(s.state!, Date.now()));
    expect(store.job(job.id).state).toBe('queued');
    expect(store.sessions.at(-1)).toMatchObject({ action: 'end', reason: 'expired' });
  });

  it('answers commands a client may not send with 406', async () => {
    const store = new MiniStore({ auth: { scheme: 'none' } });
    const r = await new PureSession(store).send(new ScriptedClient().pkg1({ extra: [{ kind: 'Get', cmdId: '', items: [{ target: { locUri: './X' } }] }, { kind: 'Alert', cmdId: '', code: 1100, items: [] }] }));
    expect(statusesOf(r.reply).map((x) => [x.cmd, x.code])).toEqual([['SyncHdr', 200], ['Alert', 200], ['Replace', 200], ['Get', 406], ['Alert', 406]]);
  });

  it('is deterministic given its inputs and does not need a previous state', async () => {
    const store = new MiniStore({ auth: { scheme: 'none' } });
    const msg = new ScriptedClient().pkg1();
    const input = { device: store.device, jobs: [], now: 1, random: (n: number) => new Uint8Array(n).fill(7), transport: { body: new Uint8Array(0), encoding: 'xml' as const } };
    const a = await step(undefined, msg, input);
    const b = await step(undefined, msg, input);
    expect(a.reply).toEqual(b.reply);
    expect(a.effects).toEqual(b.effects);
    expect(fakeRandom(4)).not.toEqual(fakeRandom(4));
  });
});

describe('job specs', () => {
  it('validates specs from JSON', () => {
    expect(() => parseJobSpec({ kind: 'command', command: { verb: 'Get' } })).toThrow(/target/);
    expect(() => parseJobSpec({ kind: 'command', command: { verb: 'Get', target: '/abs' } })).toThrow(/device URI/);
    expect(() => parseJobSpec({ kind: 'command', command: { verb: 'Get', target: './A', data: 'x' } })).toThrow(/carries no data/);
    expect(() => parseJobSpec({ kind: 'group', group: 'Atomic', commands: [] })).toThrow(/non-empty/);
    expect(() => parseJobSpec({ kind: 'ui-alert', alert: { code: 1103, text: 'x' } })).toThrow(/choice/);
    expect(() => parseJobSpec({ kind: 'fumo', fumo: { node: './F' } })).toThrow(/pkgUrl/);
    expect(() => parseJobSpec({ kind: 'nope' })).toThrow(/kind/);
    expect(parseJobSpec({ kind: 'command', command: { verb: 'Copy', target: './B', source: './A' } })).toEqual({ kind: 'command', command: { verb: 'Copy', target: './B', source: './A' } });
  });

  it('builds FUMO Update with PkgData as bytes and leaves the Correlator out in DM 1.1.2', () => {
    const job = { id: '7', spec: parseJobSpec({ kind: 'fumo', fumo: { node: './FUMO/x', operation: 'Update', pkgDataBase64: 'AAEC' } }), state: 'queued' as const, attempts: 0 };
    expect(stepCommands(job, 'set-url', { version: '1.2' })).toMatchObject([{ kind: 'Replace', items: [{ target: { locUri: './FUMO/x/Update/PkgData' }, data: new Uint8Array([0, 1, 2]) }] }]);
    expect(stepCommands(job, 'exec', { version: '1.2' })[0]).toMatchObject({ correlator: 'fumo-7' });
    expect((stepCommands(job, 'exec', { version: '1.1.2' })[0] as { correlator?: string }).correlator).toBeUndefined();
    expect(fumoAlertMatches(job, { type: FumoAlertType.UPDATE, correlator: 'other', source: './FUMO/x' })).toBe(false);
    expect(fumoAlertMatches(job, { type: FumoAlertType.UPDATE, source: './FUMO/x/Update' })).toBe(true);
    expect(fumoAlertMatches(job, { type: 'other', correlator: 'fumo-7' })).toBe(false);
  });
});

describe('limits', () => {
  it('a MaxMsgSize smaller than a header fails the jobs instead of looping', async () => {
    const store = new MiniStore({ auth: { scheme: 'none' } });
    const job = store.addJob({ kind: 'command', command: { verb: 'Get', target: './A' } });
    const r = await new PureSession(store).send(new ScriptedClient({ maxMsgSize: 200 }).pkg1());
    expect(store.job(job.id).state).toBe('failed');
    expect(store.job(job.id).error).toMatch(/MaxMsgSize 200/);
    expect(r.closed).toBe(true);
  });

  it('an Atomic larger than any message fails alone; the other jobs go', async () => {
    const store = new MiniStore({ auth: { scheme: 'none' } });
    const big = store.addJob(parseJobSpec({ kind: 'group', group: 'Atomic', commands: [{ verb: 'Replace', target: './A', data: 'x'.repeat(3000) }] }));
    const small = store.addJob({ kind: 'command', command: { verb: 'Get', target: './B' } });
    const s = new PureSession(store);
    const c = new ScriptedClient({ maxMsgSize: 1500 });
    const pkg2 = (await s.send(c.pkg1())).reply;
    expect(store.job(big.id)).toMatchObject({ state: 'failed' });
    expect(store.job(big.id).error).toMatch(/cannot be split|needs \d+ bytes/);
    const all = [pkg2];
    let reply = pkg2;
    while (commandsOf(reply).length > 0 || !reply.body.final) {
      reply = (await s.send(c.answer(reply, reply.body.final ? {} : { final: false, nextMessage: true }))).reply;
      all.push(reply);
    }
    expect(all.flatMap(commandsOf).map((x) => x.kind)).toEqual(['Get']);
    expect(store.job(small.id).state).toBe('answered');
  });
});

describe('robustness', () => {
  it('never throws on arbitrary client commands; every reply starts with the SyncHdr Status and serializes', async () => {
    const item = fc.record({
      source: fc.option(fc.record({ locUri: fc.constantFrom('./A', './DevInfo/Man', ' ./ X / Y ', '') }), { nil: undefined }),
      data: fc.option(fc.oneof(fc.string({ maxLength: 20 }), fc.uint8Array({ maxLength: 8 })), { nil: undefined }),
      moreData: fc.option(fc.boolean(), { nil: undefined }),
      meta: fc.option(fc.record({ type: fc.constantFrom('x', FumoAlertType.DOWNLOAD_AND_UPDATE), format: fc.constantFrom('chr', 'int'), size: fc.option(fc.nat(50), { nil: undefined }) }), { nil: undefined }),
    }, { requiredKeys: [] });
    const id = fc.constantFrom('', '1', '2', '3', '7', 'x');
    const cmd: fc.Arbitrary<Command> = fc.oneof(
      fc.record({ kind: fc.constant('Status' as const), cmdId: id, msgRef: id, cmdRef: id, cmd: fc.constantFrom('Get', 'Replace', 'SyncHdr'), code: fc.constantFrom(200, 212, 213, 401, 404, 407, 500) }),
      fc.record({ kind: fc.constant('Results' as const), cmdId: id, msgRef: fc.option(id, { nil: undefined }), cmdRef: id, items: fc.array(item, { maxLength: 3 }) }),
      fc.record({ kind: fc.constant('Alert' as const), cmdId: id, code: fc.constantFrom(1100, 1200, 1201, 1222, 1223, 1224, 1225, 1226, 9999), items: fc.array(item, { maxLength: 2 }), correlator: fc.option(fc.constantFrom('fumo-1', 'c'), { nil: undefined }) }),
      fc.record({ kind: fc.constantFrom('Replace' as const, 'Add' as const, 'Get' as const), cmdId: id, items: fc.array(item, { maxLength: 3 }) }),
    ) as fc.Arbitrary<Command>;
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ commands: fc.array(cmd, { maxLength: 6 }), final: fc.boolean(), msgId: fc.constantFrom('1', '2', '3', '4', 'z') }), { minLength: 1, maxLength: 6 }),
      fc.constantFrom('none', 'md5', 'hmac', 'basic'),
      async (messages, scheme) => {
        const store = new MiniStore({ auth: { scheme: scheme as 'none', clientName: 'u', clientSecret: 'p' } });
        store.addJob({ kind: 'command', command: { verb: 'Get', target: './A' } });
        store.addJob(parseJobSpec({ kind: 'fumo', fumo: { node: './FUMO/x', pkgUrl: 'http://x' } }));
        const s = new PureSession(store);
        for (const m of messages) {
          const msg: SyncML = {
            header: { verDTD: '1.2', verProto: 'DM/1.2', sessionId: '5', msgId: m.msgId, target: { locUri: 'http://s' }, source: { locUri: DEVICE } },
            body: { commands: m.commands as Command[], final: m.final },
          };
          const r = await s.send(msg);
          const first = r.reply.body.commands[0] as Status;
          expect(first.kind).toBe('Status');
          expect(first.cmdRef).toBe('0');
          serializeToBytes(r.reply, { encoding: 'wbxml' });
          serializeToBytes(r.reply, { encoding: 'xml' });
        }
      },
    ), { numRuns: 300 });
  });
});
