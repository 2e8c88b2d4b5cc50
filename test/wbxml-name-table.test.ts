/**
 * The tag-name table of the XML -> WBXML path: every name of every built-in set found from its
 * bytes at any position (also the input's last bytes), long names and big custom sets included.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codePageSet, defineCodePageSet } from '../src/wbxml/index.js';
import { NameTable } from '../src/wbxml/name-table.js';

const enc = new TextEncoder();

function find(t: NameTable, name: string, before: number, after: number): readonly number[] | undefined {
  const nb = enc.encode(name);
  const b = new Uint8Array(before + nb.length + after).fill(0x20);
  b.set(nb, before);
  return t.lookup(b, new DataView(b.buffer), before, before + nb.length);
}

describe('NameTable', () => {
  for (const id of ['SyncML 1.2', 'SyncML 1.1', 'DevInf 1.2', 'DM DDF 1.2']) {
    it(`finds every name of ${id}, wherever it sits, and nothing else`, () => {
      const set = codePageSet(id);
      const t = new NameTable(set);
      for (const [name, ids] of set.tagTokensAll) {
        for (const [before, after] of [[0, 0], [1, 1], [3, 0], [0, 2], [5, 7]]) expect(find(t, name, before, after)).toEqual(ids);
        // Near misses are found only when they are names themselves (DDF has both Node and node).
        for (const other of [name.slice(0, -1), name + 'x', name.toLowerCase() === name ? name.toUpperCase() : name.toLowerCase()]) {
          expect(find(t, other, 0, 1)).toEqual(set.tagTokensAll.get(other));
        }
      }
      expect(find(t, '', 0, 1)).toBeUndefined();
    });
  }

  it('sizes itself to big custom sets and finds names longer than the word compare covers', () => {
    const long = (i: number) => `VendorSpecificElementNameNumber${String(i).padStart(4, '0')}Extra`; // 40 bytes
    const pages = Array.from({ length: 40 }, (_, p) => ({
      page: p, namespace: `urn:x:${p}`,
      tags: Object.fromEntries(Array.from({ length: 59 }, (_, k) => [k + 5, k % 2 ? long(p * 100 + k) : `T${p}_${k}`])),
    }));
    const set = defineCodePageSet({ name: 'Big', root: 'T0_0', rootPage: 0, publicId: 0, publicIdString: '-//X//DTD Big//EN', pages });
    const t = new NameTable(set);
    expect(set.tagTokensAll.size).toBe(40 * 59);
    for (const [name, ids] of set.tagTokensAll) expect(find(t, name, 2, 0)).toEqual(ids);
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 50 }), (s) => {
      expect(find(t, s, 1, 1)).toEqual(set.tagTokensAll.get(s));
    }));
  });
});
