/**
 * The examples in examples/ run against the built package (as a user's code would import it),
 * and the README shows them exactly as they are here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './helpers.js';

const built = existsSync(join(root, 'dist', 'server', 'index.js'));
const run = (name: string) => spawnSync(process.execPath, ['--import', 'tsx', join(root, 'examples', name)], { cwd: root, encoding: 'utf8', timeout: 60_000 });

describe.skipIf(!built)('examples', () => {
  it('codec.ts round-trips and tokenizes', () => {
    const r = run('codec.ts');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('<VerProto>DM/1.2</VerProto>');
    expect(r.stdout).toContain('text "1201"');
    expect(r.stdout).toMatch(/2, 164, +1, 106, 0,\s+109, 107, 18, +1, 1/);
  });

  it('typed.ts answers a package 1', () => {
    const r = run('typed.ts');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Alert 1');
    expect(r.stdout).toContain('<Data>212</Data>');
    expect(r.stdout).toContain('<LocURI>./DevDetail/SwV</LocURI>');
  });

  it('server-and-client.ts runs a session', () => {
    const r = run('server-and-client.ts');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('completed');
    expect(r.stdout).toContain("[ 'Get 200' ] [ './DevDetail/SwV = 2.0.1' ]");
  });
});

describe('README', () => {
  it('shows every example exactly as it is in examples/', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const name of ['codec.ts', 'typed.ts', 'server-and-client.ts']) {
      const code = readFileSync(join(root, 'examples', name), 'utf8').trim();
      expect(readme.includes(code), `README is missing examples/${name} as it is`).toBe(true);
    }
  });
});
