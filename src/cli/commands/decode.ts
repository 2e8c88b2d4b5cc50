import { wbxmlToXml } from '../../wbxml/index.js';
import { parseArgs, UsageError } from '../args.js';
import { readInput, writeOutput } from '../io.js';

export const help = `Usage: syncml-dm decode [FILE|-] [-o OUT] [--indent] [--lenient] [--code-pages NAME] [--no-doctype]

Converts a WBXML document (a SyncML message, DevInf, DDF...) to XML text.

  FILE              the WBXML input; - or nothing reads standard input
  -o, --output OUT  write the XML to OUT instead of standard output
  --indent          indent the XML (two spaces per level)
  --lenient         keep going past unknown tags and trailing bytes, like libwbxml
  --code-pages NAME decode with these code pages whatever the header says
                    ('SyncML 1.2', 'SyncML 1.1', 'DevInf 1.2', 'DM DDF 1.2', ...)
  --no-doctype      do not write a DOCTYPE
  --syncml          go through the typed SyncML model (parse, then write XML)
`;

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { values: ['output', 'code-pages'], flags: ['indent', 'lenient', 'no-doctype', 'syncml'], short: { o: 'output' } });
  if (a.flags.help) return void process.stdout.write(help), 0;
  if (a.positionals.length > 1) throw new UsageError('decode takes one input');
  const input = await readInput(a.positionals[0]);
  let xml: string;
  if (a.flags.syncml) {
    const { parse, serialize } = await import('../../syncml/index.js');
    const msg = parse(input, { strict: !a.flags.lenient, codePages: a.values['code-pages'] });
    xml = serialize(msg, { encoding: 'xml', indent: !!a.flags.indent });
  } else {
    xml = wbxmlToXml(input, {
      indent: !!a.flags.indent,
      strict: !a.flags.lenient,
      codePages: a.values['code-pages'],
      doctype: !a.flags['no-doctype'],
    });
  }
  await writeOutput(a.values.output, xml.endsWith('\n') ? xml : xml + '\n');
  return 0;
}
