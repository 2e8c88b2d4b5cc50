/**
 * Delivering package 0 (DMNOTI 6.3; research note §3.4): a `PushSender` takes the notification
 * and gets it to the device. Real deployments plug in their SMS / WAP push gateway; the built-ins
 * write to a directory (one file per notification) or POST to a URL.
 *
 * Framing: `raw` is the notification itself (`application/vnd.syncml.notification`); `wap` wraps
 * it in a connectionless WSP Push PDU (content type 0x44, X-WAP-Application-ID 0x07) ready for a
 * WDP datagram to port 2948, which is what an SMS gateway usually wants.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One notification to deliver. @public */
export interface PushMessage {
  deviceId: string;
  /** The device's push address (MSISDN, URL...) as stored, if any. */
  address?: string;
  /** The SessionID the device will use (upper-case hex). */
  sessionId: string;
  /** Package 0 itself. */
  notification: Uint8Array;
  /** Package 0 in a WSP Push PDU. */
  wapPush: Uint8Array;
}

/** Gets package 0 to a device. Resolve with a short description of the delivery; reject on failure. @public */
export interface PushSender {
  send(message: PushMessage): Promise<string | void>;
}

/** `raw` (the notification) or `wap` (WSP Push PDU). @public */
export type PushFraming = 'raw' | 'wap';

function safe(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64);
}

/**
 * Writes each notification to `dir` as `<time>-<device>-<sessionid>.<bin|wap>` (written to a
 * temporary name and renamed, so a reader never sees half a file).
 * @public
 */
export class FilePushSender implements PushSender {
  constructor(readonly dir: string, readonly options: { framing?: PushFraming } = {}) {}

  async send(m: PushMessage): Promise<string> {
    mkdirSync(this.dir, { recursive: true });
    const wap = this.options.framing === 'wap';
    const name = `${Date.now()}-${safe(m.deviceId)}-${m.sessionId}.${wap ? 'wap' : 'bin'}`;
    const tmp = join(this.dir, `.${name}.tmp`);
    writeFileSync(tmp, wap ? m.wapPush : m.notification);
    renameSync(tmp, join(this.dir, name));
    return `file ${name}`;
  }
}

/** Options of {@link HttpPushSender}. @public */
export interface HttpPushSenderOptions {
  framing?: PushFraming;
  /** Extra request headers (an API key for the gateway). */
  headers?: Record<string, string>;
  /** Default 10 s. */
  timeoutMs?: number;
}

/**
 * POSTs each notification to a URL: body = the notification (`application/vnd.syncml.notification`)
 * or the WSP PDU (`application/vnd.wap.push`, a name for the framing, not a registered type), with
 * `X-Device-Id`, `X-Push-Address` and `X-Session-Id` headers. Any 2xx is a delivery.
 * @public
 */
export class HttpPushSender implements PushSender {
  constructor(readonly url: string, readonly options: HttpPushSenderOptions = {}) {}

  async send(m: PushMessage): Promise<string> {
    const wap = this.options.framing === 'wap';
    const headers: Record<string, string> = {
      'content-type': wap ? 'application/vnd.wap.push' : 'application/vnd.syncml.notification',
      'x-device-id': m.deviceId,
      'x-session-id': m.sessionId,
      ...(m.address !== undefined ? { 'x-push-address': m.address } : {}),
      ...this.options.headers,
    };
    const body = Buffer.from(wap ? m.wapPush : m.notification);
    const res = await fetch(this.url, {
      method: 'POST', headers, body, signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new Error(`push gateway answered HTTP ${res.status}`);
    return `HTTP ${res.status}`;
  }
}
