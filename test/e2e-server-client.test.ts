/**
 * The reference server and the reference client together, over real loopback HTTP and HTTPS (a
 * self-signed certificate made in-process): a DmServer with its SQLite store and admin API, and
 * DmClients with their own stores and the real HTTP transport. Everything is asserted where an
 * operator would look: the admin API (devices, jobs, results, trees, alerts, sessions,
 * notifications, auth events), and on the device side the session reports and the tree.
 *
 * Scenarios: client-initiated sessions (XML and WBXML) with the first md5 challenge; package 0
 * through the push router; basic / md5 / HMAC, wrong credentials and a replayed nonce; DM 1.1.2
 * and the 1.2 -> 1.1.2 fallback; multi-message packages both ways; large objects both ways; FUMO
 * campaigns to the Generic Alert (success, installer failure, hash mismatch); user-interaction
 * alerts; an Atomic rolled back.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../src/cli/self-signed.js';
import { fromBase64, hmacDigest, parseHmacHeader } from '../src/dm/index.js';
import { parse, type Replace, type Results } from '../src/syncml/index.js';
import {
  addDevice, CLIENT_NAME, enc, hdrStatus, nonStatus, openClient, queue, SERVER_ID, SERVER_SECRET, startEnv, vendorSetup,
  type Env,
} from './e2e-helpers.js';
import { post } from './server-helpers.js';

const CERT = selfSignedCertificate(['127.0.0.1', 'localhost']);

describe.each([
  { proto: 'http' as const },
  { proto: 'https' as const },
])('over $proto', ({ proto }) => {
  let env: Env;
  const https_ = proto === 'https';

  beforeAll(async () => {
    env = await startEnv({ ...(https_ ? { tls: CERT } : {}), session: { serverId: SERVER_ID, maxJobsPerPackage: 64 } });
    expect(env.url.startsWith(`${proto}://127.0.0.1:`)).toBe(true);
  });
  afterAll(async () => {
    await env?.stop();
  });

  describe.each(['xml', 'wbxml'] as const)('1. client-initiated, %s', (encoding) => {
    it('md5 with the first challenge (407 + Chal -> 212), DevInfo and a Get of ./DevDetail stored on the server', async () => {
      const id = `IMEI:35693803564380${encoding === 'xml' ? 1 : 2}`;
      await addDevice(env, id, 'md5');
      const list = await queue(env, id, { kind: 'command', command: { verb: 'Get', target: './DevDetail' } });
      const swv = await queue(env, id, { kind: 'command', command: { verb: 'Get', target: './DevDetail/SwV' } });
      const before = Date.now();
      const { client, transport } = await openClient(env, id, {
        encoding, devInfo: { man: 'Acme', mod: 'Phone X', lang: 'fr-FR' }, devDetail: { swV: '4.2.1', fwV: 'fw-7' },
      });
      const report = await client.runSession();
      expect(report).toMatchObject({ reason: 'completed', version: '1.2', fellBack: false, serverAuthenticated: true, serverId: SERVER_ID });

      // The exchange on the wire: no Cred (no nonce yet) -> 407 + md5 Chal -> Cred -> 212.
      const log = transport.log;
      expect(log.length).toBeGreaterThanOrEqual(3);
      for (const x of log) {
        expect(x.req.headers['content-type']).toBe(`application/vnd.syncml.dm+${encoding}`);
        expect(x.res.contentType).toBe(`application/vnd.syncml.dm+${encoding}`);
        if (encoding === 'wbxml') expect(x.res.body[0]).toBe(0x02);
        else expect(Buffer.from(x.res.body.subarray(0, 40)).toString('latin1')).toMatch(/^<\?xml|^<SyncML/);
      }
      expect(log[0].sent.header.cred).toBeUndefined();
      expect(log[0].sent.body.commands.some((c) => c.kind === 'Alert' && c.code === 1201)).toBe(true);
      expect(hdrStatus(log[0].got)).toMatchObject({ code: 407, chal: { meta: { type: 'syncml:auth-md5', format: 'b64' } } });
      expect(log[1].sent.header.cred?.meta?.type).toBe('syncml:auth-md5');
      expect(log[1].sent.header.sessionId).toBe(log[0].sent.header.sessionId);
      expect(log[1].sent.header.msgId).toBe('2');
      expect(log[1].req.url).toBe(log[0].got!.header.respUri);
      expect(hdrStatus(log[1].got)?.code).toBe(212);
      expect(nonStatus(log[1].got)).toEqual(['Get', 'Get']);

      // What the operator sees.
      const dev = (await env.A(`/api/devices/${enc(id)}`)).json;
      expect(dev).toMatchObject({
        dmVersion: '1.2', devInfo: { DevId: id, Man: 'Acme', Mod: 'Phone X', DmV: '1.2', Lang: 'fr-FR' },
        auth: { scheme: 'md5', hasClientSecret: true, hasServerSecret: true },
      });
      expect(dev.firstSeen).toBeGreaterThanOrEqual(before);
      expect(dev.lastSeen).toBeGreaterThanOrEqual(dev.firstSeen);
      const j1 = (await env.A(`/api/jobs/${list.id}`)).json;
      expect(j1).toMatchObject({ state: 'answered', attempts: 1, statuses: [{ cmd: 'Get', code: 200 }], results: [{ uri: './DevDetail', format: 'node' }] });
      expect(j1.results[0].data.split('/')).toEqual(expect.arrayContaining(['DevTyp', 'OEM', 'FwV', 'SwV', 'HwV']));
      expect((await env.A(`/api/jobs/${swv.id}`)).json).toMatchObject({ state: 'answered', results: [{ uri: './DevDetail/SwV', data: '4.2.1' }] });
      const tree = new Map<string, string>((await env.A(`/api/devices/${enc(id)}/tree`)).json.map((n: { uri: string; data: string }) => [n.uri, n.data]));
      expect(tree.get('./DevDetail/SwV')).toBe('4.2.1');
      expect(tree.get('./DevDetail')).toBe(j1.results[0].data);
      expect(tree.get('./DevInfo/Man')).toBe('Acme');
      const sessions = (await env.A(`/api/sessions?device=${enc(id)}`)).json;
      expect(sessions[0]).toMatchObject({ sessionId: report.sessionId, reason: 'completed', authenticated: true, initiator: 'client', version: '1.2' });
      const events = (await env.A(`/api/auth-events?device=${enc(id)}`)).json;
      expect(events.map((e: { outcome: string; code: number }) => `${e.outcome} ${e.code}`).sort()).toEqual(['accepted 212', 'challenged 407']);

      // A second session uses the nonce of the 212's Chal: no challenge this time.
      transport.clear();
      const again = await client.runSession();
      expect(again.reason).toBe('completed');
      expect(transport.log[0].sent.header.cred?.meta?.type).toBe('syncml:auth-md5');
      expect(hdrStatus(transport.log[0].got)?.code).toBe(212);
      const dev2 = (await env.A(`/api/devices/${enc(id)}`)).json;
      expect(dev2.firstSeen).toBe(dev.firstSeen);
      expect(dev2.lastSeen).toBeGreaterThanOrEqual(dev.lastSeen);
    });
  });

  it('2. server-initiated: package 0 written by the push sender, verified by the push router, Alert 1200 paired with it', async () => {
    const id = 'IMEI:490154203237518';
    await addDevice(env, id, 'md5');
    const { client, transport, trace } = await openClient(env, id);
    // A first session gives the server the device's nonce for the package 0 digest.
    expect((await client.runSession()).reason).toBe('completed');
    const job = await queue(env, id, { kind: 'command', command: { verb: 'Add', target: './Vendor/Mode', data: 'on' } });
    const n = await env.A(`/api/devices/${enc(id)}/notify`, { uiMode: 'background' });
    expect(n.status).toBe(201);
    const file = readdirSync(env.pushDir).find((f) => f.endsWith(`-${n.json.sessionId}.bin`));
    expect(file).toBeDefined();
    const bytes = new Uint8Array(readFileSync(`${env.pushDir}/${file}`));
    expect(Buffer.from(bytes).toString('base64')).toBe(n.json.package0);
    transport.clear();
    trace.length = 0;
    const outcome = await client.handleNotification(bytes);
    expect(outcome).toMatchObject({ action: 'started', nonceUsed: 'stored', notification: { serverId: SERVER_ID, uiMode: 'background', sessionIdHex: n.json.sessionId } });
    if (outcome.action !== 'started') throw new Error('not started');
    expect(outcome.result).toMatchObject({ reason: 'completed', sessionId: n.json.sessionId, serverAuthenticated: true });
    const pkg1 = transport.log[0].sent;
    expect(pkg1.header.sessionId).toBe(n.json.sessionId);
    expect(pkg1.body.commands.find((c) => c.kind === 'Alert')).toMatchObject({ code: 1200 });
    expect(trace.find((e) => e.direction === 'out')!.lines).toContain('  Alert 1200 SERVER-INITIATED MGMT');
    expect(client.tree.info('./Vendor/Mode')?.value).toBe('on');
    // The server paired the session with the notification.
    const notes = (await env.A(`/api/notifications?device=${enc(id)}`)).json;
    expect(notes[0]).toMatchObject({ sessionId: n.json.sessionId, delivery: `file ${file}` });
    expect(notes[0].answeredAt).toBeGreaterThan(0);
    const sessions = (await env.A(`/api/sessions?device=${enc(id)}`)).json;
    const s = sessions.find((x: { sessionId: string }) => x.sessionId === n.json.sessionId);
    expect(s).toMatchObject({ initiator: 'server', reason: 'completed', authenticated: true, token: notes[0].session });
    expect((await env.A(`/api/jobs/${job.id}`)).json).toMatchObject({ state: 'answered', statuses: [{ cmd: 'Add', code: 200 }] });
    // The same package 0 again: the session rotated the server nonce, so its digest no longer
    // verifies; the router drops it, no session.
    transport.clear();
    expect(await client.handleNotification(bytes)).toMatchObject({ action: 'rejected', reason: expect.stringMatching(/digest/) });
    expect(transport.log).toEqual([]);
  });

  describe('3. authentication', () => {
    it.each(['basic', 'md5', 'hmac'] as const)('%s completes a session with a job', async (scheme) => {
      const id = `dev-auth-${scheme}`;
      await addDevice(env, id, scheme, scheme === 'hmac' ? { serverScheme: 'hmac' } : {});
      const job = await queue(env, id, { kind: 'command', command: { verb: 'Get', target: './DevInfo/Mod' } });
      const { client, transport } = await openClient(env, id, { scheme, ...(scheme === 'hmac' ? { serverScheme: 'hmac' as const } : {}) });
      const report = await client.runSession();
      expect(report).toMatchObject({ reason: 'completed', serverAuthenticated: true });
      const log = transport.log;
      if (scheme === 'basic') {
        // Basic needs no nonce: credentials in package 1, 212 at once.
        expect(log[0].sent.header.cred?.meta?.type).toBe('syncml:auth-basic');
        expect(hdrStatus(log[0].got)?.code).toBe(212);
      }
      if (scheme === 'md5') {
        expect(hdrStatus(log[0].got)?.code).toBe(407);
        expect(hdrStatus(log[1].got)?.code).toBe(212);
      }
      if (scheme === 'hmac') {
        // 407 + MAC Chal, then x-syncml-hmac on every message both ways, each SyncHdr 200 with a new nonce.
        expect(hdrStatus(log[0].got)).toMatchObject({ code: 407, chal: { meta: { type: 'syncml:auth-MAC' } } });
        const nonces = new Set<string>();
        for (const x of log.slice(1)) {
          expect(x.req.headers['x-syncml-hmac']).toMatch(new RegExp(`username="${CLIENT_NAME}"`));
          expect(x.sent.header.cred).toBeUndefined();
          expect(x.res.hmacHeader).toBeDefined();
          expect(parseHmacHeader(x.res.hmacHeader!).username).toBe(SERVER_ID);
          const hs = hdrStatus(x.got)!;
          expect(hs).toMatchObject({ code: 200, chal: { meta: { type: 'syncml:auth-MAC' } } });
          nonces.add(String(hs.chal!.meta!.nextNonce));
        }
        expect(nonces.size).toBe(log.length - 1);
        // Each server MAC: over its exact bytes, keyed with the nonce the device gave it last (the
        // Chal of the device's Status for the server's SyncHdr).
        let given: Uint8Array | undefined;
        let checked = 0;
        for (const x of log) {
          const nn = hdrStatus(x.sent)?.chal?.meta?.nextNonce;
          if (nn !== undefined) given = typeof nn === 'string' ? fromBase64(nn) : nn;
          if (x === log[0] || given === undefined) continue;
          expect(parseHmacHeader(x.res.hmacHeader!).mac).toBe(hmacDigest(SERVER_ID, SERVER_SECRET, given, x.res.body));
          checked++;
        }
        expect(checked).toBe(log.length - 1);
        expect(client.accounts()[0].serverCred.nonce).toEqual(given);
      }
      expect((await env.A(`/api/jobs/${job.id}`)).json).toMatchObject({ state: 'answered', results: [{ uri: './DevInfo/Mod', data: 'reference client' }] });
      const events = (await env.A(`/api/auth-events?device=${id}`)).json;
      expect(events.some((e: { outcome: string }) => e.outcome === 'accepted')).toBe(true);
      expect(events.some((e: { outcome: string }) => e.outcome === 'refused')).toBe(false);
    });

    it('a wrong client password: the session fails (authentication-failed), the server records the failures and closes after three', async () => {
      const id = 'dev-wrong';
      await addDevice(env, id, 'md5');
      const job = await queue(env, id, { kind: 'command', command: { verb: 'Get', target: './DevInfo/Mod' } });
      const { client, transport } = await openClient(env, id, { password: 'not-the-password' });
      const report = await client.runSession();
      expect(report).toMatchObject({ reason: 'authentication-failed', code: 401 });
      // No Cred (no nonce yet) -> 407 + Chal; wrong digest -> 401 + Chal; wrong again -> the third
      // failure: 401 without Chal, and the server closes the session.
      const hs = transport.log.map((x) => hdrStatus(x.got));
      expect(hs.map((h) => h?.code)).toEqual([407, 401, 401]);
      expect(hs.map((h) => h?.chal !== undefined)).toEqual([true, true, false]);
      expect(transport.log.map((x) => x.sent.header.cred !== undefined)).toEqual([false, true, true]);
      // No message of the server carried a command.
      expect(transport.log.every((x) => nonStatus(x.got).length === 0)).toBe(true);
      const events = (await env.A(`/api/auth-events?device=${id}`)).json;
      expect(events.map((e: { outcome: string; code: number }) => `${e.outcome} ${e.code}`).reverse()).toEqual(['challenged 407', 'challenged 401', 'refused 401']);
      const sessions = (await env.A(`/api/sessions?device=${id}`)).json;
      expect(sessions).toHaveLength(1);
      expect(sessions[0]).toMatchObject({ sessionId: report.sessionId, reason: 'auth-failed', authenticated: false, messagesIn: 3, messagesOut: 3 });
      expect(sessions[0].endedAt).toBeGreaterThan(0);
      expect((await env.A('/api/health')).json.openSessions).toBe(0);
      expect((await env.A(`/api/jobs/${job.id}`)).json).toMatchObject({ state: 'queued', attempts: 0, statuses: [] });
    });

    it('a replayed package 1 (its nonce used) is refused and executes nothing', async () => {
      const id = 'dev-replay';
      await addDevice(env, id, 'md5');
      const { client, transport } = await openClient(env, id, { encoding: 'wbxml' });
      expect((await client.runSession()).reason).toBe('completed'); // 407 -> 212: the client now holds a nonce
      const job = await queue(env, id, { kind: 'command', command: { verb: 'Get', target: './DevDetail/FwV' } });
      transport.clear();
      expect((await client.runSession()).reason).toBe('completed');
      const captured = transport.log[0];
      expect(captured.sent.header.msgId).toBe('1');
      expect(captured.sent.header.cred?.meta?.type).toBe('syncml:auth-md5');
      expect(hdrStatus(captured.got)?.code).toBe(212);
      expect((await env.A(`/api/jobs/${job.id}`)).json).toMatchObject({ state: 'answered', attempts: 1, statuses: [{ code: 200 }] });
      // A second job is waiting: a replay must not get it either.
      const job2 = await queue(env, id, { kind: 'command', command: { verb: 'Replace', target: './Vendor/X', data: 'evil' } });
      const replay = await post(captured.req.url, captured.req.body, { 'content-type': captured.req.headers['content-type'] }, { ca: https_ ? CERT.cert : undefined });
      expect(replay.status).toBe(200);
      const r = replay.reply!;
      expect([401, 407]).toContain(hdrStatus(r)?.code);
      expect(nonStatus(r)).toEqual([]);
      expect((await env.A(`/api/jobs/${job.id}`)).json).toMatchObject({ state: 'answered', attempts: 1, statuses: [{ code: 200 }] });
      expect((await env.A(`/api/jobs/${job2.id}`)).json).toMatchObject({ state: 'queued', attempts: 0 });
      const events = (await env.A(`/api/auth-events?device=${id}`)).json;
      expect(events[0]).toMatchObject({ code: 401 });
    });
  });

  describe('4. DM 1.1.2', () => {
    it('a 1.1.2 client: the session runs in SyncML 1.1 / DM/1.1, a queued Replace completes, DmV is 1.1.2', async () => {
      const id = 'dev-112';
      await addDevice(env, id, 'md5');
      const job = await queue(env, id, { kind: 'command', command: { verb: 'Replace', target: './Vendor/Mode', data: 'on' } });
      const get = await queue(env, id, { kind: 'command', command: { verb: 'Get', target: './DevInfo/DmV' } });
      const { client, transport } = await openClient(env, id, { protocol: '1.1.2', encoding: 'wbxml', setup: vendorSetup({ Mode: 'off' }) });
      const report = await client.runSession();
      expect(report).toMatchObject({ reason: 'completed', version: '1.1.2', fellBack: false, serverAuthenticated: true });
      for (const x of transport.log) {
        expect(x.sent.header).toMatchObject({ verDTD: '1.1', verProto: 'DM/1.1' });
        expect(x.got!.header).toMatchObject({ verDTD: '1.1', verProto: 'DM/1.1' });
        // WBXML public id 0x0FD3 (SyncML 1.1) both ways.
        expect([...x.req.body.subarray(0, 3)]).toEqual([0x02, 0x9f, 0x53]);
        expect([...x.res.body.subarray(0, 3)]).toEqual([0x02, 0x9f, 0x53]);
      }
      expect(transport.log[1].sent.header.cred?.meta?.type).toBe('syncml:auth-md5');
      expect(client.tree.info('./Vendor/Mode')?.value).toBe('on');
      expect((await env.A(`/api/jobs/${job.id}`)).json).toMatchObject({ state: 'answered', statuses: [{ cmd: 'Replace', code: 200 }] });
      expect((await env.A(`/api/jobs/${get.id}`)).json).toMatchObject({ state: 'answered', results: [{ uri: './DevInfo/DmV', data: '1.1.2' }] });
      const dev = (await env.A(`/api/devices/${id}`)).json;
      expect(dev).toMatchObject({ dmVersion: '1.1.2', devInfo: { DmV: '1.1.2' } });
      expect((await env.A(`/api/sessions?device=${id}`)).json[0]).toMatchObject({ version: '1.1.2', reason: 'completed', authenticated: true });
    });

    it('the 1.2 -> 1.1.2 fallback, against the server behind a front end that refuses DM 1.2 (HTTP 400)', async () => {
      // DmServer itself has no switch to refuse 1.2; an old server is played by a proxy that
      // answers any DM/1.2 message with HTTP 400 and passes the rest to the real server.
      const front = await refusing12Proxy(env.url, env.cert?.cert);
      try {
        const id = 'dev-fallback';
        await addDevice(env, id, 'md5');
        const get = await queue(env, id, { kind: 'command', command: { verb: 'Get', target: './DevInfo/DmV' } });
        const { client, transport } = await openClient(env, id, { url: front.url, encoding: 'xml' });
        const report = await client.runSession();
        expect(report).toMatchObject({ reason: 'completed', version: '1.1.2', fellBack: true });
        expect(front.refused).toBe(1);
        expect(transport.log[0].res.status).toBe(400);
        expect(transport.log[0].sent.header.verProto).toBe('DM/1.2');
        for (const x of transport.log.slice(1)) expect(x.sent.header).toMatchObject({ verDTD: '1.1', verProto: 'DM/1.1' });
        expect((await env.A(`/api/jobs/${get.id}`)).json).toMatchObject({ state: 'answered', results: [{ data: '1.1.2' }] });
        expect((await env.A(`/api/devices/${id}`)).json).toMatchObject({ dmVersion: '1.1.2', devInfo: { DmV: '1.1.2' } });
        // The fallback is remembered: the next session starts in 1.1.2.
        transport.clear();
        expect(await client.runSession()).toMatchObject({ reason: 'completed', version: '1.1.2', fellBack: false });
        expect(front.refused).toBe(1);
        expect(transport.log[0].sent.header.verProto).toBe('DM/1.1');
      } finally {
        front.close();
      }
    });
  });

  it('5. multi-message packages: 40 jobs, a 3 KB client MaxMsgSize, a 4 KB server MaxMsgSize, every job answered once', async () => {
    const id = 'dev-multi';
    const encoding = https_ ? 'wbxml' : 'xml';
    const small = await startEnv({ ...(https_ ? { tls: CERT } : {}), session: { serverId: SERVER_ID, maxMsgSize: 4096, maxJobsPerPackage: 64 } });
    try {
      await addDevice(small, id, 'basic');
      const value = (i: number) => `value-${i}-${'x'.repeat(300)}`;
      const jobs = [];
      for (let i = 0; i < 20; i++) jobs.push(await queue(small, id, { kind: 'command', command: { verb: 'Add', target: `./Vendor/M/N${i}`, data: value(i) } }));
      for (let i = 0; i < 20; i++) jobs.push(await queue(small, id, { kind: 'command', command: { verb: 'Get', target: `./Vendor/M/N${i}` } }));
      const { client, transport } = await openClient(small, id, { scheme: 'basic', maxMsgSize: 3072, encoding });
      // The device comes back with 30 events to report: package 1 carries 32 commands.
      for (let i = 0; i < 30; i++) await client.queueGenericAlert({ type: 'com.example.boot', data: `boot ${i}` });
      const report = await client.runSession();
      expect(report.reason).toBe('completed');
      expect(report.alertsAcknowledged).toHaveLength(30);
      expect(client.pendingAlerts()).toEqual([]);
      const log = transport.log;
      // The server's package 2 spans several messages: the Statuses for package 1's 32 commands do
      // not fit 3 KB, the rest of them and the jobs follow; no Final before the last message, each
      // earlier one answered with Alert 1222.
      const lastOfPkg2 = log.findIndex((x) => x.got!.body.final);
      const pkg2 = log.slice(0, lastOfPkg2 + 1);
      expect(pkg2.length).toBeGreaterThanOrEqual(2);
      for (const x of pkg2.slice(0, -1)) {
        expect(x.got!.body.final).toBe(false);
        const next = log[log.indexOf(x) + 1].sent;
        expect(next.body.final).toBe(false);
        expect(nonStatus(next)).toEqual(['Alert 1222']);
      }
      const pkg1Statuses = pkg2.flatMap((x) => x.got!.body.commands.filter((c) => c.kind === 'Status' && c.msgRef === '1'));
      expect(pkg1Statuses.map((c) => (c as { cmdRef: string }).cmdRef)).toEqual(Array.from({ length: 33 }, (_, i) => String(i)));
      expect(pkg2.flatMap((x) => nonStatus(x.got))).toContain('Add');
      const stored = (await small.A(`/api/alerts?device=${id}`)).json;
      expect(stored).toHaveLength(30);
      expect(stored.every((a: { jobId?: string; type: string }) => a.jobId === undefined && a.type === 'com.example.boot')).toBe(true);
      for (const x of log) {
        expect(x.res.body.length).toBeLessThanOrEqual(3072);
        // (Package 1 goes before the device knows the server's limit.)
        if (x !== log[0]) expect(x.req.body.length).toBeLessThanOrEqual(4096);
        expect(x.sent.header.meta?.maxMsgSize).toBe(3072);
        expect(x.got!.header.meta?.maxMsgSize).toBe(4096);
      }
      // The device's Results do not fit one message of the server's: its package spans several,
      // Final on the last only, each earlier one answered by the server with Alert 1222 (no Final).
      const continued = log.filter((x) => !x.sent.body.final && x.sent.body.commands.some((c) => c.kind === 'Results'));
      expect(continued.length).toBeGreaterThanOrEqual(1);
      for (const x of continued) {
        expect(x.got!.body.final).toBe(false);
        expect(nonStatus(x.got)).toEqual(['Alert 1222']);
        expect(log[log.indexOf(x) + 1].sent.header.msgId).toBe(String(Number(x.sent.header.msgId) + 1));
      }
      // A server message without Final (its package goes on) is answered without Final, with
      // Alert 1222 when the device has nothing else to send.
      for (const x of log) {
        if (x.got!.body.final || nonStatus(x.got).includes('Alert 1222')) continue;
        const next = log[log.indexOf(x) + 1].sent;
        expect(next.body.final).toBe(false);
        if (!next.body.commands.some((c) => c.kind === 'Results')) expect(nonStatus(next)).toContain('Alert 1222');
      }
      // Every command went out once and was answered once.
      const sent = log.flatMap((x) => nonStatus(x.got).filter((k) => k === 'Add' || k === 'Get'));
      expect(sent).toHaveLength(40);
      for (const j of jobs) {
        const r = (await small.A(`/api/jobs/${j.id}`)).json;
        expect(r).toMatchObject({ state: 'answered', attempts: 1 });
        expect(r.statuses).toHaveLength(1);
        expect(r.statuses[0].code).toBe(200);
        if (r.spec.command.verb === 'Get') {
          expect(r.results).toHaveLength(1);
          expect(r.results[0]).toMatchObject({ uri: r.spec.command.target, data: value(Number(r.spec.command.target.slice(12))) });
        }
      }
      expect((await small.A(`/api/results?device=${id}`)).json).toHaveLength(20);
      expect(client.tree.info('./Vendor/M')?.children).toHaveLength(20);
    } finally {
      await small.stop();
    }
  });

  describe('6. large objects', () => {
    it('server -> client: a FUMO Update with 40 KB of PkgData in chunks under a 4 KB client MaxMsgSize, State 100', async () => {
      const id = 'dev-lo-out';
      const pkg = randomBytes(40_000);
      await addDevice(env, id, 'md5');
      const c = await env.A('/api/fumo', { devices: [id], node: './FUMO/pkg1', operation: 'Update', pkgDataBase64: pkg.toString('base64'), campaign: `update-${proto}` });
      expect(c.status).toBe(201);
      const installed: Buffer[] = [];
      const states: number[] = [];
      const { client, transport } = await openClient(env, id, {
        maxMsgSize: 4096, encoding: 'wbxml', onFumoState: (_i, _f, to) => states.push(to),
        fumo: { instances: ['pkg1'], installer: { install: (_job, file) => { installed.push(readFileSync(file)); return 200; } } },
      });
      const report = await client.runSession();
      expect(report.reason).toBe('completed');
      const log = transport.log;
      for (const x of log) expect(x.res.body.length).toBeLessThanOrEqual(4096);
      const chunks = log.flatMap((x) => x.got!.body.commands.filter((k): k is Replace => k.kind === 'Replace' && k.items[0]?.target?.locUri === './FUMO/pkg1/Update/PkgData'));
      expect(chunks.length).toBeGreaterThan(10);
      expect(chunks[0].items[0].meta?.size).toBe(pkg.length);
      expect(chunks.slice(0, -1).every((k) => k.items[0].moreData === true)).toBe(true);
      expect(chunks.at(-1)!.items[0].moreData).toBeFalsy();
      const statuses213 = log.flatMap((x) => x.sent.body.commands.filter((k) => k.kind === 'Status' && k.cmd === 'Replace' && k.code === 213));
      expect(statuses213).toHaveLength(chunks.length - 1);
      expect(installed).toHaveLength(1);
      expect(installed[0].equals(pkg)).toBe(true);
      expect(states).toContain(100);
      expect(client.tree.info('./FUMO/pkg1/State')?.value).toBe('100');
      const job = (await env.A(`/api/jobs/${c.json.jobs[0].id}`)).json;
      expect(job).toMatchObject({ state: 'done', fumo: { resultCode: 200, finalState: 100 } });
      const data = job.statuses.filter((x: { step: string }) => x.step === 'set-url');
      expect(data.at(-1).code).toBe(200);
      expect(data.slice(0, -1).every((x: { code: number }) => x.code === 213)).toBe(true);
    });

    describe('client -> server, under a 4 KB server MaxMsgSize', () => {
      let small: Env;
      beforeAll(async () => {
        small = await startEnv({ ...(https_ ? { tls: CERT } : {}), session: { serverId: SERVER_ID, maxMsgSize: 4096 } });
      });
      afterAll(async () => {
        await small?.stop();
      });

      it('a Get of a 50 KB node: Results in chunks, reassembled and stored intact', async () => {
        const id = 'dev-lo-in';
        const value = randomBytes(50_000);
        await addDevice(small, id, 'md5');
        const job = await queue(small, id, { kind: 'command', command: { verb: 'Get', target: './Vendor/Log' } });
        const { client, transport } = await openClient(small, id, { encoding: https_ ? 'wbxml' : 'xml', setup: vendorSetup({ Log: new Uint8Array(value) }) });
        const report = await client.runSession();
        expect(report.reason).toBe('completed');
        const log = transport.log;
        for (const x of log.slice(1)) expect(x.req.body.length).toBeLessThanOrEqual(4096);
        const pieces = log.flatMap((x) => x.sent.body.commands.filter((k): k is Results => k.kind === 'Results'));
        expect(pieces.length).toBeGreaterThan(10);
        // Meta/Size is the transmitted size: the bytes in WBXML, the base64 text in XML.
        expect(pieces[0].items[0].meta?.size).toBe(https_ ? value.length : value.toString('base64').length);
        expect(pieces.slice(0, -1).every((k) => k.items[0].moreData === true)).toBe(true);
        const acks = log.flatMap((x) => x.got!.body.commands.filter((k) => k.kind === 'Status' && k.cmd === 'Results' && k.code === 213));
        expect(acks).toHaveLength(pieces.length - 1);
        const j = (await small.A(`/api/jobs/${job.id}`)).json;
        expect(j.state).toBe('answered');
        expect(j.results).toHaveLength(1);
        // Stored intact: bytes (WBXML) or, as the device sent it in XML, base64 text with Format b64.
        const bytesOf = (n: { data: string; encoding: string; format?: string }) =>
          n.encoding === 'base64' || n.format === 'b64' ? Buffer.from(n.data, 'base64') : Buffer.from(n.data, 'utf8');
        expect(j.results[0]).toMatchObject(https_ ? { encoding: 'base64', format: 'bin' } : { encoding: 'text', format: 'b64' });
        expect(bytesOf(j.results[0]).equals(value)).toBe(true);
        const node = (await small.A(`/api/devices/${id}/tree`)).json.find((n: { uri: string }) => n.uri === './Vendor/Log');
        expect(bytesOf(node).equals(value)).toBe(true);
      });
    });
  });

  describe('7. FUMO campaigns through the admin API, the package over HTTPS', () => {
    const FIRMWARE = randomBytes(150_000);
    const SHA = createHash('sha256').update(FIRMWARE).digest('hex');
    let pkgBase: string;
    let pkgServer: https.Server;
    const downloads: string[] = [];
    beforeAll(async () => {
      pkgServer = https.createServer({ cert: CERT.cert, key: CERT.key }, (rq, rs) => {
        downloads.push(rq.url ?? '');
        if (rq.url !== '/fw-2.0.bin') { rs.writeHead(404).end(); return; }
        rs.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(FIRMWARE.length) });
        rs.end(FIRMWARE);
      });
      await new Promise<void>((r) => pkgServer.listen(0, '127.0.0.1', r));
      pkgBase = `https://127.0.0.1:${(pkgServer.address() as AddressInfo).port}`;
    });
    afterAll(() => {
      pkgServer.closeAllConnections?.();
      pkgServer.close();
    });

    const fumoClient = (id: string, install: () => number | void) => {
      const installed: Buffer[] = [];
      const progress: number[] = [];
      const states: number[] = [];
      return openClient(env, id, {
        storeDir: `${env.dir}/devices`,
        onFumoState: (_i, _f, to) => states.push(to),
        fumo: {
          instances: ['pkg1'], tls: { ca: CERT.cert },
          onDownloadProgress: (_j, p) => progress.push(p.received),
          installer: { install: (_j, file) => { installed.push(readFileSync(file)); return install(); } },
        },
      }).then((r) => ({ ...r, installed, progress, states }));
    };

    it('downloads, installs (200), reports 1226 with the Correlator in a new session: campaign done, State 100', async () => {
      const id = 'dev-fumo-ok';
      await addDevice(env, id, 'md5');
      const campaign = `spring-${proto}`;
      const c = await env.A('/api/fumo', { devices: [id], node: './FUMO/pkg1', pkgUrl: `${pkgBase}/fw-2.0.bin`, campaign });
      expect(c.status).toBe(201);
      const jobId = c.json.jobs[0].id;
      const run = await fumoClient(id, () => 200);
      const report = await run.client.runSession();
      expect(report.reason).toBe('completed');
      expect(report.jobs).toEqual([expect.objectContaining({ instance: './FUMO/pkg1', operation: 'DownloadAndUpdate', correlator: `fumo-${jobId}` })]);
      expect(run.progress.length).toBeGreaterThan(0);
      expect(run.progress.at(-1)).toBe(FIRMWARE.length);
      expect(run.installed).toHaveLength(1);
      expect(run.installed[0].equals(FIRMWARE)).toBe(true);
      expect(run.states).toEqual([30, 40, 50, 60, 100]);
      // The report: a new client-initiated session whose package 1 carries the Generic Alert.
      const sessions = [...new Set(run.transport.log.map((x) => x.sent.header.sessionId))];
      expect(sessions).toHaveLength(2);
      const reportPkg1 = run.transport.log.find((x) => x.sent.header.sessionId === sessions[1])!.sent;
      expect(nonStatus(reportPkg1)).toEqual(['Alert 1201', 'Replace', 'Alert 1226']);
      const ga = reportPkg1.body.commands.find((k) => k.kind === 'Alert' && k.code === 1226);
      expect(ga).toMatchObject({ correlator: `fumo-${jobId}`, items: [{ source: { locUri: './FUMO/pkg1' }, data: '200' }] });
      expect(run.client.pendingAlerts()).toEqual([]);
      expect(run.client.pendingJobs()).toEqual([]);
      // The operator's view.
      const camp = (await env.A(`/api/fumo/${campaign}`)).json;
      expect(camp.states).toEqual({ done: 1 });
      expect(camp.jobs[0]).toMatchObject({ state: 'done', fumo: { resultCode: 200, finalState: 100, correlator: `fumo-${jobId}` } });
      expect(camp.jobs[0].statuses.map((x: { step: string; code: number }) => `${x.step} ${x.code}`)).toEqual(
        ['add-instance 418', 'set-url 200', 'exec 202', 'read-state 200'],
      );
      const alerts = (await env.A(`/api/alerts?device=${id}`)).json;
      expect(alerts[0]).toMatchObject({ jobId, code: 1226, data: '200', correlator: `fumo-${jobId}`, source: './FUMO/pkg1', type: 'org.openmobilealliance.dm.firmwareupdate.downloadandupdate' });
    });

    it('an install that fails (410) and a package whose SHA-256 differs (402): the campaign ends failed with those codes', async () => {
      const bad = 'dev-fumo-410';
      const mismatch = 'dev-fumo-402';
      await addDevice(env, bad, 'md5');
      await addDevice(env, mismatch, 'md5');
      const campaign = `autumn-${proto}`;
      // The device checks the package against Ext/PkgSHA256 when the server set it.
      await queue(env, mismatch, { kind: 'command', command: { verb: 'Add', target: './FUMO/pkg1/Ext/PkgSHA256', data: SHA.replace(/^./, SHA[0] === '0' ? '1' : '0') } });
      const c = await env.A('/api/fumo', { devices: [bad, mismatch], node: './FUMO/pkg1', pkgUrl: `${pkgBase}/fw-2.0.bin`, campaign });
      expect(c.status).toBe(201);
      const r1 = await fumoClient(bad, () => 410);
      await r1.client.runSession();
      expect(r1.installed).toHaveLength(1);
      expect(r1.states.at(-1)).toBe(70);
      const r2 = await fumoClient(mismatch, () => 200);
      await r2.client.runSession();
      expect(r2.installed).toHaveLength(0);
      expect(r2.states).toEqual([30, 20]);
      const camp = (await env.A(`/api/fumo/${campaign}`)).json;
      expect(camp.states).toEqual({ failed: 2 });
      const byDevice = Object.fromEntries(camp.jobs.map((j: { deviceId: string }) => [j.deviceId, j]));
      expect(byDevice[bad]).toMatchObject({ state: 'failed', fumo: { resultCode: 410, finalState: 70 } });
      expect(byDevice[mismatch]).toMatchObject({ state: 'failed', fumo: { resultCode: 402, finalState: 20 } });
      expect((await env.A(`/api/alerts?device=${mismatch}`)).json[0]).toMatchObject({ code: 1226, data: '402', mark: 'critical' });
    });
  });

  it('8. user-interaction alerts: 1101 yes and no, 1103 single choice, answered by the client\'s ui and recorded on the server', async () => {
    const id = 'dev-ui';
    await addDevice(env, id, 'md5');
    const yes = await queue(env, id, { kind: 'ui-alert', alert: { code: 1101, text: 'Reboot now?', options: { maxDisplayTime: 30 } } });
    const no = await queue(env, id, { kind: 'ui-alert', alert: { code: 1101, text: 'Wipe all data?', options: { maxDisplayTime: 30, defaultResponse: 0 } } });
    const pick = await queue(env, id, { kind: 'ui-alert', alert: { code: 1103, text: 'Update when?', choices: ['Now', 'Tonight', 'Never'], options: { maxDisplayTime: 30 } } });
    const asked: string[] = [];
    const { client } = await openClient(env, id, {
      ui: {
        confirm: (req) => { asked.push(`confirm ${req.text}`); return req.text.startsWith('Reboot'); },
        singleChoice: (req) => { asked.push(`choice ${req.text} ${req.choices.join('|')}`); return 2; },
      },
    });
    expect((await client.runSession()).reason).toBe('completed');
    expect(asked).toEqual(['confirm Reboot now?', 'confirm Wipe all data?', 'choice Update when? Now|Tonight|Never']);
    expect((await env.A(`/api/jobs/${yes.id}`)).json).toMatchObject({ state: 'answered', statuses: [{ cmd: 'Alert', code: 200 }] });
    expect((await env.A(`/api/jobs/${no.id}`)).json).toMatchObject({ state: 'answered', statuses: [{ cmd: 'Alert', code: 304 }] });
    expect((await env.A(`/api/jobs/${pick.id}`)).json).toMatchObject({ state: 'answered', statuses: [{ cmd: 'Alert', code: 200, items: ['2'] }] });
  });

  it('9. an Atomic whose second command fails on the device: 507, 216 / 418 on the server, the tree unchanged', async () => {
    const id = 'dev-atomic';
    await addDevice(env, id, 'md5');
    const atomic = await queue(env, id, {
      kind: 'group', group: 'Atomic', commands: [
        { verb: 'Add', target: './Vendor/New', data: 'x' },
        { verb: 'Add', target: './Vendor/Existing', data: 'y' },
        { verb: 'Replace', target: './Vendor/Other', data: 'changed' },
      ],
    });
    const after = await queue(env, id, { kind: 'command', command: { verb: 'Get', target: './Vendor/New' } });
    const { client } = await openClient(env, id, { setup: vendorSetup({ Existing: 'keep', Other: 'orig' }) });
    const before = JSON.stringify(client.tree.toJSON().root.children?.find((c) => c.name === 'Vendor'));
    expect((await client.runSession()).reason).toBe('completed');
    const a = (await env.A(`/api/jobs/${atomic.id}`)).json;
    expect(a.state).toBe('answered');
    expect(a.statuses.map((x: { path: string; cmd: string; code: number }) => `${x.path} ${x.cmd} ${x.code}`)).toEqual(
      // Rolled back: the Add before the failure 216; the failure 418; the Replace after it, not executed, 215.
      ['0 Atomic 507', '0.0 Add 216', '0.1 Add 418', '0.2 Replace 215'],
    );
    expect((await env.A(`/api/jobs/${after.id}`)).json).toMatchObject({ state: 'answered', statuses: [{ cmd: 'Get', code: 404 }], results: [] });
    expect(client.tree.exists('./Vendor/New')).toBe(false);
    expect(client.tree.info('./Vendor/Existing')?.value).toBe('keep');
    expect(client.tree.info('./Vendor/Other')?.value).toBe('orig');
    expect(JSON.stringify(client.tree.toJSON().root.children?.find((c) => c.name === 'Vendor'))).toBe(before);
  });
});

/** A front end for a server that does not take DM 1.2: HTTP 400 for DM/1.2 messages, the rest passed on. */
async function refusing12Proxy(target: string, ca?: string): Promise<{ url: string; refused: number; close(): void }> {
  const state = { refused: 0 };
  const s = http.createServer((rq, rs) => {
    const chunks: Buffer[] = [];
    rq.on('data', (c: Buffer) => chunks.push(c));
    rq.on('end', () => {
      const body = Buffer.concat(chunks);
      let proto = '';
      try {
        proto = parse(new Uint8Array(body), { strict: false }).header.verProto;
      } catch {
        proto = '';
      }
      if (proto === 'DM/1.2') {
        state.refused++;
        rs.writeHead(400, { 'content-type': 'text/plain' }).end('DM 1.2 is not supported\n');
        return;
      }
      const headers: Record<string, string> = { 'content-type': String(rq.headers['content-type'] ?? '') };
      if (rq.headers['x-syncml-hmac']) headers['x-syncml-hmac'] = String(rq.headers['x-syncml-hmac']);
      const u = new URL(target);
      post(`${u.origin}${rq.url ?? '/'}`, body, headers, { ca }).then((a) => {
        const h: Record<string, string> = {};
        for (const k of ['content-type', 'x-syncml-hmac']) if (a.headers[k] !== undefined) h[k] = String(a.headers[k]);
        rs.writeHead(a.status, h).end(a.bytes);
      }, (e: Error) => rs.writeHead(502).end(e.message));
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/`,
    get refused() { return state.refused; },
    close() { s.closeAllConnections?.(); s.close(); },
  };
}

