import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './cli.js';
import { fixture, hex, root } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'syncml-dm-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const f = (n: string) => join(root, 'fixtures', 'wbxml', n);

describe('syncml-dm decode / encode / inspect', () => {
  it('decodes a file to XML on stdout and encodes it back byte-identically', () => {
    const d = cli(['decode', f('dm12-pkg1.libwbxml-n.wbxml')]);
    expect(d.status).toBe(0);
    expect(d.stdout).toContain('<SyncML xmlns="SYNCML:SYNCML1.2">');
    const out = join(tmp, 'back.wbxml');
    const e = cli(['encode', '-', '-o', out], d.stdout);
    expect(e.status).toBe(0);
    expect(hex(new Uint8Array(readFileSync(out)))).toBe(hex(fixture('wbxml/dm12-pkg1.libwbxml-n.wbxml')));
  });

  it('reads stdin, writes -o, indents, and takes --wbxml-version and --string-table', () => {
    const out = join(tmp, 'x.xml');
    expect(cli(['decode', '-o', out, '--indent'], fixture('wbxml/dm12-pkg2.libwbxml-n.wbxml')).status).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('\n  <SyncHdr>');
    const e = cli(['encode', f('dm12-pkg2.xml'), '--wbxml-version', '1.3', '--string-table']);
    expect(e.status).toBe(0);
    expect(e.stdoutBytes[0]).toBe(0x03);
    expect(e.stdoutBytes[4]).toBeGreaterThan(0); // a string table
  });

  it('inspects every token with offset, hex and meaning', () => {
    const r = cli(['inspect', f('dm12-pkg1.libwbxml-n.wbxml')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\s+0\s+02\s+version 1\.2$/m);
    expect(r.stdout).toMatch(/^\s+1\s+a4 01\s+public id 0x1201 \(-\/\/SYNCML\/\/DTD SyncML 1\.2\/\/EN\)$/m);
    expect(r.stdout).toMatch(/^\s+5\s+6d\s+<SyncML> page 0 token 0x2d$/m);
    expect(r.stdout).toContain('SWITCH_PAGE 1');
  });

  it('answers bad WBXML with one line, the code and the byte offset, and exit status 1', () => {
    const r = cli(['decode'], new Uint8Array([0x02, 0xa4, 0x01, 0x6a, 0x00, 0x6d, 0x30]));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('syncml-dm: UNKNOWN_TAG at byte 6: tag token 0x30 is not defined on code page 0 of SyncML 1.2\n');
    const i = cli(['inspect'], new Uint8Array([0x02, 0xa4, 0x01, 0x6a, 0x00, 0x6d, 0x30]));
    expect(i.status).toBe(1);
    expect(i.stdout).toContain('<SyncML>');
    expect(i.stderr).toMatch(/^syncml-dm: UNKNOWN_TAG at byte 6: /);
  });

  it('answers bad XML with the line and column', () => {
    const r = cli(['encode', '-o', join(tmp, 'y.wbxml')], '<SyncML>\n  <Final>\n</SyncML>');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^syncml-dm: XML_MISMATCHED_TAG at line 3:1: <\/SyncML> closes <Final>/);
    expect(r.stderr.split('\n').length).toBe(2);
  });

  it('has --help on every command and refuses unknown options', () => {
    for (const c of ['decode', 'encode', 'inspect']) {
      const h = cli([c, '--help']);
      expect(h.status).toBe(0);
      expect(h.stdout).toMatch(new RegExp(`^Usage: syncml-dm ${c}`));
    }
    expect(cli(['--help']).stdout).toContain('Commands:');
    const u = cli(['decode', '--bogus']);
    expect(u.status).toBe(2);
    expect(u.stderr).toBe("syncml-dm: unknown option '--bogus' (see --help)\n");
    expect(cli(['nope']).status).toBe(2);
    const missing = cli(['decode', join(tmp, 'missing.wbxml')]);
    expect(missing.stderr).toMatch(/cannot read .*no such file/);
  });
});

