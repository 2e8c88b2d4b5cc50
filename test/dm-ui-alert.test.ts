import { describe, expect, it } from 'vitest';
import type { Alert, Command, Item, Status, SyncML } from '../src/syncml/types.js';
import { ConfigManager } from '../src/dm/config-manager.js';
import { Dpu, type DpuResult } from '../src/dm/dpu.js';
import { DmError } from '../src/dm/errors.js';
import { ManagementTree } from '../src/dm/tree.js';
import {
  parseAlertOptions, realTimers, runUiAlert, uiRequestOf, UI_CANCELLED, UI_CANNOT_DISPLAY,
  type Timers, type UiRequest, type UserInteraction,
} from '../src/dm/ui-alert.js';

const SERVER = 'dm.example.net';

function alert(cmdId: string, code: number, ...texts: (string | undefined)[]): Alert {
  return { kind: 'Alert', cmdId, code, items: texts.map((t): Item => (t === undefined ? {} : { data: t })) };
}

function msg(commands: Command[]): SyncML {
  return {
    header: { verDTD: '1.2', verProto: 'DM/1.2', sessionId: '1', msgId: '3', target: { locUri: 'IMEI:1' }, source: { locUri: 'https://s' } },
    body: { commands, final: true },
  };
}

function statuses(r: DpuResult): Status[] {
  return r.responses.filter((c): c is Status => c.kind === 'Status');
}

function codes(r: DpuResult): string[] {
  return statuses(r).map((s) => `${s.cmdRef}:${s.code}`);
}

/** A fake clock: `sleep` records the delay and resolves at once (`expire: true`) or only when aborted. */
function fakeTimers(expire: boolean): Timers & { calls: number[]; aborted: boolean[] } {
  const calls: number[] = [];
  const aborted: boolean[] = [];
  return {
    calls,
    aborted,
    sleep(ms, signal) {
      calls.push(ms);
      const i = aborted.push(false) - 1;
      return new Promise((resolve) => {
        signal?.addEventListener('abort', () => { aborted[i] = true; resolve(); });
        if (expire) resolve();
      });
    },
  };
}

function device(ui?: UserInteraction, timers: Timers = fakeTimers(false), uiTimeout?: number) {
  const tree = new ManagementTree({ rootAcl: 'Add=*&Get=*&Replace=*&Delete=*' });
  const cm = new ConfigManager({ tree });
  return { tree, dpu: new Dpu({ configManager: cm, serverId: SERVER, ui, timers, uiTimeout }) };
}

describe('parseAlertOptions', () => {
  it('reads every DMPRO 2.5 parameter', () => {
    expect(parseAlertOptions('MINDT=5&MAXDT=30&DR=1&MAXLEN=8&IT=N&ET=P')).toEqual({
      minDisplayTime: 5, maxDisplayTime: 30, defaultResponse: '1', maxLength: 8, inputType: 'numeric', echoType: 'password',
    });
    expect(parseAlertOptions('IT=A').inputType).toBe('alphanumeric');
    expect(parseAlertOptions('IT=D').inputType).toBe('date');
    expect(parseAlertOptions('IT=T').inputType).toBe('time');
    expect(parseAlertOptions('IT=P').inputType).toBe('phone');
    expect(parseAlertOptions('IT=I').inputType).toBe('ip');
    expect(parseAlertOptions('ET=T').echoType).toBe('text');
  });

  it('URL-decodes names and values (+ is a space, %XX is UTF-8)', () => {
    expect(parseAlertOptions('DR=Hello+world%21').defaultResponse).toBe('Hello world!');
    expect(parseAlertOptions('DR=caf%C3%A9%26tea%3D1').defaultResponse).toBe('café&tea=1');
    expect(parseAlertOptions('%4DAXDT=%33%30').maxDisplayTime).toBe(30);
    expect(parseAlertOptions('DR=100%').defaultResponse).toBe('100%'); // a broken escape stays as written
  });

  it('skips unknown parameters and values outside their grammar silently', () => {
    expect(parseAlertOptions('X-VENDOR=1&MINDT=2&FOO&&=3')).toEqual({ minDisplayTime: 2 });
    expect(parseAlertOptions('MAXDT=soon&MINDT=-1&MAXLEN=1.5&IT=Q&ET=X')).toEqual({});
    expect(parseAlertOptions('')).toEqual({});
    expect(parseAlertOptions('maxdt=9&Dr=x')).toEqual({ maxDisplayTime: 9, defaultResponse: 'x' });
  });
});

describe('uiRequestOf', () => {
  it('builds typed requests with their defaults from DR', () => {
    expect(uiRequestOf(alert('1', 1100, 'MINDT=3', 'Hello'))).toEqual({ kind: 'display', cmdId: '1', text: 'Hello', options: { minDisplayTime: 3 } });
    expect(uiRequestOf(alert('1', 1101, 'DR=0', 'Sure?'))).toMatchObject({ kind: 'confirm', defaultAnswer: false });
    expect(uiRequestOf(alert('1', 1102, 'DR=abc&MAXLEN=5&IT=N&ET=P', 'PIN'))).toMatchObject({
      kind: 'textInput', defaultText: 'abc', maxLength: 5, inputType: 'numeric', echo: 'password',
    });
    expect(uiRequestOf(alert('1', 1102, undefined, 'Name'))).toMatchObject({ kind: 'textInput', inputType: 'alphanumeric', echo: 'text' });
    expect(uiRequestOf(alert('1', 1103, 'DR=2', 'Pick', 'a', 'b'))).toMatchObject({ kind: 'singleChoice', choices: ['a', 'b'], defaultChoice: 2 });
    expect(uiRequestOf(alert('1', 1103, 'DR=3', 'Pick', 'a', 'b'))).not.toHaveProperty('defaultChoice');
    expect(uiRequestOf(alert('1', 1104, 'DR=1-3', 'Pick', 'a', 'b', 'c'))).toMatchObject({ kind: 'multipleChoice', defaultChoices: [1, 3] });
  });

  it('text sent as bytes (WBXML OPAQUE) is decoded as UTF-8', () => {
    const a: Alert = { kind: 'Alert', cmdId: '1', code: 1100, items: [{}, { data: new TextEncoder().encode('héllo') }] };
    expect((uiRequestOf(a) as UiRequest).text).toBe('héllo');
  });

  it('412 for missing Items, 406 for other codes', () => {
    expect(uiRequestOf(alert('1', 1100, ''))).toBe(412);
    expect(uiRequestOf(alert('1', 1103, '', 'Pick'))).toBe(412);
    expect(uiRequestOf(alert('1', 1104, '', 'Pick'))).toBe(412);
    expect(uiRequestOf(alert('1', 1222))).toBe(406);
  });
});

describe('user interaction alerts through the DPU', () => {
  it('1100 DISPLAY: 200, the UI gets the text and MINDT', async () => {
    const seen: UiRequest[] = [];
    const { dpu } = device({ display: (req) => { seen.push(req); } });
    const r = await dpu.process(msg([alert('2', 1100, 'MINDT=10', 'Updating')]));
    expect(r.responses).toEqual([{ kind: 'Status', cmdId: '', msgRef: '3', cmdRef: '2', cmd: 'Alert', code: 200 }]);
    expect(seen[0]).toMatchObject({ kind: 'display', text: 'Updating', options: { minDisplayTime: 10 } });
  });

  it('1101 CONFIRM: 200 for yes, 304 for no', async () => {
    let answer = true;
    const { dpu } = device({ confirm: () => answer });
    expect(codes(await dpu.process(msg([alert('2', 1101, '', 'Install?')])))).toEqual(['2:200']);
    answer = false;
    expect(codes(await dpu.process(msg([alert('2', 1101, '', 'Install?')])))).toEqual(['2:304']);
  });

  it('1102 TEXT INPUT: 200 with the text in the Status Item, cut to MAXLEN', async () => {
    const { dpu } = device({ textInput: async () => 'hello world' });
    const r = await dpu.process(msg([alert('2', 1102, 'MAXLEN=5', 'Name?'), alert('3', 1102, '', 'Name?')]));
    expect(statuses(r).map((s) => [s.code, s.items])).toEqual([[200, [{ data: 'hello' }]], [200, [{ data: 'hello world' }]]]);
  });

  it('1103 SINGLE CHOICE: 200 with the 1-based index', async () => {
    const { dpu } = device({ singleChoice: (req) => req.choices.indexOf('blue') + 1 });
    const r = await dpu.process(msg([alert('2', 1103, '', 'Colour?', 'red', 'blue', 'green')]));
    expect(statuses(r)[0]).toMatchObject({ code: 200, items: [{ data: '2' }] });
  });

  it('1104 MULTIPLE CHOICE: 200 with one Item per selected index (none selected: no Item)', async () => {
    let picks = [3, 1, 3];
    const { dpu } = device({ multipleChoice: () => picks });
    const r = await dpu.process(msg([alert('2', 1104, 'DR=1', 'Apps?', 'a', 'b', 'c')]));
    expect(statuses(r)[0]).toMatchObject({ code: 200, items: [{ data: '1' }, { data: '3' }] });
    picks = [];
    const r2 = await dpu.process(msg([alert('2', 1104, '', 'Apps?', 'a')]));
    expect(statuses(r2)[0].code).toBe(200);
    expect(statuses(r2)[0].items).toBeUndefined();
  });

  it('214 when the user cancels; every remaining command 215; cancelled', async () => {
    const { dpu, tree } = device({ confirm: () => UI_CANCELLED });
    const add: Command = { kind: 'Add', cmdId: '3', items: [{ target: { locUri: './A' }, data: 'x' }] };
    const r = await dpu.process(msg([alert('2', 1101, '', 'Go?'), add, alert('4', 1222)]));
    expect(codes(r)).toEqual(['2:214', '3:215', '4:215']);
    expect(r.cancelled).toBe(true);
    expect(r.nextMessageRequested).toBe(false);
    expect(tree.exists('./A')).toBe(false);
  });

  it('408 when MAXDT expires (the UI signal fires); DISPLAY just ends with 200', async () => {
    const timers = fakeTimers(true);
    let signal: AbortSignal | undefined;
    const wait = <T>(value: T) => (_req: UiRequest, s: AbortSignal): Promise<T> => {
      signal = s;
      return new Promise((resolve) => s.addEventListener('abort', () => resolve(value)));
    };
    const { dpu } = device({ confirm: wait(true), display: wait(undefined), textInput: wait('late'), singleChoice: wait(1), multipleChoice: wait([1]) }, timers);
    const r = await dpu.process(msg([
      alert('1', 1101, 'MAXDT=30', 'Go?'), alert('2', 1102, 'MAXDT=1', 'Name?'), alert('3', 1103, 'MAXDT=1', 'Pick', 'a'),
      alert('4', 1104, 'MAXDT=1', 'Pick', 'a'), alert('5', 1100, 'MAXDT=2', 'Hi'),
    ]));
    expect(codes(r)).toEqual(['1:408', '2:408', '3:408', '4:408', '5:200']);
    expect(timers.calls).toEqual([30000, 1000, 1000, 1000, 2000]);
    expect(signal!.aborted).toBe(true);
  });

  it('an answer before MAXDT wins and stops the timer; without MAXDT the DPU default applies, else no timer', async () => {
    const timers = fakeTimers(false);
    const { dpu } = device({ confirm: () => true }, timers);
    expect(codes(await dpu.process(msg([alert('1', 1101, 'MAXDT=30', 'Go?'), alert('2', 1101, '', 'Go?')])))).toEqual(['1:200', '2:200']);
    expect(timers.calls).toEqual([30000]);
    expect(timers.aborted).toEqual([true]);
    const timers2 = fakeTimers(true);
    const { dpu: dpu2 } = device({ confirm: (_r, s) => new Promise((res) => s.addEventListener('abort', () => res(true))) }, timers2, 60);
    expect(codes(await dpu2.process(msg([alert('1', 1101, '', 'Go?')])))).toEqual(['1:408']);
    expect(timers2.calls).toEqual([60000]);
  });

  it('406 without a UI or without the method for that alert', async () => {
    const none = device();
    const partial = device({ display: () => undefined });
    const m = msg([alert('1', 1100, '', 'Hi'), alert('2', 1101, '', 'Go?'), alert('3', 1104, '', 'Pick', 'a')]);
    expect(codes(await none.dpu.process(m))).toEqual(['1:406', '2:406', '3:406']);
    expect(codes(await partial.dpu.process(m))).toEqual(['1:200', '2:406', '3:406']);
  });

  it('412 when Items are missing', async () => {
    const { dpu } = device({ display: () => undefined, singleChoice: () => 1 });
    const r = await dpu.process(msg([alert('1', 1100), alert('2', 1100, ''), alert('3', 1103, '', 'Pick')]));
    expect(codes(r)).toEqual(['1:412', '2:412', '3:412']);
  });

  it('416 when the UI cannot show it (dedicated value or DmError 416); 500 for a UI failure or a bad answer', async () => {
    const { dpu } = device({
      display: () => UI_CANNOT_DISPLAY,
      confirm: () => { throw new DmError('COMMAND_FAILED', 'too long', { status: 416 }); },
      textInput: () => { throw new Error('UI crashed'); },
      singleChoice: () => 7,
      multipleChoice: () => [0],
    });
    const r = await dpu.process(msg([
      alert('1', 1100, '', 'Hi'), alert('2', 1101, '', 'Go?'), alert('3', 1102, '', 'Name?'),
      alert('4', 1103, '', 'Pick', 'a'), alert('5', 1104, '', 'Pick', 'a'),
    ]));
    expect(codes(r)).toEqual(['1:416', '2:416', '3:500', '4:500', '5:500']);
  });
});

describe('runUiAlert and realTimers', () => {
  it('runs without a DPU', async () => {
    expect(await runUiAlert(alert('1', 1102, '', 'Name?'), { textInput: () => 'x' })).toEqual({ status: 200, items: [{ data: 'x' }] });
    expect(await runUiAlert(alert('1', 1102, '', 'Name?'), undefined)).toEqual({ status: 406 });
  });

  it('realTimers.sleep waits, and ends early when aborted', async () => {
    const t0 = Date.now();
    await realTimers.sleep(20);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(15);
    const c = new AbortController();
    const p = realTimers.sleep(60_000, c.signal);
    c.abort();
    await p;
    const pre = new AbortController();
    pre.abort();
    await realTimers.sleep(60_000, pre.signal);
  });

  it('a real MAXDT of 1 second times out', async () => {
    const r = await runUiAlert(alert('1', 1101, 'MAXDT=1', 'Go?'), { confirm: () => new Promise<boolean>(() => undefined) });
    expect(r.status).toBe(408);
  });
});
