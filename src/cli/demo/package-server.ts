/**
 * The demo's firmware download server: HTTPS on loopback (the demo's self-signed certificate),
 * one generated package with Content-Length (so the device's progress bar knows the total) and
 * Range support (so an interrupted download resumes). The body goes out in paced chunks so that
 * the progress bar has something to show on a machine where loopback is instantaneous.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

/** `size` deterministic bytes: SHA-256 of a counter, block after block. */
export function firmwareImage(size: number, seed = 'syncml-dm demo firmware 2.0'): Buffer {
  const out = Buffer.alloc(size);
  for (let off = 0, i = 0; off < size; off += 32, i++) {
    createHash('sha256').update(`${seed}/${i}`).digest().copy(out, off, 0, Math.min(32, size - off));
  }
  return out;
}

export interface PackageServer {
  /** The package URL (PkgURL). */
  url: string;
  image: Buffer;
  sha256: string;
  /** GET requests received, and body bytes sent. */
  readonly requests: number;
  readonly bytesSent: number;
  close(): Promise<void>;
}

export async function startPackageServer(tls: { cert: string; key: string }, options: { size: number; chunk?: number; paceMs?: number; path?: string }): Promise<PackageServer> {
  const image = firmwareImage(options.size);
  const sha256 = createHash('sha256').update(image).digest('hex');
  const path = options.path ?? '/firmware/demo-2.0.bin';
  const chunk = options.chunk ?? 16 * 1024;
  const pace = options.paceMs ?? 8;
  const timers = new Set<NodeJS.Timeout>();
  let requests = 0;
  let bytesSent = 0;
  const server: Server = createServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, (req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== path) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such package\n');
      return;
    }
    requests++;
    let from = 0;
    const m = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
    if (m && Number(m[1]) < image.length) {
      from = Number(m[1]);
      res.writeHead(206, {
        'content-type': 'application/octet-stream', 'content-length': String(image.length - from),
        'content-range': `bytes ${from}-${image.length - 1}/${image.length}`,
      });
    } else {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(image.length), 'accept-ranges': 'bytes' });
    }
    const send = (at: number): void => {
      if (res.destroyed) return;
      const end = Math.min(image.length, at + chunk);
      bytesSent += end - at;
      if (end >= image.length) {
        res.end(image.subarray(at, end));
        return;
      }
      res.write(image.subarray(at, end));
      const t = setTimeout(() => { timers.delete(t); send(end); }, pace);
      timers.add(t);
    };
    send(from);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}${path}`,
    image,
    sha256,
    get requests() { return requests; },
    get bytesSent() { return bytesSent; },
    close: () => new Promise<void>((resolve) => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
