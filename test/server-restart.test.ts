/**
 * Crash recovery: the server runs in a child process, is killed with SIGKILL between package 2
 * (the job's commands went out) and package 3 (the device's Statuses), and restarted on the same
 * data directory. The job is still there, completes exactly once in the next session, and nothing
 * is duplicated or lost; the nonce issued with the 212 before the crash still works.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './helpers.js';
import { HttpDevice, admin, commandsOf, freePort, headerCode, post } from './server-helpers.js';
import { serializeToBytes } from '../src/syncml/index.js';

const TOKEN = 'restart-test-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'syncml-dm-restart-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function start(port: number, adminPort: number): Promise<{ child: ChildProcess; url: string; adminUrl: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/scripts/server-child.ts'), join(dir, 'data'), String(port), String(adminPort), TOKEN], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (c) => { err += String(c); });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c) => {
      out += String(c);
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${err}`)));
  });
  const info = JSON.parse(line) as { url: string; adminUrl: string };
  return { child, ...info };
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

describe('restart after SIGKILL', () => {
  it('keeps the job, completes it once in the next session, loses and duplicates nothing', async () => {
    const port = await freePort();
    const adminPort = await freePort();
    const first = await start(port, adminPort);
    const A = (path: string, body?: unknown) => admin(first.adminUrl, TOKEN, body === undefined ? 'GET' : 'POST', path, body);
    expect((await A('/api/devices', { id: 'dev-crash', auth: { scheme: 'md5', clientName: 'device01', clientSecret: 'secret' } })).status).toBe(201);
    const rep = (await A('/api/devices/dev-crash/jobs', { kind: 'command', command: { verb: 'Replace', target: './Vendor/X/Level', data: '7' } })).json;
    const get = (await A('/api/devices/dev-crash/jobs', { kind: 'command', command: { verb: 'Get', target: './DevDetail/SwV' } })).json;

    // Session 1 up to package 2.
    const d = new HttpDevice(first.url, { deviceId: 'dev-crash', sessionId: '31' });
    expect(headerCode(await d.send(d.client.pkg1()))).toBe(407);
    const pkg2 = await d.send(d.client.pkg1({ cred: d.client.cred('md5') }));
    expect(headerCode(pkg2)).toBe(212);
    expect(commandsOf(pkg2).map((c) => c.kind)).toEqual(['Replace', 'Get']);
    const nextNonce = d.client.nonce;
    const jobsBefore = (await A('/api/jobs?device=dev-crash')).json;
    expect(jobsBefore.map((j: { state: string; attempts: number }) => [j.state, j.attempts])).toEqual([['sent', 1], ['sent', 1]]);

    // The process dies before package 3 arrives.
    first.child.kill('SIGKILL');
    expect((await exited(first.child)).signal).toBe('SIGKILL');

    const second = await start(port, adminPort);
    expect(second.url).toBe(first.url);
    // Package 3 of the lost session: the server does not know it any more.
    const pkg3 = serializeToBytes(d.client.answer(pkg2, { tree: { './DevDetail/SwV': '3.1' } }), { encoding: 'xml' });
    const lost = await post(d.client.respUri!, pkg3, { 'content-type': 'application/vnd.syncml.dm+xml' });
    expect(lost.status).toBe(200);
    expect(headerCode(lost.reply!)).toBe(408);
    expect(commandsOf(lost.reply!).map((c) => (c as { code?: number }).code)).toEqual([1223]);
    const jobsAfter = (await A('/api/jobs?device=dev-crash')).json;
    expect(jobsAfter.map((j: { state: string; statuses: unknown[] }) => [j.state, j.statuses.length])).toEqual([['sent', 0], ['sent', 0]]);

    // The next session: the nonce given with the 212 before the crash is still the one to use.
    const d2 = new HttpDevice(second.url, { deviceId: 'dev-crash', sessionId: '32' });
    d2.client.nonce = nextNonce;
    const again = await d2.send(d2.client.pkg1({ cred: d2.client.cred('md5') }));
    expect(headerCode(again)).toBe(212);
    expect(commandsOf(again).map((c) => c.kind)).toEqual(['Replace', 'Get']);
    const msgs = await d2.run(again, { tree: { './DevDetail/SwV': '3.1' } });
    expect(msgs.at(-1)!.body.final).toBe(true);

    const jobs = (await A('/api/jobs?device=dev-crash')).json;
    expect(jobs.length).toBe(2);
    const r = jobs.find((j: { id: string }) => j.id === rep.id);
    const g = jobs.find((j: { id: string }) => j.id === get.id);
    expect(r).toMatchObject({ state: 'answered', attempts: 2, statuses: [{ cmd: 'Replace', code: 200 }] });
    expect(g).toMatchObject({ state: 'answered', attempts: 2, statuses: [{ cmd: 'Get', code: 200 }], results: [{ uri: './DevDetail/SwV', data: '3.1' }] });
    expect((await A(`/api/results?device=dev-crash`)).json.length).toBe(1);
    const sessions = (await A('/api/sessions?device=dev-crash')).json;
    expect(sessions.length).toBe(2);
    expect(sessions.find((s: { sessionId: string }) => s.sessionId === '32')).toMatchObject({ reason: 'completed' });

    // A clean stop (SIGTERM) exits 0.
    second.child.kill('SIGTERM');
    expect((await exited(second.child)).code).toBe(0);
  });
});
