/**
 * Attacks on the DM server over real loopback HTTP: wrong and replayed credentials, HMAC
 * tampering, a SessionID from another device, commands on nodes the device's ACL denies the
 * server, XML entity expansion and deep nesting, a WBXML string-table bomb, oversized messages.
 * Each must be refused with the right status and leave a line in the server's JSON log; the
 * victim's own session must go on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { DmServer, JsonLogger, SqliteStore, createDmEndpoint } from '../../src/server/index.js';
import { DmClient, MemoryStore } from '../../src/client/index.js';
import { serializeToBytes, MessageBuilder, type SyncML } from '../../src/syncml/index.js';
import { formatHmacHeader, parseHmacHeader } from '../../src/dm/index.js';
import { HttpDevice, ScriptedClient, commandsOf, headerCode, post, statusesOf } from '../server-helpers.js';
import { parse } from '../../src/syncml/index.js';
import { call } from './scripts/inproc.js';
import { eventually } from './scripts/harness.js';

const XML = 'application/vnd.syncml.dm+xml';
const WBXML = 'application/vnd.syncml.dm+wbxml';
const LIMIT = 256 * 1024;
let dir: string;
let server: DmServer;
let url: string;
const lines: Record<string, any>[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'syncml-dm-attacks-'));
  server = new DmServer({
    dataDir: join(dir, 'data'), port: 0, admin: false, bodyLimit: LIMIT, session: { serverId: 'dm.example.test' },
    log: new JsonLogger({ write: (l: string) => lines.push(JSON.parse(l)) }),
  });
  url = (await server.start()).url;
});

afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const now = () => Date.now();
const md5Device = (id: string) => server.store.putDevice({ id, auth: { scheme: 'md5', clientName: 'device01', clientSecret: 'secret' } }, now());
const getJob = (id: string, target = './DevDetail/SwV') => server.store.addJob(id, { kind: 'command', command: { verb: 'Get', target } }, now());
/** Log lines written since `mark` that match. */
const since = (mark: number, pred: (l: Record<string, any>) => boolean) => lines.slice(mark).filter(pred);
const xml = (m: SyncML) => serializeToBytes(m, { encoding: 'xml' });

/** Runs a device up to its package 2 (md5: 407, then 212 with the jobs). */
async function openSession(id: string, sessionId: string): Promise<{ d: HttpDevice; pkg2: SyncML }> {
  const d = new HttpDevice(url, { deviceId: id, sessionId });
  expect(headerCode(await d.send(d.client.pkg1()))).toBe(407);
  const pkg2 = await d.send(d.client.pkg1({ cred: d.client.cred('md5') }));
  expect(headerCode(pkg2)).toBe(212);
  return { d, pkg2 };
}

describe('credentials', () => {
  it('wrong credentials: 401 with a new challenge, the third failure 401 without Chal and the session closed; each logged', async () => {
    await md5Device('atk-wrong');
    const mark = lines.length;
    const d = new HttpDevice(url, { deviceId: 'atk-wrong', sessionId: '10' });
    expect(headerCode(await d.send(d.client.pkg1()))).toBe(407);
    const first = await d.send(d.client.pkg1({ cred: d.client.cred('md5', { password: 'guess1' }) }));
    expect(headerCode(first)).toBe(401);
    expect(statusesOf(first)[0].chal?.meta.type).toBe('syncml:auth-md5');
    const third = await d.send(d.client.pkg1({ cred: d.client.cred('md5', { password: 'guess2' }) }));
    expect(headerCode(third)).toBe(401);
    expect(statusesOf(third)[0].chal).toBeUndefined();
    expect(commandsOf(third)).toEqual([]);
    // The session is closed: the right password in it now gets 408.
    const late = await d.send(d.client.message([], { cred: d.client.cred('md5') }));
    expect(headerCode(late)).toBe(408);
    const auth = since(mark, (l) => l.kind === 'auth' && l.device === 'atk-wrong');
    expect(auth.map((l) => [l.outcome, l.code, l.reason])).toEqual([
      ['challenged', 407, 'no credentials'], ['challenged', 401, 'wrong digest'], ['refused', 401, 'wrong digest'],
    ]);
    expect(since(mark, (l) => l.kind === 'session-end' && l.device === 'atk-wrong')[0]).toMatchObject({ reason: 'auth-failed' });
  });

  it('basic: a wrong password is 401, logged', async () => {
    await server.store.putDevice({ id: 'atk-basic', auth: { scheme: 'basic', clientName: 'device01', clientSecret: 'secret' } }, now());
    const mark = lines.length;
    const d = new HttpDevice(url, { deviceId: 'atk-basic' });
    expect(headerCode(await d.send(d.client.pkg1({ cred: d.client.cred('basic', { password: 'nope' }) })))).toBe(401);
    expect(since(mark, (l) => l.kind === 'auth' && l.device === 'atk-basic')[0]).toMatchObject({ outcome: 'challenged', code: 401, reason: 'wrong user name or password' });
  });

  it('an unknown device is challenged like a known one (no enumeration), and refused', async () => {
    const mark = lines.length;
    const d = new HttpDevice(url, { deviceId: 'atk-nobody' });
    const r = await d.send(d.client.pkg1());
    expect(headerCode(r)).toBe(407);
    expect(statusesOf(r)[0].chal?.meta.type).toBe('syncml:auth-md5');
    expect(headerCode(await d.send(d.client.pkg1({ cred: d.client.cred('md5') })))).toBe(401);
    expect(since(mark, (l) => l.kind === 'auth' && l.device === 'atk-nobody').map((l) => l.reason)).toEqual(['unknown device, no credentials', 'unknown device']);
  });

  it('replayed credentials: the exact bytes of an accepted package 1 are refused afterwards (the nonce was used)', async () => {
    await md5Device('atk-replay');
    await getJob('atk-replay');
    const d = new HttpDevice(url, { deviceId: 'atk-replay', sessionId: '20' });
    await d.send(d.client.pkg1());
    const good = xml(d.client.pkg1({ cred: d.client.cred('md5') }));
    const pkg2 = await post(url, good, { 'content-type': XML });
    expect(headerCode(pkg2.reply!)).toBe(212);
    d.client.read(pkg2.reply!);
    await d.run(pkg2.reply!);
    const mark = lines.length;
    // Same bytes, same SessionID and MsgID: the session is over, a new one is tried with a used nonce.
    const replay = await post(url, good, { 'content-type': XML });
    expect(replay.status).toBe(200);
    expect(headerCode(replay.reply!)).toBe(401);
    expect(commandsOf(replay.reply!)).toEqual([]);
    expect(since(mark, (l) => l.kind === 'auth' && l.device === 'atk-replay')[0]).toMatchObject({ outcome: 'challenged', code: 401, reason: 'wrong digest' });
    // Nothing was sent to the replayer: the job was answered once, by the device.
    const jobs = await server.store.listJobs({ deviceId: 'atk-replay' });
    expect(jobs.map((j) => [j.state, j.attempts, j.statuses.length])).toEqual([['answered', 1, 1]]);
  });
});

describe('HMAC', () => {
  async function hmacDevice(id: string): Promise<HttpDevice> {
    await server.store.putDevice({ id, auth: { scheme: 'hmac', clientName: 'device01', clientSecret: 'secret' } }, now());
    const d = new HttpDevice(url, { deviceId: id }, { hmac: true });
    expect(headerCode(await d.send(d.client.pkg1()))).toBe(407);
    return d;
  }

  it('a body changed after signing, a forged MAC and another user name are all 401, logged', async () => {
    const d = await hmacDevice('atk-hmac');
    const mark = lines.length;
    const msg = d.client.pkg1();
    const body = xml(msg);
    const header = d.client.hmac(body);
    const tampered = Buffer.from(Buffer.from(body).toString('utf8').replace('Example Manufacturer', 'Evil Manufacturer!!'));
    const r1 = await post(url, tampered, { 'content-type': XML, 'x-syncml-hmac': header });
    expect(headerCode(r1.reply!)).toBe(401);
    d.client.read(r1.reply!);
    const h = parseHmacHeader(header);
    const forged = formatHmacHeader({ username: h.username, mac: Buffer.alloc(16, 0x5a).toString('base64') });
    const m2 = xml(d.client.pkg1());
    const r2 = await post(url, m2, { 'content-type': XML, 'x-syncml-hmac': forged });
    expect(headerCode(r2.reply!)).toBe(401);
    d.client.read(r2.reply!);
    // The third failure closes; use a fresh session for the rest.
    const e = await hmacDevice('atk-hmac2');
    const m3 = xml(e.client.pkg1());
    const other = formatHmacHeader({ username: 'someone-else', mac: parseHmacHeader(e.client.hmac(m3)).mac });
    const r3 = await post(url, m3, { 'content-type': XML, 'x-syncml-hmac': other });
    expect(headerCode(r3.reply!)).toBe(401);
    e.client.read(r3.reply!);
    // The same message correctly signed is accepted.
    const m4 = xml(e.client.pkg1());
    const ok = await post(url, m4, { 'content-type': XML, 'x-syncml-hmac': e.client.hmac(m4) });
    expect(headerCode(ok.reply!)).toBe(200);
    const reasons = since(mark, (l) => l.kind === 'auth' && /^atk-hmac/.test(l.device)).map((l) => [l.device, l.code, l.reason]);
    expect(reasons).toContainEqual(['atk-hmac', 401, 'wrong mac']);
    expect(reasons.filter(([dev, code]) => dev === 'atk-hmac' && code === 401).length).toBe(2);
    expect(reasons.some(([dev, code, why]) => dev === 'atk-hmac2' && code === 401 && /user|name|mac/i.test(String(why)))).toBe(true);
  });

  it('a replayed signed package 1 in a new session is 401 (the nonce it was signed with is used)', async () => {
    const d = await hmacDevice('atk-hmac-replay');
    const m = xml(d.client.pkg1());
    const sig = d.client.hmac(m);
    const ok = await post(url, m, { 'content-type': XML, 'x-syncml-hmac': sig });
    expect(headerCode(ok.reply!)).toBe(200);
    d.client.read(ok.reply!);
    await d.run(ok.reply!);
    const mark = lines.length;
    const again = await post(url, m, { 'content-type': XML, 'x-syncml-hmac': sig });
    expect(headerCode(again.reply!)).toBe(401);
    expect(since(mark, (l) => l.kind === 'auth' && l.device === 'atk-hmac-replay')[0]).toMatchObject({ code: 401, reason: 'wrong mac' });
  });
});

describe('sessions', () => {
  it("a SessionID from another device: refused (408 + 1223, or 407), logged, and the victim's session goes on", async () => {
    await md5Device('atk-victim');
    await md5Device('atk-intruder');
    const job = await getJob('atk-victim');
    const { d: victim, pkg2 } = await openSession('atk-victim', '4F2A');
    const victimUri = victim.client.respUri!;
    const { d: intruder } = await openSession('atk-intruder', '77');
    const mark = lines.length;

    // 1. The intruder posts to the victim's RespURI with its own id and the victim's SessionID.
    const b1 = new MessageBuilder({ verDTD: '1.2', verProto: 'DM/1.2', sessionId: '4F2A', msgId: '3', target: { locUri: victimUri }, source: { locUri: 'atk-intruder' } });
    b1.add({ kind: 'Status', cmdId: '', msgRef: pkg2.header.msgId, cmdRef: '0', cmd: 'SyncHdr', code: 200 });
    b1.final(true);
    const r1 = await post(victimUri, xml(b1.build()), { 'content-type': XML });
    expect(headerCode(r1.reply!)).toBe(408);
    expect(commandsOf(r1.reply!).map((c) => (c as { code?: number }).code)).toEqual([1223]);

    // 2. The intruder uses the victim's SessionID in its own session URL.
    const b2 = new MessageBuilder({ verDTD: '1.2', verProto: 'DM/1.2', sessionId: '4F2A', msgId: '3', target: { locUri: intruder.client.respUri! }, source: { locUri: 'atk-intruder' } });
    b2.final(true);
    const r2 = await post(intruder.client.respUri!, xml(b2.build()), { 'content-type': XML });
    expect(headerCode(r2.reply!)).toBe(408);

    // 3. Someone claims to be the victim and opens its SessionID again (package 1, MsgID 1), without its password.
    const spoof = new HttpDevice(url, { deviceId: 'atk-victim', sessionId: '4F2A' });
    const r3 = await spoof.send(spoof.client.pkg1());
    expect(headerCode(r3)).toBe(407);
    const r4 = await spoof.send(spoof.client.pkg1({ cred: spoof.client.cred('md5', { password: 'guess' }) }));
    expect(headerCode(r4)).toBe(401);

    const notes = since(mark, (l) => l.kind === 'notes' && l.device === 'atk-intruder').flatMap((l) => l.notes);
    expect(notes.filter((n: string) => /no open session/.test(n)).length).toBe(2);
    expect(since(mark, (l) => l.kind === 'message' && l.dir === 'out' && l.device === 'atk-intruder' && l.statuses[0] === 408).length).toBe(2);
    expect(since(mark, (l) => l.kind === 'auth' && l.device === 'atk-victim').map((l) => l.code)).toEqual([407, 401]);

    // The victim's session is untouched: its package 3 is taken and the job answered, once.
    const msgs = await victim.run(pkg2, { tree: { './DevDetail/SwV': '9.9' } });
    expect(headerCode(msgs[1])).toBe(200);
    const j = (await server.store.getJob(job.id))!;
    expect(j).toMatchObject({ state: 'answered', attempts: 1, results: [{ data: '9.9' }] });
    expect(j.statuses.length).toBe(1);
  });

  it('commands on nodes the device ACL denies this server: 425 from the device, recorded on the job and logged', async () => {
    await md5Device('atk-acl');
    const rep = await server.store.addJob('atk-acl', { kind: 'command', command: { verb: 'Replace', target: './DevDetail/SwV', data: 'pwned' } }, now());
    const del = await server.store.addJob('atk-acl', { kind: 'command', command: { verb: 'Delete', target: './DevInfo/DevId' } }, now());
    const get = await server.store.addJob('atk-acl', { kind: 'command', command: { verb: 'Get', target: './Vendor/Secret/Key' } }, now());
    const client = await DmClient.open({
      deviceId: 'atk-acl', store: new MemoryStore(), fumo: false, encoding: 'xml',
      server: { url, serverId: 'dm.example.test', username: 'device01', password: 'secret', authType: 'md5' },
      // A node only another server may read.
      setup: (cm) => {
        if (!cm.tree.exists('./Vendor/Secret')) {
          cm.tree.add('./Vendor/Secret', { format: 'node', acl: 'Get=other.example.net' });
          cm.tree.add('./Vendor/Secret/Key', { format: 'chr', value: 'k' });
        }
      },
    });
    const mark = lines.length;
    const report = await client.runSession();
    expect(report.reason).toBe('completed');
    expect((client.tree.get('./DevDetail/SwV') as { value?: unknown }).value).not.toBe('pwned');
    for (const id of [rep.id, del.id, get.id]) {
      const j = (await server.store.getJob(id))!;
      expect(j.state).toBe('answered');
      expect(j.statuses.map((s) => s.code)).toEqual([425]);
    }
    const inbound = since(mark, (l) => l.kind === 'message' && l.dir === 'in' && l.device === 'atk-acl');
    expect(inbound.some((l) => l.statuses.filter((c: number) => c === 425).length === 3)).toBe(true);
  });
});

describe('hostile bodies', () => {
  const hdr = (id: string, sid = '1') => `<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>${sid}</SessionID><MsgID>1</MsgID><Target><LocURI>${url}</LocURI></Target><Source><LocURI>${id}</LocURI></Source></SyncHdr>`;

  it('XML entity expansion (billion laughs, external entities): 400, logged; in a session: SyncHdr 400 and the session goes on', async () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY a "aaaaaaaaaa">${Array.from({ length: 9 }, (_, i) => `<!ENTITY ${String.fromCharCode(98 + i)} "${`&${String.fromCharCode(97 + i)};`.repeat(10)}">`).join('')}]>`
      + `<SyncML xmlns="SYNCML:SYNCML1.2">${hdr('atk-xml')}<SyncBody><Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Replace><CmdID>2</CmdID><Item><Source><LocURI>./DevInfo/Man</LocURI></Source><Data>&j;</Data></Item></Replace><Final/></SyncBody></SyncML>`;
    const external = `<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY x SYSTEM "file:///etc/passwd">]><SyncML xmlns="SYNCML:SYNCML1.2">${hdr('atk-xml')}<SyncBody><Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Replace><CmdID>2</CmdID><Item><Source><LocURI>./DevInfo/Man</LocURI></Source><Data>&x;</Data></Item></Replace><Final/></SyncBody></SyncML>`;
    for (const body of [laughs, external]) {
      const mark = lines.length;
      const t = performance.now();
      const r = await post(url, body, { 'content-type': XML });
      expect(performance.now() - t).toBeLessThan(2000);
      expect(r.status).toBe(400);
      expect(r.bytes.toString()).toMatch(/not a SyncML message: .*(XML_UNDEFINED_ENTITY|entity)/);
      expect(since(mark, (l) => l.kind === 'error' && l.what === 'unparsable message')[0].error).toMatch(/entity/);
      expect(since(mark, (l) => l.kind === 'http-error' && l.status === 400).length).toBe(1);
    }
    await md5Device('atk-xml-s');
    await getJob('atk-xml-s');
    const { d, pkg2 } = await openSession('atk-xml-s', '5');
    const mark = lines.length;
    const r = await post(d.client.respUri!, laughs, { 'content-type': XML });
    expect(r.status).toBe(200);
    expect(headerCode(r.reply!)).toBe(400);
    expect(since(mark, (l) => l.kind === 'error' && l.what === 'unparsable message' && l.token !== undefined).length).toBe(1);
    await d.run(pkg2);
    expect((await server.store.listJobs({ deviceId: 'atk-xml-s' }))[0].state).toBe('answered');
  });

  it('deep nesting (XML and WBXML): 400 DEPTH_LIMIT, logged, quickly', async () => {
    const deepXml = `<SyncML xmlns="SYNCML:SYNCML1.2">${hdr('atk-deep')}<SyncBody>${'<Atomic><CmdID>1</CmdID>'.repeat(5000)}${'</Atomic>'.repeat(5000)}<Final/></SyncBody></SyncML>`;
    // WBXML: SyncML > SyncBody > Atomic x 50000 (tag 0x48 with content = 0x48 | 0x40).
    const b = new MessageBuilder({ verDTD: '1.2', verProto: 'DM/1.2', sessionId: '1', msgId: '1', target: { locUri: url }, source: { locUri: 'atk-deep' } });
    b.add({ kind: 'Alert', cmdId: '1', code: 1201, items: [] });
    b.final(true);
    const base = Buffer.from(serializeToBytes(b.build(), { encoding: 'wbxml' }));
    const deepWbxml = Buffer.concat([base.subarray(0, base.length - 2), Buffer.alloc(50000, 0x48 | 0x40), Buffer.alloc(50000, 0x01), base.subarray(base.length - 2)]);
    for (const [body, type] of [[Buffer.from(deepXml), XML], [deepWbxml, WBXML]] as const) {
      const mark = lines.length;
      const t = performance.now();
      const r = await post(url, body, { 'content-type': type });
      expect(performance.now() - t).toBeLessThan(2000);
      expect(r.status).toBe(400);
      expect(r.bytes.toString()).toMatch(/DEPTH_LIMIT|deeper/);
      expect(since(mark, (l) => l.kind === 'error' && l.what === 'unparsable message')[0].error).toMatch(/DEPTH_LIMIT|deeper/);
      expect(since(mark, (l) => l.kind === 'http-error' && l.status === 400).length).toBe(1);
    }
  });

  /** A real package 1 in WBXML whose DevInfo/Man value is `refs` references to one `tableLen`-byte string-table entry. */
  function stringTableBomb(deviceId: string, tableLen: number, refs: number): Buffer {
    const b = new MessageBuilder({ verDTD: '1.2', verProto: 'DM/1.2', sessionId: '1', msgId: '1', target: { locUri: url }, source: { locUri: deviceId } });
    b.add({ kind: 'Alert', cmdId: '1', code: 1201, items: [] });
    b.add({ kind: 'Replace', cmdId: '2', items: [{ source: { locUri: './DevInfo/Man' }, data: 'MARKER' }] });
    b.final(true);
    const base = Buffer.from(serializeToBytes(b.build(), { encoding: 'wbxml' }));
    expect(base[4]).toBe(0); // no string table of its own
    const marker = Buffer.concat([Buffer.from([0x03]), Buffer.from('MARKER'), Buffer.from([0])]);
    const at = base.indexOf(marker);
    const mb = (n: number) => {
      const out = [n & 0x7f];
      for (n >>>= 7; n > 0; n >>>= 7) out.unshift(0x80 | (n & 0x7f));
      return Buffer.from(out);
    };
    const table = Buffer.concat([Buffer.alloc(tableLen, 0x41), Buffer.from([0])]);
    const strT = Buffer.alloc(refs * 2);
    for (let i = 0; i < refs; i++) strT[2 * i] = 0x83; // STR_T index 0
    return Buffer.concat([base.subarray(0, 4), mb(table.length), table, base.subarray(5, at), strT, base.subarray(at + marker.length)]);
  }

  it('a WBXML string-table bomb (80 KB expanding to 512 MB): 413, logged, nothing stored, the server still answers', async () => {
    await server.store.putDevice({ id: 'atk-bomb', auth: { scheme: 'none' } }, now());
    const bomb = stringTableBomb('atk-bomb', 65536, 8000);
    expect(bomb.length).toBeLessThan(LIMIT);
    const mark = lines.length;
    const rss = process.memoryUsage().rss;
    const started = performance.now();
    const r = await post(url, bomb, { 'content-type': WBXML });
    expect(r.status).toBe(413);
    // Refused by the WBXML reader at the reference past 256 times the body's length: the table
    // string is not scanned 8000 times.
    expect(r.bytes.toString()).toMatch(/too much string-table text.*maxTableTextBytes/);
    expect(since(mark, (l) => l.kind === 'http-error' && l.status === 413)[0].reason).toMatch(/string-table/);
    expect(process.memoryUsage().rss - rss).toBeLessThan(200 * 1024 * 1024);
    expect(performance.now() - started).toBeLessThan(5000);
    expect((await server.store.getDevice('atk-bomb'))!.devInfo).toEqual({});
    // Under the reader's bound (40 references: 2.6 MB from 66 KB) but over the endpoint's own
    // (8 times its body limit for the whole message): 413 all the same.
    const smaller = stringTableBomb('atk-bomb', 65536, 40);
    const r2 = await post(url, smaller, { 'content-type': WBXML });
    expect(r2.status).toBe(413);
    expect(r2.bytes.toString()).toMatch(/expands to more than/);
    expect((await server.store.getDevice('atk-bomb'))!.devInfo).toEqual({});
    // A small honest use of the string table still passes.
    const fine = stringTableBomb('atk-bomb', 100, 20);
    const ok = await post(url, fine, { 'content-type': WBXML });
    expect(ok.status).toBe(200);
    expect((await server.store.getDevice('atk-bomb'))!.devInfo.Man).toBe('A'.repeat(2000));
  });

  it('oversized messages: declared or streamed over the limit, 413 without reading it all, logged', async () => {
    const mark = lines.length;
    const big = Buffer.alloc(LIMIT + 1, 0x20);
    expect((await post(url, big, { 'content-type': XML })).status).toBe(413);
    // Chunked transfer, no Content-Length: cut off once over the limit.
    const streamed = await new Promise<number>((resolve, reject) => {
      const u = new URL(url);
      const req = request({ method: 'POST', hostname: u.hostname, port: u.port, path: u.pathname, headers: { 'content-type': XML, 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 4 * LIMIT) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    }).catch(() => 413); // the server may close the socket before the whole upload is written
    expect(streamed).toBe(413);
    const errs = since(mark, (l) => l.kind === 'http-error' && l.status === 413);
    expect(errs.length).toBe(2);
    expect(errs[0].reason).toMatch(/over the limit/);
    // Still serving.
    const d = new HttpDevice(url, { deviceId: 'atk-after-big' });
    expect(headerCode(await d.send(d.client.pkg1()))).toBe(407);
  });
});

describe('session floods', () => {
  async function endpoint(caps: { maxUnauthenticatedSessions: number; maxSessionsPerDevice: number }) {
    const store = SqliteStore.open(':memory:');
    const log: Record<string, any>[] = [];
    const ep = createDmEndpoint({ store, ...caps, log: new JsonLogger({ write: (l: string) => log.push(JSON.parse(l)) }) });
    /** Posts a message as a device would (to its RespURI when it has one); returns the parsed answer. */
    const send = async (c: ScriptedClient, m: SyncML): Promise<SyncML> => {
      const u = c.respUri !== undefined ? new URL(c.respUri) : undefined;
      const r = await call(ep, { url: u ? `${u.pathname}${u.search}` : '/', headers: { 'content-type': XML }, body: xml(m) });
      expect(r.status).toBe(200);
      const reply = parse(new Uint8Array(r.body), { strict: false });
      c.read(reply);
      return reply;
    };
    return { store, ep, log, send };
  }

  it('a flood of unauthenticated package 1s is bounded; a device waiting for its challenge loses nothing', async () => {
    const { store, ep, log, send } = await endpoint({ maxUnauthenticatedSessions: 100, maxSessionsPerDevice: 4 });
    await store.putDevice({ id: 'flood-honest', auth: { scheme: 'md5', clientName: 'device01', clientSecret: 'secret' } }, now());
    const job = await store.addJob('flood-honest', { kind: 'command', command: { verb: 'Get', target: './A' } }, now());
    const honest = new ScriptedClient({ deviceId: 'flood-honest', sessionId: '1' });
    expect(headerCode(await send(honest, honest.pkg1()))).toBe(407);
    for (let i = 0; i < 1000; i++) {
      const c = new ScriptedClient({ deviceId: `flood-${i % 300}`, sessionId: String(i) });
      expect(headerCode(await send(c, c.pkg1()))).toBe(407);
    }
    expect(ep.openSessions).toBeLessThanOrEqual(100);
    await eventually(() => log.filter((l) => l.kind === 'session-evicted').length >= 900, 5000, 'the evictions');
    // The honest device's pending session was evicted long ago; its answer to the challenge opens a new one.
    const pkg2 = await send(honest, honest.pkg1({ cred: honest.cred('md5') }));
    expect(headerCode(pkg2)).toBe(212);
    expect(commandsOf(pkg2).map((c) => c.kind)).toEqual(['Get']);
    expect(headerCode(await send(honest, honest.answer(pkg2)))).toBe(200);
    expect((await store.getJob(job.id))!.state).toBe('answered');
    await ep.close();
  });

  it("a device with valid credentials cannot pile up sessions; unauthenticated requests in its name never end its own", async () => {
    const { store, ep, log, send } = await endpoint({ maxUnauthenticatedSessions: 1000, maxSessionsPerDevice: 4 });
    await store.putDevice({ id: 'pile', auth: { scheme: 'basic', clientName: 'device01', clientSecret: 'secret' } }, now());
    const job = await store.addJob('pile', { kind: 'command', command: { verb: 'Get', target: './A' } }, now());
    // The device's real session: package 2 with the job.
    const real = new ScriptedClient({ deviceId: 'pile', sessionId: 'AAAA' });
    const pkg2 = await send(real, real.pkg1({ cred: real.cred('basic') }));
    expect(commandsOf(pkg2).length).toBe(1);
    // Someone without the password opens sessions in its name: they do not count against it.
    for (let i = 0; i < 50; i++) {
      const x = new ScriptedClient({ deviceId: 'pile', sessionId: `S${i}` });
      expect(headerCode(await send(x, x.pkg1()))).toBe(407);
    }
    expect(headerCode(await send(real, real.answer(pkg2)))).toBe(200);
    expect((await store.getJob(job.id))!.state).toBe('answered');
    // The device itself opens twenty sessions and leaves them open: four stay.
    const before = ep.openSessions;
    for (let i = 0; i < 20; i++) {
      const x = new ScriptedClient({ deviceId: 'pile', sessionId: `P${i}` });
      expect(headerCode(await send(x, x.pkg1({ cred: x.cred('basic'), final: false })))).toBe(212);
    }
    expect(ep.openSessions - before).toBeLessThanOrEqual(4);
    await eventually(() => log.filter((l) => l.kind === 'session-evicted' && l.device === 'pile').length >= 16, 2000, 'sixteen evictions');
    await ep.close();
  });
});

