/**
 * Shared machinery of the hardening suite: a DM server in a child process (server-child.ts),
 * the admin API, the JSON log it writes, and percentiles.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerChildOptions } from './server-child.js';
import { admin } from '../../server-helpers.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const SCRIPTS = join(ROOT, 'test', 'hardening', 'scripts');

export interface ServerChild {
  child: ChildProcess;
  url: string;
  adminUrl: string;
  token: string;
  pid: number;
  stderr: () => string;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM, and wait for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Calls the admin API. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** The first line a child prints on its standard output, as JSON. */
export function firstLine<T>(child: ChildProcess, what: string, stderr: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c) => {
      out += String(c);
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as T);
    });
    child.once('exit', (code, signal) => reject(new Error(`${what} exited (${code ?? signal}): ${stderr()}`)));
  });
}

export { admin };

/** Starts server-child.ts with these options; resolves once it listens. */
export async function startServer(options: ServerChildOptions, extraNodeArgs: string[] = []): Promise<ServerChild> {
  const child = spawn(process.execPath, [...extraNodeArgs, '--import', 'tsx', join(SCRIPTS, 'server-child.ts'), JSON.stringify(options)], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c) => { err += String(c); });
  const info = await firstLine<{ url: string; adminUrl: string; pid: number }>(child, 'the server', () => err);
  return {
    child, ...info, token: options.token, stderr: () => err,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited(child);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return (await exited(child)).code;
    },
    admin: (method, path, body) => admin(info.adminUrl, options.token, method, path, body),
  };
}

/** The JSON lines of a log file (an unfinished last line is skipped). */
export function logLines(file: string): Record<string, any>[] {
  if (!existsSync(file)) return [];
  const out: Record<string, any>[] = [];
  for (const l of readFileSync(file, 'utf8').split('\n')) {
    if (l.trim() === '') continue;
    try {
      out.push(JSON.parse(l));
    } catch {
      // a line being written
    }
  }
  return out;
}

/** Waits until `check` returns a value (polling), or throws after `ms`. */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, ms = 10_000, what = 'the condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The p-th percentile (0-100) of sorted numbers, nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}
