import { disassemble } from '../../wbxml/disassemble.js';
import { parseArgs, UsageError } from '../args.js';
import { readInput } from '../io.js';

export const help = `Usage: syncml-dm inspect [FILE|-] [--lenient] [--code-pages NAME]

Disassembles a WBXML document: every token with its byte offset, its bytes in hex and what it
means. Nested documents (DevInf, DDF inside OPAQUE) are shown indented. On malformed input the
listing stops at the bad byte, the error is printed, and the exit status is 1.

  FILE              the WBXML input; - or nothing reads standard input
  --lenient         keep going past unknown tags and trailing bytes
  --code-pages NAME decode with these code pages whatever the header says
`;

const HEX_WIDTH = 8;

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { values: ['code-pages'], flags: ['lenient'] });
  if (a.flags.help) return void process.stdout.write(help), 0;
  if (a.positionals.length > 1) throw new UsageError('inspect takes one input');
  const input = await readInput(a.positionals[0]);
  const { lines, error } = disassemble(input, { strict: !a.flags.lenient, codePages: a.values['code-pages'] });
  const out: string[] = [];
  for (const l of lines) {
    const hex = Array.from(l.bytes.subarray(0, HEX_WIDTH), (b) => b.toString(16).padStart(2, '0')).join(' ') + (l.bytes.length > HEX_WIDTH ? ' …' : '');
    out.push(`${l.offset.toString().padStart(7)}  ${hex.padEnd(HEX_WIDTH * 3 + 1)}  ${'  '.repeat(l.depth)}${l.text}`);
  }
  process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
  if (error) throw error;
  return 0;
}
