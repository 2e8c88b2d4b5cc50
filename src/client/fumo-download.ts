/**
 * The FUMO alternate download (FUMO §6; research note §5.4): the package at PkgURL fetched with
 * HTTP(S) GET, streamed to `<file>.part`, resumed with `Range` after a cut, checked against the
 * announced size and SHA-256, then renamed to `<file>`.
 *
 * Failures are `TRANSPORT` DmErrors whose `status` is the FUMO result code the final Generic
 * Alert reports (FUMO §10.2; research note §5.3):
 *
 * | failure | result |
 * | --- | --- |
 * | size or SHA-256 differs from what was announced | 402 Corrupted firmware update package |
 * | HTTP 401 / 403 / 407 | 406 Alternate download authentication failure |
 * | no answer within the timeout, HTTP 408 / 504 | 407 Alternate download request time-out |
 * | not an http(s) URL, HTTP 404 / 410 | 411 Malformed or bad URL |
 * | connection refused, host unknown, HTTP 503 | 412 Alternate download server unavailable |
 * | other HTTP errors | 500 Alternate download server error |
 * | the disk is full | 501 Download fails due to device out of memory |
 * | the connection keeps breaking after the retries | 503 Download fails due to network issues |
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, stat, truncate, unlink } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FumoResult } from '../syncml/generic-alert.js';
import { backoffDelay, parseHttpUrl, requestOptions, systemClock, transportError, type Clock, type TlsOptions, type TransportError } from './transport.js';

/** Progress of a download. @public */
export interface DownloadProgress {
  /** Bytes on disk so far (resumed bytes included). */
  received: number;
  /** The whole size, when known (Content-Length / Content-Range / announced). */
  total?: number;
  /** Bytes this attempt started from (0 for a fresh download). */
  offset: number;
}

/** Options of {@link downloadPackage}. @public */
export interface DownloadOptions {
  url: string;
  /** Final path; the partial download lives in `<file>.part`. */
  file: string;
  /** Announced size in bytes. */
  expectedSize?: number;
  /** Announced SHA-256, hex. */
  sha256?: string;
  onProgress?: (p: DownloadProgress) => void;
  tls?: TlsOptions;
  /** Socket inactivity limit, ms; default 60 000. */
  timeoutMs?: number;
  /** Redirects followed; default 5. */
  maxRedirects?: number;
  /** Attempts after the first when the connection breaks; default 3. Each resumes. */
  retries?: number;
  /** First wait between attempts, ms (doubling, capped at 60 s); default 1000. */
  backoffMs?: number;
  clock?: Clock;
  headers?: Record<string, string>;
}

/** A finished download. @public */
export interface DownloadResult {
  file: string;
  bytes: number;
  /** SHA-256 of the whole file, hex. */
  sha256: string;
  /** Offsets where an attempt resumed (empty when it ran in one go). */
  resumedAt: number[];
}

function fumoError(message: string, result: number, extra: { httpStatus?: number; cause?: unknown; retryable?: boolean } = {}): TransportError {
  return transportError(message, { ...extra, status: result });
}

/** The FUMO result code for a download failure (see the table above); 503 when unknown. @public */
export function downloadResultCode(e: unknown): number {
  const s = (e as { status?: unknown })?.status;
  return typeof s === 'number' && s >= 400 && s <= 599 ? s : FumoResult.DOWNLOAD_NETWORK_ERROR;
}

function httpFailure(status: number, url: string): TransportError {
  let result: number = FumoResult.DOWNLOAD_SERVER_ERROR;
  if (status === 401 || status === 403 || status === 407) result = FumoResult.DOWNLOAD_AUTHENTICATION_FAILURE;
  else if (status === 404 || status === 410) result = FumoResult.BAD_URL;
  else if (status === 408 || status === 504) result = FumoResult.DOWNLOAD_TIMEOUT;
  else if (status === 503) result = FumoResult.DOWNLOAD_SERVER_UNAVAILABLE;
  const retryable = status === 408 || status === 429 || status >= 500;
  return fumoError(`GET ${url}: HTTP ${status}`, result, { httpStatus: status, retryable });
}

function networkFailure(e: NodeJS.ErrnoException, url: string): TransportError {
  const code = e.code ?? '';
  if (code === 'ENOSPC' || code === 'EDQUOT') return fumoError(`writing the package failed: ${e.message}`, FumoResult.DOWNLOAD_OUT_OF_MEMORY, { cause: e, retryable: false });
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH') {
    return fumoError(`GET ${url}: ${e.message}`, FumoResult.DOWNLOAD_SERVER_UNAVAILABLE, { cause: e, retryable: true });
  }
  if (code === 'TIMEOUT') return fumoError(`GET ${url}: ${e.message}`, FumoResult.DOWNLOAD_TIMEOUT, { cause: e, retryable: true });
  if ((e as { status?: unknown }).status !== undefined && (e as TransportError).code === 'TRANSPORT') return e as TransportError;
  // A TLS failure does not heal with time; a reset or a cut does.
  const tls = /CERT|SSL|TLS|self.signed/i.test(code + e.message);
  return fumoError(`GET ${url}: ${e.message}`, FumoResult.DOWNLOAD_NETWORK_ERROR, { cause: e, retryable: !tls });
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function hashFile(path: string, hash: Hash): Promise<void> {
  await pipeline(createReadStream(path), new Transform({
    transform(chunk: Buffer, _e, cb: TransformCallback) { hash.update(chunk); cb(); },
  }));
}

/** Total size from `Content-Range: bytes a-b/total`. */
function rangeTotal(v: string | undefined): number | undefined {
  const m = /\/(\d+)\s*$/.exec(v ?? '');
  return m ? Number(m[1]) : undefined;
}

function rangeStart(v: string | undefined): number | undefined {
  const m = /^\s*bytes\s+(\d+)-/.exec(v ?? '');
  return m ? Number(m[1]) : undefined;
}

interface Attempt {
  res: http.IncomingMessage;
  req: http.ClientRequest;
  url: string;
}

function get(urlText: string, headers: Record<string, string>, o: DownloadOptions, redirects: number): Promise<Attempt> {
  let url: URL;
  try {
    url = parseHttpUrl(urlText);
  } catch (e) {
    return Promise.reject(fumoError((e as Error).message, FumoResult.BAD_URL, { cause: e, retryable: false }));
  }
  const timeout = o.timeoutMs ?? 60_000;
  return new Promise<Attempt>((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, requestOptions(url, 'GET', headers, o.tls), (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if ([301, 302, 303, 307, 308].includes(status) && location) {
        res.resume();
        if (redirects >= (o.maxRedirects ?? 5)) { reject(fumoError(`GET ${urlText}: too many redirects`, FumoResult.BAD_URL, { retryable: false })); return; }
        get(new URL(location, url).toString(), headers, o, redirects + 1).then(resolve, reject);
        return;
      }
      resolve({ res, req, url: urlText });
    });
    req.setTimeout(timeout, () => req.destroy(Object.assign(new Error(`no data within ${timeout} ms`), { code: 'TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => reject(networkFailure(e, urlText)));
    req.end();
  });
}

/**
 * Downloads a FUMO package, resuming a `.part` file left by an earlier attempt (or an earlier
 * run) with `Range: bytes=N-`. A server that ignores Range (200) restarts the file; one that
 * answers 416 for a complete part finishes it.
 *
 * @example
 * ```ts
 * const r = await downloadPackage({ url: job.pkgUrl!, file: '/var/lib/dm/pkg1.bin', onProgress: bar });
 * ```
 * @throws DmError TRANSPORT whose `status` is the FUMO result code (see the module comment)
 * @public
 */
export async function downloadPackage(o: DownloadOptions): Promise<DownloadResult> {
  const clock = o.clock ?? systemClock;
  const part = `${o.file}.part`;
  const retries = o.retries ?? 3;
  const resumedAt: number[] = [];
  let lastError: TransportError | undefined;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await clock.sleep(backoffDelay({ count: retries, initialBackoffMs: o.backoffMs ?? 1000, maxBackoffMs: 60_000 }, attempt));
    try {
      const done = await attemptOnce(o, part, resumedAt);
      await rename(part, o.file);
      return done;
    } catch (e) {
      lastError = e as TransportError;
      if (lastError.retryable === false) break;
    }
  }
  throw lastError!;
}

async function attemptOnce(o: DownloadOptions, part: string, resumedAt: number[]): Promise<DownloadResult> {
  let offset = await sizeOf(part);
  const headers: Record<string, string> = { ...o.headers, accept: '*/*' };
  if (offset > 0) headers.range = `bytes=${offset}-`;
  const { res, url } = await get(o.url, headers, o, 0);
  const status = res.statusCode ?? 0;
  let total: number | undefined;
  if (status === 416 && offset > 0) {
    res.resume();
    const t = rangeTotal(res.headers['content-range']);
    if (t !== offset) {
      // The part is not a prefix the server knows: start over.
      await unlink(part).catch(() => undefined);
      throw fumoError(`GET ${url}: the partial download does not match (416)`, FumoResult.DOWNLOAD_NETWORK_ERROR, { retryable: true });
    }
    return finish(o, part, offset, resumedAt);
  }
  if (status === 206 && offset > 0 && rangeStart(res.headers['content-range']) === offset) {
    resumedAt.push(offset);
    total = rangeTotal(res.headers['content-range']);
  } else if (status === 200) {
    if (offset > 0) { await truncate(part, 0).catch(() => undefined); offset = 0; }
    const cl = res.headers['content-length'];
    total = cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : undefined;
  } else {
    res.resume();
    throw httpFailure(status, url);
  }
  if (o.expectedSize !== undefined && total !== undefined && total !== o.expectedSize) {
    res.destroy();
    await unlink(part).catch(() => undefined);
    throw fumoError(`GET ${url}: the server offers ${total} bytes, ${o.expectedSize} were announced`, FumoResult.CORRUPTED_PACKAGE, { retryable: false });
  }
  let received = offset;
  const progressTotal = total ?? o.expectedSize;
  const report = () => o.onProgress?.(progressTotal !== undefined ? { received, total: progressTotal, offset } : { received, offset });
  report();
  const counter = new Transform({
    transform(chunk: Buffer, _e, cb: TransformCallback) {
      received += chunk.length;
      report();
      cb(null, chunk);
    },
  });
  try {
    await pipeline(res, counter, createWriteStream(part, { flags: offset > 0 ? 'a' : 'w' }));
  } catch (e) {
    throw networkFailure(e as NodeJS.ErrnoException, url);
  }
  if (!res.complete) throw fumoError(`GET ${url}: the connection closed after ${received} bytes`, FumoResult.DOWNLOAD_NETWORK_ERROR, { retryable: true });
  if (total !== undefined && received !== total) {
    throw fumoError(`GET ${url}: got ${received} of ${total} bytes`, FumoResult.DOWNLOAD_NETWORK_ERROR, { retryable: true });
  }
  return finish(o, part, received, resumedAt);
}

/** Checks the finished part against the announced size and hash. */
async function finish(o: DownloadOptions, part: string, bytes: number, resumedAt: number[]): Promise<DownloadResult> {
  const hash = createHash('sha256');
  await hashFile(part, hash);
  const sha256 = hash.digest('hex');
  const corrupted = (why: string) => fumoError(why, FumoResult.CORRUPTED_PACKAGE, { retryable: false });
  if (o.expectedSize !== undefined && bytes !== o.expectedSize) {
    await unlink(part).catch(() => undefined);
    throw corrupted(`the package has ${bytes} bytes, ${o.expectedSize} were announced`);
  }
  if (o.sha256 !== undefined && sha256 !== o.sha256.toLowerCase()) {
    await unlink(part).catch(() => undefined);
    throw corrupted(`the package's SHA-256 is ${sha256}, ${o.sha256.toLowerCase()} was announced`);
  }
  return { file: o.file, bytes, sha256, resumedAt: [...resumedAt] };
}
