import { xmlToWbxml, type WbxmlVersion } from '../../wbxml/index.js';
import { choice, parseArgs, UsageError } from '../args.js';
import { readInput, writeOutput } from '../io.js';

export const help = `Usage: syncml-dm encode [FILE|-] [-o OUT] [--wbxml-version 1.1|1.2|1.3] [--string-table]

Converts an XML document (SyncML, DevInf, DDF...) to WBXML.

  FILE                 the XML input; - or nothing reads standard input
  -o, --output OUT     write the WBXML to OUT instead of standard output
  --wbxml-version V    1.1, 1.2 (default) or 1.3
  --string-table       move repeated strings into a string table
  --keep-whitespace    keep whitespace-only text between elements (libwbxml's -k)
  --lenient            write unknown elements and attributes as literals instead of failing
  --code-pages NAME    encode with these code pages ('SyncML 1.2', 'DevInf 1.2', ...)
  --syncml             go through the typed SyncML model (parse, then write WBXML)
`;

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs(argv, {
    values: ['output', 'wbxml-version', 'code-pages'],
    flags: ['string-table', 'keep-whitespace', 'lenient', 'syncml'],
    short: { o: 'output' },
  });
  if (a.flags.help) return void process.stdout.write(help), 0;
  if (a.positionals.length > 1) throw new UsageError('encode takes one input');
  const version = choice<WbxmlVersion>('wbxml-version', a.values['wbxml-version'], ['1.1', '1.2', '1.3'], '1.2');
  if (a.values.output === undefined && process.stdout.isTTY) {
    throw new UsageError('refusing to write binary WBXML to a terminal: use -o FILE or a pipe');
  }
  const input = await readInput(a.positionals[0]);
  let out: Uint8Array;
  if (a.flags.syncml) {
    const { parse, serialize } = await import('../../syncml/index.js');
    const msg = parse(input, { strict: !a.flags.lenient, codePages: a.values['code-pages'] });
    out = serialize(msg, { encoding: 'wbxml', wbxmlVersion: version, stringTable: !!a.flags['string-table'] });
  } else {
    out = xmlToWbxml(input, {
      version,
      stringTable: !!a.flags['string-table'],
      keepWhitespace: !!a.flags['keep-whitespace'],
      strict: !a.flags.lenient,
      codePages: a.values['code-pages'],
    });
  }
  await writeOutput(a.values.output, out);
  return 0;
}
