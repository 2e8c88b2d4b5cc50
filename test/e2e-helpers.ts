/**
 * Shared setup of the end-to-end tests that drive the real DmServer with the real DmClient over
 * loopback HTTP(S): a server on 127.0.0.1:0 with a SQLite store in a temporary directory, its admin
 * API, devices registered through it, and clients whose transport records every exchange.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DmServer, FilePushSender, type DmServerOptions } from '../src/server/index.js';
import { DmClient, type DmClientOptions, type TraceEvent } from '../src/client/dm-client.js';
import { MemoryStore, JsonFileStore } from '../src/client/store.js';
import {
  HttpTransport, type FallbackSignal, type Transport, type TransportOptions, type TransportRequest, type TransportResponse,
} from '../src/client/transport.js';
import type { AuthScheme } from '../src/dm/client-auth.js';
import type { ConfigManager } from '../src/dm/config-manager.js';
import type { NodeValue } from '../src/dm/tree.js';
import { parse, type Status, type SyncML } from '../src/syncml/index.js';
import type { SelfSignedCertificate } from '../src/cli/self-signed.js';
import { admin } from './server-helpers.js';

export const SERVER_ID = 'dm.e2e.test';
export const SERVER_SECRET = 'srv-s3cret';
export const CLIENT_NAME = 'device01';
export const CLIENT_SECRET = 'dev-s3cret';

export interface Env {
  server: DmServer;
  url: string;
  api: string;
  token: string;
  dir: string;
  pushDir: string;
  cert?: SelfSignedCertificate;
  /** Calls the admin API (GET without a body, POST with one unless `method` says otherwise). */
  A(path: string, body?: unknown, method?: string): Promise<{ status: number; json: any }>;
  stop(): Promise<void>;
}

/** A DmServer on 127.0.0.1:0 (HTTPS with `tls`), SQLite in a temporary directory, package 0 into files. */
export async function startEnv(o: { tls?: SelfSignedCertificate } & Partial<DmServerOptions> = {}): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), 'syncml-dm-e2e-'));
  const pushDir = join(dir, 'push');
  const { tls, session, ...rest } = o;
  const server = new DmServer({
    dataDir: join(dir, 'data'), port: 0, pushSender: new FilePushSender(pushDir),
    session: { serverId: SERVER_ID, ...session },
    ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
    ...rest,
  });
  const { url, adminUrl } = (await server.start()) as { url: string; adminUrl: string };
  const token = server.adminToken;
  return {
    server, url, api: adminUrl, token, dir, pushDir, ...(tls ? { cert: tls } : {}),
    A: (path, body, method = body === undefined ? 'GET' : 'POST') => admin(adminUrl, token, method, path, body),
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const enc = encodeURIComponent;

/** Registers a device through the admin API with the shared credentials. */
export async function addDevice(env: Env, id: string, scheme: AuthScheme, extra: Record<string, unknown> = {}): Promise<void> {
  const r = await env.A('/api/devices', {
    id, auth: { scheme, clientName: CLIENT_NAME, clientSecret: CLIENT_SECRET, serverId: SERVER_ID, serverSecret: SERVER_SECRET, ...extra },
  });
  if (r.status !== 201) throw new Error(`adding ${id}: ${r.status} ${JSON.stringify(r.json)}`);
}

/** Queues a job through the admin API; returns its record. */
export async function queue(env: Env, id: string, spec: unknown): Promise<any> {
  const r = await env.A(`/api/devices/${enc(id)}/jobs`, spec);
  if (r.status !== 201) throw new Error(`queueing for ${id}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

export interface Exchange {
  req: TransportRequest;
  res: TransportResponse;
  /** The request and the answer, parsed (tolerant). */
  sent: SyncML;
  got?: SyncML;
}

/** The real HTTP transport, recording every request and its answer. */
export class RecordingTransport implements Transport {
  readonly inner: HttpTransport;
  readonly log: Exchange[] = [];
  constructor(options: TransportOptions = {}) {
    this.inner = new HttpTransport({ retry: { count: 0 }, ...options });
  }

  async send(request: TransportRequest): Promise<TransportResponse> {
    const res = await this.inner.send(request);
    let got: SyncML | undefined;
    try {
      if (res.status === 200) got = parse(res.body, { strict: false });
    } catch {
      got = undefined;
    }
    this.log.push({ req: request, res, sent: parse(request.body, { strict: false }), ...(got ? { got } : {}) });
    return res;
  }

  shouldFallBack(signal: FallbackSignal): boolean {
    return this.inner.shouldFallBack(signal);
  }

  clear(): void {
    this.log.length = 0;
  }
}

/** The ACL-open vendor subtree the tests manage, with initial leaves (idempotent, as `setup` must be). */
export function vendorSetup(values: Record<string, NodeValue> = {}, format?: Record<string, string>): (cm: ConfigManager) => void {
  return (cm) => {
    const t = cm.tree;
    if (!t.exists('./Vendor')) t.add('./Vendor', { format: 'node', acl: 'Add=*&Get=*&Replace=*&Delete=*&Exec=*', scope: 'permanent' });
    for (const [name, value] of Object.entries(values)) {
      const uri = `./Vendor/${name}`;
      if (!t.exists(uri)) t.add(uri, { value, format: format?.[name] ?? (typeof value === 'string' ? 'chr' : 'bin'), scope: 'permanent' });
    }
  };
}

export interface ClientRun {
  client: DmClient;
  transport: RecordingTransport;
  trace: TraceEvent[];
}

/** A DmClient for `env` with the shared credentials (override anything through `over`). */
export async function openClient(env: Env, deviceId: string, o: {
  scheme?: AuthScheme; serverScheme?: AuthScheme; password?: string; storeDir?: string; url?: string;
} & Partial<DmClientOptions> = {}): Promise<ClientRun> {
  const { scheme = 'md5', serverScheme, password = CLIENT_SECRET, storeDir, url, ...over } = o;
  const tls = env.cert ? { ca: env.cert.cert } : undefined;
  const transport = new RecordingTransport(tls ? { tls } : {});
  const trace: TraceEvent[] = [];
  const client = await DmClient.open({
    deviceId,
    server: {
      url: url ?? env.url, serverId: SERVER_ID, username: CLIENT_NAME, password, authType: scheme,
      serverPassword: SERVER_SECRET, ...(serverScheme ? { serverAuthType: serverScheme } : {}),
    },
    store: storeDir ? JsonFileStore.forDevice(storeDir, deviceId) : new MemoryStore(),
    transport,
    setup: vendorSetup(),
    onTrace: (e) => trace.push(e),
    alertRetry: { attempts: 3, initialBackoffMs: 20, maxBackoffMs: 50 },
    ...over,
  });
  return { client, transport, trace };
}

/** The Status of a message's SyncHdr. */
export function hdrStatus(m: SyncML | undefined): Status | undefined {
  return m?.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef === '0');
}

export function nonStatus(m: SyncML | undefined): string[] {
  return (m?.body.commands ?? []).filter((c) => c.kind !== 'Status').map((c) => c.kind === 'Alert' ? `Alert ${c.code}` : c.kind);
}
