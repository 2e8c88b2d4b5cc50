/**
 * The demo's trace: a transport that wraps the client's real HTTP(S) transport, sees the exact
 * bytes of every message both ways, and prints one aligned line per message (direction, package,
 * MsgID, who sent it, bytes and encoding, commands and statuses), with the XML under it in
 * verbose mode. It also counts sessions, messages and bytes for the summary table.
 */
import type { TraceEvent } from '../../client/dm-client.js';
import type { FallbackSignal, Transport, TransportRequest, TransportResponse } from '../../client/transport.js';
import type { Notification } from '../../dm/notification.js';
import { parse } from '../../syncml/parse.js';
import { serialize } from '../../syncml/serialize.js';
import type { SyncML } from '../../syncml/types.js';
import { int, messageParts, wrapParts, type Style } from './format.js';

/** What a step did on the wire. */
export interface Counters {
  sessions: number;
  messages: number;
  bytes: number;
}

export function counters(): Counters {
  return { sessions: 0, messages: 0, bytes: 0 };
}

export interface TracerOptions {
  style: Style;
  /** Print the trace (false: count only, for the load step's devices). */
  print: boolean;
  verbose: boolean;
  /** Line width the commands wrap at. */
  width: number;
  out: (line: string) => void;
}

const PAD_WHO = 21;

function encodingOf(headers: Record<string, string>): 'wbxml' | 'xml' {
  return /xml/.test(headers['content-type'] ?? '') && !/wbxml/.test(headers['content-type'] ?? '') ? 'xml' : 'wbxml';
}

function tryParse(body: Uint8Array): SyncML | undefined {
  try {
    return parse(body, { strict: false });
  } catch {
    return undefined;
  }
}

/** Prints and counts; one per demo run. `stats` is the current step's counters. */
export class Tracer {
  stats: Counters = counters();
  /** URL origin -> server name, for the `←` lines. */
  readonly peers = new Map<string, string>();

  constructor(readonly o: TracerOptions) {}

  get style(): Style {
    return this.o.style;
  }

  line(s: string): void {
    if (this.o.print) this.o.out(s);
  }

  /** A note from a client (`session 1A2B: completed`, FUMO State changes) or from the demo. */
  note(text: string): void {
    this.line(`    ${this.o.style.dim(`· ${text}`)}`);
  }

  /** The prefix of a message line, and its visible width. */
  private head(arrow: string, pkg: string, msgId: string, who: string, bytes: number, enc: string): { text: string; width: number } {
    const s = this.o.style;
    const plain = `  ${arrow} ${`pkg ${pkg}`.padEnd(6)} ${`msg ${msgId}`.padEnd(6)} ${who.padEnd(PAD_WHO)} ${`${int(bytes)} B`.padStart(8)} ${enc.padEnd(5)}  `;
    const coloured = arrow === '→' ? s.cyan(arrow) : arrow === '←' ? s.green(arrow) : s.magenta(arrow);
    return { text: plain.replace(arrow, coloured), width: plain.length };
  }

  /**
   * The prefix, then the phrases wrapped in the column after it; on a narrow terminal (less than
   * 50 columns left) the phrases go under the prefix instead.
   */
  private print(h: { text: string; width: number }, parts: string[]): void {
    if (this.o.width - h.width >= 50) {
      const lines = wrapParts(parts, h.width, h.width, this.o.width);
      this.o.out(h.text + lines[0]);
      for (const l of lines.slice(1)) this.o.out(' '.repeat(h.width) + l);
      return;
    }
    this.o.out(h.text.trimEnd());
    for (const l of wrapParts(parts, 8, 8, this.o.width)) this.o.out(' '.repeat(8) + l);
  }

  /** Prints one message. */
  message(arrow: '→' | '←', pkg: string, who: string, body: Uint8Array, enc: 'wbxml' | 'xml', msg: SyncML | undefined, httpStatus?: number): void {
    if (!this.o.print) return;
    const s = this.o.style;
    const h = this.head(arrow, pkg, msg?.header.msgId ?? '?', who, body.length, enc);
    let parts: string[];
    if (msg === undefined) parts = [s.red(httpStatus !== undefined && (httpStatus < 200 || httpStatus > 299) ? `HTTP ${httpStatus}` : 'not a SyncML message')];
    else {
      parts = messageParts(msg, s);
      if (msg.header.cred) parts.unshift(`Cred ${(msg.header.cred.meta?.type ?? 'basic').replace(/^syncml:auth-/, '')}`);
      if (msg.header.verProto !== 'DM/1.2') parts.unshift(s.bold(`[${msg.header.verProto}]`));
    }
    this.print(h, parts);
    if (this.o.verbose && msg !== undefined) {
      const xml = serialize(msg, { encoding: 'xml', indent: true }).trimEnd();
      if (enc === 'wbxml') {
        const flat = serialize(msg, { encoding: 'xml' });
        this.o.out(' '.repeat(h.width) + s.dim(`(as XML: ${int(Buffer.byteLength(flat))} B, WBXML saves ${Math.round((1 - body.length / Buffer.byteLength(flat)) * 100)} %)`));
      }
      for (const l of xml.split('\n')) this.o.out(`        ${s.dim(l)}`);
    }
  }

  /** Package 0 as the server built it (its decoded fields), and where it goes (`note`). */
  package0(server: string, bytes: Uint8Array, n: Notification, note: string): void {
    if (!this.o.print) return;
    const h = this.head('⇢', '0', '-', server, bytes.length, 'bin');
    const parts = [`notification: SessionID ${n.sessionIdHex}`, `server ${n.serverId}`, `ui-mode ${n.uiMode}`, `initiator ${n.initiator}`, note];
    this.print(h, parts);
    if (this.o.verbose) this.o.out(`        ${this.o.style.dim(Buffer.from(bytes).toString('hex').replace(/(.{2})/g, '$1 ').trim())}`);
  }

  /** A transport for one client that traces through this tracer. */
  transport(device: string, inner: Transport, options: { quiet?: boolean } = {}): TracingTransport {
    return new TracingTransport(device, inner, this, options.quiet === true);
  }
}

/**
 * Wraps the client's real transport: every message still goes over HTTP(S); this one only reads
 * the bytes on their way. The package number comes from the client's trace event, which the
 * client emits just before it sends.
 */
export class TracingTransport implements Transport {
  private pkg: number | undefined;

  /** `quiet`: count only (the load step's devices print nothing). */
  constructor(readonly device: string, readonly inner: Transport, readonly tracer: Tracer, readonly quiet = false) {}

  /** The client's `onTrace`: package numbers, and its notes. */
  onTrace = (e: TraceEvent): void => {
    if (e.direction === 'out') this.pkg = e.package;
    else if (e.direction === 'note' && !this.quiet) for (const l of e.lines) this.tracer.note(l);
  };

  async send(request: TransportRequest): Promise<TransportResponse> {
    const t = this.tracer;
    const pkg = this.pkg;
    this.pkg = undefined;
    const enc = encodingOf(request.headers);
    const out = tryParse(request.body);
    t.stats.messages++;
    t.stats.bytes += request.body.length;
    if (out?.header.msgId === '1') t.stats.sessions++;
    if (!this.quiet) t.message('→', pkg !== undefined ? String(pkg) : '?', this.device, request.body, enc, out);
    const res = await this.inner.send(request);
    t.stats.messages++;
    t.stats.bytes += res.body.length;
    const ok = res.status >= 200 && res.status <= 299;
    const msg = ok && !this.quiet ? tryParse(res.body) : undefined;
    let who = request.url;
    try {
      who = t.peers.get(new URL(request.url).origin) ?? new URL(request.url).host;
    } catch {
      // keep the URL
    }
    if (!this.quiet) t.message('←', pkg !== undefined ? String(pkg + 1) : '?', who, res.body, encodingOf(res.headers), msg, res.status);
    return res;
  }

  shouldFallBack(signal: FallbackSignal): boolean {
    return this.inner.shouldFallBack(signal);
  }
}
