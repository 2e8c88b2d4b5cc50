import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { choice, integer, parseArgs, UsageError } from '../args.js';
import { readInput } from '../io.js';

export const help = `Usage: syncml-dm client --server URL --device-id ID [--username U --password P]
                      [--auth none|basic|md5|hmac] [--server-id ID] [--server-password P]
                      [--data DIR] [--encoding wbxml|xml] [--protocol 1.2|1.1.2]
                      [--notification FILE] [--ca FILE] [--insecure] [--retries N]
                      [--fumo-instance NAME] [--install-command CMD] [--verbose]

Runs one OMA DM session as the reference client and prints a readable trace of every package:
package 1 (Alert 1201 and DevInfo), the server's commands, the Status and Results answering them,
until the server sends no more commands. FUMO jobs the server starts are run afterwards (download
with a progress bar on standard error) and reported with a Generic Alert in a new session.

  --server URL            the DM server (DMAcc AppAddr)
  --device-id ID          the device id (DevInfo DevId, e.g. IMEI:356938035643809)
  --username U            client user name (DMAcc CLCRED AAuthName)
  --password P            client password
  --auth SCHEME           client authentication (default md5 with --username, else none)
  --server-id ID          DMAcc ServerID (default: from --notification, else the URL's host)
  --server-password P     the server's password: its credentials are checked, and the package 0
                          digest is verified with it
  --data DIR              keep the device's state (tree, nonces, jobs) in DIR/<device id>
  --encoding ENC          wbxml (default) or xml
  --protocol V            1.2 (default) or 1.1.2
  --notification FILE     answer this package 0 (raw or WAP push): verify it, then Alert 1200
  --ca FILE               trust this CA certificate (PEM) for https
  --insecure              accept any https certificate (tests only)
  --retries N             connection retries (default 3)
  --fumo-instance NAME    a FUMO instance the device creates (default pkg1)
  --install-command CMD   install a FUMO package: CMD runs with the file in $DM_PACKAGE;
                          exit 0 = success (200), anything else = 410 (without it: 408)
  --verbose               print every message as XML too
`;

function printTrace(e: { direction: string; package?: number; msgId?: string; bytes?: number; url?: string; httpStatus?: number; lines: string[]; xml?: string }): void {
  const out: string[] = [];
  if (e.direction === 'out') out.push(`>> package ${e.package}, message ${e.msgId}, ${e.bytes} bytes to ${e.url}`);
  else if (e.direction === 'in') out.push(`<< message ${e.msgId}, ${e.bytes} bytes${e.httpStatus !== undefined ? ` (HTTP ${e.httpStatus})` : ''}`);
  if (e.direction === 'note') out.push(...e.lines.map((l) => `-- ${l}`));
  else out.push(...e.lines.map((l) => `   ${l}`));
  if (e.xml) out.push(e.xml.trimEnd());
  process.stdout.write(out.join('\n') + '\n');
}

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

/** A progress bar on a terminal, plain percentage lines (every 10 %) otherwise. */
function progressPrinter(): (label: string, p: { received: number; total?: number }) => void {
  const tty = process.stderr.isTTY === true;
  let lastStep = -1;
  return (label, p) => {
    const pct = p.total ? Math.min(100, Math.floor((p.received * 100) / p.total)) : undefined;
    if (tty) {
      const width = 30;
      const filled = pct === undefined ? 0 : Math.round((pct * width) / 100);
      const bar = pct === undefined ? '' : `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(pct).padStart(3)}% `;
      process.stderr.write(`\r${label} ${bar}${mib(p.received)}${p.total ? ` / ${mib(p.total)}` : ''}`);
      if (p.total !== undefined && p.received >= p.total) process.stderr.write('\n');
      return;
    }
    const step = pct === undefined ? Math.floor(p.received / 1048576) : Math.floor(pct / 10);
    if (step === lastStep) return;
    lastStep = step;
    process.stderr.write(pct === undefined ? `${label}: ${mib(p.received)}\n` : `${label}: ${pct}%\n`);
  };
}

function installCommand(cmd: string): { install: (job: unknown, file: string) => Promise<number> } {
  return {
    install: (_job, file) => new Promise<number>((resolve) => {
      const child = spawn(cmd, { shell: true, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DM_PACKAGE: file } });
      child.on('error', () => resolve(410));
      child.on('exit', (code) => resolve(code === 0 ? 200 : 410));
    }),
  };
}

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs(argv, {
    values: ['server', 'device-id', 'username', 'password', 'auth', 'server-id', 'server-password', 'data', 'encoding', 'protocol',
      'notification', 'ca', 'retries', 'fumo-instance', 'install-command'],
    flags: ['verbose', 'insecure'],
  });
  if (a.flags.help) return void process.stdout.write(help), 0;
  if (a.positionals.length > 0) throw new UsageError(`client takes no positional argument (got '${a.positionals[0]}')`);
  const url = a.values.server;
  const deviceId = a.values['device-id'];
  if (!url) throw new UsageError('client needs --server URL');
  if (!deviceId) throw new UsageError('client needs --device-id ID');
  if ((a.values.username === undefined) !== (a.values.password === undefined)) throw new UsageError('--username and --password go together');
  const auth = a.values.auth === undefined ? undefined : choice('auth', a.values.auth, ['none', 'basic', 'md5', 'hmac'] as const, 'md5');
  const encoding = choice('encoding', a.values.encoding, ['wbxml', 'xml'] as const, 'wbxml');
  const protocol = choice('protocol', a.values.protocol, ['1.2', '1.1.2'] as const, '1.2');
  const retries = integer('retries', a.values.retries, 3, 0, 100);
  try {
    new URL(url);
  } catch {
    throw new UsageError(`--server must be a URL (got '${url}')`);
  }

  const client = await import('../../client/index.js');
  const dm = await import('../../dm/index.js');
  let push: Uint8Array | undefined;
  let serverId = a.values['server-id'];
  if (a.values.notification !== undefined) {
    push = await readInput(a.values.notification);
    if (serverId === undefined) serverId = dm.decodeNotification(client.unwrapNotificationPush(push).body).serverId;
  }
  const tls = a.values.ca !== undefined || a.flags.insecure
    ? { ...(a.values.ca !== undefined ? { ca: await readFile(a.values.ca, 'utf8') } : {}), ...(a.flags.insecure ? { rejectUnauthorized: false } : {}) }
    : undefined;
  const progress = progressPrinter();
  const dmClient = await client.DmClient.open({
    deviceId,
    server: {
      url, serverId, username: a.values.username, password: a.values.password, authType: auth,
      serverPassword: a.values['server-password'],
    },
    store: a.values.data !== undefined ? client.JsonFileStore.forDevice(a.values.data, deviceId) : new client.MemoryStore(),
    encoding,
    protocol,
    transport: {
      retry: { count: retries },
      tls,
      onRetry: (r) => printTrace({ direction: 'note', lines: [`${r.reason}: retry ${r.attempt} in ${Math.round(r.waitMs / 1000)} s`] }),
    },
    fumo: {
      instances: [a.values['fumo-instance'] ?? 'pkg1'],
      tls,
      installer: a.values['install-command'] !== undefined ? installCommand(a.values['install-command']) : undefined,
      onDownloadProgress: (job, p) => progress(`download ${job.instance}`, p),
    },
    onTrace: printTrace,
    verbose: !!a.flags.verbose,
  });
  if (push !== undefined) {
    const outcome = await dmClient.handleNotification(push);
    if (outcome.action !== 'started') {
      process.stdout.write(`-- package 0 ${outcome.action}: ${outcome.reason}\n`);
      return 1;
    }
    return outcome.result.reason === 'completed' ? 0 : 1;
  }
  const report = await dmClient.runSession();
  return report.reason === 'completed' ? 0 : 1;
}
