/**
 * The DM transport client (WM-ARCH step 4; research note §6.3): HTTP(S) POST of one SyncML
 * message, the answer read whole, connection retries with exponential back-off, HTTP 429 with
 * Retry-After, and the rule that decides when a DM 1.2 package refused by the server is resent as
 * DM 1.1.2.
 *
 * Defaults follow Windows' w7 APPLICATION settings (W7): `CONNRETRYFREQ` 3 retries,
 * `INITIALBACKOFFTIME` 16 s, `MAXBACKOFFTIME` 24 h, the wait doubling after each failure
 * (WM-RETRY: 1 min, 2, 4…). What is retried: connection failures (refused, reset, DNS, a timeout,
 * a response cut short) and HTTP 429 / 502 / 503 / 504 (WM-RETRY names 503; MS-MDM 3.1.6 429 with
 * Retry-After). Every other HTTP answer is returned to the caller as it is.
 *
 * Waiting goes through an injected {@link Clock}, so tests run the whole schedule instantly.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { DmError } from '../dm/errors.js';

/** Time for the transport and the FUMO download: `now` in ms, `sleep` resolves after `ms`. @public */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The real clock. @public */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => { setTimeout(resolve, ms); }),
};

/** How often and how long to wait before trying again (W7 CONNRETRYFREQ, INITIALBACKOFFTIME, MAXBACKOFFTIME). @public */
export interface RetryPolicy {
  /** Retries after the first attempt; default 3. */
  count: number;
  /** First wait in ms; default 16 000. Each next wait doubles. */
  initialBackoffMs: number;
  /** Longest wait in ms (also caps Retry-After); default 86 400 000 (24 h). */
  maxBackoffMs: number;
}

/** The w7 defaults. @public */
export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({ count: 3, initialBackoffMs: 16_000, maxBackoffMs: 86_400_000 });

/** TLS settings for `https:` URLs. @public */
export interface TlsOptions {
  /** Trusted CA certificate(s), PEM (e.g. a test server's self-signed certificate). */
  ca?: string | Uint8Array | (string | Uint8Array)[];
  /** Client certificate and key, PEM (mutual TLS). */
  cert?: string | Uint8Array;
  key?: string | Uint8Array;
  /** Default true. Turning it off accepts any certificate: tests only. */
  rejectUnauthorized?: boolean;
  /** SNI / certificate host name when it differs from the URL's. */
  servername?: string;
}

/** What the fallback rule is told about a refusal. @public */
export interface FallbackSignal {
  /** The package that was refused (1 for package 1). */
  package: number;
  /** The version it was sent in. */
  version: '1.2' | '1.1.2';
  /** The HTTP status, when the refusal came as one. */
  httpStatus?: number;
  /** The SyncHdr Status code, when the refusal came in SyncML. */
  syncHdrStatus?: number;
}

/** Decides whether a refusal means "resend as DM 1.1.2". @public */
export type FallbackPredicate = (signal: FallbackSignal) => boolean;

/**
 * The default rule (docs/session-protocol.md "Versions"): a DM 1.2 package 1 answered with an
 * HTTP 4xx other than 401 / 407, or any 1.2 message whose SyncHdr is answered 505 (DTD version)
 * or 513 (protocol version not supported).
 * @public
 */
export function defaultFallback(s: FallbackSignal): boolean {
  if (s.version !== '1.2') return false;
  if (s.syncHdrStatus === 505 || s.syncHdrStatus === 513) return true;
  const h = s.httpStatus;
  return s.package === 1 && h !== undefined && h >= 400 && h <= 499 && h !== 401 && h !== 407;
}

/** Options of {@link HttpTransport}. @public */
export interface TransportOptions {
  retry?: Partial<RetryPolicy>;
  clock?: Clock;
  tls?: TlsOptions;
  /** Socket inactivity limit per attempt, ms; default 60 000. */
  timeoutMs?: number;
  /** Largest response body accepted; default 16 MiB. */
  maxResponseBytes?: number;
  /** Extra request headers (e.g. `user-agent`). */
  headers?: Record<string, string>;
  /**
   * Keep the connection open between the messages of a session (HTTP keep-alive). Default true:
   * a session is several round trips to one server, and a TLS handshake per message costs more
   * than the message.
   */
  keepAlive?: boolean;
  /** The DM 1.1.2 fallback rule; `false` = never fall back (w7 BACKCOMPATRETRYDISABLED). Default {@link defaultFallback}. */
  fallback?: FallbackPredicate | false;
  /** Told before every wait (for traces). */
  onRetry?: (info: RetryInfo) => void;
}

/** One scheduled retry. @public */
export interface RetryInfo {
  attempt: number;
  waitMs: number;
  reason: string;
  url: string;
}

/** One message to send. @public */
export interface TransportRequest {
  url: string;
  body: Uint8Array;
  /** Lower-case names: `content-type`, `accept`, `x-syncml-hmac`… */
  headers: Record<string, string>;
}

/** What came back. @public */
export interface TransportResponse {
  status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  body: Uint8Array;
  contentType?: string;
  /** The `x-syncml-hmac` header (server HMAC authentication). */
  hmacHeader?: string;
  /** Attempts it took (1 = no retry). */
  attempts: number;
}

/** Carries one message; `HttpTransport` is the real one, tests may pass their own. @public */
export interface Transport {
  send(request: TransportRequest): Promise<TransportResponse>;
  /** Whether a refusal means "resend the package as DM 1.1.2". */
  shouldFallBack(signal: FallbackSignal): boolean;
}

/** A DmError `TRANSPORT` with what the transport knows. @public */
export type TransportError = DmError & { httpStatus?: number; attempts?: number; retryable?: boolean };

/** Builds a `TRANSPORT` DmError. @public */
export function transportError(message: string, extra: { httpStatus?: number; attempts?: number; retryable?: boolean; cause?: unknown; status?: number } = {}): TransportError {
  const e = new DmError('TRANSPORT', message, { cause: extra.cause, status: extra.status }) as TransportError;
  if (extra.httpStatus !== undefined) e.httpStatus = extra.httpStatus;
  if (extra.attempts !== undefined) e.attempts = extra.attempts;
  if (extra.retryable !== undefined) e.retryable = extra.retryable;
  return e;
}

const RETRY_HTTP = new Set([429, 502, 503, 504]);
const RETRY_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'TIMEOUT']);

/** The wait before retry `attempt` (1-based): initial x 2^(attempt-1), capped. @public */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const d = policy.initialBackoffMs * 2 ** Math.max(0, attempt - 1);
  return Math.min(d, policy.maxBackoffMs);
}

/** Retry-After as ms: delta-seconds or an HTTP date (RFC 9110 10.2.3); undefined when absent or unreadable. @public */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** Node's `http`/`https` request options for a URL and TLS settings (shared with the FUMO download). @public */
export function requestOptions(url: URL, method: string, headers: Record<string, string>, tls: TlsOptions | undefined): https.RequestOptions {
  const o: https.RequestOptions = { method, headers, agent: false };
  if (url.protocol === 'https:' && tls) {
    const buf = (v: string | Uint8Array) => (typeof v === 'string' ? v : Buffer.from(v));
    if (tls.ca !== undefined) o.ca = Array.isArray(tls.ca) ? tls.ca.map(buf) : buf(tls.ca);
    if (tls.cert !== undefined) o.cert = buf(tls.cert);
    if (tls.key !== undefined) o.key = buf(tls.key);
    if (tls.rejectUnauthorized !== undefined) o.rejectUnauthorized = tls.rejectUnauthorized;
    if (tls.servername !== undefined) o.servername = tls.servername;
  }
  return o;
}

/** Parses a URL for the transport; DmError TRANSPORT for anything but http(s). @public */
export function parseHttpUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch (e) {
    throw transportError(`'${text}' is not a URL`, { cause: e, retryable: false });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw transportError(`${url.protocol} URLs are not supported (http: or https:)`, { retryable: false });
  return url;
}

function headerMap(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/**
 * HTTP(S) POST with retries.
 *
 * @example
 * ```ts
 * const t = new HttpTransport({ retry: { count: 5 }, tls: { ca: readFileSync('ca.pem', 'utf8') } });
 * const res = await t.send({ url, body, headers: { 'content-type': 'application/vnd.syncml.dm+wbxml' } });
 * ```
 * @public
 */
export class HttpTransport implements Transport {
  readonly retry: RetryPolicy;
  private readonly clock: Clock;
  private readonly options: TransportOptions;
  private httpAgent?: http.Agent;
  private httpsAgent?: https.Agent;

  constructor(options: TransportOptions = {}) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    const r = this.retry;
    if (!Number.isInteger(r.count) || r.count < 0) throw new DmError('INVALID_ARGUMENT', 'retry.count must be a non-negative integer');
    if (!(r.initialBackoffMs >= 0) || !(r.maxBackoffMs >= 0)) throw new DmError('INVALID_ARGUMENT', 'back-off times must be non-negative');
  }

  /** Closes the kept-alive connections (idle ones never keep the process running). */
  close(): void {
    this.httpAgent?.destroy();
    this.httpsAgent?.destroy();
    this.httpAgent = this.httpsAgent = undefined;
  }

  private agentFor(url: URL): http.Agent | false {
    if (this.options.keepAlive === false) return false;
    if (url.protocol === 'https:') return (this.httpsAgent ??= new https.Agent({ keepAlive: true, maxSockets: 8 }));
    return (this.httpAgent ??= new http.Agent({ keepAlive: true, maxSockets: 8 }));
  }

  shouldFallBack(signal: FallbackSignal): boolean {
    const f = this.options.fallback;
    if (f === false) return false;
    return (f ?? defaultFallback)(signal);
  }

  /**
   * Sends one message; retries connection failures and 429/502/503/504 per the policy. Resolves
   * with any other HTTP answer (and with the last 429/5xx once the retries are spent). Rejects
   * with a TRANSPORT DmError when no answer came after the last attempt.
   */
  async send(request: TransportRequest): Promise<TransportResponse> {
    const url = parseHttpUrl(request.url);
    let attempt = 0;
    for (;;) {
      attempt++;
      let response: TransportResponse | undefined;
      let failure: TransportError | undefined;
      try {
        response = await this.once(url, request);
        response.attempts = attempt;
      } catch (e) {
        failure = e as TransportError;
        if (failure.retryable === false) throw Object.assign(failure, { attempts: attempt });
      }
      const retryable = failure !== undefined || RETRY_HTTP.has(response!.status);
      if (!retryable) return response!;
      if (attempt > this.retry.count) {
        if (response) return response;
        throw transportError(`${url.origin}: ${failure!.message} (after ${attempt} attempts)`, { attempts: attempt, cause: failure });
      }
      let wait = backoffDelay(this.retry, attempt);
      if (response !== undefined) {
        const ra = retryAfterMs(response.headers['retry-after'], this.clock.now());
        if (ra !== undefined) wait = Math.min(ra, this.retry.maxBackoffMs);
      }
      this.options.onRetry?.({ attempt, waitMs: wait, reason: failure ? failure.message : `HTTP ${response!.status}`, url: request.url });
      await this.clock.sleep(wait);
    }
  }

  private async once(url: URL, request: TransportRequest): Promise<TransportResponse> {
    try {
      return await this.post(url, request);
    } catch (e) {
      // A kept-alive connection the server closed while it sat idle: the request never reached
      // the server, so it is sent again at once on a new connection (not a retry of the policy).
      if ((e as { staleSocket?: boolean }).staleSocket) return this.post(url, request);
      throw e;
    }
  }

  private post(url: URL, request: TransportRequest): Promise<TransportResponse> {
    const headers: Record<string, string> = { ...this.options.headers, ...request.headers, 'content-length': String(request.body.length) };
    const o = requestOptions(url, 'POST', headers, this.options.tls);
    o.agent = this.agentFor(url);
    const max = this.options.maxResponseBytes ?? 16 * 1024 * 1024;
    const timeout = this.options.timeoutMs ?? 60_000;
    return new Promise<TransportResponse>((resolve, reject) => {
      const fail = (message: string, cause?: unknown, retryable = true) => reject(transportError(message, { cause, retryable }));
      const req = (url.protocol === 'https:' ? https : http).request(url, o, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > max) {
            req.destroy();
            fail(`the answer is larger than ${max} bytes`, undefined, false);
            return;
          }
          chunks.push(c);
        });
        res.on('aborted', () => fail('the connection closed in the middle of the answer'));
        res.on('error', (e) => fail(`reading the answer failed: ${e.message}`, e));
        res.on('end', () => {
          if (!res.complete) { fail('the connection closed in the middle of the answer'); return; }
          const b = Buffer.concat(chunks);
          const hdrs = headerMap(res.headers);
          const out: TransportResponse = { status: res.statusCode ?? 0, headers: hdrs, body: new Uint8Array(b.buffer, b.byteOffset, b.length), attempts: 1 };
          if (hdrs['content-type'] !== undefined) out.contentType = hdrs['content-type'];
          if (hdrs['x-syncml-hmac'] !== undefined) out.hmacHeader = hdrs['x-syncml-hmac'];
          resolve(out);
        });
      });
      req.setTimeout(timeout, () => {
        req.destroy(Object.assign(new Error(`no answer within ${timeout} ms`), { code: 'TIMEOUT' }));
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        const code = e.code ?? '';
        if (req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) {
          reject(Object.assign(transportError(`${url.host}: ${e.message}`, { cause: e, retryable: true }), { staleSocket: true }));
          return;
        }
        // TLS failures (bad certificate) do not get better by trying again.
        fail(`${url.host}: ${e.message}`, e, RETRY_CODES.has(code));
      });
      req.end(Buffer.from(request.body.buffer, request.body.byteOffset, request.body.length));
    });
  }
}
