/**
 * The transport client (src/client/transport.ts) against real loopback HTTP(S) servers: POST, the
 * retry schedule and Retry-After with a fake clock, cut connections, TLS with a self-signed CA,
 * and the DM 1.1.2 fallback end to end through the DmClient.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DmClient } from '../src/client/dm-client.js';
import { downloadPackage } from '../src/client/fumo-download.js';
import { MemoryStore } from '../src/client/store.js';
import { defaultFallback, HttpTransport, retryAfterMs, type Clock } from '../src/client/transport.js';
import { readDmAccounts } from '../src/dm/mo/dmacc.js';
import { answer, headerStatus, MessageBuilder } from '../src/syncml/builder.js';
import { parse } from '../src/syncml/parse.js';
import { serializeToBytes } from '../src/syncml/serialize.js';
import type { SyncML } from '../src/syncml/types.js';

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

function fakeClock(): Clock & { sleeps: number[] } {
  let t = 1_700_000_000_000;
  const sleeps: number[] = [];
  return { sleeps, now: () => t, sleep: async (ms) => { sleeps.push(ms); t += ms; } };
}

async function listen(handler: http.RequestListener, tls?: { key: string; cert: string }): Promise<string> {
  const s = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  servers.push({ close: () => { s.closeAllConnections?.(); s.close(); } });
  return `${tls ? 'https' : 'http'}://127.0.0.1:${(s.address() as AddressInfo).port}/dm`;
}

function body(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

async function closedPortUrl(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}/dm`;
}

const req = (url: string) => ({ url, body: new TextEncoder().encode('<SyncML/>'), headers: { 'content-type': 'application/vnd.syncml.dm+xml' } });

describe('HttpTransport', () => {
  it('POSTs the body with its headers and returns the answer, the x-syncml-hmac header included', async () => {
    let seen: { method?: string; type?: string; hmac?: string; body?: string } = {};
    const url = await listen(async (rq, rs) => {
      seen = { method: rq.method, type: rq.headers['content-type'], hmac: rq.headers['x-syncml-hmac'] as string, body: (await body(rq)).toString() };
      rs.writeHead(200, { 'content-type': 'application/vnd.syncml.dm+xml', 'x-syncml-hmac': 'algorithm=MD5, username="s", mac=AA==' });
      rs.end('<answer/>');
    });
    const t = new HttpTransport({ clock: fakeClock() });
    const r = await t.send({ ...req(url), headers: { ...req(url).headers, 'x-syncml-hmac': 'algorithm=MD5, username="u", mac=BB==' } });
    expect(seen).toEqual({ method: 'POST', type: 'application/vnd.syncml.dm+xml', hmac: 'algorithm=MD5, username="u", mac=BB==', body: '<SyncML/>' });
    expect(r.status).toBe(200);
    expect(new TextDecoder().decode(r.body)).toBe('<answer/>');
    expect(r.hmacHeader).toBe('algorithm=MD5, username="s", mac=AA==');
    expect(r.contentType).toBe('application/vnd.syncml.dm+xml');
    expect(r.attempts).toBe(1);
  });

  it('retries a refused connection 3 times, waiting 16 s, 32 s, 64 s (w7 defaults), then fails with TRANSPORT', async () => {
    const clock = fakeClock();
    const retries: number[] = [];
    const t = new HttpTransport({ clock, onRetry: (r) => retries.push(r.attempt) });
    const e = await t.send(req(await closedPortUrl())).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'DmError', code: 'TRANSPORT', attempts: 4 });
    expect(clock.sleeps).toEqual([16_000, 32_000, 64_000]);
    expect(retries).toEqual([1, 2, 3]);
  });

  it('the back-off is capped at the maximum and the count is configurable', async () => {
    const clock = fakeClock();
    const t = new HttpTransport({ clock, retry: { count: 5, initialBackoffMs: 1000, maxBackoffMs: 5000 } });
    await t.send(req(await closedPortUrl())).catch(() => undefined);
    expect(clock.sleeps).toEqual([1000, 2000, 4000, 5000, 5000]);
  });

  it('503 is retried until an answer comes; 404 is returned at once', async () => {
    let n = 0;
    const url = await listen((rq, rs) => {
      n++;
      if (rq.url?.endsWith('404')) { rs.writeHead(404).end(); return; }
      rs.writeHead(n < 3 ? 503 : 200).end('ok');
    });
    const clock = fakeClock();
    const t = new HttpTransport({ clock });
    const r = await t.send(req(url));
    expect(r).toMatchObject({ status: 200, attempts: 3 });
    expect(clock.sleeps).toEqual([16_000, 32_000]);
    const r404 = await t.send(req(`${url}404`));
    expect(r404.status).toBe(404);
    expect(clock.sleeps).toHaveLength(2);
  });

  it('429 waits for Retry-After (seconds or an HTTP date), capped by the maximum back-off', async () => {
    const clock = fakeClock();
    let n = 0;
    const url = await listen((_rq, rs) => {
      n++;
      if (n === 1) rs.writeHead(429, { 'retry-after': '7' }).end();
      else if (n === 2) rs.writeHead(429, { 'retry-after': new Date(clock.now() + 90_000).toUTCString() }).end();
      else if (n === 3) rs.writeHead(429, { 'retry-after': '999999' }).end();
      else rs.writeHead(200).end();
    });
    const t = new HttpTransport({ clock, retry: { maxBackoffMs: 600_000 } });
    expect((await t.send(req(url))).status).toBe(200);
    expect(clock.sleeps[0]).toBe(7000);
    expect(clock.sleeps[1]).toBeGreaterThanOrEqual(89_000);
    expect(clock.sleeps[1]).toBeLessThanOrEqual(90_000);
    expect(clock.sleeps[2]).toBe(600_000);
    expect(retryAfterMs('garbage', 0)).toBeUndefined();
  });

  it('an answer cut in the middle is retried', async () => {
    let n = 0;
    const url = await listen((_rq, rs) => {
      n++;
      if (n === 1) {
        rs.writeHead(200, { 'content-length': '100' });
        rs.write('only part');
        setTimeout(() => rs.socket?.destroy(), 20);
        return;
      }
      rs.writeHead(200).end('whole');
    });
    const clock = fakeClock();
    const r = await new HttpTransport({ clock }).send(req(url));
    expect(new TextDecoder().decode(r.body)).toBe('whole');
    expect(clock.sleeps).toEqual([16_000]);
  });

  it('a server that never answers times out and is retried', async () => {
    const url = await listen(() => { /* never answers */ });
    const clock = fakeClock();
    const e = await new HttpTransport({ clock, timeoutMs: 100, retry: { count: 1 } }).send(req(url)).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'TRANSPORT', attempts: 2 });
    expect(String((e as Error).message)).toMatch(/no answer within 100 ms/);
  });

  it('a non-http URL is refused without retries', async () => {
    const clock = fakeClock();
    const e = await new HttpTransport({ clock }).send(req('ftp://x/')).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'TRANSPORT' });
    expect(clock.sleeps).toEqual([]);
  });

  const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;
  if (!openssl) console.warn('openssl not found: the HTTPS tests are skipped');
  it.skipIf(!openssl)('HTTPS with a self-signed certificate: trusted through the CA option, refused (no retry) without it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncml-dm-tls-'));
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const key = readFileSync(join(dir, 'key.pem'), 'utf8');
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const url = await listen((_rq, rs) => rs.writeHead(200).end('secure'), { key, cert });
    const ok = await new HttpTransport({ clock: fakeClock(), tls: { ca: cert } }).send(req(url));
    expect(new TextDecoder().decode(ok.body)).toBe('secure');
    const clock = fakeClock();
    const e = await new HttpTransport({ clock }).send(req(url)).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'TRANSPORT', attempts: 1 });
    expect(clock.sleeps).toEqual([]);
    // The FUMO download uses the same TLS settings.
    const file = join(dir, 'fw.bin');
    const d = await downloadPackage({ url, file, tls: { ca: cert }, clock: fakeClock() });
    expect(readFileSync(file, 'utf8')).toBe('secure');
    expect(d.bytes).toBe(6);
    const refused = await downloadPackage({ url, file: join(dir, 'x.bin'), clock: fakeClock() }).catch((x: unknown) => x);
    expect(refused).toMatchObject({ code: 'TRANSPORT', status: 503 });
  });
});

describe('the DM 1.1.2 fallback', () => {
  it('the default rule: package 1 refused with HTTP 4xx (not 401/407), or SyncHdr 505/513', () => {
    expect(defaultFallback({ package: 1, version: '1.2', httpStatus: 400 })).toBe(true);
    expect(defaultFallback({ package: 1, version: '1.2', httpStatus: 415 })).toBe(true);
    expect(defaultFallback({ package: 1, version: '1.2', httpStatus: 401 })).toBe(false);
    expect(defaultFallback({ package: 1, version: '1.2', httpStatus: 407 })).toBe(false);
    expect(defaultFallback({ package: 1, version: '1.2', httpStatus: 500 })).toBe(false);
    expect(defaultFallback({ package: 3, version: '1.2', httpStatus: 400 })).toBe(false);
    expect(defaultFallback({ package: 3, version: '1.2', syncHdrStatus: 513 })).toBe(true);
    expect(defaultFallback({ package: 1, version: '1.2', syncHdrStatus: 505 })).toBe(true);
    expect(defaultFallback({ package: 1, version: '1.1.2', httpStatus: 400 })).toBe(false);
  });

  /** A DM server that only speaks 1.1.2: refuses 1.2 the way `refuse` says, answers 1.1 with Status only. */
  async function dm112Server(refuse: 'http' | 'status', seen: string[]): Promise<string> {
    return listen(async (rq, rs) => {
      const bytes = await body(rq);
      const msg = parse(new Uint8Array(bytes));
      seen.push(`${msg.header.verDTD} ${msg.header.verProto}`);
      const xml = (rq.headers['content-type'] ?? '').includes('xml');
      const reply = (m: SyncML) => {
        rs.writeHead(200, { 'content-type': rq.headers['content-type'] });
        rs.end(Buffer.from(serializeToBytes(m, { encoding: xml ? 'xml' : 'wbxml' })));
      };
      const b = new MessageBuilder({
        verDTD: msg.header.verDTD, verProto: msg.header.verProto, sessionId: msg.header.sessionId, msgId: '1',
        target: { locUri: msg.header.source.locUri }, source: { locUri: msg.header.target.locUri },
      });
      if (msg.header.verDTD === '1.2') {
        if (refuse === 'http') { rs.writeHead(400).end('DM 1.2 not supported'); return; }
        b.add(headerStatus(msg, 513));
        reply(b.final().build());
        return;
      }
      for (const s of answer(msg, () => 200, 212)) b.add(s);
      reply(b.final().build());
    });
  }

  for (const refuse of ['http', 'status'] as const) {
    it(`resends package 1 as SyncML 1.1 / DM/1.1 after ${refuse === 'http' ? 'HTTP 400' : 'SyncHdr 513'}, moves DMAcc to the 1.1.2 layout, remembers it`, async () => {
      const seen: string[] = [];
      const url = await dm112Server(refuse, seen);
      const store = new MemoryStore();
      const notes: string[] = [];
      const client = await DmClient.open({
        deviceId: 'IMEI:1', server: { url, serverId: 'legacy', username: 'u', password: 'p', authType: 'basic' }, store,
        transport: { clock: fakeClock() }, encoding: 'xml', onTrace: (e) => { if (e.direction === 'note') notes.push(...e.lines); },
      });
      expect(readDmAccounts(client.tree)[0].layout).toBe('1.2');
      const report = await client.runSession();
      expect(seen).toEqual(['1.2 DM/1.2', '1.1 DM/1.1']);
      expect(report).toMatchObject({ reason: 'completed', version: '1.1.2', fellBack: true });
      const acc = readDmAccounts(client.tree)[0];
      expect(acc).toMatchObject({ layout: '1.1.2', serverId: 'legacy', addr: url });
      expect(client.tree.info('./DMAcc/legacy/ServerId')!.value).toBe('legacy');
      expect((await store.load()).servers.legacy.protocol).toBe('1.1.2');
      expect(notes.some((l) => l.includes('sending package 1 again as DM 1.1.2'))).toBe(true);
      // The next session starts in 1.1.2 directly.
      const again = await (await DmClient.open({ deviceId: 'IMEI:1', store, server: { url, serverId: 'legacy', username: 'u', password: 'p', authType: 'basic' }, transport: { clock: fakeClock() } })).runSession();
      expect(again).toMatchObject({ version: '1.1.2', fellBack: false });
      expect(seen.slice(2)).toEqual(['1.1 DM/1.1']);
    });
  }

  it('with the fallback disabled (w7 BACKCOMPATRETRYDISABLED) the refusal is a TRANSPORT error', async () => {
    const seen: string[] = [];
    const url = await dm112Server('http', seen);
    const client = await DmClient.open({ deviceId: 'IMEI:1', server: { url }, transport: { clock: fakeClock(), fallback: false } });
    await expect(client.runSession()).rejects.toMatchObject({ code: 'TRANSPORT', httpStatus: 400 });
    expect(seen).toEqual(['1.2 DM/1.2']);
  });
});

describe('DmClient over the transport', () => {
  it('an answer that is not SyncML: Alert 1223 is sent, then a PROTOCOL_ERROR', async () => {
    const got: string[] = [];
    const url = await listen(async (rq, rs) => {
      const msg = parse(new Uint8Array(await body(rq)));
      got.push(msg.body.commands.map((c) => (c.kind === 'Alert' ? `Alert ${c.code}` : c.kind)).join(' '));
      rs.writeHead(200, { 'content-type': 'text/html' }).end('<html>proxy error</html>');
    });
    const client = await DmClient.open({ deviceId: 'IMEI:1', server: { url }, transport: { clock: fakeClock() } });
    await expect(client.runSession()).rejects.toMatchObject({ code: 'PROTOCOL_ERROR' });
    expect(got).toEqual(['Alert 1201 Replace', 'Alert 1223']);
  });
});
