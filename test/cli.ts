/** Runs the command line from source (through tsx), as a user would run the built one. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root } from './helpers.js';

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

export function cli(args: string[], input?: Uint8Array | string, env?: Record<string, string>): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
    input,
    cwd: root,
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status ?? -1, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), stdoutBytes: r.stdout };
}
