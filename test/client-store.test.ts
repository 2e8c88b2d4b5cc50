/** The client store (src/client/store.ts): round trips, one directory per device, atomic replacement. */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isDmError } from '../src/dm/errors.js';
import { JsonFileStore, MemoryStore, deviceDirectoryName, emptyClientState, type ClientState } from '../src/client/store.js';
import { root } from './helpers.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'syncml-dm-store-'));
}

function sample(n: number): ClientState {
  const s = emptyClientState();
  s.seq = n;
  s.alerts.push({ id: `a${n}`, alert: { type: 'x.y', data: Uint8Array.of(1, 2, n) }, createdAt: 1000 + n, attempts: 0 });
  s.servers['dm.example.net'] = { protocol: '1.1.2', nonceForm: 'text' };
  s.notified.push({ serverId: 'dm.example.net', sessionId: '4F2A', at: 5 });
  return s;
}

describe('JsonFileStore', () => {
  it('loads an empty state the first time, then what was saved (bytes included)', async () => {
    const dir = await tempDir();
    const store = new JsonFileStore(join(dir, 'dev'));
    expect(await store.load()).toEqual(emptyClientState());
    await store.save(sample(7));
    const back = await new JsonFileStore(join(dir, 'dev')).load();
    expect(back).toEqual(sample(7));
    expect(back.alerts[0].alert.data).toBeInstanceOf(Uint8Array);
  });

  it('keeps one directory per device', async () => {
    const dir = await tempDir();
    const a = JsonFileStore.forDevice(dir, 'IMEI:356938035643809');
    const b = JsonFileStore.forDevice(dir, 'MAC:00-11-22');
    await a.save(sample(1));
    await b.save(sample(2));
    expect((await readdir(dir)).sort()).toEqual(['IMEI_356938035643809', 'MAC_00-11-22']);
    expect((await a.load()).seq).toBe(1);
    expect((await b.load()).seq).toBe(2);
    expect(deviceDirectoryName('..')).toBe('_');
  });

  it('a crash between writing the temporary file and the rename leaves the old state', async () => {
    const dir = await tempDir();
    const path = join(dir, 'dev');
    await new JsonFileStore(path).save(sample(1));
    const crashing = new JsonFileStore(path, {
      hooks: {
        beforeRename: async (temp) => {
          // The new state is complete and synced in the temporary file...
          expect(JSON.parse(await readFile(temp, 'utf8')).seq).toBe(2);
          // ...and the process dies before the rename.
          throw new Error('power cut');
        },
      },
    });
    await expect(crashing.save(sample(2))).rejects.toThrow('power cut');
    expect((await new JsonFileStore(path).load()).seq).toBe(1);
  });

  it('a temporary file left by a killed process is ignored and removed', async () => {
    const dir = await tempDir();
    const path = join(dir, 'dev');
    await new JsonFileStore(path).save(sample(1));
    await writeFile(join(path, 'state.json.tmp-999-1'), '{"half": ');
    expect((await new JsonFileStore(path).load()).seq).toBe(1);
    expect(await readdir(path)).toEqual(['state.json']);
  });

  it('a process killed in the middle of a save (real exit) leaves the old or the new state, never a broken one', async () => {
    const dir = await tempDir();
    const path = join(dir, 'dev');
    await new JsonFileStore(path).save(sample(1));
    const script = `
      import { JsonFileStore, emptyClientState } from ${JSON.stringify(join(root, 'src/client/store.ts'))};
      const s = emptyClientState(); s.seq = 2;
      await new JsonFileStore(${JSON.stringify(path)}, { hooks: { beforeRename: () => process.exit(9) } }).save(s);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(9);
    expect((await readdir(path)).some((n) => n.startsWith('state.json.tmp-'))).toBe(true);
    expect((await new JsonFileStore(path).load()).seq).toBe(1);
  });

  it('saves run in call order', async () => {
    const dir = await tempDir();
    const store = new JsonFileStore(join(dir, 'dev'));
    await Promise.all([1, 2, 3, 4, 5].map((n) => store.save(sample(n))));
    expect((await store.load()).seq).toBe(5);
  });

  it('a file that is not a client state is a typed error', async () => {
    const dir = await tempDir();
    const path = join(dir, 'dev');
    await new JsonFileStore(path).save(sample(1));
    await writeFile(join(path, 'state.json'), '{"format":"other"}');
    const e = await new JsonFileStore(path).load().catch((x: unknown) => x);
    expect(isDmError(e) && e.code).toBe('INVALID_ARGUMENT');
  });
});

describe('MemoryStore', () => {
  it('round-trips through JSON like the file store', async () => {
    const m = new MemoryStore();
    expect(await m.load()).toEqual(emptyClientState());
    const s = sample(3);
    await m.save(s);
    s.seq = 99; // later changes to the object are not saved
    expect((await m.load()).seq).toBe(3);
  });
});
