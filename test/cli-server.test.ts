/**
 * `syncml-dm server` and `syncml-dm admin` end to end on loopback: the server runs as a child
 * process from the CLI, the admin commands talk to it, a scripted device runs a session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './helpers.js';
import { cli } from './cli.js';
import { HttpDevice, commandsOf } from './server-helpers.js';
import { decodeNotification } from '../src/dm/index.js';

const dir = mkdtempSync(join(tmpdir(), 'syncml-dm-cli-'));
const data = join(dir, 'data');
let child: ChildProcess;
let url: string;
let stdout = '';

const admin = (...args: string[]) => cli(['admin', '--data', data, ...args]);

beforeAll(async () => {
  child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'server', '--port', '0', '--data', data, '--push-dir', join(dir, 'push'),
    '--trace', join(dir, 'trace'), '--log', join(dir, 'server.log'), '--server-id', 'dm.example.test'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c) => {
      stdout += String(c);
      if (/admin token: \S+\n/.test(stdout)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  url = /DM endpoint: (\S+)/.exec(stdout)![1];
});

afterAll(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('syncml-dm server', () => {
  it('prints where it listens and the admin token, kept in the data directory', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(stdout).toMatch(/admin API: {3}http:\/\/127\.0\.0\.1:\d+/);
    const token = /admin token: (\S+)/.exec(stdout)![1];
    expect(readFileSync(join(data, 'admin-token'), 'utf8').trim()).toBe(token);
    if (process.platform !== 'win32') expect(statSync(join(data, 'admin-token')).mode & 0o777).toBe(0o600);
  });

  it('runs devices, queue, jobs, notify, alerts, results and sessions through the admin commands', async () => {
    const add = admin('devices', 'add', 'IMEI:1', '--scheme', 'basic', '--client-name', 'device01', '--client-secret', 'secret', '--server-id', 'dm.example.test', '--server-secret', 'srv', '--name', 'Test phone');
    expect(add.status).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ id: 'IMEI:1', name: 'Test phone', auth: { scheme: 'basic', hasClientSecret: true } });
    expect(add.stdout).not.toContain('"srv"');
    const list = admin('devices', 'list');
    expect(list.stdout).toMatch(/^ID\s+NAME\s+AUTH/);
    expect(list.stdout).toContain('Test phone');
    const q1 = admin('queue', 'IMEI:1', 'get', './DevDetail/SwV');
    expect(q1.status).toBe(0);
    const job = JSON.parse(q1.stdout);
    expect(job).toMatchObject({ state: 'queued', spec: { kind: 'command', command: { verb: 'Get', target: './DevDetail/SwV' } } });
    expect(admin('queue', 'IMEI:1', 'replace', './Vendor/X/Mode', 'on', '--format', 'chr').status).toBe(0);
    expect(JSON.parse(admin('queue', 'IMEI:1', 'alert', '1103', 'Update when?', '--choice', 'Now', '--choice', 'Tonight', '--max-dt', '30').stdout).spec)
      .toEqual({ kind: 'ui-alert', alert: { code: 1103, text: 'Update when?', options: { maxDisplayTime: 30 }, choices: ['Now', 'Tonight'] } });
    const spec = JSON.stringify({ kind: 'group', group: 'Sequence', commands: [{ verb: 'Delete', target: './Vendor/X/Old' }] });
    expect(admin('queue', 'IMEI:1', '--spec', spec).status).toBe(0);
    expect(admin('jobs', 'list', '--device', 'IMEI:1').stdout.split('\n').filter((l) => l.includes('queued')).length).toBe(4);

    const n = admin('notify', 'IMEI:1', '--ui-mode', 'background');
    expect(n.status).toBe(0);
    const note = JSON.parse(n.stdout);
    const file = readdirSync(join(dir, 'push'))[0];
    expect(decodeNotification(new Uint8Array(readFileSync(join(dir, 'push', file)))).sessionIdHex).toBe(note.sessionId);

    const d = new HttpDevice(url, { deviceId: 'IMEI:1', sessionId: note.sessionId });
    const pkg2 = await d.send(d.client.pkg1({ alert: 1200, cred: d.client.cred('basic') }));
    expect(commandsOf(pkg2).map((c) => c.kind)).toEqual(['Get', 'Replace', 'Alert', 'Sequence']);
    await d.run(pkg2, { tree: { './DevDetail/SwV': '4.2' }, statusItems: (c) => (c.kind === 'Alert' ? [{ data: '1' }] : undefined) });

    const shown = JSON.parse(admin('jobs', 'show', job.id).stdout);
    expect(shown).toMatchObject({ state: 'answered', results: [{ data: '4.2' }] });
    expect(admin('results', '--device', 'IMEI:1').stdout).toContain('4.2');
    expect(admin('devices', 'tree', 'IMEI:1').stdout).toMatch(/\.\/DevDetail\/SwV\s+4\.2/);
    expect(admin('sessions', '--device', 'IMEI:1').stdout).toMatch(/server\s+true\s+2\/2\s+completed/);
    expect(JSON.parse(admin('sessions', '--device', 'IMEI:1', '--json').stdout)[0]).toMatchObject({ reason: 'completed' });
    expect(admin('alerts').stdout).toBe('(none)\n');
    expect(JSON.parse(admin('devices', 'show', 'IMEI:1').stdout)).toMatchObject({ devInfo: { Mod: 'ExamplePhone 1' } });
  });

  it('queues a FUMO campaign and reports its status', () => {
    const r = admin('fumo', 'IMEI:1', '--node', './FUMO/fw1', '--pkg-url', 'https://fw.example.test/1.bin', '--campaign', 'c1');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ campaign: 'c1', jobs: [{ deviceId: 'IMEI:1', spec: { kind: 'fumo', fumo: { node: './FUMO/fw1' } } }] });
    expect(JSON.parse(admin('fumo', 'status', 'c1').stdout).states).toEqual({ queued: 1 });
    const jobId = JSON.parse(r.stdout).jobs[0].id;
    expect(JSON.parse(admin('jobs', 'cancel', jobId).stdout)).toMatchObject({ state: 'failed', error: 'cancelled' });
  });

  it('prints one line for errors', () => {
    const missing = admin('devices', 'show', 'nope');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe("syncml-dm: NOT_FOUND: no device 'nope'\n");
    const bad = admin('queue', 'IMEI:1', 'get', '/absolute');
    expect(bad.stderr).toMatch(/^syncml-dm: INVALID_ARGUMENT: command\.target '\/absolute' must be a device URI/);
    expect(admin('frobnicate').stderr).toMatch(/^syncml-dm: unknown admin command 'frobnicate'/);
    expect(admin('devices', 'list', '--token', 'wrong-token-wrong-token').stderr).toMatch(/^syncml-dm: AUTH_FAILED/);
    expect(cli(['admin', '--url', 'http://127.0.0.1:1', '--token', 'x'.repeat(20), 'devices']).stderr).toMatch(/^syncml-dm: TRANSPORT: cannot reach the admin API/);
    expect(cli(['server', '--tls-cert', 'a.pem']).stderr).toMatch(/--tls-cert and --tls-key go together/);
    expect(cli(['server', '--help']).stdout).toMatch(/^Usage: syncml-dm server/);
    expect(cli(['admin', '--help']).stdout).toMatch(/^Usage: syncml-dm admin/);
  });

  it('logs JSON lines and stops cleanly on SIGINT', async () => {
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exit).toBe(0);
    expect(stdout).toContain('SIGINT: stopping');
    const lines = readFileSync(join(dir, 'server.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.some((l) => l.kind === 'message' && l.dir === 'in' && l.device === 'IMEI:1')).toBe(true);
    expect(lines.some((l) => l.kind === 'listening')).toBe(true);
    expect(readdirSync(join(dir, 'trace')).length).toBeGreaterThan(3);
  });
});
