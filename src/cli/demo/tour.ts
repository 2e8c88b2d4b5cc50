/**
 * The scripted tour: one OMA DM 1.2 device managed by two servers, then a DM 1.1.2 device. Every
 * step drives the real pieces over HTTPS on loopback (admin API -> server -> store; package 0 ->
 * push router -> client session -> DPU -> configuration manager -> handlers) and then reads back
 * what the server recorded to check what it prints.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DmClient, type SessionReport } from '../../client/dm-client.js';
import { MemoryStore } from '../../client/store.js';
import { HttpTransport } from '../../client/transport.js';
import { decodeNotification } from '../../dm/notification.js';
import type { JobSpec } from '../../dm/jobs.js';
import { DmServer } from '../../server/dm-server.js';
import { selfSignedCertificate } from '../self-signed.js';
import { AdminClient } from './admin-client.js';
import {
  check, verifyAclRefusal, verifyAtomicRollback, verifyAudit, verifyDevDetail, verifyDm112, verifyFumo, verifyPackage0Session,
  type Step,
} from './checks.js';
import {
  DEVICE, DEVICE_112, INITIAL, INTERVAL, MAIN_ID, MODE, need, PARTNER_ID, POLICY, POLICY_ACL, SettingsHandler, vendorSetup,
  type DemoContext, type ServerHandle,
} from './context.js';
import { int, size } from './format.js';
import { startPackageServer } from './package-server.js';
import { ProgressBar } from './progress.js';

const FIRMWARE_SIZE = 256 * 1024;
const CAMPAIGN = 'demo-fw-2.0';

function secret(): string {
  return randomBytes(12).toString('base64url');
}

/** The client transport: the real HTTP(S) one, trusting the demo's certificate, with short retries. */
export function clientTransport(ca: string): HttpTransport {
  return new HttpTransport({ tls: { ca }, retry: { count: 2, initialBackoffMs: 250, maxBackoffMs: 1000 }, timeoutMs: 30_000 });
}

async function startServer(ctx: DemoContext, id: string, sub: string): Promise<ServerHandle> {
  const cert = need(ctx.cert, 'the certificate');
  const dataDir = join(ctx.dir, sub);
  const server = new DmServer({
    dataDir, port: 0, host: '127.0.0.1', tls: { cert: cert.cert, key: cert.key },
    session: { serverId: id }, idleTimeoutMs: 60_000,
  });
  const { url, adminUrl } = await server.start();
  const api = new AdminClient(adminUrl!, server.adminToken);
  ctx.closers.push(() => server.stop(), () => api.close());
  ctx.tracer.peers.set(new URL(url).origin, id);
  return { id, server, api, url, adminUrl: adminUrl!, dataDir };
}

function expectCompleted(r: SessionReport, what: string): void {
  check(r.reason === 'completed', `${what}: the session ended ${r.reason} (${r.message})`);
}

function commandJob(verb: 'Get' | 'Replace' | 'Add', target: string, data?: string, format?: string): JobSpec {
  return { kind: 'command', command: { verb, target, ...(data !== undefined ? { data } : {}), ...(format !== undefined ? { format } : {}) } };
}

function leafValue(client: DmClient, uri: string): string {
  const v = client.tree.info(uri)?.value;
  return v === undefined ? '' : typeof v === 'string' ? v : Buffer.from(v).toString('utf8');
}

/** The tour, in order. */
export function tourSteps(): Step<DemoContext>[] {
  return [
    {
      name: 'setup',
      title: 'Two DM servers (HTTPS, SQLite store, admin API) and a device with two DMAcc accounts',
      async run(ctx) {
        ctx.cert = selfSignedCertificate(['localhost', '127.0.0.1', '::1'], 1);
        const main = ctx.main = await startServer(ctx, MAIN_ID, 'dm');
        const partner = ctx.partner = await startServer(ctx, PARTNER_ID, 'partner');
        for (const s of [main, partner]) {
          const health = await s.api.request<{ ok: boolean }>('GET', '/api/health');
          check(health.ok === true, `${s.id}: the admin API does not answer healthy`);
          ctx.ok(`${s.id}: DM endpoint ${s.url} (TLS 1.2+, self-signed certificate), admin API ${s.adminUrl}, store ${join(s.dataDir, 'dm.sqlite')}`);
        }
        // The device's credentials: one pair per server, in both directions (DMAcc AAuthName/AAuthSecret).
        const creds = {
          main: { clientName: 'dev01', clientSecret: secret(), serverSecret: secret() },
          partner: { clientName: 'dev01-partner', clientSecret: secret(), serverSecret: secret() },
        };
        for (const [s, c] of [[main, creds.main], [partner, creds.partner]] as const) {
          await s.api.addDevice({ id: DEVICE, name: 'Example phone', auth: { scheme: 'md5', ...c, serverId: s.id, serverScheme: 'md5' } });
          const d = await s.api.device(DEVICE);
          check(d.auth.scheme === 'md5' && d.auth.hasClientSecret && d.auth.hasServerSecret && d.auth.serverId === s.id,
            `${s.id}: the device record does not hold md5 credentials both ways for ${s.id}`);
        }
        ctx.ok(`device ${DEVICE} created on both servers through the admin API: md5 both ways, its own passwords per server`);

        const settings = new SettingsHandler((t) => ctx.tracer.note(t));
        const store = new MemoryStore();
        const transport = ctx.tracer.transport(DEVICE, clientTransport(ctx.cert.cert));
        const common = {
          deviceId: DEVICE, store, encoding: ctx.options.encoding, transport,
          devInfo: { man: 'Example Devices', mod: 'ExamplePhone 1', dmV: '1.2', lang: 'en-US' },
          devDetail: { devTyp: 'phone', oem: 'Example Devices', fwV: '1.0.7', swV: '4.2.1', hwV: 'B' },
          setup: vendorSetup(settings),
          onTrace: transport.onTrace,
          alertRetry: { attempts: 3, initialBackoffMs: 250, maxBackoffMs: 1000 },
        };
        const account = (s: ServerHandle, c: typeof creds.main) => ({
          url: s.url, serverId: s.id, username: c.clientName, password: c.clientSecret, authType: 'md5' as const, serverPassword: c.serverSecret,
        });
        // One DMAcc account per open: the second open finds the first account in the store and adds its own.
        await DmClient.open({ ...common, server: account(main, creds.main) });
        const client = await DmClient.open({
          ...common,
          server: account(partner, creds.partner),
          fumo: {
            instances: ['pkg1'], downloadDir: join(ctx.dir, 'device', 'packages'), tls: { ca: ctx.cert.cert }, downloadRetries: 1,
            onDownloadProgress: (_job, p) => ctx.fumoProgress?.(p.received, p.total),
            installer: { install: (_job, file) => ctx.fumoInstall!(file) },
          },
        });
        ctx.device = { id: DEVICE, client, transport, settings };
        const accounts = client.accounts().map((a) => a.serverId);
        check(accounts.length === 2 && accounts[0] === MAIN_ID && accounts[1] === PARTNER_ID, `the device's DMAcc accounts are [${accounts.join(', ')}]`);
        ctx.ok(`the device's ./DMAcc holds two accounts: ${accounts.join(', ')}`);
        const acl = client.tree.info(POLICY)?.acl;
        check(acl === POLICY_ACL, `${POLICY} has ACL "${acl ?? ''}", not "${POLICY_ACL}"`);
        ctx.ok(`${POLICY} = "${INITIAL.policy}" with ACL ${acl}`);
      },
    },
    {
      name: 'package 0',
      title: 'Package 0 from the server, verified by the push router; a session with md5 and a challenge; DevInfo',
      async run(ctx) {
        const main = need(ctx.main, 'the main server');
        const { client } = need(ctx.device, 'the device');
        const n = await main.api.notify(DEVICE, { uiMode: 'background' });
        const bytes = new Uint8Array(Buffer.from(n.package0, 'base64'));
        ctx.tracer.package0(MAIN_ID, bytes, decodeNotification(bytes), 'handed to the device\'s push router');
        const outcome = await client.handleNotification(bytes);
        check(outcome.action === 'started', `the push router did not start a session: ${outcome.action} (${'reason' in outcome ? outcome.reason : ''})`);
        ctx.ok(`push router: the package 0 digest verifies with the server password (${outcome.nonceUsed === 'reset' ? 'and the DMNOTI 6.1 re-sync nonce: no server nonce yet' : 'and the stored server nonce'}); session started with Alert 1200`);
        expectCompleted(outcome.result, 'package 0');
        const expectDevInfo: Record<string, string> = {};
        for (const k of ['DevId', 'Man', 'Mod', 'DmV', 'Lang']) expectDevInfo[k] = leafValue(client, `./DevInfo/${k}`);
        const [notifications, authEvents, sessions, device] = await Promise.all([
          main.api.notifications(DEVICE), main.api.authEvents(DEVICE), main.api.sessions(`?device=${encodeURIComponent(DEVICE)}`), main.api.device(DEVICE),
        ]);
        for (const claim of verifyPackage0Session({
          notification: notifications.find((x) => x.id === n.id), authEvents, sessions, devInfo: device.devInfo, dmVersion: device.dmVersion, expectDevInfo,
        })) ctx.ok(claim);
        check(outcome.result.serverAuthenticated === true, 'the device did not authenticate the server\'s credentials');
        ctx.ok('the device checked the server\'s own md5 credentials (SRVCRED) in its second message and found them valid');
      },
    },
    {
      name: 'DevDetail',
      title: 'Get of ./DevDetail in a client-initiated session (no challenge: the nonce carries over)',
      async run(ctx) {
        const main = need(ctx.main, 'the main server');
        const { client } = need(ctx.device, 'the device');
        const job = await main.api.queue(DEVICE, commandJob('Get', './DevDetail?list=StructData'));
        ctx.info(`queued on ${MAIN_ID}: job ${job.id} Get ./DevDetail?list=StructData`);
        expectCompleted(await client.runSession({ kind: 'client' }, { serverId: MAIN_ID }), 'DevDetail');
        const values: Record<string, string> = {};
        for (const k of ['DevTyp', 'OEM', 'FwV', 'SwV', 'HwV']) values[`./DevDetail/${k}`] = leafValue(client, `./DevDetail/${k}`);
        const [done, tree, auth] = await Promise.all([main.api.job(job.id), main.api.tree(DEVICE), main.api.authEvents(DEVICE)]);
        for (const claim of verifyDevDetail(done, values, tree, auth)) ctx.ok(claim);
      },
    },
    {
      name: 'ACL 425',
      title: `ACLs: ${POLICY} may be replaced by ${MAIN_ID} only; ${PARTNER_ID} tries too`,
      async run(ctx) {
        const main = need(ctx.main, 'the main server');
        const partner = need(ctx.partner, 'the partner server');
        const { client, settings } = need(ctx.device, 'the device');
        const values = { original: INITIAL.policy, partner: 'permissive', main: 'balanced' };
        const partnerReplace = await partner.api.queue(DEVICE, commandJob('Replace', POLICY, values.partner));
        const partnerGet = await partner.api.queue(DEVICE, commandJob('Get', POLICY));
        ctx.info(`queued on ${PARTNER_ID}: job ${partnerReplace.id} Replace ${POLICY} = "${values.partner}", job ${partnerGet.id} Get ${POLICY}`);
        expectCompleted(await client.runSession({ kind: 'client' }, { serverId: PARTNER_ID }), `session with ${PARTNER_ID}`);
        const mainReplace = await main.api.queue(DEVICE, commandJob('Replace', POLICY, values.main));
        const mainGet = await main.api.queue(DEVICE, commandJob('Get', POLICY));
        ctx.info(`queued on ${MAIN_ID}: job ${mainReplace.id} Replace ${POLICY} = "${values.main}", job ${mainGet.id} Get ${POLICY}`);
        expectCompleted(await client.runSession({ kind: 'client' }, { serverId: MAIN_ID }), `session with ${MAIN_ID}`);
        const records = {
          partnerReplace: await partner.api.job(partnerReplace.id), partnerGet: await partner.api.job(partnerGet.id),
          mainReplace: await main.api.job(mainReplace.id), mainGet: await main.api.job(mainGet.id),
        };
        for (const claim of verifyAclRefusal(records, POLICY, values, { main: MAIN_ID, partner: PARTNER_ID })) ctx.ok(claim);
        check(settings.applied.get(POLICY) === values.main, `the device's settings handler runs with Policy "${settings.applied.get(POLICY)}"`);
      },
    },
    {
      name: 'Atomic',
      title: `An Atomic that rolls back: Replace ${INTERVAL} (fine) + Add ${MODE} (exists: 418)`,
      async run(ctx) {
        const main = need(ctx.main, 'the main server');
        const { client, settings } = need(ctx.device, 'the device');
        const atomic = await main.api.queue(DEVICE, {
          kind: 'group', group: 'Atomic',
          commands: [{ verb: 'Replace', target: INTERVAL, data: '15', format: 'int' }, { verb: 'Add', target: MODE, data: 'performance' }],
        });
        const get = await main.api.queue(DEVICE, commandJob('Get', INTERVAL));
        ctx.info(`queued on ${MAIN_ID}: job ${atomic.id} Atomic{Replace ${INTERVAL} = 15, Add ${MODE}}, job ${get.id} Get ${INTERVAL}`);
        expectCompleted(await client.runSession({ kind: 'client' }, { serverId: MAIN_ID }), 'Atomic');
        for (const claim of verifyAtomicRollback(await main.api.job(atomic.id), await main.api.job(get.id), INTERVAL, INITIAL.interval)) ctx.ok(claim);
        check(settings.rollbacks === 1 && settings.applied.get(INTERVAL) === INITIAL.interval,
          `the device's settings handler was not rolled back (Interval "${settings.applied.get(INTERVAL)}", ${settings.rollbacks} rollbacks)`);
        ctx.ok(`the device's settings handler was told to roll back and runs with Interval ${INITIAL.interval} again`);
      },
    },
    {
      name: 'FUMO',
      title: `A FUMO campaign: package over HTTPS, download, install, Generic Alert, job done`,
      async run(ctx) {
        const main = need(ctx.main, 'the main server');
        const cert = need(ctx.cert, 'the certificate');
        const { client } = need(ctx.device, 'the device');
        const pkg = ctx.pkg = await startPackageServer(cert, { size: FIRMWARE_SIZE });
        ctx.closers.push(() => pkg.close());
        ctx.info(`package server: ${pkg.url} (${size(FIRMWARE_SIZE)}, SHA-256 ${pkg.sha256.slice(0, 16)}…)`);
        let bar: ProgressBar | undefined;
        ctx.fumoProgress = (received, total) => {
          bar ??= new ProgressBar(ctx.err, 'download firmware 2.0');
          bar.update(received, total);
          if (total !== undefined && received >= total) bar.done();
        };
        let installed = false;
        ctx.fumoInstall = async (file) => {
          bar?.done();
          const data = await readFile(file);
          const sha = createHash('sha256').update(data).digest('hex');
          if (data.length !== pkg.image.length || sha !== pkg.sha256) {
            throw Object.assign(new Error(`the package is ${data.length} bytes with SHA-256 ${sha.slice(0, 16)}…, not what the server published`), { fumoResult: 402 });
          }
          installed = true;
          ctx.tracer.note(`device: installer checked ${int(data.length)} B, SHA-256 ${sha.slice(0, 16)}… = the published package; "installed" firmware 2.0`);
          return 200;
        };
        const campaign = await main.api.fumo({ devices: [DEVICE], node: './FUMO/pkg1', pkgUrl: pkg.url, operation: 'DownloadAndUpdate', campaign: CAMPAIGN });
        ctx.info(`campaign ${campaign.campaign} queued through the admin API (POST /api/fumo): job ${campaign.jobs[0]?.id}; package 0 wakes the device`);
        const n = await main.api.notify(DEVICE, { uiMode: 'background' });
        const bytes = new Uint8Array(Buffer.from(n.package0, 'base64'));
        ctx.tracer.package0(MAIN_ID, bytes, decodeNotification(bytes), 'handed to the device\'s push router');
        const outcome = await client.handleNotification(bytes);
        bar?.done();
        check(outcome.action === 'started', `the push router did not start a session: ${outcome.action} (${'reason' in outcome ? outcome.reason : ''})`);
        ctx.ok(`push router: package 0 verified (${outcome.nonceUsed === 'stored' ? 'with the server nonce the device issued in an earlier session' : 'with the DMNOTI 6.1 re-sync nonce'}); session started`);
        expectCompleted(outcome.result, 'FUMO');
        check(installed, 'the installer never ran');
        const [record, alerts, notifications, sessions] = await Promise.all([
          main.api.campaign(CAMPAIGN), main.api.alerts(`?device=${encodeURIComponent(DEVICE)}`), main.api.notifications(DEVICE),
          main.api.sessions(`?device=${encodeURIComponent(DEVICE)}`),
        ]);
        ctx.ok(`package served over HTTPS: ${int(pkg.bytesSent)} B in ${pkg.requests} request(s), with Content-Length`);
        for (const claim of verifyFumo(
          { campaign: record, alerts, triggerSession: notifications.find((x) => x.id === n.id)?.session, sessions },
          { bytes: pkg.image.length, served: pkg.bytesSent },
        )) ctx.ok(claim);
      },
    },
    {
      name: 'DM 1.1.2',
      title: 'A DM 1.1.2 device on the same server: a session with a Replace job',
      async run(ctx) {
        const main = need(ctx.main, 'the main server');
        const cert = need(ctx.cert, 'the certificate');
        const c = { clientName: 'legacy01', clientSecret: secret(), serverSecret: secret() };
        await main.api.addDevice({ id: DEVICE_112, name: 'Legacy phone', auth: { scheme: 'md5', ...c, serverId: MAIN_ID } });
        const replace = await main.api.queue(DEVICE_112, commandJob('Replace', INTERVAL, '30', 'int'));
        const get = await main.api.queue(DEVICE_112, commandJob('Get', INTERVAL));
        ctx.info(`device ${DEVICE_112} (DM 1.1.2) created; queued job ${replace.id} Replace ${INTERVAL} = 30, job ${get.id} Get ${INTERVAL}`);
        const transport = ctx.tracer.transport(DEVICE_112, clientTransport(cert.cert));
        const client = await DmClient.open({
          deviceId: DEVICE_112, protocol: '1.1.2', encoding: ctx.options.encoding, transport, onTrace: transport.onTrace,
          devInfo: { man: 'Example Devices', mod: 'LegacyPhone 3', dmV: '1.1.2', lang: 'en-US' },
          server: { url: main.url, serverId: MAIN_ID, username: c.clientName, password: c.clientSecret, authType: 'md5', serverPassword: c.serverSecret },
          setup: vendorSetup(new SettingsHandler((t) => ctx.tracer.note(t))),
          fumo: false,
        });
        const report = await client.runSession();
        expectCompleted(report, 'DM 1.1.2');
        check(report.version === '1.1.2', `the client ran the session as DM ${report.version}`);
        const [sessions, device] = await Promise.all([main.api.sessions(`?device=${encodeURIComponent(DEVICE_112)}`), main.api.device(DEVICE_112)]);
        for (const claim of verifyDm112(sessions, device.dmVersion, await main.api.job(replace.id), await main.api.job(get.id), INTERVAL, '30')) ctx.ok(claim);
      },
    },
  ];
}

/** The last step: the clients' counts against the servers' records, and nothing left behind. */
export function auditStep(): Step<DemoContext> {
  return {
    name: 'audit',
    title: 'What the clients did against what the servers recorded',
    async run(ctx) {
      const servers = [need(ctx.main, 'the main server'), need(ctx.partner, 'the partner server')];
      const clientSessions = ctx.stepCounters.reduce((n, c) => n + c.sessions, 0);
      const sessions = (await Promise.all(servers.map((s) => s.api.sessions()))).flat();
      const unfinished = (await Promise.all(servers.flatMap((s) => ['queued', 'sent', 'waiting-alert'].map((st) => s.api.jobs(`?state=${st}`))))).flat();
      const failed = (await Promise.all(servers.map((s) => s.api.jobs('?state=failed')))).flat();
      for (const claim of verifyAudit(clientSessions, sessions, unfinished, failed)) ctx.ok(claim);
    },
  };
}
