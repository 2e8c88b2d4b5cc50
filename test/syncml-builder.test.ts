/**
 * MessageBuilder (CmdID numbering, body order), the answer helpers (headerStatus, commandStatus,
 * resultsFor, answer) on the hand-written DM 1.2 fixtures, and SessionMessages.
 */
import { describe, expect, it } from 'vitest';
import {
  MessageBuilder, SessionMessages, answer, commandStatus, headerStatus, isSyncMLError, parse, resultsFor, serialize,
  type Command, type Get, type Results, type Status, type SyncHdr, type SyncML,
} from '../src/syncml/index.js';
import { fixtureText } from './helpers.js';

const load = (name: string, strict = true): SyncML => parse(fixtureText(`syncml/${name}`), { strict });

const HEADER: SyncHdr = {
  verDTD: '1.2', verProto: 'DM/1.2', sessionId: '1A2B', msgId: '1',
  target: { locUri: 'IMEI:356938035643809' }, source: { locUri: 'http://dm.example.test/omadm' },
};

const replace = (uri: string, data = 'v', cmdId = ''): Command => ({ kind: 'Replace', cmdId, items: [{ target: { locUri: uri }, data }] });
const get = (uri: string, cmdId = ''): Get => ({ kind: 'Get', cmdId, items: [{ target: { locUri: uri } }] });

function errorOf(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    if (isSyncMLError(e)) return e;
    throw e;
  }
  throw new Error('nothing thrown');
}

/** The fields that identify a Status. */
const key = (s: Command): string => (s.kind === 'Status' ? `${s.msgRef}/${s.cmdRef}/${s.cmd}/${s.code}` : `${s.kind}/${(s as Results).cmdRef}`);

describe('MessageBuilder: CmdIDs', () => {
  it('numbers 1, 2, … in the order added, children of Atomic/Sequence right after their container', () => {
    const b = new MessageBuilder(HEADER);
    expect(b.add(replace('./A'))).toBe('1');
    const atomicId = b.add({ kind: 'Atomic', cmdId: '', commands: [replace('./B'), { kind: 'Sequence', cmdId: '', commands: [replace('./C'), get('./D')] }] });
    expect(atomicId).toBe('2');
    expect(b.add(get('./E'))).toBe('7');
    const body = b.build().body.commands;
    const ids: string[] = [];
    const walk = (cs: readonly Command[]): void => cs.forEach((c) => { ids.push(c.cmdId); if (c.kind === 'Atomic' || c.kind === 'Sequence') walk(c.commands); });
    walk(body);
    expect(ids).toEqual(['1', '2', '3', '4', '5', '6', '7']);
  });

  it('keeps a CmdID given with the command and never hands it out again; refuses 0 and duplicates', () => {
    const b = new MessageBuilder(HEADER);
    expect(b.add(replace('./A', 'v', '3'))).toBe('3');
    expect(b.add(replace('./B'))).toBe('1');
    expect(b.add(replace('./C'))).toBe('2');
    expect(b.add(replace('./D'))).toBe('4');
    expect(b.add(replace('./E', 'v', 'a-uuid'))).toBe('a-uuid');
    expect(errorOf(() => b.add(replace('./F', 'v', '0')))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(errorOf(() => b.add(replace('./F', 'v', '2'))).message).toMatch(/already used/);
    // A failed add changes nothing.
    expect(errorOf(() => b.add({ kind: 'Atomic', cmdId: '', commands: [replace('./G'), replace('./H', 'v', '4')] })).code).toBe('INVALID_ARGUMENT');
    expect(b.add(replace('./I'))).toBe('5');
    expect(b.length).toBe(6);
  });

  it('does not change the command it is given; number() previews without adding; pop() gives the CmdIDs back', () => {
    const b = new MessageBuilder(HEADER);
    const cmd: Command = { kind: 'Sequence', cmdId: '', commands: [replace('./A')] };
    const preview = b.number(cmd);
    expect(preview.cmdId).toBe('1');
    expect(b.length).toBe(0);
    expect(b.add(preview)).toBe('1');
    expect(cmd.cmdId).toBe('');
    expect((cmd as { commands: Command[] }).commands[0].cmdId).toBe('');
    expect(b.add(replace('./B'))).toBe('3');
    expect(b.pop()?.cmdId).toBe('3');
    expect(b.add(replace('./C'))).toBe('3');
    expect(new MessageBuilder(HEADER).pop()).toBeUndefined();
  });

  it('puts the SyncHdr Status first whatever the order of add, and keeps the rest in order', () => {
    const received = load('dm12-pkg1.xml');
    const b = new MessageBuilder(HEADER);
    b.add(commandStatus(received, received.body.commands[0], 200));
    b.add(get('./DevDetail/SwV'));
    const hdrId = b.add(headerStatus(received, 212));
    expect(hdrId).toBe('3');
    const body = b.build().body.commands;
    expect(body.map((c) => c.kind === 'Status' ? c.cmd : c.kind)).toEqual(['SyncHdr', 'Alert', 'Get']);
    expect(b.build().body.final).toBe(false);
    expect(b.final().build().body.final).toBe(true);
    expect(b.final(false).build().body.final).toBe(false);
  });

  it('puts Results right after the Status of their Get (the last one when there are several), others stay', () => {
    const received = load('dm12-pkg2.xml');
    const g = received.body.commands.find((c): c is Get => c.kind === 'Get')!;
    const b = new MessageBuilder({ ...HEADER, msgId: '2' });
    const results = resultsFor(received, g, [{ source: { locUri: './DevDetail/SwV' }, data: '2.0.7' }]);
    b.add(results);
    const orphan: Results = { kind: 'Results', cmdId: '', msgRef: '1', cmdRef: '99', items: [{ source: { locUri: './X' }, data: 'x' }] };
    b.add(orphan);
    b.add(commandStatus(received, g, 200, { targetRefs: ['./DevDetail'] }));
    b.add(commandStatus(received, g, 404, { targetRefs: ['./DevDetail/SwV'] }));
    b.add(headerStatus(received, 200));
    b.add(replace('./Z'));
    const body = b.build().body.commands;
    expect(body.map((c) => `${c.kind}#${c.cmdId}`)).toEqual(['Status#5', 'Results#2', 'Status#3', 'Status#4', 'Results#1', 'Replace#6']);
  });
});

describe('answer helpers', () => {
  it('headerStatus: CmdRef 0, Cmd SyncHdr, MsgRef, TargetRef/SourceRef from the received header; the challenge of the fixture', () => {
    const pkg1 = load('dm12-pkg1.xml');
    const s = headerStatus(pkg1, 401, { chal: 'syncml:auth-md5', nextNonce: 'q2Fh9nW4c1Q3WkP0xY8zAg==' });
    const fixture = load('dm12-challenge.xml').body.commands[0] as Status;
    expect(s).toEqual({ ...fixture, cmdId: '' });
    expect(headerStatus(pkg1, 212)).toEqual({
      kind: 'Status', cmdId: '', msgRef: '1', cmdRef: '0', cmd: 'SyncHdr', code: 212,
      targetRefs: ['http://dm.example.test/omadm'], sourceRefs: ['IMEI:356938035643809'],
    });
    const chal = { meta: { type: 'syncml:auth-MAC', format: 'b64' } };
    expect(headerStatus(pkg1, 200, { chal, nextNonce: 'bm9uY2U=' }).chal).toEqual({ meta: { type: 'syncml:auth-MAC', format: 'b64', nextNonce: 'bm9uY2U=' } });
    expect(chal.meta).toEqual({ type: 'syncml:auth-MAC', format: 'b64' }); // not changed
    expect(errorOf(() => headerStatus(pkg1, 200, { nextNonce: 'x' })).code).toBe('INVALID_ARGUMENT');
  });

  it('commandStatus: refs from the Items (or given), Items; CmdRef blank for a command without CmdID', () => {
    const pkg2 = load('dm12-pkg2.xml');
    const rep = pkg2.body.commands[5];
    expect(commandStatus(pkg2, rep, 200)).toEqual({ kind: 'Status', cmdId: '', msgRef: '1', cmdRef: '6', cmd: 'Replace', code: 200, targetRefs: ['./Vendor/Example/Polling/Interval'] });
    expect(commandStatus(pkg2, pkg2.body.commands[3], 304)).toEqual({ kind: 'Status', cmdId: '', msgRef: '1', cmdRef: '4', cmd: 'Alert', code: 304 });
    expect(commandStatus(pkg2, rep, 200, { targetRefs: [], items: [{ data: 'x' }] })).toEqual({ kind: 'Status', cmdId: '', msgRef: '1', cmdRef: '6', cmd: 'Replace', code: 200, items: [{ data: 'x' }] });
    const win = load('windows-defects.xml', false);
    const noId = win.body.commands.find((c) => c.kind === 'Replace')!;
    expect(commandStatus(win, noId, 400)).toMatchObject({ cmdRef: '', cmd: 'Replace', code: 400, msgRef: '2' });
  });

  it('resultsFor: MsgRef, CmdRef, Items that name their node', () => {
    const pkg2 = load('dm12-pkg2.xml');
    const g = pkg2.body.commands[4] as Get;
    expect(resultsFor(pkg2, g, [{ source: { locUri: './DevDetail/SwV' }, data: '2.0.7' }])).toEqual({
      kind: 'Results', cmdId: '', msgRef: '1', cmdRef: '5', items: [{ source: { locUri: './DevDetail/SwV' }, data: '2.0.7' }],
    });
    expect(errorOf(() => resultsFor(pkg2, g, [])).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => resultsFor(pkg2, g, [{ data: 'x' }])).message).toMatch(/Source/);
  });

  it('answer(pkg2): every server command gets its Status in order, SyncHdr first, containers before children — as in pkg3', () => {
    const pkg2 = load('dm12-pkg2.xml');
    const pkg3 = load('dm12-pkg3.xml');
    const statuses = answer(pkg2, (c) => (c.kind === 'Exec' ? 202 : 200));
    const expected = pkg3.body.commands.filter((c) => c.kind === 'Status');
    expect(statuses.map(key)).toEqual(expected.map(key));
    expect(statuses[0]).toEqual({ ...(expected[0] as Status), cmdId: '' });
    // Added with the Results after the Get's Status, the builder reproduces pkg3's CmdIDs and order.
    const b = new MessageBuilder(pkg3.header);
    const g = pkg2.body.commands.find((c): c is Get => c.kind === 'Get')!;
    const fixtureResults = pkg3.body.commands.find((c): c is Results => c.kind === 'Results')!;
    for (const s of statuses) {
      b.add(s);
      if (s.cmd === 'Get') b.add(resultsFor(pkg2, g, fixtureResults.items));
    }
    const built = b.final().build();
    expect(built.body.commands.map((c) => `${c.kind}#${c.cmdId}:${key(c)}`)).toEqual(pkg3.body.commands.map((c) => `${c.kind}#${c.cmdId}:${key(c)}`));
    // Added the other way round (Results first), the order is the same.
    const b2 = new MessageBuilder(pkg3.header);
    b2.add(resultsFor(pkg2, g, fixtureResults.items));
    statuses.forEach((s) => b2.add(s));
    expect(b2.build().body.commands.map(key)).toEqual(pkg3.body.commands.map(key));
  });

  it('answer(pkg1): the server answers the client SyncHdr (212) and both commands, as pkg2 does', () => {
    const pkg1 = load('dm12-pkg1.xml');
    const pkg2 = load('dm12-pkg2.xml');
    const statuses = answer(pkg1, () => 200, 212);
    expect(statuses.map(key)).toEqual(pkg2.body.commands.filter((c) => c.kind === 'Status').map(key));
    expect(statuses[0]).toEqual({ ...(pkg2.body.commands[0] as Status), cmdId: '' });
    expect(statuses[2].sourceRefs).toEqual(['./DevInfo/DevId', './DevInfo/Man', './DevInfo/Mod', './DevInfo/DmV', './DevInfo/Lang']);
  });

  it('answer: the 401 challenge answers every command (dm12-challenge.xml)', () => {
    const pkg1 = load('dm12-pkg1.xml');
    const fixture = load('dm12-challenge.xml').body.commands;
    const statuses = answer(pkg1, () => 407, { code: 401, chal: 'syncml:auth-md5', nextNonce: 'q2Fh9nW4c1Q3WkP0xY8zAg==' });
    expect(statuses.map(key)).toEqual(fixture.map(key));
    expect(statuses[0]).toEqual({ ...(fixture[0] as Status), cmdId: '' });
  });

  it('answer(pkg3): no Status for Statuses nor for Results answered 200; one for Results answered otherwise', () => {
    const pkg3 = load('dm12-pkg3.xml');
    const seen: string[] = [];
    const only = answer(pkg3, (c) => { seen.push(c.kind); return 200; });
    expect(only.map(key)).toEqual(['2/0/SyncHdr/200']);
    expect(seen).toEqual(['Results']); // Statuses are never offered
    expect(answer(pkg3, () => 406).map(key)).toEqual(['2/0/SyncHdr/200', '2/4/Results/406']);
    expect(answer(pkg3, () => 200, null)).toEqual([]);
  });

  it('answer: NoResp commands are decided (executed) but not answered; SyncHdr NoResp silences the message', () => {
    const pkg2 = load('dm12-pkg2.xml');
    const m: SyncML = structuredClone(pkg2);
    (m.body.commands[5] as { noResp?: boolean }).noResp = true; // Replace #6
    const atomic = m.body.commands[6] as { commands: Command[] };
    (atomic.commands[1] as { noResp?: boolean }).noResp = true; // Add #9
    const decided: string[] = [];
    const statuses = answer(m, (c) => { decided.push(c.cmdId); return 200; });
    expect(decided).toEqual(['4', '5', '6', '8', '9', '7', '11', '12', '10']); // children before their container
    expect(statuses.map((s) => s.cmdRef)).toEqual(['0', '4', '5', '7', '8', '10', '11', '12']);
    m.header.noResp = true;
    decided.length = 0;
    expect(answer(m, (c) => { decided.push(c.cmdId); return 200; })).toEqual([]);
    expect(decided.length).toBe(9);
  });

  it('answer: an Atomic decides from its children codes; null means no Status; undefined is a mistake', () => {
    const pkg2 = load('dm12-pkg2.xml');
    const statuses = answer(pkg2, (c, ctx) => {
      if (c.kind === 'Add' && c.cmdId === '9') return 418;
      if (c.kind === 'Add') return ctx.parent?.kind === 'Atomic' ? 216 : 200;
      if (c.kind === 'Atomic') return ctx.childCodes?.some((x) => x !== null && x >= 300) ? 507 : 200;
      if (c.kind === 'Sequence') return null;
      return { code: 200, items: [{ data: 'ok' }] };
    });
    expect(statuses.filter((s) => ['7', '8', '9', '10'].includes(s.cmdRef)).map((s) => `${s.cmdRef}:${s.code}`)).toEqual(['7:507', '8:216', '9:418']);
    expect(statuses.find((s) => s.cmdRef === '4')?.items).toEqual([{ data: 'ok' }]);
    expect(errorOf(() => answer(pkg2, () => undefined as never)).message).toMatch(/decision for Alert #4/);
  });

  it('answer on a tolerant parse: a command without CmdID gets a blank CmdRef', () => {
    const win = load('windows-defects.xml', false);
    const statuses = answer(win, (c) => (c.cmdId ? 200 : 400));
    expect(statuses.map((s) => `${s.cmdRef}:${s.cmd}:${s.code}`)).toEqual(['0:SyncHdr:200', '5:Alert:200', ':Replace:400']);
  });
});

describe('SessionMessages', () => {
  it('numbers messages 1, 2, … with one SessionID and the header of the version', () => {
    const s = new SessionMessages({ sessionId: '1A2B', source: 'IMEI:356938035643809', target: 'http://dm.example.test/omadm', maxMsgSize: 10000, maxObjSize: 524288 });
    expect(s.nextMsgId).toBe('1');
    const b1 = s.next();
    const b2 = s.next({ cred: { meta: { type: 'syncml:auth-md5', format: 'b64' }, data: 'abc' } });
    expect(s.nextMsgId).toBe('3');
    expect(b1.header).toEqual({
      verDTD: '1.2', verProto: 'DM/1.2', sessionId: '1A2B', msgId: '1',
      target: { locUri: 'http://dm.example.test/omadm' }, source: { locUri: 'IMEI:356938035643809' },
      meta: { maxMsgSize: 10000, maxObjSize: 524288 },
    });
    expect(b2.header.msgId).toBe('2');
    expect(b2.header.cred?.data).toBe('abc');
    expect(s.next().header.cred).toBeUndefined();
    s.respUri = 'http://dm.example.test/omadm?s=1';
    s.cred = { data: 'x' };
    expect(s.next().header).toMatchObject({ msgId: '4', respUri: 'http://dm.example.test/omadm?s=1', cred: { data: 'x' } });
  });

  it('DM 1.1.2: VerDTD 1.1, VerProto DM/1.1, and a message serialized in the SYNCML1.1 namespace', () => {
    const s = new SessionMessages({ sessionId: '2', version: '1.1.2', source: { locUri: 'IMEI:1', locName: 'device01' }, target: 'http://x/', firstMsgId: 3 });
    const b = s.next();
    expect(b.header).toMatchObject({ verDTD: '1.1', verProto: 'DM/1.1', msgId: '3', source: { locUri: 'IMEI:1', locName: 'device01' } });
    b.add({ kind: 'Alert', cmdId: '', code: 1201, items: [] });
    const xml = serialize(b.final().build(), { encoding: 'xml' });
    expect(xml).toContain('<SyncML xmlns="SYNCML:SYNCML1.1">');
    expect(parse(xml).body.commands[0]).toMatchObject({ kind: 'Alert', cmdId: '1', code: 1201 });
    expect(errorOf(() => new SessionMessages({ sessionId: '', source: 'a', target: 'b' })).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => new SessionMessages({ sessionId: '1', source: 'a', target: 'b', version: '1.3' as never })).code).toBe('INVALID_ARGUMENT');
  });
});
