/**
 * Interop with libwbxml's command-line tools (Debian libwbxml2-utils, installed by .ci/run):
 * what we write, `wbxml2xml` reads as the same document; what `xml2wbxml` writes, we read as
 * the same document. Skipped, with a notice, where the tools are absent.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { wbxmlToXml, xmlToWbxml, type WbxmlVersion } from '../src/wbxml/index.js';
import { canon } from './xml-canon.js';
import { fixtureText, hasLibwbxml, root } from './helpers.js';

const available = hasLibwbxml();
if (!available) console.warn('NOTICE: libwbxml tools (xml2wbxml/wbxml2xml) not found: interop tests skipped. Install libwbxml2-utils to run them.');

const tmp = mkdtempSync(join(tmpdir(), 'syncml-dm-interop-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
}

const names = readdirSync(join(root, 'fixtures', 'wbxml')).filter((f) => f.endsWith('.xml')).map((f) => f.slice(0, -4));

describe.skipIf(!available).each(names)('libwbxml interop: %s', (name) => {
  const xml = fixtureText(`wbxml/${name}.xml`);

  const variants: { version: WbxmlVersion; stringTable: boolean }[] = [
    { version: '1.2', stringTable: false },
    { version: '1.2', stringTable: true },
    { version: '1.3', stringTable: false },
    { version: '1.1', stringTable: true },
  ];
  for (const v of variants) {
    it(`wbxml2xml reads our WBXML ${v.version}${v.stringTable ? ' with string table' : ''} as the same document`, () => {
      const file = join(tmp, `${name}-${v.version}-${v.stringTable}.wbxml`);
      writeFileSync(file, xmlToWbxml(xml, v));
      const out = join(tmp, `${name}-${v.version}-${v.stringTable}.xml`);
      run('wbxml2xml', ['-o', out, file]);
      expect(canon(readFileSync(out, 'utf8'), { crlf: true })).toEqual(canon(xml, { crlf: true }));
    });
  }

  for (const table of [false, true]) {
    it(`we read xml2wbxml's WBXML ${table ? 'with' : 'without'} string table as the same document`, () => {
      const src = join(tmp, `${name}.src.xml`);
      writeFileSync(src, xml);
      const file = join(tmp, `${name}-lib-${table}.wbxml`);
      run('xml2wbxml', [...(table ? [] : ['-n']), '-v', '1.2', '-o', file, src]);
      const ours = wbxmlToXml(new Uint8Array(readFileSync(file)));
      const o = { trim: true, crlf: true, nestedType: true };
      expect(canon(ours, o)).toEqual(canon(xml, o));
    });
  }
});
