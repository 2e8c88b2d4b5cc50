/**
 * `syncml-dm demo`: sets up a temporary directory, runs the tour (and the load step), prints the
 * summary table, closes everything and removes the directory (unless --keep).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { failureLine, runSteps, type StepRow, type Step } from './checks.js';
import type { DemoContext, DemoOptions } from './context.js';
import { duration, int, makeStyle, type Style } from './format.js';
import { loadStep } from './load.js';
import type { ProgressSink } from './progress.js';
import { auditStep, tourSteps } from './tour.js';
import { counters, Tracer, type Counters } from './trace.js';

export interface DemoIo {
  /** One line of standard output (no newline). */
  out: (line: string) => void;
  /** Standard error: progress, and the failure line. */
  err: ProgressSink;
  colour: boolean;
  /** Width the trace wraps at. */
  width: number;
}

/** The summary table: one row per step, then the totals. */
export function summaryTable(rows: readonly StepRow[], style: Style): string[] {
  const head = ['step', 'sessions', 'messages', 'bytes', 'time', 'result'];
  const total: Counters & { ms: number } = { sessions: 0, messages: 0, bytes: 0, ms: 0 };
  for (const r of rows) {
    total.sessions += r.sessions;
    total.messages += r.messages;
    total.bytes += r.bytes;
    total.ms += r.ms;
  }
  const failed = rows.some((r) => r.result === 'FAILED');
  const body = rows.map((r) => [`${r.index} ${r.name}`, int(r.sessions), int(r.messages), int(r.bytes), duration(r.ms), r.result]);
  body.push(['total', int(total.sessions), int(total.messages), int(total.bytes), duration(total.ms), failed ? 'FAILED' : 'ok']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  const paint = (line: string, result: string) => (result === 'ok' ? line.replace(/ok$/, style.green('ok')) : result === 'FAILED' ? line.replace(/FAILED$/, style.red('FAILED')) : style.dim(line));
  return [
    `  ${style.bold(fmt(head))}`,
    `  ${rule}`,
    ...body.slice(0, -1).map((b) => `  ${paint(fmt(b), b[5])}`),
    `  ${rule}`,
    `  ${paint(style.bold(fmt(body[body.length - 1])), body[body.length - 1][5])}`,
  ];
}

/**
 * Runs the demo; resolves with the exit status. `adapt` (tests only, not reachable from the
 * command line) may change the list of steps, e.g. to tamper with the device before a step and
 * see that step fail.
 */
export async function runDemo(options: DemoOptions, io: DemoIo, adapt?: (steps: Step<DemoContext>[]) => Step<DemoContext>[]): Promise<number> {
  const style = makeStyle(io.colour);
  const dir = mkdtempSync(join(tmpdir(), 'syncml-dm-demo-'));
  const tracer = new Tracer({ style, print: true, verbose: options.verbose, width: io.width, out: io.out });
  const ctx: DemoContext = {
    options, dir, style, tracer, err: io.err, stepCounters: [], closers: [], checks: 0,
    ok(claim) {
      this.checks++;
      io.out(`    ${style.green('✓')} ${claim}`);
    },
    info(text) {
      io.out(`    ${style.dim(text)}`);
    },
  };
  const onSignal = (): void => {
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);

  let steps: Step<DemoContext>[] = [...tourSteps()];
  if (options.devices > 1) steps.push(loadStep(options.devices, options.concurrency ?? options.devices));
  steps.push(auditStep());
  if (adapt) steps = adapt(steps);

  io.out(style.bold('syncml-dm demo: OMA DM 1.2 end to end on loopback'));
  io.out(style.dim(`  real DM servers (SQLite store, admin API) and reference clients over HTTPS; encoding ${options.encoding}${options.verbose ? ', verbose' : ''}`));
  io.out(style.dim(`  → device to server, ← server to device, ⇢ package 0 (pushed); ✓ a claim checked against the server's records`));
  io.out(style.dim(`  Cred md5: credentials in the header; Status SyncHdr 407 [chal md5]: a challenge, 212: authenticated (both ways)`));
  io.out(style.dim(`  working directory ${dir} (${options.keep ? 'kept' : 'removed at exit; --keep keeps it'})`));

  const started = performance.now();
  let outcome;
  try {
    outcome = await runSteps(steps, ctx, {
      begin(index, total, step) {
        io.out('');
        io.out(style.bold(`[${index}/${total}] ${step.name}: ${step.title}`));
      },
      counters() {
        const c = counters();
        ctx.stepCounters.push(c);
        tracer.stats = c;
        return c;
      },
      now: () => performance.now(),
    });
  } finally {
    for (const close of ctx.closers.reverse()) {
      try {
        await close();
      } catch {
        // closing is best effort: the process is about to end
      }
    }
    process.off('SIGINT', onSignal);
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
  }
  const total = performance.now() - started;

  io.out('');
  io.out(style.bold('Summary'));
  for (const l of summaryTable(outcome.rows, style)) io.out(l);
  io.out('');
  if (options.keep) {
    io.out(`data kept in ${dir}: dm/dm.sqlite, partner/dm.sqlite; to look inside, serve a store again and ask its admin API:`);
    io.out(`  syncml-dm server --data ${join(dir, 'dm')} --port 0 &   syncml-dm admin --data ${join(dir, 'dm')} jobs list`);
  }
  if (outcome.failure) {
    io.out(style.red(`demo failed after ${duration(total)}: ${ctx.checks} checks passed before step ${outcome.failure.index} (${outcome.failure.name}) failed`));
    io.err.write(failureLine(outcome.failure) + '\n');
    return 1;
  }
  const line = `all ${ctx.checks} checks passed in ${duration(total)}`;
  io.out(style.green(line));
  return 0;
}
