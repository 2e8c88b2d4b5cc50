/** The push router (src/client/push-router.ts): package 0 vectors, digests, reset nonces, duplicates, ui-mode, WAP push. */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DmClient } from '../src/client/dm-client.js';
import { MemoryNotificationLog, PushRouter, unwrapNotificationPush, type PushTrigger } from '../src/client/push-router.js';
import { MemoryStore } from '../src/client/store.js';
import type { Clock } from '../src/client/transport.js';
import { fromBase64 } from '../src/dm/base64.js';
import { ConfigManager } from '../src/dm/config-manager.js';
import { installDmAccount } from '../src/dm/mo/dmacc.js';
import { encodeNotification, type NotificationInput } from '../src/dm/notification.js';
import { ManagementTree } from '../src/dm/tree.js';
import { wrapWapPush } from '../src/dm/wsp.js';
import { answer, MessageBuilder } from '../src/syncml/builder.js';
import { parse } from '../src/syncml/parse.js';
import { serializeToBytes } from '../src/syncml/serialize.js';
import type { Alert } from '../src/syncml/types.js';

const NONCE = fromBase64('MTIzNA==');
const hex = (s: string) => Uint8Array.from(s.match(/../g)!, (h) => Number.parseInt(h, 16));

function treeWithAccount(): ManagementTree {
  const tree = new ManagementTree();
  const cm = new ConfigManager({ tree });
  installDmAccount(cm, {
    serverId: 'dm.example.net', addr: 'http://127.0.0.1:1/dm',
    clientCred: { name: 'device01', secret: 'devsecret' }, serverCred: { secret: 'srvsecret', nonce: NONCE },
  });
  return tree;
}

function pkg0(over: Partial<NotificationInput> = {}): Uint8Array {
  return encodeNotification({ serverId: 'dm.example.net', serverPassword: 'srvsecret', nonce: NONCE, sessionId: 0x4f2a, ...over });
}

function fakeClock(): Clock & { advance(ms: number): void } {
  let t = 0;
  return { now: () => t, sleep: async (ms) => { t += ms; }, advance: (ms) => { t += ms; } };
}

function router(over: Partial<ConstructorParameters<typeof PushRouter<string>>[0]> = {}) {
  const started: PushTrigger[] = [];
  const tree = treeWithAccount();
  const r = new PushRouter<string>({
    tree: () => tree,
    startSession: async (t) => { started.push(t); return `session ${t.notification.sessionIdHex}`; },
    ...over,
  });
  return { r, started };
}

describe('package 0 vectors (research note 3.2)', () => {
  it('the composed version-11 vector decodes and verifies', async () => {
    const bytes = new Uint8Array([...hex('eedb045c5edb985d4e788d90cfb444b0'), ...hex('02c80000004f2a0e646d2e6578616d706c652e6e6574')]);
    expect(pkg0()).toEqual(bytes);
    const { r, started } = router();
    const out = await r.route(bytes);
    expect(out).toMatchObject({ action: 'started', nonceUsed: 'stored', result: 'session 4F2A' });
    expect(started[0].notification).toMatchObject({ version: 11, uiMode: 'not-specified', initiator: 'server', sessionIdHex: '4F2A', serverId: 'dm.example.net' });
    expect(started[0].serverNonce).toEqual(NONCE);
  });

  it('the version-12 vector with the reset nonce (4 zero bytes) verifies as a reset', async () => {
    const bytes = new Uint8Array([...hex('84107461e6d5e160a694d6d6f1620628'), ...hex('03080000004f2a0e646d2e6578616d706c652e6e6574')]);
    const { r, started } = router();
    expect(await r.route(bytes)).toMatchObject({ action: 'started', nonceUsed: 'reset' });
    expect(started[0].serverNonce).toEqual(new Uint8Array(4));
  });
});

describe('PushRouter', () => {
  it('a wrong digest is rejected and starts nothing', async () => {
    const { r, started } = router();
    const bad = pkg0({ serverPassword: 'not-the-password' });
    expect(await r.route(bad)).toMatchObject({ action: 'rejected', reason: expect.stringMatching(/digest/) });
    const flipped = pkg0();
    flipped[3] ^= 1;
    expect((await r.route(flipped)).action).toBe('rejected');
    expect(started).toEqual([]);
  });

  it('unknown servers and undecodable bytes are refused with the reason', async () => {
    const { r } = router();
    expect(await r.route(pkg0({ serverId: 'other.example' }))).toMatchObject({ action: 'unknown-server' });
    expect(await r.route(new Uint8Array(10))).toMatchObject({ action: 'rejected', reason: expect.stringMatching(/not a valid package 0/) });
  });

  it('drops a session id it already answered; starts it again after the window; forgets one whose session failed', async () => {
    const clock = fakeClock();
    let fail = false;
    const tree = treeWithAccount();
    const started: string[] = [];
    const r = new PushRouter<string>({
      tree: () => tree, clock, log: new MemoryNotificationLog([], 60_000),
      startSession: async (t) => {
        if (fail) throw new Error('no network');
        started.push(t.notification.sessionIdHex);
        return 'ok';
      },
    });
    expect((await r.route(pkg0())).action).toBe('started');
    expect((await r.route(pkg0())).action).toBe('duplicate');
    expect((await r.route(pkg0({ sessionId: 0x0001 }))).action).toBe('started');
    clock.advance(60_000);
    expect((await r.route(pkg0())).action).toBe('started');
    fail = true;
    await expect(r.route(pkg0({ sessionId: 0x0bad }))).rejects.toThrow('no network');
    fail = false;
    expect((await r.route(pkg0({ sessionId: 0x0bad }))).action).toBe('started');
    expect(started).toEqual(['4F2A', '1', '4F2A', 'BAD']);
  });

  it('honours ui-mode: user-interaction asks (declined = no session), informative tells, background is silent', async () => {
    const asked: string[] = [];
    let yes = false;
    const { r, started } = router({
      ui: { confirm: (n) => { asked.push(`confirm ${n.sessionIdHex}`); return yes; }, inform: (n) => { asked.push(`inform ${n.sessionIdHex}`); } },
    });
    expect(await r.route(pkg0({ uiMode: 'user-interaction', sessionId: 1 }))).toMatchObject({ action: 'declined' });
    yes = true;
    expect((await r.route(pkg0({ uiMode: 'user-interaction', sessionId: 2 }))).action).toBe('started');
    expect((await r.route(pkg0({ uiMode: 'informative', sessionId: 3 }))).action).toBe('started');
    expect((await r.route(pkg0({ uiMode: 'background', sessionId: 4 }))).action).toBe('started');
    expect(asked).toEqual(['confirm 1', 'confirm 2', 'inform 3']);
    expect(started.map((s) => s.notification.sessionIdHex)).toEqual(['2', '3', '4']);
  });

  it('unwraps a WAP push PDU (content type 0x44, application id 0x07); other PDUs pass unchanged', async () => {
    const raw = pkg0();
    const pdu = wrapWapPush(raw, { transactionId: 9 });
    expect(unwrapNotificationPush(pdu)).toEqual({ body: raw, wsp: true });
    expect(unwrapNotificationPush(raw).wsp).toBe(false);
    const other = wrapWapPush(raw, { contentType: 0x42 });
    expect(unwrapNotificationPush(other).wsp).toBe(false);
    const { r } = router();
    expect((await r.route(pdu)).action).toBe('started');
  });
});

describe('DmClient.handleNotification', () => {
  const closers: (() => void)[] = [];
  afterEach(() => { for (const c of closers.splice(0)) c(); });

  it('starts a session with Alert 1200 and the notified SessionID; the answered id is stored', async () => {
    const seen: { sessionId: string; alert: number }[] = [];
    const server = http.createServer((rq, rs) => {
      const chunks: Buffer[] = [];
      rq.on('data', (c: Buffer) => chunks.push(c));
      rq.on('end', () => {
        const msg = parse(new Uint8Array(Buffer.concat(chunks)));
        seen.push({ sessionId: msg.header.sessionId, alert: (msg.body.commands.find((c) => c.kind === 'Alert') as Alert).code });
        const b = new MessageBuilder({ verDTD: '1.2', verProto: 'DM/1.2', sessionId: msg.header.sessionId, msgId: '1', target: { locUri: msg.header.source.locUri }, source: { locUri: msg.header.target.locUri } });
        for (const s of answer(msg, () => 200, 212)) b.add(s);
        rs.writeHead(200, { 'content-type': 'application/vnd.syncml.dm+wbxml' });
        rs.end(Buffer.from(serializeToBytes(b.final().build(), { encoding: 'wbxml' })));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => server.close());
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dm`;
    const store = new MemoryStore();
    const client = await DmClient.open({
      deviceId: 'IMEI:1', store, server: { url, serverId: 'dm.example.net', username: 'device01', password: 'devsecret', serverPassword: 'srvsecret' },
    });
    // The device holds no server nonce yet: the digest was computed with an empty nonce.
    const p = encodeNotification({ serverId: 'dm.example.net', serverPassword: 'srvsecret', nonce: new Uint8Array(0), sessionId: 0x4f2a });
    const out = await client.handleNotification(wrapWapPush(p));
    expect(out.action).toBe('started');
    expect(seen).toEqual([{ sessionId: '4F2A', alert: 1200 }]);
    expect((await store.load()).notified).toEqual([expect.objectContaining({ serverId: 'dm.example.net', sessionId: '4F2A' })]);
    expect((await client.handleNotification(p)).action).toBe('duplicate');
    expect(seen).toHaveLength(1);
  });
});
