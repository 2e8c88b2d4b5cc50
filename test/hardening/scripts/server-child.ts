/**
 * A DM server in its own process for the hardening suite (load, faults, attacks).
 *
 * Usage: node --import tsx test/hardening/scripts/server-child.ts '<json ServerChildOptions>'
 * Prints one JSON line `{ url, adminUrl, pid }` once listening; JSON log lines go to `logFile`
 * (or nowhere); SIGTERM stops it cleanly (exit 0), SIGKILL is the crash the fault tests want.
 */
import { mkdirSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { DmServer, JsonLogger, SqliteStore } from '../../../src/server/index.js';

export interface ServerChildOptions {
  dataDir: string;
  port?: number;
  adminPort?: number;
  token: string;
  idleTimeoutMs?: number;
  bodyTimeoutMs?: number;
  bodyLimit?: number;
  /** SQLite `max_page_count`: the store hits SQLITE_FULL beyond it (a full disk as the store sees it). */
  maxPageCount?: number;
  logFile?: string;
  serverId?: string;
}

const o = JSON.parse(process.argv[2] ?? '{}') as ServerChildOptions;
mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
const store = SqliteStore.open(join(o.dataDir, 'dm.sqlite'));
if (o.maxPageCount !== undefined) store.db.pragma(`max_page_count = ${Math.floor(o.maxPageCount)}`);
const logStream = o.logFile !== undefined ? createWriteStream(o.logFile, { flags: 'a' }) : undefined;
const server = new DmServer({
  store, port: o.port ?? 0, admin: { port: o.adminPort ?? 0, token: o.token },
  session: { serverId: o.serverId ?? 'dm.example.test' },
  ...(o.idleTimeoutMs !== undefined ? { idleTimeoutMs: o.idleTimeoutMs } : {}),
  ...(o.bodyTimeoutMs !== undefined ? { bodyTimeoutMs: o.bodyTimeoutMs } : {}),
  ...(o.bodyLimit !== undefined ? { bodyLimit: o.bodyLimit } : {}),
  ...(logStream !== undefined ? { log: new JsonLogger(logStream) } : {}),
});
const { url, adminUrl } = await server.start();
process.stdout.write(JSON.stringify({ url, adminUrl, pid: process.pid }) + '\n');
process.on('SIGTERM', () => {
  void server.stop().then(() => store.close()).then(() => {
    if (logStream === undefined) process.exit(0);
    logStream.end(() => process.exit(0));
  });
});
