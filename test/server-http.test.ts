/**
 * The server over real loopback HTTP and HTTPS (a self-signed certificate made here with openssl),
 * driven by a scripted client that builds SyncML with the builders and posts it: transport errors,
 * client- and server-initiated sessions, the three authentication schemes, multi-message packages,
 * large objects both ways, FUMO, UI alerts, Atomic rollback, Windows-style messages, logs and traces.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DmServer, FilePushSender, JsonLogger, SqliteStore, createDmEndpoint } from '../src/server/index.js';
import { serializeToBytes, genericAlert, FumoAlertType, headerStatus, commandStatus, parse, type Alert, type Command, type SyncML } from '../src/syncml/index.js';
import { decodeNotification, verifyNotificationDigest, fromBase64, hmacDigest, formatHmacHeader, parseHmacHeader } from '../src/dm/index.js';
import { DEVICE, HttpDevice, admin, commandsOf, headerCode, post, statusesOf } from './server-helpers.js';

let dir: string;
let server: DmServer;
let url: string;
let api: string;
let token: string;
const logLines: string[] = [];
const hookAlerts: unknown[] = [];

const A = (path: string, body?: unknown, method = body === undefined ? 'GET' : 'POST') => admin(api, token, method, path, body);

async function addDevice(id: string, auth: Record<string, unknown>): Promise<void> {
  const r = await A('/api/devices', { id, auth });
  expect(r.status).toBe(201);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'syncml-dm-http-'));
  server = new DmServer({
    dataDir: join(dir, 'data'), port: 0, bodyLimit: 256 * 1024, traceDir: join(dir, 'trace'),
    pushSender: new FilePushSender(join(dir, 'push')), session: { serverId: 'dm.example.test' },
    log: new JsonLogger({ write: (l: string) => logLines.push(l) }),
    hooks: { onAlert: (a) => { hookAlerts.push(a); } },
  });
  ({ url, adminUrl: api } = (await server.start()) as { url: string; adminUrl: string });
  token = server.adminToken;
});

afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('transport', () => {
  it('refuses what is not a DM request: 405, 415, 413, 400, 404', async () => {
    const get = await fetch(url);
    expect(get.status).toBe(405);
    expect((await post(url, '<x/>', { 'content-type': 'text/xml' })).status).toBe(415);
    expect((await post(url, '<x/>', {})).status).toBe(415);
    const big = new Uint8Array(300 * 1024).fill(0x20);
    expect((await post(url, big, { 'content-type': 'application/vnd.syncml.dm+xml' })).status).toBe(413);
    const bad = await post(url, '<SyncML><nope', { 'content-type': 'application/vnd.syncml.dm+xml' });
    expect(bad.status).toBe(400);
    expect(bad.bytes.toString()).toMatch(/not a SyncML message/);
    expect((await post(`${url}elsewhere`, '<x/>', { 'content-type': 'application/vnd.syncml.dm+xml' })).status).toBe(404);
    // The server is still up.
    expect((await A('/api/health')).json.ok).toBe(true);
  });

  it('answers an unparsable body in a known session with SyncHdr Status 400, and the session goes on', async () => {
    await addDevice('dev-parse', { scheme: 'none' });
    await A('/api/devices/dev-parse/jobs', { kind: 'command', command: { verb: 'Get', target: './A' } });
    const d = new HttpDevice(url, { deviceId: 'dev-parse' });
    const pkg2 = await d.send(d.client.pkg1());
    expect(commandsOf(pkg2).length).toBe(1);
    const r = await post(d.client.respUri!, '<SyncML><broken', { 'content-type': 'application/vnd.syncml.dm+xml' });
    expect(r.status).toBe(200);
    expect(headerCode(r.reply!)).toBe(400);
    expect(r.reply!.header.sessionId).toBe('1A2B');
    const msgs = await d.run(pkg2);
    expect(msgs.at(-1)!.body.final).toBe(true);
    const jobs = (await A('/api/devices/dev-parse/jobs')).json;
    expect(jobs[0].state).toBe('answered');
  });

  it('the admin API wants its token', async () => {
    expect((await admin(api, 'wrong-token-wrong-token', 'GET', '/api/devices')).status).toBe(401);
    expect((await fetch(`${api}/api/devices`)).status).toBe(401);
  });
});

describe('sessions over HTTP', () => {
  it('md5, client-initiated, XML: challenge, RespURI, a Get, results readable by the admin API', async () => {
    await addDevice(DEVICE, { scheme: 'md5', clientName: 'device01', clientSecret: 'secret', serverId: 'dm.example.test', serverSecret: 'srvsecret' });
    const job = (await A(`/api/devices/${encodeURIComponent(DEVICE)}/jobs`, { kind: 'command', command: { verb: 'Get', target: './DevDetail/SwV' } })).json;
    const d = new HttpDevice(`${url}?mode=Maintenance&Platform=WoA`);
    const r1 = await d.send(d.client.pkg1());
    expect(headerCode(r1)).toBe(407);
    expect(r1.header.respUri).toMatch(/\?mode=Maintenance&Platform=WoA&s=[0-9a-f]{32}$/);
    expect(d.last!.headers['content-type']).toBe('application/vnd.syncml.dm+xml');
    const pkg2 = await d.send(d.client.pkg1({ cred: d.client.cred('md5') }));
    expect(headerCode(pkg2)).toBe(212);
    expect(pkg2.header.cred?.meta?.type).toBe('syncml:auth-md5');
    const msgs = await d.run(pkg2, { tree: { './DevDetail/SwV': '2.0.7' } });
    expect(msgs.length).toBe(2);
    const j = (await A(`/api/jobs/${job.id}`)).json;
    expect(j).toMatchObject({ state: 'answered', statuses: [{ code: 200 }], results: [{ uri: './DevDetail/SwV', data: '2.0.7' }] });
    const dev = (await A(`/api/devices/${encodeURIComponent(DEVICE)}`)).json;
    expect(dev).toMatchObject({ dmVersion: '1.2', devInfo: { Man: 'Example Manufacturer' }, auth: { scheme: 'md5', hasClientSecret: true, hasServerSecret: true } });
    expect(JSON.stringify(dev)).not.toContain('srvsecret');
    expect((await A(`/api/devices/${encodeURIComponent(DEVICE)}/tree`)).json.map((n: { uri: string }) => n.uri)).toContain('./DevDetail/SwV');
    expect((await A(`/api/sessions?device=${encodeURIComponent(DEVICE)}`)).json[0]).toMatchObject({ reason: 'completed', authenticated: true });
  });

  it('md5: wrong password and a replayed package 1 are refused; three failures close', async () => {
    await addDevice('dev-md5b', { scheme: 'md5', clientName: 'device01', clientSecret: 'secret' });
    const d = new HttpDevice(url, { deviceId: 'dev-md5b', sessionId: '11' });
    await d.send(d.client.pkg1());
    const ok = d.client.pkg1({ cred: d.client.cred('md5') });
    const okBytes = serializeToBytes(ok, { encoding: 'xml' });
    expect(headerCode(await d.send(ok))).toBe(212);
    await d.run(d.last!.reply!);
    // The same bytes again in a new session (same SessionID, MsgID 2): the nonce was used.
    const replay = Buffer.from(okBytes).toString('utf8').replace('<MsgID>2</MsgID>', '<MsgID>1</MsgID>');
    const r = await post(url, replay, { 'content-type': 'application/vnd.syncml.dm+xml' });
    expect(headerCode(r.reply!)).toBe(401);
    const d2 = new HttpDevice(url, { deviceId: 'dev-md5b', sessionId: '12' });
    const first = await d2.send(d2.client.pkg1({ cred: d2.client.cred('md5', { password: 'bad', nonce: 'AAAA' }) }));
    expect(headerCode(first)).toBe(401);
    expect(headerCode(await d2.send(d2.client.pkg1({ cred: d2.client.cred('md5', { password: 'bad' }) })))).toBe(401);
    const third = await d2.send(d2.client.pkg1({ cred: d2.client.cred('md5', { password: 'bad' }) }));
    expect(headerCode(third)).toBe(401);
    expect(statusesOf(third)[0].chal).toBeUndefined();
    const events = (await A('/api/auth-events?device=dev-md5b')).json;
    expect(events.filter((e: { outcome: string }) => e.outcome === 'refused').length).toBe(1);
  });

  it('basic over WBXML, answered in WBXML', async () => {
    await addDevice('dev-wbxml', { scheme: 'basic', clientName: 'device01', clientSecret: 'secret' });
    await A('/api/devices/dev-wbxml/jobs', { kind: 'command', command: { verb: 'Replace', target: './Vendor/X/Mode', data: 'on' } });
    const d = new HttpDevice(url, { deviceId: 'dev-wbxml' }, { encoding: 'wbxml' });
    const wrong = await d.send(d.client.pkg1({ cred: d.client.cred('basic', { password: 'nope' }) }));
    expect(headerCode(wrong)).toBe(401);
    const pkg2 = await d.send(d.client.pkg1({ cred: d.client.cred('basic') }));
    expect(d.last!.headers['content-type']).toBe('application/vnd.syncml.dm+wbxml');
    expect(d.last!.bytes[0]).toBe(0x02);
    expect(headerCode(pkg2)).toBe(212);
    await d.run(pkg2);
    expect((await A('/api/jobs?device=dev-wbxml')).json[0].state).toBe('answered');
  });

  it('HMAC: every message signed both ways, a bad MAC refused', async () => {
    await addDevice('dev-hmac', { scheme: 'hmac', clientName: 'device01', clientSecret: 'secret', serverId: 'dm.example.test', serverSecret: 'srvsecret', serverScheme: 'hmac', serverNonce: 'MTIzNA==' });
    await A('/api/devices/dev-hmac/jobs', { kind: 'command', command: { verb: 'Get', target: './A' } });
    await A('/api/devices/dev-hmac/jobs', { kind: 'command', command: { verb: 'Get', target: './B' } });
    const d = new HttpDevice(url, { deviceId: 'dev-hmac' }, { hmac: true });
    const r1 = await d.send(d.client.pkg1());
    expect(headerCode(r1)).toBe(407);
    expect(statusesOf(r1)[0].chal?.meta.type).toBe('syncml:auth-MAC');
    const bad = await d.send(d.client.pkg1(), { hmacOverride: formatHmacHeader({ username: 'device01', mac: 'AAAAAAAAAAAAAAAAAAAAAA==' }) });
    expect(headerCode(bad)).toBe(401);
    const pkg2 = await d.send(d.client.pkg1());
    expect(headerCode(pkg2)).toBe(200);
    // The server's HMAC over its own bytes, with its credentials and the nonce we gave it.
    const h = parseHmacHeader(String(d.last!.headers['x-syncml-hmac']));
    expect(h.username).toBe('dm.example.test');
    expect(h.mac).toBe(hmacDigest('dm.example.test', 'srvsecret', fromBase64('MTIzNA=='), new Uint8Array(d.last!.bytes)));
    const msgs = await d.run(pkg2);
    for (const m of msgs) expect(statusesOf(m)[0]).toMatchObject({ code: 200, chal: { meta: { type: 'syncml:auth-MAC' } } });
    const jobs = (await A('/api/jobs?device=dev-hmac')).json;
    expect(jobs.map((j: { state: string }) => j.state)).toEqual(['answered', 'answered']);
  });

  it('DM 1.1.2: answered in 1.1.2', async () => {
    await addDevice('dev-112', { scheme: 'basic', clientName: 'device01', clientSecret: 'secret' });
    await A('/api/devices/dev-112/jobs', { kind: 'command', command: { verb: 'Get', target: './DevInfo/Mod' } });
    const d = new HttpDevice(url, { deviceId: 'dev-112', version: '1.1.2' }, { encoding: 'wbxml' });
    const pkg2 = await d.send(d.client.pkg1({ cred: d.client.cred('basic') }));
    expect(pkg2.header).toMatchObject({ verDTD: '1.1', verProto: 'DM/1.1' });
    // WBXML public ID 0x0FD3 (SyncML 1.1): 0x02 version, then mb_u_int32 0x9F 0x53.
    expect([...d.last!.bytes.subarray(0, 3)]).toEqual([0x02, 0x9f, 0x53]);
    await d.run(pkg2);
    expect((await A('/api/devices/dev-112')).json.dmVersion).toBe('1.1.2');
  });

  it('package 0: notify, the file the push sender wrote verifies, Alert 1200 pairs with it', async () => {
    await addDevice('dev-push', { scheme: 'md5', clientName: 'device01', clientSecret: 'secret', serverId: 'dm.example.test', serverSecret: 'srvsecret', serverNonce: 'bm9uY2U=' });
    await A('/api/devices/dev-push/jobs', { kind: 'command', command: { verb: 'Exec', target: './Vendor/X/Sync' } });
    const n = await A('/api/devices/dev-push/notify', { uiMode: 'background' });
    expect(n.status).toBe(201);
    const files = readdirSync(join(dir, 'push')).filter((f) => f.includes('dev-push'));
    expect(files.length).toBe(1);
    const pkg0 = decodeNotification(new Uint8Array(readFileSync(join(dir, 'push', files[0]))));
    expect(pkg0).toMatchObject({ serverId: 'dm.example.test', uiMode: 'background', initiator: 'server', version: 11, sessionIdHex: n.json.sessionId });
    expect(verifyNotificationDigest(pkg0, 'srvsecret', fromBase64('bm9uY2U='))).toEqual({ valid: true, nonceUsed: 'stored' });
    const d = new HttpDevice(url, { deviceId: 'dev-push', sessionId: pkg0.sessionIdHex });
    await d.send(d.client.pkg1({ alert: 1200 }));
    const pkg2 = await d.send(d.client.pkg1({ alert: 1200, cred: d.client.cred('md5') }));
    expect(commandsOf(pkg2).map((c) => c.kind)).toEqual(['Exec']);
    await d.run(pkg2);
    const notes = (await A('/api/notifications?device=dev-push')).json;
    expect(notes[0]).toMatchObject({ sessionId: pkg0.sessionIdHex, delivery: expect.stringMatching(/^file /) });
    expect(notes[0].answeredAt).toBeGreaterThan(0);
    expect((await A('/api/sessions?device=dev-push')).json[0].initiator).toBe('server');
  });

  it('a multi-message package from the client: 1222 until its Final', async () => {
    await addDevice('dev-multi', { scheme: 'none' });
    await A('/api/devices/dev-multi/jobs', { kind: 'command', command: { verb: 'Get', target: './A' } });
    const d = new HttpDevice(url, { deviceId: 'dev-multi' });
    const r1 = await d.send(d.client.pkg1({ final: false }));
    expect(r1.body.final).toBe(false);
    expect(commandsOf(r1).map((c) => (c as Alert).code)).toEqual([1222]);
    const ga = genericAlert({ type: 'com.example.boot', data: 'ok' });
    const pkg2 = await d.send(d.client.message([ga], { server: r1 }));
    expect(commandsOf(pkg2).map((c) => c.kind)).toEqual(['Get']);
    await d.run(pkg2);
    expect(hookAlerts).toContainEqual(expect.objectContaining({ deviceId: 'dev-multi', type: 'com.example.boot', solicited: false }));
  });

  it('a large object to the device in chunks under its MaxMsgSize', async () => {
    await addDevice('dev-lo-out', { scheme: 'none' });
    const data = Buffer.alloc(20000, 7).toString('base64');
    const job = (await A('/api/devices/dev-lo-out/jobs', { kind: 'command', command: { verb: 'Replace', target: './Vendor/X/Image', dataBase64: data } })).json;
    const d = new HttpDevice(url, { deviceId: 'dev-lo-out', maxMsgSize: 4096 }, { encoding: 'wbxml' });
    const pkg2 = await d.send(d.client.pkg1());
    const msgs = await d.run(pkg2);
    const pieces = msgs.flatMap((m) => commandsOf(m)) as (Command & { kind: 'Replace' })[];
    expect(pieces.length).toBeGreaterThan(4);
    for (const m of msgs) expect(serializeToBytes(m, { encoding: 'wbxml' }).length).toBeLessThanOrEqual(4096);
    const joined = Buffer.concat(pieces.map((p) => Buffer.from(p.items[0].data as Uint8Array)));
    expect(joined.equals(Buffer.alloc(20000, 7))).toBe(true);
    expect(pieces[0].items[0].meta?.size).toBe(20000);
    const j = (await A(`/api/jobs/${job.id}`)).json;
    expect(j.state).toBe('answered');
    expect(j.statuses.at(-1).code).toBe(200);
    expect(j.statuses.slice(0, -1).every((s: { code: number }) => s.code === 213)).toBe(true);
  });

  it('a large object from the device: chunked Results joined and stored', async () => {
    await addDevice('dev-lo-in', { scheme: 'none' });
    const job = (await A('/api/devices/dev-lo-in/jobs', { kind: 'command', command: { verb: 'Get', target: './Vendor/X/Log' } })).json;
    const d = new HttpDevice(url, { deviceId: 'dev-lo-in' });
    const pkg2 = await d.send(d.client.pkg1());
    const get = commandsOf(pkg2)[0];
    const whole = 'x'.repeat(2500) + 'y'.repeat(2500) + 'z'.repeat(100);
    const b = d.client.out.next();
    b.add(headerStatus(pkg2, 200));
    b.add(commandStatus(pkg2, get, 200));
    b.add({ kind: 'Results', cmdId: '', msgRef: pkg2.header.msgId, cmdRef: get.cmdId, items: [{ source: { locUri: './Vendor/X/Log' }, meta: { size: whole.length }, data: whole.slice(0, 2500), moreData: true }] });
    const r1 = await d.send(b.build());
    expect(statusesOf(r1).map((s) => s.code)).toEqual([200, 213]);
    const r2 = await d.send(d.client.message([{ kind: 'Results', cmdId: '', msgRef: pkg2.header.msgId, cmdRef: get.cmdId, items: [{ source: { locUri: './Vendor/X/Log' }, data: whole.slice(2500, 5000), moreData: true }] }], { server: r1, final: false }));
    const r3 = await d.send(d.client.message([{ kind: 'Results', cmdId: '', msgRef: pkg2.header.msgId, cmdRef: get.cmdId, items: [{ source: { locUri: './Vendor/X/Log' }, data: whole.slice(5000) }] }], { server: r2 }));
    expect(r3.body.final).toBe(true);
    expect(commandsOf(r3)).toEqual([]);
    const j = (await A(`/api/jobs/${job.id}`)).json;
    expect(j.results[0].data).toBe(whole);
    expect((await A(`/api/results?job=${job.id}`)).json[0].data.length).toBe(whole.length);
  });

  it('a FUMO campaign from the admin API to the Generic Alert and the final State', async () => {
    await addDevice('dev-fumo', { scheme: 'none' });
    const c = await A('/api/fumo', { devices: ['dev-fumo'], node: './FUMO/fw1', pkgUrl: 'https://fw.example.test/2.0.bin', campaign: 'spring' });
    expect(c.status).toBe(201);
    const jobId = c.json.jobs[0].id;
    const d = new HttpDevice(url, { deviceId: 'dev-fumo', sessionId: '21' });
    const msgs = await d.run(await d.send(d.client.pkg1()));
    expect(msgs.flatMap(commandsOf).map((x) => x.kind)).toEqual(['Add', 'Replace', 'Exec']);
    const exec = msgs.flatMap(commandsOf).at(-1) as Command & { kind: 'Exec' };
    expect(exec.correlator).toBe(`fumo-${jobId}`);
    expect((await A(`/api/jobs/${jobId}`)).json.state).toBe('waiting-alert');
    const d2 = new HttpDevice(url, { deviceId: 'dev-fumo', sessionId: '22' });
    const alert = genericAlert({ type: FumoAlertType.DOWNLOAD_AND_UPDATE, source: './FUMO/fw1', data: 200, correlator: exec.correlator });
    const pkg2 = await d2.send(d2.client.pkg1({ extra: [alert] }));
    expect(commandsOf(pkg2).map((x) => x.kind)).toEqual(['Get']);
    await d2.run(pkg2, { tree: { './FUMO/fw1/State': '100' } });
    const j = (await A(`/api/jobs/${jobId}`)).json;
    expect(j).toMatchObject({ state: 'done', campaign: 'spring', fumo: { resultCode: 200, finalState: 100, correlator: `fumo-${jobId}` } });
    expect((await A('/api/fumo/spring')).json.states).toEqual({ done: 1 });
    expect((await A('/api/alerts?device=dev-fumo')).json[0]).toMatchObject({ jobId, code: 1226, data: '200' });
  });

  it('a UI alert job and an Atomic whose rollback is recorded', async () => {
    await addDevice('dev-ui', { scheme: 'none' });
    const ui = (await A('/api/devices/dev-ui/jobs', { kind: 'ui-alert', alert: { code: 1101, text: 'Install now?', options: { maxDisplayTime: 60 } } })).json;
    const at = (await A('/api/devices/dev-ui/jobs', { kind: 'group', group: 'Atomic', commands: [{ verb: 'Add', target: './Vendor/X/A', data: '1' }, { verb: 'Delete', target: './Vendor/X/B' }] })).json;
    const d = new HttpDevice(url, { deviceId: 'dev-ui' });
    const codes: Record<string, number> = { Alert: 304, Atomic: 507, Add: 216, Delete: 404 };
    await d.run(await d.send(d.client.pkg1()), { code: (c) => codes[c.kind] });
    expect((await A(`/api/jobs/${ui.id}`)).json.statuses).toMatchObject([{ cmd: 'Alert', code: 304 }]);
    const a = (await A(`/api/jobs/${at.id}`)).json;
    expect(a.state).toBe('answered');
    expect(a.statuses.map((s: { path: string; code: number }) => [s.path, s.code])).toEqual([['0', 507], ['0.0', 216], ['0.1', 404]]);
  });

  it('a Windows-style session: query string, SYNCML1.1 namespace on DM 1.2, no Cred, Results with Cmd and no MsgRef', async () => {
    const id = '{6F5DE1C5-0D8E-4C9B-8D6A-2A0C4D8A3E11}';
    await addDevice(id, { scheme: 'none' });
    const job = (await A(`/api/devices/${encodeURIComponent(id)}/jobs`, { kind: 'command', command: { verb: 'Get', target: './DevDetail/HwV' } })).json;
    const pkg1 = `<SyncML xmlns="SYNCML:SYNCML1.1"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>2</SessionID><MsgID>1</MsgID>
      <Target><LocURI>${url}?mode=Maintenance&amp;Platform=WoA</LocURI></Target><Source><LocURI>${id}</LocURI></Source></SyncHdr>
      <SyncBody><Alert><CmdID>1</CmdID><Data>1201</Data></Alert>
      <Alert><CmdID>2</CmdID><Data>1224</Data><Item><Meta><Type xmlns="syncml:metinf">com.microsoft/MDM/LoginStatus</Type></Meta><Data>user</Data></Item></Alert>
      <Replace><CmdID>3</CmdID><Item><Source><LocURI>./DevInfo/DevId</LocURI></Source><Data>${id}</Data></Item>
      <Item><Source><LocURI>./DevInfo/Man</LocURI></Source><Data>Microsoft Corporation</Data></Item></Replace><Final/></SyncBody></SyncML>`;
    const r = await post(`${url}?mode=Maintenance&Platform=WoA`, pkg1, { 'content-type': 'application/vnd.syncml.dm+xml', 'user-agent': 'MSFT OMA DM Client/1.2.0.1' });
    expect(r.status).toBe(200);
    const pkg2 = r.reply!;
    const get = commandsOf(pkg2)[0];
    expect(get.kind).toBe('Get');
    const pkg3 = `<SyncML xmlns="SYNCML:SYNCML1.1"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>2</SessionID><MsgID>2</MsgID>
      <Source><LocURI>${id}</LocURI></Source><Target><LocURI>${pkg2.header.respUri!.replace(/&/g, '&amp;')}</LocURI></Target></SyncHdr>
      <SyncBody xmlns:msft="http://schemas.microsoft.com/MobileDevice/MDM">
      <Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>
      <Results><CmdID>2</CmdID><CmdRef>${get.cmdId}</CmdRef><Cmd>Get</Cmd><Item><Source><LocURI>./ DevDetail/HwV</LocURI></Source>
      <Meta><Format xmlns="syncml:metinfo">chr</Format><Type xmlns="syncml:metinfo"> text/plain </Type></Meta><Data>Surface Laptop 4</Data></Item></Results>
      <Final/></SyncBody></SyncML>`;
    const r2 = await post(`${pkg2.header.respUri}?mode=Maintenance&Platform=WoA`, pkg3, { 'content-type': 'application/vnd.syncml.dm+xml' });
    expect(headerCode(r2.reply!)).toBe(200);
    expect(r2.reply!.body.final).toBe(true);
    const j = (await A(`/api/jobs/${job.id}`)).json;
    expect(j).toMatchObject({ state: 'answered', results: [{ uri: './DevDetail/HwV', data: 'Surface Laptop 4' }] });
    expect((await A(`/api/alerts?device=${encodeURIComponent(id)}`)).json[0]).toMatchObject({ code: 1224, type: 'com.microsoft/MDM/LoginStatus', data: 'user' });
  });

  it('sends the same answer again for a retransmitted message', async () => {
    await addDevice('dev-retx', { scheme: 'none' });
    await A('/api/devices/dev-retx/jobs', { kind: 'command', command: { verb: 'Get', target: './A' } });
    await A('/api/devices/dev-retx/jobs', { kind: 'command', command: { verb: 'Get', target: './B' } });
    const d = new HttpDevice(url, { deviceId: 'dev-retx' });
    const pkg1 = serializeToBytes(d.client.pkg1(), { encoding: 'xml' });
    const a = await post(url, pkg1, { 'content-type': 'application/vnd.syncml.dm+xml' });
    const b = await post(url, pkg1, { 'content-type': 'application/vnd.syncml.dm+xml' });
    expect(b.bytes.equals(a.bytes)).toBe(true);
    expect(commandsOf(b.reply!).length).toBe(2);
    d.client.read(b.reply!);
    await d.run(b.reply!);
    const jobs = (await A('/api/jobs?device=dev-retx')).json;
    expect(jobs.map((j: { state: string; attempts: number; statuses: unknown[] }) => [j.state, j.attempts, j.statuses.length])).toEqual([['answered', 1, 1], ['answered', 1, 1]]);
  });
});

describe('embedding and housekeeping', () => {
  it('mounts in an existing Node app and ends idle sessions (their jobs queued again)', async () => {
    const store = SqliteStore.open(':memory:');
    await store.putDevice({ id: 'dev-idle', auth: { scheme: 'none' } }, 1);
    const job = await store.addJob('dev-idle', { kind: 'command', command: { verb: 'Get', target: './A' } }, 1);
    let clock = 1_000_000;
    const ended: string[] = [];
    const endpoint = createDmEndpoint({ store, idleTimeoutMs: 60_000, now: () => clock, hooks: { onSessionEnd: (x) => { ended.push(x.reason); } } });
    const app = createServer((req, res) => {
      if (req.url?.startsWith('/dm')) return endpoint(req, res);
      res.end('the rest of the app');
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    expect(await (await fetch(`${base}/`)).text()).toBe('the rest of the app');
    const d = new HttpDevice(`${base}/dm`, { deviceId: 'dev-idle' });
    const pkg2 = await d.send(d.client.pkg1());
    expect(d.client.respUri).toMatch(new RegExp(`^${base}/dm\\?s=`));
    expect(commandsOf(pkg2).length).toBe(1);
    expect((await store.getJob(job.id))!.state).toBe('sent');
    expect(endpoint.openSessions).toBe(1);
    clock += 30_000;
    await endpoint.sweep();
    expect(endpoint.openSessions).toBe(1);
    clock += 31_000;
    await endpoint.sweep();
    expect(endpoint.openSessions).toBe(0);
    expect(ended).toEqual(['expired']);
    expect((await store.getJob(job.id))!.state).toBe('queued');
    const late = await d.send(d.client.answer(pkg2));
    expect(headerCode(late)).toBe(408);
    await endpoint.close();
    await new Promise<void>((r) => app.close(() => r()));
    await store.close();
  });

  it('survives mangled messages: every answer is HTTP 200 (SyncML) or 400, never a crash', async () => {
    await addDevice('dev-fuzz', { scheme: 'md5', clientName: 'device01', clientSecret: 'secret' });
    const d = new HttpDevice(url, { deviceId: 'dev-fuzz' });
    const xml = Buffer.from(serializeToBytes(d.client.pkg1({ cred: d.client.cred('md5', { nonce: 'AAAA' }) }), { encoding: 'xml' }));
    const wbxml = Buffer.from(serializeToBytes(d.client.pkg1(), { encoding: 'wbxml' }));
    let seed = 42;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
    const codes = new Set<number>();
    for (let i = 0; i < 150; i++) {
      const src = i % 2 === 0 ? xml : wbxml;
      const b = Buffer.from(src);
      const flips = 1 + rnd(4);
      for (let k = 0; k < flips; k++) b[rnd(b.length)] = rnd(256);
      const cut = rnd(3) === 0 ? b.subarray(0, rnd(b.length)) : b;
      const r = await post(url, cut, { 'content-type': `application/vnd.syncml.dm+${i % 2 === 0 ? 'xml' : 'wbxml'}` });
      codes.add(r.status);
      expect([200, 400]).toContain(r.status);
    }
    expect(codes.has(400)).toBe(true);
    expect((await A('/api/health')).json.ok).toBe(true);
  });
});

describe('logs and traces', () => {
  it('writes one JSON line per message and keeps each message as XML', () => {
    const lines = logLines.map((l) => JSON.parse(l));
    const msgs = lines.filter((l) => l.kind === 'message');
    expect(msgs.some((l) => l.dir === 'in' && l.commands.includes('Alert 1201') && l.bytes > 0)).toBe(true);
    expect(msgs.some((l) => l.dir === 'out' && l.statuses[0] === 212 && typeof l.ms === 'number')).toBe(true);
    expect(msgs.some((l) => l.dir === 'in' && l.warnings > 0)).toBe(true);
    const files = readdirSync(join(dir, 'trace'));
    expect(files.some((f) => f.endsWith('-in.xml'))).toBe(true);
    expect(files.some((f) => f.endsWith('-out.xml'))).toBe(true);
    expect(files.some((f) => f.endsWith('.bin'))).toBe(true);
    const one = files.find((f) => f.endsWith('-out.xml'))!;
    expect(parse(readFileSync(join(dir, 'trace', one), 'utf8')).header.verProto).toMatch(/^DM\//);
  });
});

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

describe.skipIf(!hasOpenssl)('HTTPS', () => {
  let tls: DmServer;
  let tlsUrl: string;
  let cert: Buffer;
  let tdir: string;
  beforeAll(async () => {
    tdir = mkdtempSync(join(tmpdir(), 'syncml-dm-tls-'));
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(tdir, 'key.pem'),
      '-out', join(tdir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    cert = readFileSync(join(tdir, 'cert.pem'));
    tls = new DmServer({ dataDir: join(tdir, 'data'), port: 0, admin: false, tls: { cert, key: readFileSync(join(tdir, 'key.pem')) } });
    tlsUrl = (await tls.start()).url;
    await tls.store.putDevice({ id: 'dev-tls', auth: { scheme: 'md5', clientName: 'device01', clientSecret: 'secret' } }, Date.now());
    await tls.store.addJob('dev-tls', { kind: 'command', command: { verb: 'Get', target: './DevDetail/FwV' } }, Date.now());
  });
  afterAll(async () => {
    await tls.stop();
    rmSync(tdir, { recursive: true, force: true });
  });

  it('runs a whole md5 session over TLS 1.2+', async () => {
    expect(tlsUrl.startsWith('https://')).toBe(true);
    const d = new HttpDevice(tlsUrl, { deviceId: 'dev-tls' }, { ca: cert });
    await d.send(d.client.pkg1());
    expect(['TLSv1.2', 'TLSv1.3']).toContain(d.last!.tlsProtocol);
    expect(d.client.respUri!.startsWith('https://127.0.0.1:')).toBe(true);
    const pkg2 = await d.send(d.client.pkg1({ cred: d.client.cred('md5') }));
    expect(headerCode(pkg2)).toBe(212);
    await d.run(pkg2, { tree: { './DevDetail/FwV': '1.0' } });
    const jobs = await tls.store.listJobs({ deviceId: 'dev-tls' });
    expect(jobs[0]).toMatchObject({ state: 'answered', results: [{ data: '1.0' }] });
  });

  it('refuses TLS 1.1', async () => {
    await expect(post(tlsUrl, '<x/>', { 'content-type': 'application/vnd.syncml.dm+xml' }, { ca: cert, maxVersion: 'TLSv1.1' })).rejects.toThrow();
  });
});
