/** `syncml-dm notification encode|decode` and `syncml-dm client` against a tiny DM server. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { answer, MessageBuilder } from '../src/syncml/builder.js';
import { parse } from '../src/syncml/parse.js';
import { serializeToBytes } from '../src/syncml/serialize.js';
import type { Alert, Results, SyncML } from '../src/syncml/types.js';
import { cli } from './cli.js';
import { root } from './helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'syncml-dm-cli-'));

describe('syncml-dm notification', () => {
  it('encode writes the research vector; decode prints one line per field and checks the digest', () => {
    const dir = tmp();
    const file = join(dir, 'p0.bin');
    const enc = cli(['notification', 'encode', '--server-id', 'dm.example.net', '--server-password', 'srvsecret', '--nonce', 'MTIzNA==', '--session-id', '4F2A', '-o', file]);
    expect(enc.stderr).toBe('');
    expect(enc.status).toBe(0);
    expect(readFileSync(file).toString('hex')).toBe('eedb045c5edb985d4e788d90cfb444b0' + '02c80000004f2a0e646d2e6578616d706c652e6e6574');
    const dec = cli(['notification', 'decode', file, '--server-password', 'srvsecret', '--nonce', 'MTIzNA==']);
    expect(dec.status).toBe(0);
    expect(dec.stdout).toBe([
      'version: 11', 'ui-mode: not-specified', 'initiator: server', 'session-id: 4F2A', 'server-id: dm.example.net', 'vendor: ', 'digest: valid', '',
    ].join('\n'));
    const unchecked = cli(['notification', 'decode', file]);
    expect(unchecked.status).toBe(0);
    expect(unchecked.stdout).toContain('digest: unchecked\n');
  });

  it('a wrong password or nonce: digest: invalid and exit 1', () => {
    const dir = tmp();
    const file = join(dir, 'p0.bin');
    cli(['notification', 'encode', '--server-id', 'dm.example.net', '--server-password', 'srvsecret', '--nonce', 'MTIzNA==', '--session-id', '4F2A', '-o', file]);
    const r = cli(['notification', 'decode', file, '--server-password', 'srvsecret', '--nonce', 'AAAA']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('digest: invalid\n');
    expect(r.stderr).toMatch(/digest does not verify/);
  });

  it('all options: ui-mode, initiator, version, vendor, WAP push framing (decoded through stdin)', () => {
    const enc = cli(['notification', 'encode', '--server-id', 's1', '--server-password', 'p', '--nonce', '', '--session-id', 'ff',
      '--ui-mode', 'user-interaction', '--initiator', 'client', '--version', '12', '--vendor', '0A0b', '--wap-push']);
    expect(enc.status).toBe(0);
    expect(enc.stdoutBytes[1]).toBe(0x06); // a WSP Push PDU
    const dec = cli(['notification', 'decode', '-', '--server-password', 'p', '--nonce', ''], enc.stdoutBytes);
    expect(dec.stdout).toBe(['version: 12', 'ui-mode: user-interaction', 'initiator: client', 'session-id: FF', 'server-id: s1', 'vendor: 0a0b', 'digest: valid', ''].join('\n'));
  });

  it('usage errors and bad input are one line each', () => {
    expect(cli(['notification', 'encode', '--server-id', 'x']).stderr).toMatch(/^syncml-dm: encode needs --server-password \(see --help\)\n$/);
    expect(cli(['notification', 'encode', '--server-id', 'x', '--server-password', 'p', '--nonce', 'AA', '--session-id', '0']).stderr).toMatch(/--session-id must be hex 1..FFFF/);
    const short = cli(['notification', 'decode', '-'], new Uint8Array(5));
    expect(short.status).toBe(1);
    expect(short.stderr).toMatch(/^syncml-dm: BAD_NOTIFICATION at byte 5: package 0 needs at least 24 bytes/);
    expect(cli(['notification', 'frobnicate']).status).toBe(2);
  });
});

/** The CLI run asynchronously (the fake server lives in this process). */
function runCli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
  });
}

describe('syncml-dm client', () => {
  const closers: (() => void)[] = [];
  afterEach(() => { for (const c of closers.splice(0)) c(); });

  /** Answers package 1 with a Get, package 3 with Status only. */
  async function tinyServer(): Promise<{ url: string; received: SyncML[] }> {
    const received: SyncML[] = [];
    const server = http.createServer((rq, rs) => {
      const chunks: Buffer[] = [];
      rq.on('data', (c: Buffer) => chunks.push(c));
      rq.on('end', () => {
        const msg = parse(new Uint8Array(Buffer.concat(chunks)));
        received.push(msg);
        const b = new MessageBuilder({
          verDTD: '1.2', verProto: 'DM/1.2', sessionId: msg.header.sessionId, msgId: String(received.length),
          target: { locUri: msg.header.source.locUri }, source: { locUri: msg.header.target.locUri },
        });
        for (const s of answer(msg, () => 200, received.length === 1 ? 212 : 200)) b.add(s);
        if (received.length === 1) b.add({ kind: 'Get', cmdId: '', items: [{ target: { locUri: './DevDetail/SwV' } }, { target: { locUri: './DevInfo/Man' } }] });
        const xml = (rq.headers['content-type'] ?? '').includes('xml');
        rs.writeHead(200, { 'content-type': rq.headers['content-type'] });
        rs.end(Buffer.from(serializeToBytes(b.final().build(), { encoding: xml ? 'xml' : 'wbxml' })));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => server.close());
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/dm`, received };
  }

  it('runs one session and prints a readable trace of each package', async () => {
    const { url, received } = await tinyServer();
    const dir = tmp();
    const r = await runCli(['client', '--server', url, '--device-id', 'IMEI:356938035643809', '--username', 'dev', '--password', 'pw', '--auth', 'basic', '--data', dir]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^>> package 1, message 1, \d+ bytes to http:\/\/127\.0\.0\.1:\d+\/dm$/);
    expect(r.stdout).toContain('Alert 1201 CLIENT-INITIATED MGMT');
    expect(r.stdout).toContain('Replace (5 items)');
    expect(r.stdout).toContain('./DevInfo/DevId = "IMEI:356938035643809"');
    expect(r.stdout).toMatch(/<< message 1, \d+ bytes \(HTTP 200\)/);
    expect(r.stdout).toContain('Status SyncHdr (msg 1, cmd 0): 212 Authentication accepted');
    expect(r.stdout).toContain('Get (2 items)');
    expect(r.stdout).toMatch(/>> package 3, message 2, \d+ bytes/);
    expect(r.stdout).toContain('Results (msg 1, cmd ');
    expect(r.stdout).toContain('./DevDetail/SwV = "1.0"');
    expect(r.stdout).toMatch(/-- session [0-9A-F]+: completed/);
    expect(received).toHaveLength(2);
    const results = received[1].body.commands.find((c): c is Results => c.kind === 'Results')!;
    expect(results.items.map((i) => i.source?.locUri)).toEqual(['./DevDetail/SwV', './DevInfo/Man']);
    expect(existsSync(join(dir, 'IMEI_356938035643809', 'state.json'))).toBe(true);
  });

  it('--verbose prints the XML; --encoding xml sends XML', async () => {
    const { url, received } = await tinyServer();
    const r = await runCli(['client', '--server', url, '--device-id', 'IMEI:1', '--encoding', 'xml', '--verbose']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('<SyncML xmlns="SYNCML:SYNCML1.2">');
    expect(r.stdout).toContain('<Data>1201</Data>');
    expect(received[0].header.verDTD).toBe('1.2');
  });

  it('--notification answers a package 0 with Alert 1200 and its SessionID', async () => {
    const { url, received } = await tinyServer();
    const dir = tmp();
    const p0 = join(dir, 'p0.bin');
    cli(['notification', 'encode', '--server-id', 'dm.example.net', '--server-password', 'srvpw', '--nonce', '', '--session-id', 'BEEF', '--wap-push', '-o', p0]);
    const r = await runCli(['client', '--server', url, '--device-id', 'IMEI:1', '--notification', p0, '--server-password', 'srvpw', '--server-id', 'dm.example.net']);
    // The tiny server does not authenticate itself: the client refuses its commands (407) after the first message.
    expect(received[0].header.sessionId).toBe('BEEF');
    expect((received[0].body.commands[0] as Alert).code).toBe(1200);
    expect(r.stdout).toContain('Alert 1200 SERVER-INITIATED MGMT');
    const bad = await runCli(['client', '--server', url, '--device-id', 'IMEI:1', '--notification', p0, '--server-password', 'other']);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/package 0 rejected: the digest does not verify/);
  });

  it('an unreachable server is one error line and exit 1', async () => {
    const s = http.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const r = await runCli(['client', '--server', `http://127.0.0.1:${port}/dm`, '--device-id', 'IMEI:1', '--retries', '0']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^syncml-dm: TRANSPORT: /m);
  });

  it('usage errors', async () => {
    expect(cli(['client', '--device-id', 'x']).stderr).toMatch(/client needs --server URL/);
    expect(cli(['client', '--server', 'http://x', '--device-id', 'x', '--username', 'u']).stderr).toMatch(/--username and --password go together/);
    expect(cli(['client', '--server', 'http://x', '--device-id', 'x', '--encoding', 'json']).status).toBe(2);
  });
});
