/**
 * `syncml-dm demo`: the whole tour through the command line (both encodings, verbose, --keep,
 * --devices), and its failure path: the verifiers refuse records that disagree with a claim, and
 * the runner turns the first refusal into exit 1 with one line naming the step.
 */
import { existsSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  check, CheckFailure, failureLine, runSteps, statusAt, verifyAclRefusal, verifyAtomicRollback, verifyAudit, verifyDevDetail,
  verifyDm112, verifyFumo, verifyLoad, verifyPackage0Session, type Step,
} from '../src/cli/demo/checks.js';
import { commandText, int, makeStyle, messageParts, wrapParts } from '../src/cli/demo/format.js';
import { runDemo, summaryTable } from '../src/cli/demo/run.js';
import { counters } from '../src/cli/demo/trace.js';
import type { JobStatus } from '../src/dm/jobs.js';
import type { AuthEvent, JobRecord, SessionRecord, StoredAlert } from '../src/server/store.js';
import type { SyncML } from '../src/syncml/types.js';
import { cli } from './cli.js';

const STEPS = ['setup', 'package 0', 'DevDetail', 'ACL 425', 'Atomic', 'FUMO', 'DM 1.1.2'];

function workingDir(stdout: string): string {
  const m = /working directory (\S+)/.exec(stdout);
  expect(m).not.toBeNull();
  return m![1];
}

describe('syncml-dm demo (through the command line)', () => {
  it('runs the tour in WBXML: every step, every check, the summary table; exit 0, nothing left behind', () => {
    const r = cli(['demo'], undefined, { NO_COLOR: '' });
    expect(r.stderr).not.toMatch(/demo failed/);
    expect(r.status).toBe(0);
    const out = r.stdout;
    expect(out).not.toMatch(/\x1b\[/); // not a terminal: no colour
    STEPS.forEach((name, i) => expect(out).toContain(`[${i + 1}/8] ${name}: `));
    expect(out).toContain('[8/8] audit: ');
    // Package 0 and the md5 challenge.
    expect(out).toMatch(/⇢ pkg 0 .* notification: SessionID [0-9A-F]+, server dm\.example\.test/);
    expect(out).toMatch(/← pkg 2 +msg 1 +dm\.example\.test .* wbxml +Status SyncHdr 407 \[chal md5\]/);
    expect(out).toContain('✓ md5 authentication: challenged with 407 (no credentials), then accepted with 212');
    expect(out).toContain('✓ DevInfo stored by the server: DevId=IMEI:356938035643809, Man=Example Devices');
    expect(out).toMatch(/✓ Get \.\/DevDetail\?list=StructData answered 200 with \d+ nodes/);
    // The ACL refusal, the Atomic, FUMO, DM 1.1.2.
    expect(out).toMatch(/✓ partner\.example\.test: Replace \.\/Vendor\/Example\/Policy = "permissive" refused with 425 Permission denied/);
    expect(out).toContain('✓ dm.example.test: the same Replace ("balanced") accepted with 200');
    expect(out).toMatch(/→ pkg 3 .* Replace 425, Get 200/);
    expect(out).toMatch(/✓ Atomic answered 507 Atomic failed; its Replace 216 .*, its Add 418 Already exists/);
    expect(out).toContain('✓ rolled back: ./Vendor/Example/Interval still reads "60"');
    expect(out).toMatch(/→ pkg 3 .* Atomic 507, Replace 216, Add 418/);
    expect(out).toMatch(/✓ campaign demo-fw-2\.0: job \d+ done, result 200 \(OK\), State 100 \(update successful\)/);
    expect(out).toMatch(/Alert 1226 fumo\.downloadandupdate \.\/FUMO\/pkg1 = "200" corr fumo-\d+/);
    expect(out).toMatch(/✓ Generic Alert org\.openmobilealliance\.dm\.firmwareupdate\.downloadandupdate = 200 with Correlator fumo-\d+/);
    expect(out).toContain('✓ package served over HTTPS: 262,144 B');
    expect(out).toMatch(/→ pkg 1 +msg 1 +IMEI:490154203237518 .* \[DM\/1\.1\]/);
    expect(out).toContain('✓ session recorded as DM 1.1.2');
    expect(out).toMatch(/✓ 8 sessions run by the clients = 8 recorded by the servers/);
    // The summary table.
    expect(out).toMatch(/step +sessions +messages +bytes +time +result/);
    for (const [i, name] of [...STEPS, 'audit'].entries()) expect(out).toMatch(new RegExp(`\\n  ${i + 1} ${name.replace('.', '\\.')} +\\d+ +\\d+ +[\\d,]+ +[\\d.]+ m?s +ok\\n`));
    expect(out).toMatch(/\n  total +8 +40 +[\d,]+ +[\d.]+ m?s +ok\n/);
    expect(out).toMatch(/all \d+ checks passed in/);
    // The download progress (not a terminal: a few plain lines on standard error).
    expect(r.stderr).toContain('download firmware 2.0: 100 % (262,144 of 262,144 B)');
    expect(r.stderr.split('\n').filter((l) => l.includes('download firmware')).length).toBeLessThanOrEqual(5);
    expect(existsSync(workingDir(out))).toBe(false);
  });

  it('--encoding xml --verbose --keep: XML on the wire, each message printed as XML, the directory kept', () => {
    const r = cli(['demo', '--encoding', 'xml', '--verbose', '--keep']);
    const dir = workingDir(r.stdout);
    try {
      expect(r.stderr).not.toMatch(/demo failed/);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/→ pkg 1 +msg 1 +IMEI:356938035643809 +[\d,]+ B xml +Alert 1200/);
      expect(r.stdout).not.toMatch(/ B wbxml /);
      expect(r.stdout).toContain('<SyncML xmlns="SYNCML:SYNCML1.2">');
      expect(r.stdout).toContain('<SyncML xmlns="SYNCML:SYNCML1.1">');
      expect(r.stdout).toContain('<Data>507</Data>');
      expect(r.stdout).toContain(`data kept in ${dir}`);
      expect(existsSync(`${dir}/dm/dm.sqlite`)).toBe(true);
      expect(existsSync(`${dir}/partner/dm.sqlite`)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--devices 20: the tour, then 20 devices at once with one progress line and no per-device output', () => {
    const r = cli(['demo', '--devices', '20']);
    expect(r.stderr).not.toMatch(/demo failed/);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('[8/9] devices: 20 simulated devices, all at once');
    expect(r.stdout).toContain('✓ 20 devices: 20 sessions completed and authenticated, 20 jobs answered 200, 0 failed');
    expect(r.stdout).toMatch(/20 sessions in [\d.]+ m?s: [\d.]+ sessions\/s/);
    expect(r.stdout).toMatch(/✓ 28 sessions run by the clients = 28 recorded by the servers/);
    expect(r.stdout).toMatch(/\n  8 devices +20 +120 +[\d,]+ +[\d.]+ m?s +ok\n/);
    expect(r.stdout).not.toContain('IMEI:35000'); // no per-device lines
    expect(r.stderr).toContain('devices: 20/20 done, 0 failed');
  });

  it('usage errors are one line, exit 2', () => {
    const bad = cli(['demo', '--encoding', 'json']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("syncml-dm: --encoding must be one of wbxml, xml (got 'json') (see --help)\n");
    expect(cli(['demo', '--devices', '0']).stderr).toMatch(/--devices must be between 1 and 100000/);
    const help = cli(['demo', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('syncml-dm: demo failed at step <n> (<name>): <what>');
  });
});

// ---- the failure path: verifiers and runner -------------------------------------------------------

let seq = 0;
function job(over: Partial<JobRecord> & { codes?: [string, string, number][] } = {}): JobRecord {
  const { codes = [['0', 'Replace', 200]], ...rest } = over;
  const statuses: JobStatus[] = codes.map(([path, cmd, code]) => ({ path, step: 'send', cmd, code, msgRef: '2', cmdRef: '4' }));
  return {
    id: String(++seq), deviceId: 'IMEI:1', spec: { kind: 'command', command: { verb: 'Get', target: './X' } }, state: 'answered', attempts: 1,
    session: 'tok1', createdAt: 1, updatedAt: 2, statuses, results: [], sent: [], ...rest,
  };
}

function getJob(uri: string, value: string, over: Partial<JobRecord> = {}): JobRecord {
  return job({ codes: [['0', 'Get', 200]], results: [{ path: '0', step: 'send', uri, data: value, encoding: 'text' }], ...over });
}

function session(over: Partial<SessionRecord> = {}): SessionRecord {
  return { token: 'tok1', deviceId: 'IMEI:1', sessionId: '1A2B', version: '1.2', initiator: 'client', startedAt: 1, lastAt: 2, endedAt: 3, reason: 'completed', authenticated: true, messagesIn: 2, messagesOut: 2, ...over };
}

function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CheckFailure);
    return (e as Error).message;
  }
  throw new Error('the verifier accepted records that disagree with its claim');
}

const POLICY = './Vendor/Example/Policy';
const IDS = { main: 'dm.example.test', partner: 'partner.example.test' };
const VALUES = { original: 'strict', partner: 'permissive', main: 'balanced' };

describe('demo checks: records that disagree fail the step', () => {
  it('ACL: a partner Replace recorded 200 instead of 425; a value that changed', () => {
    const good = { partnerReplace: job({ codes: [['0', 'Replace', 425]] }), partnerGet: getJob(POLICY, 'strict'), mainReplace: job(), mainGet: getJob(POLICY, 'balanced') };
    expect(verifyAclRefusal(good, POLICY, VALUES, IDS)[0]).toContain('refused with 425 Permission denied');
    const accepted = { ...good, partnerReplace: job({ id: '41', codes: [['0', 'Replace', 200]] }) };
    expect(failure(() => verifyAclRefusal(accepted, POLICY, VALUES, IDS)))
      .toBe('partner.example.test Replace ./Vendor/Example/Policy: the server recorded 200 OK for job 41, not 425 Permission denied');
    const changed = { ...good, partnerGet: getJob(POLICY, 'permissive') };
    expect(failure(() => verifyAclRefusal(changed, POLICY, VALUES, IDS))).toMatch(/read \.\/Vendor\/Example\/Policy = "permissive", expected "strict"/);
    const pending = { ...good, mainReplace: job({ id: '7', state: 'sent', codes: [] }) };
    expect(failure(() => verifyAclRefusal(pending, POLICY, VALUES, IDS))).toBe('dm.example.test Replace ./Vendor/Example/Policy: job 7 is sent, not answered');
  });

  it('Atomic: 200 for the Atomic, a Replace not rolled back, a value that stayed changed', () => {
    const atomic = (c: number, r: number) => job({ codes: [['0', 'Atomic', c], ['0.0', 'Replace', r], ['0.1', 'Add', 418]] });
    const I = './Vendor/Example/Interval';
    expect(verifyAtomicRollback(atomic(507, 216), getJob(I, '60'), I, '60')).toHaveLength(2);
    expect(failure(() => verifyAtomicRollback(atomic(200, 216), getJob(I, '60'), I, '60'))).toMatch(/^Atomic: the server recorded 200 OK for job \d+, not 507/);
    expect(failure(() => verifyAtomicRollback(atomic(507, 200), getJob(I, '60'), I, '60'))).toMatch(/^Atomic: the Replace of \.\/Vendor\/Example\/Interval: the server recorded 200 OK .* not 216/);
    expect(failure(() => verifyAtomicRollback(atomic(507, 216), getJob(I, '15'), I, '60'))).toMatch(/read \.\/Vendor\/Example\/Interval = "15", expected "60"/);
  });

  it('FUMO: a failed job, a final State that is not 100, an alert without the Correlator', () => {
    const done = job({ state: 'done', fumo: { correlator: 'fumo-6', resultCode: 200, finalState: 100 } });
    const alert: StoredAlert = { id: 1, deviceId: 'IMEI:1', session: 'tok9', jobId: done.id, at: 5, code: 1226, type: 't', rawType: 't', format: 'int', mark: 'informational', data: '200', encoding: 'text', correlator: 'fumo-6' };
    const base = { campaign: { campaign: 'c', states: { done: 1 }, jobs: [done] }, alerts: [alert], triggerSession: 'tok1', sessions: [session({ token: 'tok9' })] };
    const bytes = { bytes: 10, served: 10 };
    expect(verifyFumo(base, bytes)[0]).toContain('State 100');
    const failed = job({ id: '6', state: 'failed', error: 'result 410', fumo: { resultCode: 410 } });
    expect(failure(() => verifyFumo({ ...base, campaign: { campaign: 'c', states: { failed: 1 }, jobs: [failed] } }, bytes))).toBe('campaign c: job 6 is failed (result 410), not done');
    const state70 = job({ state: 'done', fumo: { correlator: 'fumo-6', resultCode: 200, finalState: 70 } });
    expect(failure(() => verifyFumo({ ...base, campaign: { campaign: 'c', states: { done: 1 }, jobs: [state70] } }, bytes))).toBe('campaign c: final State 70, not 100 (update successful)');
    expect(failure(() => verifyFumo({ ...base, alerts: [{ ...alert, correlator: 'other' }] }, bytes))).toMatch(/Correlator other is not the Exec's fumo-6/);
    expect(failure(() => verifyFumo({ ...base, triggerSession: 'tok9' }, bytes))).toBe('the Generic Alert did not come in a session of its own');
    expect(failure(() => verifyFumo(base, { bytes: 10, served: 4 }))).toBe('the package server sent 4 bytes of 10');
  });

  it('package 0, DevDetail, DM 1.1.2, the load and the audit', () => {
    const n = { id: '1', deviceId: 'IMEI:1', sessionId: '1A2B', swappedSessionId: '2B1A', uiMode: 'background', createdAt: 1, answeredAt: 2, session: 'tok1' };
    const ev = (outcome: AuthEvent['outcome'], code: number, at: number): AuthEvent => ({ deviceId: 'IMEI:1', session: 'tok1', scheme: 'md5', outcome, code, at });
    const p0 = {
      notification: n, authEvents: [ev('accepted', 212, 2), ev('challenged', 407, 1)], sessions: [session({ initiator: 'server' })],
      devInfo: { DevId: 'IMEI:1', Man: 'M' }, dmVersion: '1.2', expectDevInfo: { DevId: 'IMEI:1', Man: 'M' },
    };
    expect(verifyPackage0Session(p0)).toHaveLength(3);
    expect(failure(() => verifyPackage0Session({ ...p0, notification: { ...n, answeredAt: undefined, session: undefined } }))).toBe('the server recorded package 0 (SessionID 1A2B) as never answered');
    expect(failure(() => verifyPackage0Session({ ...p0, authEvents: [ev('accepted', 212, 2)] }))).toMatch(/no challenge in the first session/);
    expect(failure(() => verifyPackage0Session({ ...p0, devInfo: { DevId: 'IMEI:1', Man: 'X' } }))).toBe('DevInfo Man: the server stored "X", the device has "M"');
    expect(failure(() => verifyPackage0Session({ ...p0, sessions: [session()] }))).toMatch(/client-initiated, not server-initiated/);

    const dd = getJob('./DevDetail/FwV', '1.0');
    const tree = [{ uri: './DevDetail/FwV', data: '1.0', encoding: 'text' as const, at: 1 }];
    expect(verifyDevDetail(dd, { './DevDetail/FwV': '1.0' }, tree, [ev('accepted', 212, 3)])).toHaveLength(2);
    expect(failure(() => verifyDevDetail(dd, { './DevDetail/FwV': '2.0' }, tree, [ev('accepted', 212, 3)]))).toMatch(/recorded \.\/DevDetail\/FwV = "1\.0", the device holds "2\.0"/);
    expect(failure(() => verifyDevDetail(dd, { './DevDetail/FwV': '1.0' }, tree, [ev('challenged', 407, 3), ev('accepted', 212, 4)]))).toMatch(/challenged again/);

    const I = './Vendor/Example/Interval';
    expect(verifyDm112([session({ version: '1.1.2' })], '1.1.2', job(), getJob(I, '30'), I, '30')).toHaveLength(2);
    expect(failure(() => verifyDm112([session()], '1.2', job(), getJob(I, '30'), I, '30'))).toBe("the DM 1.1.2 device's sessions are recorded as 1.2");

    const load = { devices: ['IMEI:1'], failures: [], jobs: [job()], sessions: [session()] };
    expect(verifyLoad(load)).toHaveLength(1);
    expect(failure(() => verifyLoad({ ...load, failures: ['IMEI:1: TRANSPORT: refused'] }))).toBe('1 of 1 device sessions failed (first: IMEI:1: TRANSPORT: refused)');
    expect(failure(() => verifyLoad({ ...load, jobs: [job({ id: '9', state: 'sent', codes: [] })] }))).toBe('1 jobs not answered 200 (first: job 9 sent)');
    expect(failure(() => verifyLoad({ ...load, sessions: [session({ reason: 'auth-failed', authenticated: false })] }))).toMatch(/recorded 1 sessions \(0 completed and authenticated\) for 1 devices/);

    expect(verifyAudit(1, [session()], [], [])).toHaveLength(1);
    expect(failure(() => verifyAudit(2, [session()], [], []))).toBe('the clients ran 2 sessions, the servers recorded 1');
    expect(failure(() => verifyAudit(1, [session()], [job({ id: '3', state: 'queued' })], []))).toBe('1 jobs still unfinished (first: job 3 queued)');
  });

  it('the runner: the first failing step names itself, the rest are skipped, the line is what the command prints', async () => {
    const ran: string[] = [];
    const step = (name: string, fn: () => void): Step<null> => ({ name, title: name, run: async () => { ran.push(name); fn(); } });
    const steps = [
      step('setup', () => {}),
      step('ACL 425', () => check(false, 'partner.example.test Replace ./Vendor/Example/Policy: the server recorded 200 OK for job 1, not 425 Permission denied')),
      step('Atomic', () => {}),
    ];
    let t = 0;
    const outcome = await runSteps(steps, null, { counters, now: () => (t += 5) });
    expect(ran).toEqual(['setup', 'ACL 425']);
    expect(outcome.failure).toEqual({ index: 2, name: 'ACL 425', message: 'partner.example.test Replace ./Vendor/Example/Policy: the server recorded 200 OK for job 1, not 425 Permission denied' });
    expect(failureLine(outcome.failure!)).toBe('syncml-dm: demo failed at step 2 (ACL 425): partner.example.test Replace ./Vendor/Example/Policy: the server recorded 200 OK for job 1, not 425 Permission denied');
    expect(outcome.rows.map((r) => r.result)).toEqual(['ok', 'FAILED', 'skipped']);
    const table = summaryTable(outcome.rows, makeStyle(false)).join('\n');
    expect(table).toMatch(/2 ACL 425 +0 +0 +0 +5 ms +FAILED/);
    expect(table).toMatch(/3 Atomic +0 +0 +0 +0 ms +skipped/);
    expect(table).toMatch(/total +0 +0 +0 +10 ms +FAILED/);
    // Errors that are not checks (a refused connection, a DmError) fail the step with their message.
    const boom = await runSteps([step('FUMO', () => { throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'TRANSPORT' }); })], null, { counters, now: () => 0 });
    expect(failureLine(boom.failure!)).toBe('syncml-dm: demo failed at step 1 (FUMO): TRANSPORT: connect ECONNREFUSED 127.0.0.1:1');
  });
});

describe('demo failure path, end to end (in-process)', () => {
  it('a device whose ACL was loosened behind the servers\' backs: step 4 fails naming the 200, exit 1, the directory removed', async () => {
    const out: string[] = [];
    let err = '';
    const status = await runDemo(
      { encoding: 'wbxml', devices: 1, verbose: false, keep: false },
      { out: (l) => out.push(l), err: { isTTY: false, write: (s: string) => { err += s; } }, colour: false, width: 120 },
      (steps) => steps.map((s) => (s.name !== 'ACL 425' ? s : {
        ...s,
        // Tamper with the device: anyone may now replace the policy, so the partner's Replace is not refused.
        run: (ctx) => { ctx.device!.client.tree.replace('./Vendor/Example/Policy?prop=ACL', { value: 'Get=*&Replace=*' }); return s.run(ctx); },
      })),
    );
    const text = out.join('\n');
    expect(status).toBe(1);
    expect(err).toMatch(/^syncml-dm: demo failed at step 4 \(ACL 425\): partner\.example\.test Replace \.\/Vendor\/Example\/Policy: the server recorded 200 OK for job \d+, not 425 Permission denied\n$/m);
    expect(text).toMatch(/→ pkg 3 .* Replace 200, Get 200/); // the trace shows what really happened
    expect(text).not.toContain('refused with 425');
    expect(text).toMatch(/\n  4 ACL 425 .* FAILED\n/);
    expect(text).toMatch(/\n  5 Atomic +0 +0 +0 +0 ms +skipped\n/);
    expect(text).toMatch(/\n  total .* FAILED\n/);
    expect(existsSync(workingDir(text))).toBe(false);
  });
});

describe('demo trace text', () => {
  const style = makeStyle(false);
  it('summarises a message in one line of phrases', () => {
    const msg: SyncML = {
      header: { verDTD: '1.2', verProto: 'DM/1.2', sessionId: '1', msgId: '2', target: { locUri: 'x' }, source: { locUri: 'y' } },
      body: {
        final: true,
        commands: [
          { kind: 'Status', cmdId: '1', msgRef: '1', cmdRef: '0', cmd: 'SyncHdr', code: 212, chal: { meta: { type: 'syncml:auth-md5', format: 'b64', nextNonce: 'AA==' } } },
          { kind: 'Status', cmdId: '2', msgRef: '1', cmdRef: '3', cmd: 'Get', code: 200 },
          { kind: 'Status', cmdId: '3', msgRef: '1', cmdRef: '4', cmd: 'Get', code: 200 },
          { kind: 'Replace', cmdId: '4', items: ['Man', 'Mod'].map((k) => ({ source: { locUri: `./DevInfo/${k}` }, data: 'v' })) },
          { kind: 'Atomic', cmdId: '5', commands: [{ kind: 'Add', cmdId: '6', items: [{ target: { locUri: './A' }, data: '1' }] }] },
        ],
      },
    };
    expect(messageParts(msg, style)).toEqual(['Status SyncHdr 212 [chal md5], Get 200 ×2', 'Replace(2) ./DevInfo/{Man,Mod}', 'Atomic{Add ./A = "1"}']);
    expect(commandText({ kind: 'Exec', cmdId: '1', correlator: 'c1', items: [{ target: { locUri: './FUMO/pkg1/Update' } }] }, style)).toBe('Exec ./FUMO/pkg1/Update corr c1');
    expect(wrapParts(['aaaaaaaa', 'bbbbbbbb', 'cccccccc'], 10, 4, 31)).toEqual(['aaaaaaaa, bbbbbbbb,', 'cccccccc']);
    expect(int(1234567)).toBe('1,234,567');
    expect(statusAt(job({ codes: [['0', 'Get', 500], ['0', 'Get', 200]] }), '0')!.code).toBe(200);
  });
});
