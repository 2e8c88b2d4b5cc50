import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Add, Command, Item, Replace, Status, SyncML } from '../src/syncml/types.js';
import { ConfigManager } from '../src/dm/config-manager.js';
import { Dpu, type DpuOptions, type DpuResult } from '../src/dm/dpu.js';
import { DmError } from '../src/dm/errors.js';
import type { NodeData } from '../src/dm/handler.js';
import { LargeObjectAssembler, MemoryLargeObjectBuffer, type LargeObjectBuffer } from '../src/dm/large-object.js';
import { ManagementTree } from '../src/dm/tree.js';

const SERVER = 'dm.example.net';
const SRC = 'https://dm.example.net/pkg';
const utf8 = new TextEncoder();

let msgId = 0;
function msg(commands: Command[], final = true): SyncML {
  msgId++;
  return {
    header: { verDTD: '1.2', verProto: 'DM/1.2', sessionId: '1', msgId: String(msgId), target: { locUri: 'IMEI:1' }, source: { locUri: 'https://s' } },
    body: { commands, final },
  };
}

function chunk(uri: string, data: string | Uint8Array, more: boolean, meta?: Item['meta']): Item {
  const item: Item = { target: { locUri: uri }, source: { locUri: SRC }, data };
  if (more) item.moreData = true;
  if (meta) item.meta = meta;
  return item;
}

const replace = (cmdId: string, item: Item): Replace => ({ kind: 'Replace', cmdId, items: [item] });
const add = (cmdId: string, item: Item): Add => ({ kind: 'Add', cmdId, items: [item] });

function statuses(r: DpuResult): Status[] {
  return r.responses.filter((c): c is Status => c.kind === 'Status');
}

function codes(r: DpuResult): string[] {
  return statuses(r).map((s) => `${s.cmdRef}:${s.code}`);
}

interface Received { command: string; uri: string; data: NodeData; meta?: { format?: string; type?: string; size?: number } }

/** A device whose `./Sink` handler keeps what it receives (it stores nothing in the tree). */
function device(options: Partial<DpuOptions> = {}) {
  const tree = new ManagementTree({ rootAcl: 'Add=*&Get=*&Replace=*&Delete=*&Exec=*' });
  const cm = new ConfigManager({ tree });
  const received: Received[] = [];
  const keep = (command: string) => (uri: string, data: NodeData, ctx: { meta?: Received['meta'] }) => {
    received.push({ command, uri, data, ...(ctx.meta ? { meta: ctx.meta } : {}) });
  };
  cm.mount('./Sink', { ownsStorage: true, add: keep('Add'), replace: keep('Replace') });
  const dpu = new Dpu({ configManager: cm, serverId: SERVER, ...options });
  return { tree, cm, dpu, received };
}

/** Splits `parts` (code points or bytes) at the given cut points. */
function cut<T>(parts: T[], cuts: number[]): T[][] {
  const points = [...new Set(cuts.map((c) => c % (parts.length + 1)))].sort((a, b) => a - b);
  const out: T[][] = [];
  let at = 0;
  for (const p of points) { if (p > at) { out.push(parts.slice(at, p)); at = p; } }
  out.push(parts.slice(at));
  return out;
}

describe('large objects through the DPU', () => {
  it('answers 213 per non-final chunk and executes once with the whole value and Size', async () => {
    const { dpu, received } = device();
    const r1 = await dpu.process(msg([replace('3', chunk('./Sink/Doc', 'Hello, ', true, { size: 13, format: 'chr', type: 'text/plain' }))], false));
    expect(r1.responses).toEqual([{ kind: 'Status', cmdId: '', msgRef: String(msgId), cmdRef: '3', cmd: 'Replace', code: 213, targetRefs: ['./Sink/Doc'], sourceRefs: [SRC] }]);
    expect(r1.expectingMoreData).toBe(true);
    const r2 = await dpu.process(msg([replace('1', chunk('./Sink/Doc', 'wor', true))], false));
    expect(codes(r2)).toEqual(['1:213']);
    expect(received).toEqual([]);
    const r3 = await dpu.process(msg([replace('1', chunk('./Sink/Doc', 'ld!', false))]));
    expect(codes(r3)).toEqual(['1:200']);
    expect(r3.expectingMoreData).toBe(false);
    expect(received).toEqual([{
      command: 'Replace', uri: './Sink/Doc', data: { format: 'chr', type: 'text/plain', value: 'Hello, world!' },
      meta: { format: 'chr', type: 'text/plain', size: 13 },
    }]);
  });

  it('bytes stay bytes; the handler sees the command Meta Size of the whole object', async () => {
    const { dpu, received } = device();
    await dpu.process(msg([add('1', chunk('./Sink/Fw', new Uint8Array([1, 2]), true, { size: 5, format: 'bin', type: 'application/octet-stream' }))], false));
    const r = await dpu.process(msg([add('1', chunk('./Sink/Fw', new Uint8Array([3, 4, 5]), false))]));
    expect(codes(r)).toEqual(['1:200']);
    expect(received[0].data).toEqual({ format: 'bin', type: 'application/octet-stream', value: new Uint8Array([1, 2, 3, 4, 5]) });
    expect(received[0].meta).toEqual({ format: 'bin', type: 'application/octet-stream', size: 5 });
  });

  it('reassembles any object split at any points exactly (text and bytes)', async () => {
    const obj = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => ({ parts: [...b].map((x) => new Uint8Array([x])), whole: b as string | Uint8Array, size: b.length })),
      fc.string({ unit: 'binary', maxLength: 200 }).map((s) => ({ parts: Array.from(s), whole: s as string | Uint8Array, size: utf8.encode(s).length })),
    );
    await fc.assert(fc.asyncProperty(obj, fc.array(fc.nat(), { maxLength: 8 }), async ({ parts, whole, size }, cuts) => {
      const { dpu, received } = device({ maxObjSize: 4096 });
      const pieces = cut<string | Uint8Array>(parts, cuts).map((p) => {
        if (typeof whole === 'string') return (p as string[]).join('');
        const b = new Uint8Array(p.length);
        (p as Uint8Array[]).forEach((x, i) => { b[i] = x[0]; });
        return b;
      });
      for (let i = 0; i < pieces.length; i++) {
        const last = i === pieces.length - 1;
        const r = await dpu.process(msg([replace(String(i + 1), chunk('./Sink/X', pieces[i], !last, i === 0 ? { size } : undefined))], last));
        expect(codes(r)).toEqual([`${i + 1}:${last ? 200 : 213}`]);
        expect(r.expectingMoreData).toBe(!last);
        expect(r.alerts).toEqual([]);
      }
      expect(received).toHaveLength(1);
      expect(received[0].data.value).toEqual(whole);
    }), { numRuns: 150 });
  });

  it('424 when the reassembled size differs from Size, nothing executed', async () => {
    const { dpu, received } = device();
    await dpu.process(msg([replace('1', chunk('./Sink/A', 'abc', true, { size: 10 }))], false));
    const short = await dpu.process(msg([replace('1', chunk('./Sink/A', 'de', false))]));
    expect(codes(short)).toEqual(['1:424']);
    // too long: refused as soon as it passes Size, and its later chunks too
    await dpu.process(msg([replace('1', chunk('./Sink/B', 'abc', true, { size: 4 }))], false));
    const over = await dpu.process(msg([replace('1', chunk('./Sink/B', 'defg', true))], false));
    expect(codes(over)).toEqual(['1:424']);
    const tail = await dpu.process(msg([replace('1', chunk('./Sink/B', 'h', false))]));
    expect(codes(tail)).toEqual(['1:424']);
    expect(received).toEqual([]);
  });

  it('413 for a first chunk whose Size is above maxObjSize: nothing buffered, the rest refused too', async () => {
    const calls: string[] = [];
    const spy: LargeObjectBuffer = {
      begin: () => { calls.push('begin'); }, append: () => { calls.push('append'); },
      finish: () => { calls.push('finish'); return new Uint8Array(0); }, discard: () => { calls.push('discard'); },
    };
    const { dpu, received } = device({ maxObjSize: 100, largeObjects: spy });
    const r1 = await dpu.process(msg([replace('1', chunk('./Sink/Big', 'x'.repeat(50), true, { size: 1000 }))], false));
    expect(codes(r1)).toEqual(['1:413']);
    expect(r1.expectingMoreData).toBe(false);
    const r2 = await dpu.process(msg([replace('1', chunk('./Sink/Big', 'y', false))]));
    expect(codes(r2)).toEqual(['1:413']);
    expect(r2.alerts).toEqual([]);
    expect(calls).toEqual([]);
    expect(received).toEqual([]);
  });

  it('413 once the chunks pass maxObjSize without a Size; also for a single Item above it', async () => {
    const { dpu, received } = device({ maxObjSize: 5 });
    expect(codes(await dpu.process(msg([replace('1', chunk('./Sink/C', 'abc', true))], false)))).toEqual(['1:213']);
    expect(codes(await dpu.process(msg([replace('1', chunk('./Sink/C', 'def', false))])))).toEqual(['1:413']);
    expect(codes(await dpu.process(msg([replace('1', chunk('./Sink/D', 'abcdef', false))])))).toEqual(['1:413']);
    expect(codes(await dpu.process(msg([replace('1', chunk('./Sink/E', 'abcde', false))])))).toEqual(['1:200']);
    expect(received.map((x) => x.uri)).toEqual(['./Sink/E']);
  });

  it('Alert 1225 with the original Target/Source when another command interrupts; the new one runs', async () => {
    const { dpu, received } = device();
    await dpu.process(msg([replace('1', chunk('./Sink/A', 'abc', true, { size: 6 }))], false));
    const r = await dpu.process(msg([add('1', { target: { locUri: './Sink/Other' }, data: 'v' })]));
    expect(codes(r)).toEqual(['1:200']);
    expect(r.alerts).toEqual([{ kind: 'Alert', cmdId: '', code: 1225, items: [{ target: { locUri: './Sink/A' }, source: { locUri: SRC } }] }]);
    expect(r.expectingMoreData).toBe(false);
    expect(received.map((x) => x.uri)).toEqual(['./Sink/Other']);
    // the object's last chunk, arriving now, is an ordinary Item of its own
    const late = await dpu.process(msg([replace('1', chunk('./Sink/A', 'def', false))]));
    expect(codes(late)).toEqual(['1:200']);
    expect(received[1].data.value).toBe('def');
  });

  it('a different command on the same Target, a Get, or a package ending without a chunk also interrupt', async () => {
    const { dpu } = device();
    await dpu.process(msg([replace('1', chunk('./Sink/A', 'abc', true))], false));
    const r1 = await dpu.process(msg([add('1', chunk('./Sink/A', 'x', true))], false));
    expect(codes(r1)).toEqual(['1:213']); // a new object starts
    expect(r1.alerts.map((a) => a.code)).toEqual([1225]);
    const r2 = await dpu.process(msg([{ kind: 'Get', cmdId: '1', items: [{ target: { locUri: './Sink' } }] }]));
    expect(r2.alerts.map((a) => a.code)).toEqual([1225]);
    await dpu.process(msg([replace('1', chunk('./Sink/B', 'abc', true))], false));
    const status: Status = { kind: 'Status', cmdId: '1', msgRef: '1', cmdRef: '0', cmd: 'SyncHdr', code: 200 };
    const r3 = await dpu.process(msg([status]));
    expect(r3.alerts.map((a) => a.code)).toEqual([1225]);
    expect(r3.expectingMoreData).toBe(false);
  });

  it('a Status or Alert 1222 from the server between chunks does not interrupt, nor a message without Final', async () => {
    const { dpu, received } = device();
    await dpu.process(msg([replace('1', chunk('./Sink/A', 'ab', true, { size: 4 }))], false));
    const status: Status = { kind: 'Status', cmdId: '1', msgRef: '1', cmdRef: '0', cmd: 'SyncHdr', code: 200 };
    expect((await dpu.process(msg([status], false))).expectingMoreData).toBe(true);
    const next = await dpu.process(msg([status, { kind: 'Alert', cmdId: '2', code: 1222, items: [] }], false));
    expect(next).toMatchObject({ expectingMoreData: true, nextMessageRequested: true, alerts: [] });
    const r = await dpu.process(msg([status, replace('2', chunk('./Sink/A', 'cd', false))]));
    expect(codes(r)).toEqual(['2:200']);
    expect(received[0].data.value).toBe('abcd');
  });

  it('a chunk inside Sequence or Atomic is refused (400): they must fit in one message', async () => {
    const { dpu } = device();
    const r = await dpu.process(msg([
      { kind: 'Sequence', cmdId: '1', commands: [replace('2', chunk('./Sink/A', 'ab', true))] },
      { kind: 'Atomic', cmdId: '3', commands: [replace('4', chunk('./Sink/B', 'ab', true))] },
    ]));
    expect(codes(r)).toEqual(['1:200', '2:400', '3:507', '4:400']);
    expect(r.expectingMoreData).toBe(false);
  });

  it('an abort (1223) drops the open object without an Alert', async () => {
    const { dpu } = device();
    await dpu.process(msg([replace('1', chunk('./Sink/A', 'ab', true))], false));
    const r = await dpu.process(msg([{ kind: 'Alert', cmdId: '1', code: 1223, items: [] }]));
    expect(r.aborted).toBe(true);
    const next = await dpu.process(msg([replace('1', chunk('./Sink/A', 'cd', false))]));
    expect(next.alerts).toEqual([]);
  });

  it('a buffer failure answers its DmError status (420 device full)', async () => {
    const full: LargeObjectBuffer = { begin() {}, append() { throw new DmError('DEVICE_FULL', 'disk full'); }, finish: () => new Uint8Array(0), discard() {} };
    const { dpu } = device({ largeObjects: full });
    const r = await dpu.process(msg([replace('1', chunk('./Sink/A', 'ab', true))], false));
    expect(codes(r)).toEqual(['1:420']);
    expect(codes(await dpu.process(msg([replace('1', chunk('./Sink/A', 'cd', false))])))).toEqual(['1:420']);
  });
});

describe('LargeObjectAssembler', () => {
  it('tracks the open object and what continues it', async () => {
    const lo = new LargeObjectAssembler();
    const first = chunk('./X', 'ab', true, { size: 4 });
    expect(lo.open).toBe(false);
    expect(await lo.accept('Replace', first, first.meta)).toEqual({ kind: 'buffered' });
    expect(lo.receiving && lo.open).toBe(true);
    expect(lo.continues('Replace', chunk('./X', '', false))).toBe(true);
    expect(lo.continues('Add', chunk('./X', '', false))).toBe(false);
    expect(lo.continues('Replace', chunk('./Y', '', false))).toBe(false);
    expect(lo.continues('Replace', { target: { locUri: './X' }, data: 'x' })).toBe(false); // other Source
    expect(await lo.accept('Replace', chunk('./X', 'cd', false), undefined)).toEqual({ kind: 'complete', value: 'abcd', size: 4 });
    expect(lo.open).toBe(false);
  });

  it('mixed text and byte chunks give bytes; a parsed document is no chunk (400)', async () => {
    const lo = new LargeObjectAssembler();
    await lo.accept('Add', chunk('./X', 'é', true), undefined);
    expect(await lo.accept('Add', chunk('./X', new Uint8Array([33]), false), undefined)).toEqual({ kind: 'complete', value: new Uint8Array([0xc3, 0xa9, 33]) });
    await lo.accept('Add', chunk('./X', 'a', true), undefined);
    const doc = { target: { locUri: './X' }, source: { locUri: SRC }, data: { kind: 'MgmtTree', verDTD: '1.2', nodes: [] } } as Item;
    expect(await lo.accept('Add', doc, undefined)).toEqual({ kind: 'refused', status: 400 });
    expect(lo.open).toBe(false);
  });

  it('interrupt reports a receiving object once; reset forgets silently', async () => {
    const lo = new LargeObjectAssembler();
    expect(await lo.interrupt()).toBeUndefined();
    await lo.accept('Replace', chunk('./X', 'ab', true), undefined);
    expect(await lo.interrupt()).toEqual({ target: './X', source: SRC });
    expect(await lo.interrupt()).toBeUndefined();
    await lo.accept('Replace', chunk('./X', 'ab', true), undefined);
    await lo.reset();
    expect(lo.open).toBe(false);
  });

  it('MemoryLargeObjectBuffer joins chunks and copies them', () => {
    const b = new MemoryLargeObjectBuffer();
    b.begin();
    const c = new Uint8Array([1, 2]);
    b.append(c);
    c[0] = 9;
    b.append(new Uint8Array([3]));
    expect(b.finish()).toEqual(new Uint8Array([1, 2, 3]));
    expect(b.finish()).toEqual(new Uint8Array(0));
  });
});
