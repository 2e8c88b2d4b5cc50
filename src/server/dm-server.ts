/**
 * `DmServer`: the DM endpoint on its own HTTP or HTTPS server, and the admin API on another port.
 *
 * TLS: 1.2 and 1.3 only, with forward-secret AEAD suites. DM Security 1.2 (2007) still asks for
 * SSL 3.0 / TLS 1.0 with RC4, 3DES and AES-CBC suites (research note §2.4); those are not offered,
 * a deliberate deviation: no current client needs them and every one of them is broken or weak.
 */
import { createServer as createHttpServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { ServerSessionConfig } from '../dm/server-session.js';
import { DmError } from '../dm/errors.js';
import type { Store } from './store.js';
import { SqliteStore } from './sqlite-store.js';
import { createDmEndpoint, type DmEndpoint } from './dm-endpoint.js';
import { createAdminApi } from './admin-api.js';
import { silentLogger, type ServerLogger } from './log.js';
import type { ServerHooks } from './hooks.js';
import type { PushSender } from './push.js';

/**
 * TLS 1.3 suites, then TLS 1.2 ECDHE with AES-GCM or ChaCha20-Poly1305 (Mozilla "intermediate").
 * @public
 */
export const MODERN_CIPHERS = [
  'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** Options of {@link DmServer}. @public */
export interface DmServerOptions {
  /** DM endpoint port (0: any free port). Default 8443. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The path the endpoint answers POSTs at (any query string). Default `/`. */
  path?: string;
  /** HTTPS with this certificate and key (PEM); without: plain HTTP (behind a TLS proxy, or tests). */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer };
  /** A store; or `dataDir` to open the SQLite store at `<dataDir>/dm.sqlite`. */
  store?: Store;
  dataDir?: string;
  /** The admin API; `false` for none. Default: port + 1 (any free port when port is 0), same host, a random token. */
  admin?: false | { port?: number; host?: string; token?: string };
  /** The endpoint's public URL for RespURI (default: from each request). */
  publicUrl?: string;
  session?: ServerSessionConfig;
  bodyLimit?: number;
  idleTimeoutMs?: number;
  /** The request body must arrive within this (else 408, connection closed). Default 30 000 ms. */
  bodyTimeoutMs?: number;
  /** The request headers must arrive within this (Node's `headersTimeout`; 408). Default 20 000 ms. */
  headersTimeoutMs?: number;
  /** Open sessions no credentials protect, at most (see `DmEndpointOptions`). Default 10 000. */
  maxUnauthenticatedSessions?: number;
  /** Authenticated open sessions of one device, at most. Default 4. */
  maxSessionsPerDevice?: number;
  log?: ServerLogger;
  traceDir?: string;
  hooks?: ServerHooks;
  pushSender?: PushSender;
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

function close(server: Server | undefined): Promise<void> {
  if (server === undefined || !server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * A standalone DM server.
 *
 * @example
 * ```ts
 * const server = new DmServer({ dataDir: './dm-data', port: 8443, tls: { cert, key }, publicUrl: 'https://dm.example.net/' });
 * const { url, adminUrl } = await server.start();
 * console.log(url, adminUrl, server.adminToken);
 * // later: await server.stop();
 * ```
 * @public
 */
export class DmServer {
  readonly options: DmServerOptions;
  /** The admin API's bearer token. */
  readonly adminToken: string;
  private server?: Server;
  private adminServer?: Server;
  private ownStore = false;
  private _store?: Store;
  private _endpoint?: DmEndpoint;
  private _url?: string;
  private _adminUrl?: string;

  constructor(options: DmServerOptions) {
    if (options.store === undefined && options.dataDir === undefined) throw new DmError('INVALID_ARGUMENT', 'DmServer needs a store or a dataDir');
    this.options = options;
    this.adminToken = (options.admin !== false ? options.admin?.token : undefined) ?? randomBytes(24).toString('hex');
  }

  get store(): Store {
    if (this._store === undefined) throw new DmError('INVALID_ARGUMENT', 'the server is not started (call start() first)');
    return this._store;
  }

  get endpoint(): DmEndpoint {
    if (this._endpoint === undefined) throw new DmError('INVALID_ARGUMENT', 'the server is not started (call start() first)');
    return this._endpoint;
  }

  /** The DM endpoint URL (after start). */
  get url(): string | undefined {
    return this._url;
  }

  get adminUrl(): string | undefined {
    return this._adminUrl;
  }

  /** Opens the store, starts listening; resolves with the URLs. */
  async start(): Promise<{ url: string; adminUrl?: string }> {
    const o = this.options;
    const log = o.log ?? silentLogger;
    if (o.store !== undefined) this._store = o.store;
    else {
      mkdirSync(o.dataDir!, { recursive: true, mode: 0o700 });
      this._store = SqliteStore.open(join(o.dataDir!, 'dm.sqlite'));
      this.ownStore = true;
    }
    const store = this._store;
    const endpoint = createDmEndpoint({
      store, session: o.session, bodyLimit: o.bodyLimit, idleTimeoutMs: o.idleTimeoutMs, bodyTimeoutMs: o.bodyTimeoutMs,
      maxUnauthenticatedSessions: o.maxUnauthenticatedSessions, maxSessionsPerDevice: o.maxSessionsPerDevice, publicUrl: o.publicUrl,
      log, traceDir: o.traceDir, hooks: o.hooks,
    });
    this._endpoint = endpoint;
    const path = o.path ?? '/';
    const wanted = path.length > 1 ? path.replace(/\/+$/, '') : path;
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      const p = (req.url ?? '/').split('?')[0];
      const got = p.length > 1 ? p.replace(/\/+$/, '') : p;
      if (got !== wanted) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`the DM endpoint is at ${path}\n`);
        return;
      }
      endpoint(req, res);
    };
    // Slow clients: Node cuts off headers after headersTimeout and whole requests after
    // requestTimeout (checked every connectionsCheckingInterval); the endpoint's own body timer
    // is the precise one. Without these, a client that sends nothing holds its socket for minutes.
    const headersTimeout = o.headersTimeoutMs ?? 20_000;
    const bodyTimeout = o.bodyTimeoutMs ?? 30_000;
    const timeouts = {
      headersTimeout, requestTimeout: bodyTimeout > 0 ? headersTimeout + bodyTimeout + 1000 : 0,
      connectionsCheckingInterval: Math.max(250, Math.min(5000, Math.floor(headersTimeout / 4))),
    };
    this.server = o.tls !== undefined
      ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key, ca: o.tls.ca, minVersion: 'TLSv1.2', ciphers: MODERN_CIPHERS, honorCipherOrder: true, ...timeouts }, handler)
      : createHttpServer(timeouts, handler);
    const host = o.host ?? '127.0.0.1';
    const addr = await listen(this.server, o.port ?? 8443, host);
    this._url = `${o.tls !== undefined ? 'https' : 'http'}://${urlHost(host)}:${addr.port}${path}`;
    if (o.admin !== false) {
      const api = createAdminApi({
        store, token: this.adminToken, pushSender: o.pushSender, serverId: o.session?.serverId, log, openSessions: () => endpoint.openSessions,
      });
      this.adminServer = createHttpServer(api);
      const adminHost = o.admin?.host ?? host;
      const a = await listen(this.adminServer, o.admin?.port ?? (o.port === 0 ? 0 : addr.port + 1), adminHost);
      this._adminUrl = `http://${urlHost(adminHost)}:${a.port}`;
    }
    log.event('listening', { url: this._url, admin: this._adminUrl });
    return { url: this._url, ...(this._adminUrl !== undefined ? { adminUrl: this._adminUrl } : {}) };
  }

  /** Stops listening, ends the open sessions (their jobs queued again), closes the store it opened. */
  async stop(): Promise<void> {
    await Promise.all([close(this.server), close(this.adminServer)]);
    await this._endpoint?.close();
    if (this.ownStore) await this._store?.close();
  }
}
