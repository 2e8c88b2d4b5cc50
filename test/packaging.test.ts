/**
 * The package as users import it: every subpath through `exports`, by ESM `import` and CJS
 * `require`, from the built files (the package references itself by name, as Node allows).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './helpers.js';

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
const subpaths = Object.keys(pkg.exports).filter((k) => k !== './package.json').map((k) => (k === '.' ? 'syncml-dm' : `syncml-dm/${k.slice(2)}`));
const built = existsSync(join(root, 'dist', 'index.js'));

/** A name each subpath must export. */
const expected: Record<string, string> = {
  'syncml-dm': 'xmlToWbxml',
  'syncml-dm/wbxml': 'WbxmlReader',
  'syncml-dm/dom': 'wbxmlToDocument',
  'syncml-dm/syncml': 'parse',
  'syncml-dm/dm': 'ConfigManager',
  'syncml-dm/server': 'DmServer',
  'syncml-dm/client': 'DmClient',
};

function node(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!built)('package exports', () => {
  it('lists every subpath we document', () => {
    expect(subpaths.sort()).toEqual(Object.keys(expected).sort());
  });

  for (const sub of Object.keys(expected)) {
    it(`${sub}: ESM import and CJS require both work`, () => {
      const name = expected[sub];
      const esm = node(['--input-type=module', '-e', `const m = await import(${JSON.stringify(sub)}); if (typeof m.${name} !== 'function') throw new Error('no ${name}'); console.log(Object.keys(m).length)`]);
      expect(esm.stderr).toBe('');
      expect(esm.status).toBe(0);
      const cjs = node(['-e', `const m = require(${JSON.stringify(sub)}); if (typeof m.${name} !== 'function') throw new Error('no ${name}'); console.log(Object.keys(m).length)`]);
      expect(cjs.stderr).toBe('');
      expect(cjs.status).toBe(0);
      expect(Number(cjs.stdout)).toBe(Number(esm.stdout));
    });
  }

  it('CJS subpaths share one copy of each class (instanceof works across entry points)', () => {
    const r = node(['-e', `const a = require('syncml-dm'), b = require('syncml-dm/wbxml'), c = require('syncml-dm/syncml');
      if (a.WbxmlReader !== b.WbxmlReader || a.SyncMLError !== c.SyncMLError) throw new Error('duplicated classes');`]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('the bin runs', () => {
    const r = node([join(root, 'dist', 'cli', 'main.js'), '--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
