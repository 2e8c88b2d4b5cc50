/**
 * Server logs: one JSON line per DM message received or sent (device, session, MsgID, commands,
 * status codes, bytes, milliseconds), one per notable event, and an optional trace directory that
 * keeps every message as indented XML for debugging (WBXML messages are converted).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serialize, type SyncML } from '../syncml/index.js';

/** One message, as logged. @public */
export interface MessageLogEntry {
  dir: 'in' | 'out';
  device?: string;
  /** The SyncHdr SessionID. */
  session?: string;
  /** The server's session token (the RespURI key). */
  token?: string;
  msg?: string;
  /** `Alert 1201`, `Replace`, `Get`... in body order (Statuses apart). */
  commands: string[];
  /** Status codes in body order, the SyncHdr's first. */
  statuses: number[];
  bytes: number;
  encoding?: 'wbxml' | 'xml';
  final?: boolean;
  /** Time spent on the request when the answer left. */
  ms?: number;
  /** Defects the tolerant parser accepted. */
  warnings?: number;
  notes?: string[];
}

/** Where the server writes what it does. @public */
export interface ServerLogger {
  message(entry: MessageLogEntry): void;
  event(kind: string, data?: Record<string, unknown>): void;
  error(what: string, error: unknown, data?: Record<string, unknown>): void;
}

/** What is needed of a stream. */
export interface LineSink {
  write(line: string): unknown;
}

/**
 * JSON lines: `{"ts":"2026-…","kind":"message","dir":"in","device":"IMEI:…","session":"1A2B","msg":"1",…}`.
 * @public
 */
export class JsonLogger implements ServerLogger {
  constructor(private readonly sink: LineSink = process.stderr, private readonly clock: () => number = Date.now) {}

  private line(o: Record<string, unknown>): void {
    try {
      this.sink.write(JSON.stringify({ ts: new Date(this.clock()).toISOString(), ...o }) + '\n');
    } catch {
      // A log that cannot be written must not take the server down.
    }
  }

  message(entry: MessageLogEntry): void {
    this.line({ kind: 'message', ...entry });
  }

  event(kind: string, data: Record<string, unknown> = {}): void {
    this.line({ kind, ...data });
  }

  error(what: string, error: unknown, data: Record<string, unknown> = {}): void {
    const e = error instanceof Error ? { error: error.message, code: (error as { code?: unknown }).code, stack: error.stack?.split('\n').slice(0, 4).join(' | ') } : { error: String(error) };
    this.line({ kind: 'error', what, ...e, ...data });
  }
}

/** A logger that drops everything. @public */
export const silentLogger: ServerLogger = { message() {}, event() {}, error() {} };

/** Commands and status codes of a message, for a log line. @public */
export function summarize(msg: SyncML): { commands: string[]; statuses: number[] } {
  const commands: string[] = [];
  const statuses: number[] = [];
  for (const c of msg.body?.commands ?? []) {
    if (c.kind === 'Status') statuses.push(c.code);
    else if (c.kind === 'Alert') commands.push(`Alert ${c.code}`);
    else if (c.kind === 'Atomic' || c.kind === 'Sequence') commands.push(`${c.kind}(${c.commands.map((x) => x.kind).join(',')})`);
    else commands.push(c.kind);
  }
  return { commands, statuses };
}

function safe(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64);
}

/**
 * Keeps each message as a file: `<time>-<device>-<session>-<msg>-<in|out>.xml` (raw bytes as
 * `.bin` when the message could not be parsed).
 * @public
 */
export class TraceWriter {
  private seq = 0;
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  write(info: { dir: 'in' | 'out'; device?: string; session?: string; msg?: string }, message: SyncML | Uint8Array): string | undefined {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const base = `${stamp}-${String(++this.seq).padStart(4, '0')}-${safe(info.device ?? 'unknown')}-${safe(info.session ?? '-')}-${safe(info.msg ?? '-')}-${info.dir}`;
    try {
      if (message instanceof Uint8Array) {
        const file = join(this.dir, `${base}.bin`);
        writeFileSync(file, message);
        return file;
      }
      const file = join(this.dir, `${base}.xml`);
      writeFileSync(file, serialize(message, { encoding: 'xml', indent: true }) + '\n');
      return file;
    } catch {
      return undefined;
    }
  }
}
