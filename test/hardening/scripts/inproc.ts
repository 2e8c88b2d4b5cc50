/**
 * Calls a DM endpoint's handler in process, without sockets: a minimal IncomingMessage (a
 * readable stream with method, url, headers, socket) and ServerResponse (writeHead / end). For
 * volume (a million fuzz cases); real HTTP is used for a share of the cases besides.
 */
import { Readable } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DmEndpoint } from '../../../src/server/index.js';

export interface InprocAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

class FakeResponse {
  statusCode = 200;
  headers: Record<string, string> = {};
  headersSent = false;
  destroyed = false;
  writableFinished = false;
  chunks: Buffer[] = [];
  private listeners: (() => void)[] = [];

  writeHead(status: number, headers: Record<string, string> = {}): this {
    if (this.headersSent) throw new Error('writeHead twice');
    this.statusCode = status;
    for (const [k, v] of Object.entries(headers)) this.headers[k.toLowerCase()] = String(v);
    this.headersSent = true;
    return this;
  }

  setHeader(k: string, v: string): void {
    this.headers[k.toLowerCase()] = v;
  }

  end(b?: Buffer | string): this {
    if (this.writableFinished) throw new Error('end twice');
    if (!this.headersSent) this.headersSent = true;
    if (b !== undefined) this.chunks.push(typeof b === 'string' ? Buffer.from(b) : b);
    this.writableFinished = true;
    for (const l of this.listeners.splice(0)) l();
    return this;
  }

  once(event: string, l: () => void): this {
    if (event === 'finish') this.listeners.push(l);
    return this;
  }
}

/** Sends one request through `endpoint.handle`; resolves with what the handler wrote. */
export async function call(endpoint: DmEndpoint, o: { url?: string; method?: string; headers?: Record<string, string>; body: Uint8Array }): Promise<InprocAnswer> {
  const req = Readable.from(o.body.length > 0 ? [Buffer.from(o.body)] : [], { objectMode: false }) as unknown as IncomingMessage;
  const socket = { encrypted: false, destroyed: false, destroy() { this.destroyed = true; } };
  Object.assign(req, {
    method: o.method ?? 'POST', url: o.url ?? '/', socket,
    headers: { host: '127.0.0.1:8443', 'content-length': String(o.body.length), ...Object.fromEntries(Object.entries(o.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])) },
  });
  const res = new FakeResponse();
  await endpoint.handle(req, res as unknown as ServerResponse);
  if (!res.writableFinished) throw new Error('the handler returned without answering');
  return { status: res.statusCode, headers: res.headers, body: Buffer.concat(res.chunks) };
}
