import { CodePageRegistry, defineCodePageSet, type CodePageSet, type CodePageSetData } from '../code-page.js';
import { syncml10, syncml11, syncml12 } from './syncml.js';
import { metInf10, metInf11, metInf12 } from './metinf.js';
import { devInf10, devInf11, devInf12 } from './devinf.js';
import { ddf12 } from './ddf.js';

/** The built-in document types, oldest first (lookups by root prefer the newest). */
export const builtinCodePageSets: readonly CodePageSetData[] = [
  metInf10, metInf11, metInf12, devInf10, devInf11, devInf12, ddf12, syncml10, syncml11, syncml12,
];

/**
 * The registry the codec uses unless an option names another: every built-in document type.
 * `registerCodePageSet` adds yours to it.
 * @public
 */
export const defaultRegistry = new CodePageRegistry(builtinCodePageSets.map(defineCodePageSet));

/** Adds a document type to the default registry. @public */
export function registerCodePageSet(set: CodePageSetData | CodePageSet): CodePageSet {
  return defaultRegistry.register(set);
}

/** A built-in or registered set by name (`'SyncML 1.2'`, `'DevInf 1.2'`, `'DM DDF 1.2'`...). */
export function codePageSet(name: string): CodePageSet {
  const s = defaultRegistry.get(name);
  if (!s) throw new RangeError(`no code page set named '${name}'`);
  return s;
}

export { syncml10, syncml11, syncml12, metInf10, metInf11, metInf12, devInf10, devInf11, devInf12, ddf12 };
