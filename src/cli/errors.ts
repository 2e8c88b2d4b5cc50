/** Turns any error into the one line a command prints, and its exit status. */
import { isWbxmlError } from '../wbxml/index.js';
import { UsageError } from './args.js';

interface Located {
  name: string;
  code: string;
  offset?: number;
  line?: number;
  column?: number;
  path?: string;
  detail?: string;
  message: string;
}

/** `syncml-dm: <code> at byte <offset>: <what>` (or `at line l:c`, `at <path>`). */
export function describeError(e: unknown): { line: string; status: number } {
  if (e instanceof UsageError) return { line: `syncml-dm: ${e.message} (see --help)`, status: 2 };
  if (e && typeof e === 'object' && 'code' in e && typeof (e as Located).code === 'string' && e instanceof Error) {
    const x = e as unknown as Located;
    const what = (x.detail ?? x.message.replace(/ \((at [^)]*)\)$/, '')).replace(/\s+/g, ' ');
    let where = '';
    if (typeof x.line === 'number' && typeof x.column === 'number') where = ` at line ${x.line}:${x.column}`;
    else if (typeof x.offset === 'number' && x.offset >= 0) where = ` at byte ${x.offset}`;
    if (x.path) where += `${where ? ',' : ' at'} ${x.path}`;
    const known = isWbxmlError(e) || ['SyncMLError', 'DmError'].includes(x.name);
    if (known) return { line: `syncml-dm: ${x.code}${where}: ${what}`, status: 1 };
  }
  const msg = e instanceof Error ? e.message : String(e);
  return { line: `syncml-dm: internal error: ${msg.replace(/\s+/g, ' ')}`, status: 1 };
}
