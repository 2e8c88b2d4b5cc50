#!/usr/bin/env node
/**
 * `syncml-dm`: the command line. Each command lives in its own module, loaded on demand so a
 * decode does not pay for the server.
 */
import { describeError } from './errors.js';
import { UsageError } from './args.js';
import { version } from '../../package.json';

interface CommandModule {
  help: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  decode: { summary: 'WBXML to XML', load: () => import('./commands/decode.js') },
  encode: { summary: 'XML to WBXML', load: () => import('./commands/encode.js') },
  inspect: { summary: 'disassemble WBXML: every token with offset, hex and meaning', load: () => import('./commands/inspect.js') },
  validate: { summary: 'check a SyncML message and list its commands', load: () => import('./commands/validate.js') },
  notification: { summary: 'build or read a package 0 (server-alerted session trigger)', load: () => import('./commands/notification.js') },
  client: { summary: 'run one DM session as the reference client', load: () => import('./commands/client.js') },
  server: { summary: 'run the DM server (DM endpoint + admin API)', load: () => import('./commands/server.js') },
  admin: { summary: 'manage a running server: devices, jobs, FUMO, package 0', load: () => import('./commands/admin.js') },
  demo: { summary: 'a complete OMA DM deployment on loopback, every package traced and checked', load: () => import('./commands/demo.js') },
};

const VERSION: string = version;

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return `Usage: syncml-dm <command> [options]

OMA DM 1.2 and WBXML from the command line.

Commands:
${Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(width)}  ${c.summary}`).join('\n')}

Run 'syncml-dm <command> --help' for a command's options.
`;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    const topic = cmd === 'help' ? rest[0] : undefined;
    if (topic && COMMANDS[topic]) process.stdout.write((await COMMANDS[topic].load()).help);
    else process.stdout.write(usage());
    return 0;
  }
  if (cmd === '--version' || cmd === '-V') {
    process.stdout.write(VERSION + '\n');
    return 0;
  }
  const entry = COMMANDS[cmd];
  try {
    if (!entry) throw new UsageError(`unknown command '${cmd}'`);
    const mod = await entry.load();
    return await mod.run(rest);
  } catch (e) {
    const { line, status } = describeError(e);
    process.stderr.write(line + '\n');
    return status;
  }
}

// `syncml-dm … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

main(process.argv.slice(2)).then(
  (status) => { process.exitCode = status; },
  (e) => {
    process.stderr.write(describeError(e).line + '\n');
    process.exitCode = 1;
  },
);
