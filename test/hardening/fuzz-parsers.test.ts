/**
 * Fuzzing the parsers with fast-check: the WBXML reader, the XML scanner, the typed SyncML parser
 * and the package 0 decoder get random bytes and mutated real messages. Only typed errors may come
 * out (WbxmlError, SyncMLError, DmError), each with a position; nothing hangs (every case must
 * finish inside vitest's timeout), nothing else escapes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TokenKind, WbxmlReader, XmlScanner, XmlToken, isWbxmlError, xmlToWbxml, wbxmlToXml } from '../../src/wbxml/index.js';
import { isSyncMLError, parse } from '../../src/syncml/index.js';
import { decodeNotification, encodeNotification, isDmError } from '../../src/dm/index.js';
import { root } from '../helpers.js';
import { RUNS } from './runs.js';
import { byteEdits, mutateBytes } from './mutate.js';

const TIMEOUT = Math.max(120_000, RUNS * 2);

function files(dir: string, ext: string): Uint8Array[] {
  const d = join(root, 'fixtures', dir);
  return readdirSync(d).filter((f) => f.endsWith(ext)).map((f) => new Uint8Array(readFileSync(join(d, f))));
}
const wbxmlSeeds = [...files('wbxml', '.wbxml')];
const xmlSeeds = [...files('wbxml', '.xml'), ...files('syncml', '.xml')];
for (const x of files('syncml', '.xml')) {
  try { wbxmlSeeds.push(xmlToWbxml(x, { strict: false })); } catch { /* a defect fixture */ }
}
const notificationSeeds = [
  encodeNotification({ serverId: 'dm.example.net', serverPassword: 'srvsecret', nonce: new Uint8Array([1, 2, 3, 4]), sessionId: 0x4f2a }),
  encodeNotification({ serverId: 'x', serverPassword: 'p', nonce: new Uint8Array(0), sessionId: 1, uiMode: 'user-interaction', vendor: new Uint8Array([9, 9]) }),
];

/** Random bytes, or a seed with bytes flipped, set, inserted, deleted or the tail cut off. */
function mutations(seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const mutated = fc.record({ base: fc.constantFrom(...seeds), edits: byteEdits }).map(({ base, edits }) => mutateBytes(base, edits));
  return fc.oneof({ weight: 1, arbitrary: fc.uint8Array({ maxLength: 128 }) }, { weight: 4, arbitrary: mutated });
}

/**
 * fc.assert in slices of at most 50 000 runs (each with its own seed, reported on failure),
 * yielding to the event loop in between: a million synchronous cases in one go block the vitest
 * worker for longer than its RPC timeout (60 s), and the long run then ends with exit status 1
 * ("Timeout calling onTaskUpdate") although every case passed.
 */
async function assertInSlices(property: Parameters<typeof fc.assert>[0], runs: number): Promise<void> {
  const base = (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
  for (let done = 0, slice = 0; done < runs; slice++) {
    const n = Math.min(50_000, runs - done);
    fc.assert(property, { numRuns: n, seed: (base + slice) | 0 });
    done += n;
    await new Promise((r) => setImmediate(r));
  }
}

function expectTyped(e: unknown, kinds: ((e: unknown) => boolean)[]): void {
  if (!kinds.some((k) => k(e))) throw new Error(`untyped error escaped: ${e instanceof Error ? e.stack : String(e)}`);
  const x = e as { offset?: number; path?: string; line?: number };
  expect(typeof x.offset === 'number' || typeof x.path === 'string' || typeof x.line === 'number').toBe(true);
}

describe('hardening: parsers only raise typed errors', () => {
  it(`WBXML reader and converter (${RUNS} cases)`, async () => {
    await assertInSlices(fc.property(mutations(wbxmlSeeds), fc.boolean(), (b, strict) => {
      try {
        const r = new WbxmlReader(b, { strict });
        for (let k = r.next(); k !== TokenKind.EOF; k = r.next()) if (k === TokenKind.TEXT) r.text();
        wbxmlToXml(b, { strict });
      } catch (e) {
        expectTyped(e, [isWbxmlError]);
      }
    }), RUNS);
  }, TIMEOUT);

  it(`XML scanner and XML -> WBXML (${RUNS} cases)`, async () => {
    await assertInSlices(fc.property(mutations(xmlSeeds), (b) => {
      try {
        const s = new XmlScanner(b);
        for (let k = s.next(); k !== XmlToken.EOF; k = s.next()) if (k === XmlToken.TEXT) s.text();
        xmlToWbxml(b, { strict: false });
      } catch (e) {
        expectTyped(e, [isWbxmlError]);
      }
    }), RUNS);
  }, TIMEOUT);

  it(`typed SyncML parser, strict and tolerant, both encodings (${RUNS} cases)`, async () => {
    await assertInSlices(fc.property(fc.oneof(mutations(wbxmlSeeds), mutations(xmlSeeds)), fc.boolean(), (b, strict) => {
      try {
        parse(b, { strict });
      } catch (e) {
        expectTyped(e, [isSyncMLError]);
      }
    }), RUNS);
  }, TIMEOUT);

  it(`package 0 decoder (${RUNS} cases)`, async () => {
    await assertInSlices(fc.property(mutations(notificationSeeds), fc.boolean(), (b, strict) => {
      try {
        decodeNotification(b, { strict });
      } catch (e) {
        expectTyped(e, [isDmError]);
      }
    }), RUNS);
  }, TIMEOUT);
});
