/**
 * The pure client session (src/dm/client-session.ts) against hand-built server messages: every
 * rule of docs/session-protocol.md the client side owns, without a network.
 */
import { describe, expect, it } from 'vitest';
import { md5Credential, basicCredential, verifyHmac, verifyMd5Credential, hmacDigest, formatHmacHeader } from '../src/dm/auth.js';
import { fromBase64, toBase64 } from '../src/dm/base64.js';
import {
  abortSession, afterExecution, encodeOutgoing, maxResponseCommands, receive, startClientSession,
  type ClientSessionConfig, type ClientSessionEffect, type ClientSessionState, type StepResult,
} from '../src/dm/client-session.js';
import { ConfigManager } from '../src/dm/config-manager.js';
import { Dpu, type DpuResult } from '../src/dm/dpu.js';
import { devInfoItems, installDevInfo } from '../src/dm/mo/devinfo.js';
import { ManagementTree } from '../src/dm/tree.js';
import { parse } from '../src/syncml/parse.js';
import { serializeToBytes } from '../src/syncml/serialize.js';
import type { Alert, Chal, Command, Cred, Get, Item, Replace, Results, Status, SyncML } from '../src/syncml/types.js';

const DEVICE = 'IMEI:490154203237518';
const SERVER_URI = 'https://dm.example.net/omadm';
const SERVER_ID = 'dm.example.net';

/** Counter-based "random" bytes: deterministic and distinct. */
function counterRandom(start = 1): (n: number) => Uint8Array {
  let k = start;
  return (n) => Uint8Array.from({ length: n }, () => (k++ * 37) & 0xff);
}

function tree(): { cm: ConfigManager; tree: ManagementTree } {
  const t = new ManagementTree({ clock: () => new Date(Date.UTC(2024, 0, 1)) });
  const cm = new ConfigManager({ tree: t });
  installDevInfo(cm, { devId: DEVICE, man: 'Example', mod: 'Phone 1', dmV: '1.2', lang: 'en-US' });
  t.add('./Vendor', { format: 'node', acl: 'Add=*&Get=*&Replace=*' });
  t.add('./Vendor/Big', { format: 'chr', value: 'x'.repeat(6000) });
  t.add('./Vendor/Small', { format: 'chr', value: 'small value' });
  return { cm, tree: t };
}

function config(over: Partial<ClientSessionConfig> = {}): ClientSessionConfig {
  return {
    deviceId: DEVICE, serverUri: SERVER_URI, serverId: SERVER_ID,
    clientAuth: { scheme: 'md5', name: 'device01', secret: 'devsecret' },
    devInfo: devInfoItems(tree().tree), maxMsgSize: 16384, maxObjSize: 65536,
    random: counterRandom(), sessionId: '1A2B',
    ...over,
  };
}

interface ServerMsgOptions {
  msgId?: string;
  final?: boolean;
  cred?: Cred;
  respUri?: string;
  maxMsgSize?: number;
  maxObjSize?: number;
  sessionId?: string;
  verDTD?: string;
}

function serverMsg(commands: Command[], o: ServerMsgOptions = {}): SyncML {
  const meta = o.maxMsgSize !== undefined || o.maxObjSize !== undefined
    ? { ...(o.maxMsgSize !== undefined ? { maxMsgSize: o.maxMsgSize } : {}), ...(o.maxObjSize !== undefined ? { maxObjSize: o.maxObjSize } : {}) } : undefined;
  return {
    header: {
      verDTD: o.verDTD ?? '1.2', verProto: o.verDTD === '1.1' ? 'DM/1.1' : 'DM/1.2', sessionId: o.sessionId ?? '1A2B', msgId: o.msgId ?? '1',
      target: { locUri: DEVICE }, source: { locUri: SERVER_URI },
      ...(o.respUri ? { respUri: o.respUri } : {}), ...(o.cred ? { cred: o.cred } : {}), ...(meta ? { meta } : {}),
    },
    body: { commands, final: o.final ?? true },
  };
}

function hdrStatus(msgRef: string, code: number, chal?: Chal): Status {
  return { kind: 'Status', cmdId: '1', msgRef, cmdRef: '0', cmd: 'SyncHdr', code, ...(chal ? { chal } : {}) };
}

function status(cmdId: string, msgRef: string, cmdRef: string, cmd: string, code: number): Status {
  return { kind: 'Status', cmdId, msgRef, cmdRef, cmd, code };
}

const chal = (type: string, nonce?: string): Chal => ({ meta: { type, format: 'b64', ...(nonce !== undefined ? { nextNonce: nonce } : {}) } });
const get = (cmdId: string, ...uris: string[]): Get => ({ kind: 'Get', cmdId, items: uris.map((u) => ({ target: { locUri: u } })) });

function kinds(m: SyncML): string[] {
  return m.body.commands.map((c) => (c.kind === 'Alert' ? `Alert ${c.code}` : c.kind === 'Status' ? `Status ${c.cmd} ${c.code}` : c.kind));
}

function effectsOf<K extends ClientSessionEffect['kind']>(r: StepResult, kind: K): Extract<ClientSessionEffect, { kind: K }>[] {
  return r.effects.filter((e): e is Extract<ClientSessionEffect, { kind: K }> => e.kind === kind);
}

async function run(state: ClientSessionState, msg: SyncML, dpu: Dpu, transport = {}): Promise<StepResult> {
  const r = receive(state, msg, transport);
  if (!r.toExecute) return r;
  const d = await dpu.process(r.toExecute);
  const a = afterExecution(r.state, d);
  return { ...a, effects: [...r.effects, ...a.effects] };
}

function dpuFor(cm: ConfigManager): Dpu {
  return new Dpu({ configManager: cm, serverId: SERVER_ID });
}

const emptyDpu: DpuResult = {
  responses: [], alerts: [], pendingAlerts: [], aborted: false, nextMessageRequested: false, receivedStatuses: [], expectingMoreData: false, cancelled: false,
};

describe('package 1', () => {
  it('client-initiated: SyncHdr, Alert 1201, one Replace Item per DevInfo leaf, Final', () => {
    const { outgoing, state } = startClientSession(config(), { kind: 'client' });
    const m = outgoing!.message;
    expect(m.header).toMatchObject({
      verDTD: '1.2', verProto: 'DM/1.2', sessionId: '1A2B', msgId: '1',
      target: { locUri: SERVER_URI }, source: { locUri: DEVICE, locName: 'device01' }, meta: { maxMsgSize: 16384, maxObjSize: 65536 },
    });
    expect(m.header.cred).toBeUndefined(); // md5 without a nonce yet: the server will challenge
    expect(kinds(m)).toEqual(['Alert 1201', 'Replace']);
    expect(m.body.commands.map((c) => c.cmdId)).toEqual(['1', '2']);
    const r = m.body.commands[1] as Replace;
    expect(r.items.map((i) => i.source?.locUri)).toEqual(['./DevInfo/DevId', './DevInfo/Man', './DevInfo/Mod', './DevInfo/DmV', './DevInfo/Lang']);
    expect(r.items[0].data).toBe(DEVICE);
    expect(m.body.final).toBe(true);
    expect(outgoing!).toMatchObject({ url: SERVER_URI, package: 1, final: true, contentType: 'application/vnd.syncml.dm+wbxml' });
    expect(outgoing!.hmacFor).toBeUndefined();
    expect(state.phase).toBe('waiting');
  });

  it('server-initiated: Alert 1200 and the notified SessionID', () => {
    const { outgoing } = startClientSession(config({ sessionId: undefined }), { kind: 'server', sessionId: '4F2A' });
    expect(outgoing!.message.header.sessionId).toBe('4F2A');
    expect(kinds(outgoing!.message)[0]).toBe('Alert 1200');
  });

  it('a client-initiated SessionID is upper-case hex of a random 16-bit number from the injected source', () => {
    const { outgoing } = startClientSession(config({ sessionId: undefined, random: () => Uint8Array.of(0x0a, 0xbc) }), { kind: 'client' });
    expect(outgoing!.message.header.sessionId).toBe('ABC');
  });

  it('Cred: basic always; md5 with the stored nonce hashed as its decoded bytes', () => {
    const basic = startClientSession(config({ clientAuth: { scheme: 'basic', name: 'Bruce2', secret: 'OhBehave' } })).outgoing!;
    expect(basic.message.header.cred).toEqual({ meta: { type: 'syncml:auth-basic', format: 'b64' }, data: 'QnJ1Y2UyOk9oQmVoYXZl' });
    const nonce = fromBase64('LG3iZQhhdmKNHg==');
    const md5 = startClientSession(config({ clientAuth: { scheme: 'md5', name: 'Bruce2', secret: 'OhBehave', nonce } })).outgoing!;
    expect(md5.message.header.cred).toEqual({ meta: { type: 'syncml:auth-md5', format: 'b64' }, data: 'LAK2i25Fh0nxxGGaAzRRpg==' });
    const text = startClientSession(config({ nonceForm: 'text', clientAuth: { scheme: 'md5', name: 'Bruce2', secret: 'OhBehave', nonce } })).outgoing!;
    expect(text.message.header.cred!.data).toBe('kpKgquN4uuyvg2Io01gZ5A==');
  });

  it('pending Generic Alerts go in package 1 (DM 1.2) with their Correlator', () => {
    const { outgoing } = startClientSession(config({
      alerts: [{ id: 'a1', alert: { type: 'org.openmobilealliance.dm.firmwareupdate.download', format: 'int', mark: 'informational', source: './FUMO/p', data: 200, correlator: 'c-7' } }],
    }), { kind: 'report' });
    expect(kinds(outgoing!.message)).toEqual(['Alert 1201', 'Replace', 'Alert 1226']);
    const ga = outgoing!.message.body.commands[2] as Alert;
    expect(ga.correlator).toBe('c-7');
    expect(ga.items[0]).toMatchObject({ source: { locUri: './FUMO/p' }, meta: { type: 'org.openmobilealliance.dm.firmwareupdate.download', format: 'int', mark: 'informational' }, data: '200' });
  });

  it('DM 1.1.2 mode: VerDTD 1.1, DM/1.1, the SyncML 1.1 namespace, no Generic Alert', () => {
    const { outgoing } = startClientSession(config({
      version: '1.1.2', encoding: 'xml', alerts: [{ id: 'a1', alert: { type: 'x', data: 1 } }],
    }));
    expect(outgoing!.message.header).toMatchObject({ verDTD: '1.1', verProto: 'DM/1.1' });
    expect(kinds(outgoing!.message)).toEqual(['Alert 1201', 'Replace']);
    const text = new TextDecoder().decode(encodeOutgoing(outgoing!).body);
    expect(text).toContain('xmlns="SYNCML:SYNCML1.1"');
    expect(encodeOutgoing(outgoing!).headers['content-type']).toBe('application/vnd.syncml.dm+xml');
  });
});

describe('the server authenticates the client', () => {
  it('407 + Chal: package 1 again with Cred from the new nonce, same SessionID, next MsgID, to RespURI', () => {
    const s = startClientSession(config());
    const r = receive(s.state, serverMsg([
      hdrStatus('1', 407, chal('syncml:auth-md5', 'bm9uY2Ux')), status('2', '1', '1', 'Alert', 407), status('3', '1', '2', 'Replace', 407),
    ], { respUri: `${SERVER_URI}?s=77` }));
    expect(r.done).toBeUndefined();
    const m = r.outgoing!.message;
    expect(r.outgoing!.url).toBe(`${SERVER_URI}?s=77`);
    expect(r.outgoing!.package).toBe(1);
    expect(m.header).toMatchObject({ sessionId: '1A2B', msgId: '2' });
    expect(m.header.cred!.data).toBe(md5Credential('device01', 'devsecret', fromBase64('bm9uY2Ux')));
    expect(kinds(m)).toEqual(['Status SyncHdr 200', 'Alert 1201', 'Replace']);
    // The nonce is stored for the account (no server authentication is configured).
    expect(effectsOf(r, 'store-nonce')).toEqual([{ kind: 'store-nonce', which: 'client', nonce: fromBase64('bm9uY2Ux') }]);
    expect(effectsOf(r, 'client-challenged')[0]).toMatchObject({ code: 407, scheme: 'md5' });
  });

  it('212 authenticates for the session: no Cred afterwards; the Chal nonce is stored for the next session', async () => {
    const { cm } = tree();
    const dpu = dpuFor(cm);
    const s = startClientSession(config({ clientAuth: { scheme: 'md5', name: 'device01', secret: 'devsecret', nonce: fromBase64('AAAA') } }));
    expect(s.outgoing!.message.header.cred).toBeDefined();
    const r = await run(s.state, serverMsg([hdrStatus('1', 212, chal('syncml:auth-md5', 'bmV4dA==')), status('2', '1', '1', 'Alert', 200), get('3', './Vendor/Small')]), dpu);
    expect(effectsOf(r, 'client-authenticated')).toEqual([{ kind: 'client-authenticated', scope: 'session', scheme: 'md5' }]);
    expect(effectsOf(r, 'store-nonce')[0].nonce).toEqual(fromBase64('bmV4dA=='));
    expect(r.outgoing!.message.header.cred).toBeUndefined();
    expect(r.outgoing!.package).toBe(3);
  });

  it('200 (this message only): the next message carries Cred from the new nonce', async () => {
    const { cm } = tree();
    const s = startClientSession(config({ clientAuth: { scheme: 'md5', name: 'device01', secret: 'devsecret', nonce: fromBase64('AAAA') } }));
    const r = await run(s.state, serverMsg([hdrStatus('1', 200, chal('syncml:auth-md5', 'MTIz')), get('2', './Vendor/Small')]), dpuFor(cm));
    expect(r.outgoing!.message.header.cred!.data).toBe(md5Credential('device01', 'devsecret', fromBase64('MTIz')));
    expect(effectsOf(r, 'client-authenticated')[0].scope).toBe('message');
  });

  it('a first 401 of md5 switches to the base64-text nonce form; a second 401 ends the session', () => {
    const nonce = fromBase64('AAAA');
    const s = startClientSession(config({ clientAuth: { scheme: 'md5', name: 'device01', secret: 'devsecret', nonce } }));
    const r1 = receive(s.state, serverMsg([hdrStatus('1', 401, chal('syncml:auth-md5', 'Zm9v'))]));
    const cred = r1.outgoing!.message.header.cred!.data;
    expect(verifyMd5Credential(cred, 'device01', 'devsecret', 'Zm9v')).toBe('string');
    const r2 = receive(r1.state, serverMsg([hdrStatus('2', 401, chal('syncml:auth-md5', 'YmFy'))], { msgId: '2' }));
    expect(r2.done).toMatchObject({ reason: 'authentication-failed', code: 401 });
    expect(r2.outgoing).toBeUndefined();
  });

  it('the text form that worked is reported so the edge remembers it', () => {
    const s = startClientSession(config({ clientAuth: { scheme: 'md5', name: 'device01', secret: 'devsecret', nonce: fromBase64('AAAA') } }));
    const r1 = receive(s.state, serverMsg([hdrStatus('1', 401, chal('syncml:auth-md5', 'Zm9v'))]));
    const r2 = receive(r1.state, serverMsg([hdrStatus('2', 212), get('2', './Vendor/Small')], { msgId: '2' }));
    expect(effectsOf(r2, 'nonce-form')).toEqual([{ kind: 'nonce-form', form: 'text' }]);
  });

  it('401 without Chal ends the session (the server gave up)', () => {
    const s = startClientSession(config());
    const r = receive(s.state, serverMsg([hdrStatus('1', 401)]));
    expect(r.done).toMatchObject({ reason: 'authentication-failed', code: 401 });
  });

  it('auth-MAC: after the Chal every message carries x-syncml-hmac over its exact bytes, no Cred, a new nonce per message', async () => {
    const { cm } = tree();
    const s = startClientSession(config({ clientAuth: { scheme: 'md5', name: 'Bruce2', secret: 'OhBehave' } }));
    const r1 = receive(s.state, serverMsg([hdrStatus('1', 407, chal('syncml:auth-MAC', 'MTIzNA=='))]));
    const out1 = r1.outgoing!;
    expect(out1.message.header.cred).toBeUndefined();
    const e1 = encodeOutgoing(out1);
    expect(verifyHmac(e1.headers['x-syncml-hmac'], 'Bruce2', 'OhBehave', 'MTIzNA==', e1.body)).toBe('bytes');
    const r2 = await run(r1.state, serverMsg([hdrStatus('2', 200, chal('syncml:auth-MAC', 'NTY3OA==')), get('2', './Vendor/Small')], { msgId: '2' }), dpuFor(cm));
    const e2 = encodeOutgoing(r2.outgoing!);
    expect(verifyHmac(e2.headers['x-syncml-hmac'], 'Bruce2', 'OhBehave', 'NTY3OA==', e2.body)).toBe('bytes');
    expect(r2.outgoing!.message.header.cred).toBeUndefined();
  });

  it('gives up after three new packages 1', () => {
    let st = startClientSession(config({ clientAuth: { scheme: 'basic', name: 'u', secret: 'p' } })).state;
    let last: StepResult | undefined;
    for (let i = 1; i <= 4; i++) {
      last = receive(st, serverMsg([hdrStatus(String(i), 407, chal('syncml:auth-basic'))], { msgId: String(i) }));
      if (last.done) break;
      st = last.state;
    }
    expect(last!.done).toMatchObject({ reason: 'authentication-failed' });
  });

  it('505 / 513 on the SyncHdr end the session with version-not-supported', () => {
    for (const code of [505, 513]) {
      const s = startClientSession(config());
      expect(receive(s.state, serverMsg([hdrStatus('1', code)])).done).toMatchObject({ reason: 'version-not-supported', code });
    }
  });
});

describe('the client authenticates the server', () => {
  const serverAuth = { scheme: 'md5' as const, name: SERVER_ID, secret: 'srvsecret', nonce: fromBase64('c3J2bm9uY2U=') };

  it('a valid md5 Cred: SyncHdr Status 212 with a Chal for the next session, commands executed', async () => {
    const { cm } = tree();
    const s = startClientSession(config({ serverAuth }));
    const cred: Cred = { meta: { type: 'syncml:auth-md5', format: 'b64' }, data: md5Credential(SERVER_ID, 'srvsecret', serverAuth.nonce) };
    const r = await run(s.state, serverMsg([hdrStatus('1', 212), get('2', './Vendor/Small')], { cred }), dpuFor(cm));
    const hs = r.outgoing!.message.body.commands[0] as Status;
    expect(hs).toMatchObject({ cmd: 'SyncHdr', code: 212, chal: { meta: { type: 'syncml:auth-md5', format: 'b64' } } });
    const issued = hs.chal!.meta.nextNonce as Uint8Array;
    expect(effectsOf(r, 'store-nonce')).toContainEqual({ kind: 'store-nonce', which: 'server', nonce: issued });
    expect(effectsOf(r, 'server-authenticated')[0]).toMatchObject({ ok: true });
    expect(kinds(r.outgoing!.message)).toEqual(['Status SyncHdr 212', 'Status Get 200', 'Results']);
  });

  it('a server Cred over the base64 text of the nonce is accepted too', async () => {
    const { cm } = tree();
    const s = startClientSession(config({ serverAuth }));
    const text = new TextEncoder().encode(toBase64(serverAuth.nonce));
    const cred: Cred = { meta: { type: 'syncml:auth-md5', format: 'b64' }, data: md5Credential(SERVER_ID, 'srvsecret', text) };
    const r = await run(s.state, serverMsg([hdrStatus('1', 212), get('2', './Vendor/Small')], { cred }), dpuFor(cm));
    expect((r.outgoing!.message.body.commands[0] as Status).code).toBe(212);
  });

  it('missing Cred: 407 + Chal with a fresh nonce, every command answered 407, nothing executed', () => {
    const s = startClientSession(config({ serverAuth }));
    const r = receive(s.state, serverMsg([hdrStatus('1', 212), get('2', './Vendor/Small'),
      { kind: 'Replace', cmdId: '3', items: [{ target: { locUri: './Vendor/Small' }, data: 'changed' }] }]));
    expect(r.toExecute).toBeUndefined();
    const m = r.outgoing!.message;
    expect(kinds(m)).toEqual(['Status SyncHdr 407', 'Status Get 407', 'Status Replace 407']);
    const hs = m.body.commands[0] as Status;
    expect(hs.chal!.meta.nextNonce).toBeInstanceOf(Uint8Array);
    expect(effectsOf(r, 'server-authenticated')[0]).toMatchObject({ ok: false, check: 'missing' });
    // The client's nonce from an unauthenticated server is used but not stored.
    expect(effectsOf(r, 'store-nonce').every((e) => e.which === 'server')).toBe(true);
  });

  it('a wrong Cred gets 401; the retry must use the nonce the client just gave', async () => {
    const { cm } = tree();
    const s = startClientSession(config({ serverAuth }));
    const bad: Cred = { meta: { type: 'syncml:auth-md5', format: 'b64' }, data: md5Credential(SERVER_ID, 'wrong', serverAuth.nonce) };
    const r1 = receive(s.state, serverMsg([hdrStatus('1', 212), get('2', './Vendor/Small')], { cred: bad }));
    const hs = r1.outgoing!.message.body.commands[0] as Status;
    expect(hs.code).toBe(401);
    const given = hs.chal!.meta.nextNonce as Uint8Array;
    const good: Cred = { meta: { type: 'syncml:auth-md5', format: 'b64' }, data: md5Credential(SERVER_ID, 'srvsecret', given) };
    const r2 = await run(r1.state, serverMsg([hdrStatus('2', 200), get('2', './Vendor/Small')], { msgId: '2', cred: good }), dpuFor(cm));
    expect((r2.outgoing!.message.body.commands[0] as Status).code).toBe(212);
  });

  it('no Cred and no commands: no message with only a challenge (DMPRO 2.4), the session ends', () => {
    const s = startClientSession(config({ serverAuth }));
    const r = receive(s.state, serverMsg([hdrStatus('1', 212)]));
    expect(r.done).toMatchObject({ reason: 'server-authentication-failed' });
    expect(r.outgoing).toBeUndefined();
  });

  it('after two failed challenges the session ends', () => {
    let st = startClientSession(config({ serverAuth })).state;
    let r: StepResult | undefined;
    for (let i = 1; i <= 3; i++) {
      r = receive(st, serverMsg([hdrStatus(String(i), 212), get('2', './Vendor/Small')], { msgId: String(i) }));
      if (r.done) break;
      st = r.state;
    }
    expect(r!.done).toMatchObject({ reason: 'server-authentication-failed' });
  });

  it('HMAC server authentication: its x-syncml-hmac over the body is checked, 200 + new nonce each message', async () => {
    const { cm } = tree();
    const sa = { scheme: 'hmac' as const, name: SERVER_ID, secret: 'srvsecret', nonce: fromBase64('MTIzNA==') };
    const s = startClientSession(config({ serverAuth: sa }));
    const msg = serverMsg([hdrStatus('1', 212), get('2', './Vendor/Small')]);
    const body = serializeToBytes(msg, { encoding: 'wbxml' });
    const hmacHeader = formatHmacHeader({ username: SERVER_ID, mac: hmacDigest(SERVER_ID, 'srvsecret', sa.nonce, body) });
    const r = await run(s.state, parse(body), dpuFor(cm), { hmacHeader, body });
    const hs = r.outgoing!.message.body.commands[0] as Status;
    expect(hs).toMatchObject({ code: 200, chal: { meta: { type: 'syncml:auth-MAC' } } });
    const r2 = receive(startClientSession(config({ serverAuth: sa })).state, parse(body), { hmacHeader: hmacHeader.replace(/mac=.*/, 'mac=AAAAAAAAAAAAAAAAAAAAAA=='), body });
    expect((r2.outgoing!.message.body.commands[0] as Status).code).toBe(401);
  });
});

describe('packages 3, 4 and the end of the session', () => {
  it('pkg 2 -> pkg 3: SyncHdr Status first, Status per command, Results after their Get, Final; pkg 4 Status only ends it', async () => {
    const { cm } = tree();
    const dpu = dpuFor(cm);
    const s = startClientSession(config({ clientAuth: { scheme: 'basic', name: 'u', secret: 'p' } }));
    const r = await run(s.state, serverMsg([
      hdrStatus('1', 212), status('2', '1', '1', 'Alert', 200), status('3', '1', '2', 'Replace', 200), get('4', './Vendor/Small'),
      { kind: 'Replace', cmdId: '5', items: [{ target: { locUri: './Vendor/Small' }, data: 'new' }] },
    ], { respUri: `${SERVER_URI}/s/1` }), dpu);
    const m = r.outgoing!.message;
    expect(r.outgoing!.url).toBe(`${SERVER_URI}/s/1`);
    expect(m.header.msgId).toBe('2');
    expect(m.header.cred).toBeUndefined();
    expect(kinds(m)).toEqual(['Status SyncHdr 200', 'Status Get 200', 'Results', 'Status Replace 200']);
    expect((m.body.commands[2] as Results).items[0]).toMatchObject({ source: { locUri: './Vendor/Small' }, data: 'small value' });
    expect(m.body.final).toBe(true);
    const end = await run(r.state, serverMsg([hdrStatus('2', 200)], { msgId: '2' }), dpu);
    expect(end.outgoing).toBeUndefined();
    expect(end.done).toMatchObject({ reason: 'completed' });
    expect(end.state.phase).toBe('ended');
    expect(() => receive(end.state, serverMsg([]))).toThrow(/ended/);
  });

  it('pkg 4 with more commands continues the loop at pkg 5', async () => {
    const { cm } = tree();
    const dpu = dpuFor(cm);
    const s = startClientSession(config({ clientAuth: { scheme: 'basic', name: 'u', secret: 'p' } }));
    const r3 = await run(s.state, serverMsg([hdrStatus('1', 212), get('2', './Vendor/Small')]), dpu);
    const r5 = await run(r3.state, serverMsg([hdrStatus('2', 200), get('2', './DevInfo/Man')], { msgId: '2' }), dpu);
    expect(r5.outgoing!.package).toBe(5);
    expect(r5.outgoing!.message.header.msgId).toBe('3');
  });

  it('Alert 1223 from the server ends the session without an answer', () => {
    const s = startClientSession(config());
    const r = receive(s.state, serverMsg([hdrStatus('1', 212), { kind: 'Alert', cmdId: '2', code: 1223, items: [] }]));
    expect(r.done).toMatchObject({ reason: 'server-aborted' });
    expect(r.outgoing).toBeUndefined();
  });

  it('abortSession sends Alert 1223 (Final); the server\'s answer ends the session', () => {
    const s = startClientSession(config());
    const r = receive(s.state, serverMsg([hdrStatus('1', 212), get('2', './Vendor/Small')]));
    const a = abortSession(r.state);
    expect(kinds(a.outgoing!.message)).toEqual(['Status SyncHdr 200', 'Alert 1223']);
    expect(a.outgoing!.final).toBe(true);
    const e = receive(a.state, serverMsg([hdrStatus('2', 200), status('3', '2', '2', 'Alert', 200)], { msgId: '2' }));
    expect(e.done).toMatchObject({ reason: 'client-aborted' });
  });

  it('another SessionID is a protocol error', () => {
    const s = startClientSession(config());
    expect(receive(s.state, serverMsg([hdrStatus('1', 212)], { sessionId: 'FFFF' })).done).toMatchObject({ reason: 'protocol-error' });
  });

  it('receive while a message is executing, or afterExecution without one, is refused', () => {
    const s = startClientSession(config());
    expect(() => afterExecution(s.state, emptyDpu)).toThrow(/executed/);
    const r = receive(s.state, serverMsg([hdrStatus('1', 212), get('2', './Vendor/Small')]));
    expect(() => receive(r.state, serverMsg([]))).toThrow(/afterExecution/);
  });
});

describe('Generic Alerts', () => {
  const ga = (id: string) => ({ id, alert: { type: 'org.openmobilealliance.dm.firmwareupdate.update', format: 'int', data: 200, source: './FUMO/p' } });

  it('200/202 acknowledge; 5xx refuse with retry; 4xx refuse for good; 401/407 leave them pending', () => {
    const s = startClientSession(config({ alerts: [ga('a'), ga('b'), ga('c')] }));
    expect(kinds(s.outgoing!.message)).toEqual(['Alert 1201', 'Replace', 'Alert 1226', 'Alert 1226', 'Alert 1226']);
    const r = receive(s.state, serverMsg([hdrStatus('1', 212), status('2', '1', '3', 'Alert', 202), status('3', '1', '4', 'Alert', 500), status('4', '1', '5', 'Alert', 415)]));
    expect(effectsOf(r, 'alerts-acknowledged')).toEqual([{ kind: 'alerts-acknowledged', ids: ['a'], code: 202 }]);
    expect(effectsOf(r, 'alerts-refused')).toEqual([
      { kind: 'alerts-refused', ids: ['b'], code: 500, retry: true },
      { kind: 'alerts-refused', ids: ['c'], code: 415, retry: false },
    ]);
  });

  it('a challenge sends the unacknowledged alerts again with the new package 1', () => {
    const s = startClientSession(config({ alerts: [ga('a')] }));
    const r = receive(s.state, serverMsg([hdrStatus('1', 407, chal('syncml:auth-md5', 'AAAA')), status('2', '1', '3', 'Alert', 407)]));
    expect(kinds(r.outgoing!.message)).toEqual(['Status SyncHdr 200', 'Alert 1201', 'Replace', 'Alert 1226']);
    const r2 = receive(r.state, serverMsg([hdrStatus('2', 212), status('2', '2', '4', 'Alert', 200)], { msgId: '2' }));
    expect(effectsOf(r2, 'alerts-acknowledged')[0].ids).toEqual(['a']);
  });

  it('alerts handlers queue during the session are persisted (effect) and sent in the reply', () => {
    const s = startClientSession(config());
    const r = receive(s.state, serverMsg([hdrStatus('1', 212), get('2', './Vendor/Small')]));
    const a = afterExecution(r.state, {
      ...emptyDpu,
      responses: [status('', '1', '2', 'Get', 200)],
      pendingAlerts: [{ type: 'com.example.done', format: 'chr', data: 'ok', correlator: 'k1' }],
    });
    const queued = effectsOf(a, 'alerts-queued')[0].alerts;
    expect(queued).toHaveLength(1);
    expect(kinds(a.outgoing!.message)).toEqual(['Status SyncHdr 200', 'Status Get 200', 'Alert 1226']);
    expect((a.outgoing!.message.body.commands[2] as Alert).correlator).toBe('k1');
  });
});

describe('multi-message packages and large objects', () => {
  it('Results larger than the server\'s MaxMsgSize go in chunks: no Final until the last; the server\'s Alert 1222 asks for more', async () => {
    const { cm } = tree();
    const dpu = dpuFor(cm);
    const s = startClientSession(config({ encoding: 'xml', clientAuth: { scheme: 'basic', name: 'u', secret: 'p' } }));
    let r = await run(s.state, serverMsg([hdrStatus('1', 212), get('2', './Vendor/Big')], { maxMsgSize: 2000 }), dpu);
    const sent: SyncML[] = [];
    let msgId = 2;
    while (r.outgoing) {
      const m = r.outgoing.message;
      sent.push(m);
      expect(encodeOutgoing(r.outgoing).body.length).toBeLessThanOrEqual(2000);
      if (m.body.final) break;
      // The server's Next Message response: SyncHdr Status + Alert 1222, no Final.
      r = await run(r.state, serverMsg([hdrStatus(m.header.msgId, 200), { kind: 'Alert', cmdId: '2', code: 1222, items: [] }], { msgId: String(msgId++), final: false }), dpu);
    }
    expect(sent.length).toBeGreaterThan(2);
    expect(sent.slice(0, -1).every((m) => !m.body.final)).toBe(true);
    expect(sent.at(-1)!.body.final).toBe(true);
    const chunks = sent.flatMap((m) => m.body.commands.filter((c): c is Results => c.kind === 'Results').flatMap((c) => c.items));
    expect(chunks[0].meta?.size).toBe(6000);
    expect(chunks.slice(0, -1).every((i) => i.moreData === true)).toBe(true);
    expect(chunks.map((i) => i.data).join('')).toBe('x'.repeat(6000));
    // Every message after the first answers the server's 1222 with a Status.
    expect(sent.slice(1).every((m) => m.body.commands.some((c) => c.kind === 'Status' && c.cmd === 'Alert'))).toBe(true);
  });

  it('a non-final server message (a large object arriving) is answered with 213 and Alert 1222, no Final', async () => {
    const { cm, tree: t } = tree();
    const dpu = dpuFor(cm);
    const s = startClientSession(config({ clientAuth: { scheme: 'basic', name: 'u', secret: 'p' } }));
    const chunk1: Item = { target: { locUri: './Vendor/Small' }, meta: { size: 8 }, data: 'abcd', moreData: true };
    const r1 = await run(s.state, serverMsg([hdrStatus('1', 212), { kind: 'Replace', cmdId: '2', items: [chunk1] }], { final: false }), dpu);
    const m1 = r1.outgoing!.message;
    expect(kinds(m1)).toEqual(['Status SyncHdr 200', 'Status Replace 213', 'Alert 1222']);
    expect(m1.body.final).toBe(false);
    const r2 = await run(r1.state, serverMsg([{ kind: 'Replace', cmdId: '1', items: [{ target: { locUri: './Vendor/Small' }, data: 'efgh' }] }], { msgId: '2' }), dpu);
    expect(kinds(r2.outgoing!.message)).toEqual(['Status SyncHdr 200', 'Status Replace 200']);
    expect(r2.outgoing!.message.body.final).toBe(true);
    expect(t.info('./Vendor/Small')!.value).toBe('abcdefgh');
  });

  it('Results above the server\'s MaxObjSize are not sent: the Get answers 413', async () => {
    const { cm } = tree();
    const s = startClientSession(config({ clientAuth: { scheme: 'basic', name: 'u', secret: 'p' } }));
    const r = await run(s.state, serverMsg([hdrStatus('1', 212), get('2', './Vendor/Big')], { maxObjSize: 1000 }), dpuFor(cm));
    expect(kinds(r.outgoing!.message)).toEqual(['Status SyncHdr 200', 'Status Get 413']);
    expect(effectsOf(r, 'warning')).toHaveLength(1);
  });

  it('maxResponseCommands derives the DPU limit from MaxMsgSize', () => {
    expect(maxResponseCommands(Infinity, 'xml')).toBeUndefined();
    expect(maxResponseCommands(2000, 'xml')).toBe(8);
    expect(maxResponseCommands(100, 'wbxml')).toBe(1);
  });
});
