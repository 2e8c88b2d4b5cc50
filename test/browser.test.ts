/**
 * The codec and the typed model run in a browser: the ESM build is loaded in headless Chromium
 * (Debian's `chromium`, driven by playwright-core) and round-trips a message there. Also checks,
 * statically, that no module reachable from the core entry points imports a `node:` module.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureText, root } from './helpers.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const dist = join(root, 'dist');
const built = existsSync(join(dist, 'wbxml', 'index.js')) && existsSync(join(dist, 'syncml', 'index.js'));
if (!built) console.warn('NOTICE: dist/ is missing (run `npm run build`): browser and packaging tests skipped.');
if (!CHROMIUM) console.warn('NOTICE: Debian chromium not installed: the headless browser test is skipped (.ci/run installs it).');

/** Every module file reachable from `entry` through static and dynamic relative imports. */
function moduleGraph(entry: string): Map<string, string> {
  const seen = new Map<string, string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const text = readFileSync(file, 'utf8');
    seen.set(file, text);
    for (const m of text.matchAll(/(?:import|export)\s*(?:[^'"]*?\sfrom\s*)?\(?\s*['"](\.[^'"]+)['"]/g)) {
      visit(normalize(join(dirname(file), m[1])));
    }
  };
  visit(entry);
  return seen;
}

describe.skipIf(!built)('core entry points are browser-safe', () => {
  for (const sub of ['wbxml', 'syncml', 'dm']) {
    it(`syncml-dm/${sub} imports no node: module`, () => {
      const entry = join(dist, sub, 'index.js');
      if (!existsSync(entry)) return;
      for (const [file, text] of moduleGraph(entry)) {
        expect(text.match(/['"]node:[a-z_/]+['"]/g) ?? [], file).toEqual([]);
        expect(/\brequire\(/.test(text), file).toBe(false);
      }
    });
  }
});

describe.skipIf(!built || !CHROMIUM)('headless Chromium', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]));
      if (path === '/') {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>syncml-dm</title>');
        return;
      }
      const file = join(root, path);
      if (!file.startsWith(dist) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'application/octet-stream' }).end(readFileSync(file));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('round-trips a DM message through WBXML and the typed model', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(base + '/');
      const xml = fixtureText('wbxml/dm12-pkg2.xml');
      // A string, not a function: the test runner would rewrite import() inside a function.
      const result = await page.evaluate(`(async (src) => {
        const w = await import('/dist/wbxml/index.js');
        const s = await import('/dist/syncml/index.js');
        const bytes = w.xmlToWbxml(src);
        const back = w.wbxmlToXml(bytes);
        const msg = s.parse(bytes);
        const again = s.serialize(msg, { encoding: 'wbxml' });
        const msg2 = s.parse(again);
        return {
          header: Array.from(bytes.subarray(0, 5)),
          hasBuffer: typeof globalThis.Buffer !== 'undefined',
          commands: msg.body.commands.map((c) => c.kind),
          same: JSON.stringify(msg) === JSON.stringify(msg2),
          roundTrip: back.includes('<Exec><CmdID>5</CmdID><Correlator>fumo-7f3a</Correlator>'),
        };
      })(${JSON.stringify(xml)})`) as { header: number[]; hasBuffer: boolean; commands: string[]; same: boolean; roundTrip: boolean };
      expect(errors).toEqual([]);
      expect(result.hasBuffer).toBe(false);
      expect(result.header).toEqual([0x02, 0xa4, 0x01, 0x6a, 0x00]);
      expect(result.commands).toEqual(['Status', 'Status', 'Get', 'Replace', 'Exec', 'Atomic', 'Sequence']);
      expect(result.same).toBe(true);
      expect(result.roundTrip).toBe(true);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
