/** Small helpers shared by tests. */
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Bytes from numbers, arrays of numbers and strings (UTF-8, no terminator). */
export function bytes(...parts: (number | string | number[] | Uint8Array)[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else if (typeof p === 'string') out.push(...new TextEncoder().encode(p));
    else out.push(...p);
  }
  return new Uint8Array(out);
}

/** A NUL-terminated inline string. */
export function str(s: string): number[] {
  return [0x03, ...new TextEncoder().encode(s), 0x00];
}

export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(root, 'fixtures', name)));
}

export function fixtureText(name: string): string {
  return readFileSync(join(root, 'fixtures', name), 'utf8');
}

/** Whether libwbxml's command-line tools are installed (interop tests skip with a notice if not). */
export function hasLibwbxml(): boolean {
  const r = spawnSync('sh', ['-c', 'command -v xml2wbxml && command -v wbxml2xml'], { encoding: 'utf8' });
  return r.status === 0 && existsSync(r.stdout.trim().split('\n')[0]);
}

/** Expects `fn` to throw a WbxmlError-like error with this code; returns it. */
export function thrown(fn: () => unknown): Error & { code: string; offset: number; line?: number; column?: number; path?: string } {
  try {
    fn();
  } catch (e) {
    return e as never;
  }
  throw new Error('expected an error, nothing was thrown');
}
