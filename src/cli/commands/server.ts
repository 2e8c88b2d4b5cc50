import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { parseArgs, integer, choice, UsageError } from '../args.js';

export const help = `Usage: syncml-dm server [--port 8443] [--host 127.0.0.1] [--data DIR] [--path /]
                        [--tls-cert FILE --tls-key FILE] [options]

Runs the OMA DM server: the DM endpoint (POST at --path, any query string), and the admin API
on its own port. Stops cleanly on Ctrl-C / SIGTERM.

  --port N            DM endpoint port (default 8443; 0 picks a free one)
  --host H            address to listen on (default 127.0.0.1)
  --data DIR          data directory: dm.sqlite, admin-token, admin-url (default ./syncml-dm-data)
  --path P            the endpoint's path (default /)
  --tls-cert FILE     PEM certificate: serve HTTPS (TLS 1.2+ only)
  --tls-key FILE      PEM private key of --tls-cert
  --admin-port N      admin API port (default: --port + 1)
  --admin-host H      admin API address (default: --host)
  --public-url URL    the endpoint's public URL, for RespURI (default: from each request)
  --server-uri URI    SyncHdr Source of the server's messages (default: what the device addressed)
  --server-id ID      server name for devices without one (package 0, server credentials)
  --allow-unknown     let devices the store does not know in, without authentication
  --body-limit BYTES  largest request (default 1048576)
  --idle-timeout S    end sessions idle this many seconds (default 300)
  --push-dir DIR      write package 0 notifications into DIR
  --push-url URL      POST package 0 notifications to URL (an SMS / WAP push gateway)
  --push-framing F    raw (default) or wap (WSP Push PDU)
  --trace DIR         keep every message as XML in DIR
  --log FILE          JSON log lines to FILE (default: standard error; - for standard output)
  --quiet             no log lines
`;

/** The admin token in the data directory, created (owner-only) when absent. */
function adminToken(dir: string): string {
  const file = join(dir, 'admin-token');
  if (existsSync(file)) {
    const t = readFileSync(file, 'utf8').trim();
    if (t.length >= 16) return t;
  }
  const t = randomBytes(24).toString('hex');
  writeFileSync(file, t + '\n', { mode: 0o600 });
  return t;
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UsageError(`cannot read ${what} '${path}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs(argv, {
    values: ['port', 'host', 'data', 'path', 'tls-cert', 'tls-key', 'admin-port', 'admin-host', 'public-url', 'server-uri', 'server-id',
      'body-limit', 'idle-timeout', 'push-dir', 'push-url', 'push-framing', 'trace', 'log'],
    flags: ['allow-unknown', 'quiet'],
  });
  if (a.flags.help) return void process.stdout.write(help), 0;
  if (a.positionals.length > 0) throw new UsageError(`server takes no arguments (got '${a.positionals[0]}')`);
  const v = a.values;
  if ((v['tls-cert'] === undefined) !== (v['tls-key'] === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (v['push-dir'] !== undefined && v['push-url'] !== undefined) throw new UsageError('give --push-dir or --push-url, not both');
  const path = v.path ?? '/';
  if (!path.startsWith('/')) throw new UsageError(`--path must start with / (got '${path}')`);
  const port = integer('port', v.port, 8443, 0, 65535);
  const dataDir = resolve(v.data ?? 'syncml-dm-data');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const token = adminToken(dataDir);
  const framing = choice('push-framing', v['push-framing'], ['raw', 'wap'] as const, 'raw');

  const { DmServer, FilePushSender, HttpPushSender, JsonLogger, silentLogger } = await import('../../server/index.js');
  let logStream: { write(s: string): unknown } = process.stderr;
  let logFile: ReturnType<typeof createWriteStream> | undefined;
  if (v.log === '-') logStream = process.stdout;
  else if (v.log !== undefined) logStream = logFile = createWriteStream(v.log, { flags: 'a' });
  const log = a.flags.quiet ? silentLogger : new JsonLogger(logStream);
  const pushSender = v['push-dir'] !== undefined ? new FilePushSender(resolve(v['push-dir']), { framing })
    : v['push-url'] !== undefined ? new HttpPushSender(v['push-url'], { framing }) : undefined;
  const server = new DmServer({
    dataDir, port, host: v.host ?? '127.0.0.1', path,
    tls: v['tls-cert'] !== undefined ? { cert: readPem(v['tls-cert'], 'certificate'), key: readPem(v['tls-key']!, 'key') } : undefined,
    admin: { port: v['admin-port'] !== undefined ? integer('admin-port', v['admin-port'], 0, 0, 65535) : undefined, host: v['admin-host'], token },
    publicUrl: v['public-url'],
    session: {
      ...(v['server-uri'] !== undefined ? { serverUri: v['server-uri'] } : {}),
      ...(v['server-id'] !== undefined ? { serverId: v['server-id'] } : {}),
      allowUnknownDevices: !!a.flags['allow-unknown'],
    },
    bodyLimit: integer('body-limit', v['body-limit'], 1 << 20, 1024),
    idleTimeoutMs: integer('idle-timeout', v['idle-timeout'], 300, 1) * 1000,
    traceDir: v.trace !== undefined ? resolve(v.trace) : undefined,
    log, pushSender,
  });
  const { url, adminUrl } = await server.start();
  writeFileSync(join(dataDir, 'admin-url'), `${adminUrl}\n`);
  process.stdout.write(`DM endpoint: ${url}\nadmin API:   ${adminUrl}\nadmin token: ${token}\ndata:        ${dataDir}\n`);
  return new Promise<number>((done) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`${signal}: stopping\n`);
      server.stop().then(() => {
        if (logFile !== undefined) logFile.end(() => done(0));
        else done(0);
      }, (e) => {
        process.stderr.write(`syncml-dm: stopping failed: ${(e as Error).message}\n`);
        done(1);
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
