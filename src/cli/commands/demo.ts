import { integer, choice, parseArgs, UsageError } from '../args.js';

export const help = `Usage: syncml-dm demo [--encoding wbxml|xml] [--devices N] [--concurrency C] [--verbose] [--keep]

Runs a complete OMA DM 1.2 deployment on loopback and shows every package it exchanges: two
reference servers (HTTPS with a self-signed certificate, SQLite store in a temporary directory,
admin API) and reference clients, through these steps:

  1 setup       servers started; a device created with two DMAcc accounts (two server ids)
  2 package 0   built by the server, verified by the device's push router; a session with md5
                authentication and a challenge (407, then 212); DevInfo reported
  3 DevDetail   Get of ./DevDetail in a client-initiated session
  4 ACL 425     a Replace of an ACL-protected node: refused with 425 for the second server,
                accepted for the first
  5 Atomic      an Atomic that rolls back (507; the Replace in it 216; the node keeps its value)
  6 FUMO        a campaign: the package served over HTTPS with a download progress bar,
                installed, the Generic Alert with the Correlator, the job done with State 100
  7 DM 1.1.2    a DM 1.1.2 device served by the same server
  8 devices     (with --devices N, N > 1) N simulated devices at once, each a full session
  9 audit       the clients' session count against the servers' records; no job left over

Every claim printed with ✓ is checked against what the server recorded (read back through the
admin API). Exit status 0 when every check passed; otherwise 1 and one line on standard error:
  syncml-dm: demo failed at step <n> (<name>): <what>

  --encoding ENC      wbxml (default) or xml, for every client
  --devices N         1 (default): the tour alone; N > 1: then N simulated devices, each with
                      its own memory store and md5 credentials and one queued job; only a
                      progress line (standard error) and the totals are printed
  --concurrency C     how many of those devices run at the same time (default: all N)
  --verbose           print each message as XML under its trace line
  --keep              keep the temporary directory (the SQLite stores) and print where it is
`;

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { values: ['encoding', 'devices', 'concurrency'], flags: ['verbose', 'keep'] });
  if (a.flags.help) return void process.stdout.write(help), 0;
  if (a.positionals.length > 0) throw new UsageError(`demo takes no arguments (got '${a.positionals[0]}')`);
  const encoding = choice('encoding', a.values.encoding, ['wbxml', 'xml'] as const, 'wbxml');
  const devices = integer('devices', a.values.devices, 1, 1, 100_000);
  const concurrency = a.values.concurrency === undefined ? undefined : integer('concurrency', a.values.concurrency, devices, 1, 100_000);
  const { runDemo } = await import('../demo/run.js');
  const { colourWanted } = await import('../demo/format.js');
  const stdout = process.stdout;
  return runDemo(
    { encoding, devices, concurrency, verbose: !!a.flags.verbose, keep: !!a.flags.keep },
    {
      out: (line) => { stdout.write(line + '\n'); },
      err: process.stderr,
      colour: colourWanted(stdout),
      width: stdout.isTTY ? Math.max(80, stdout.columns ?? 120) : 120,
    },
  );
}
