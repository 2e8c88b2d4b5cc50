/**
 * The single error type of the `syncml` layer. Errors from the layer below (`WbxmlError`) are
 * wrapped, never let through; so are the TypeErrors and RangeErrors a bug could raise.
 */
import { isWbxmlError, type WbxmlError } from '../wbxml/errors.js';

/**
 * Why a message was refused. Stable: software may switch on them.
 * @public
 */
export type SyncMLErrorCode =
  | 'UNEXPECTED_ELEMENT' // an element (or attribute) the parent's content model does not allow
  | 'MISSING_ELEMENT' // a required element is absent
  | 'DUPLICATE_ELEMENT' // a singleton element appears twice
  | 'ELEMENT_ORDER' // children out of DTD order
  | 'BAD_VALUE' // text that is not what the element needs (a number, a non-empty identifier...)
  | 'UNKNOWN_ELEMENT' // an element no code page / namespace defines
  | 'BAD_ENCODING' // bytes that are not valid UTF-8 where text is needed
  | 'BAD_DOCUMENT' // not a well-formed WBXML / XML document, or not a SyncML one
  | 'INVALID_ARGUMENT'; // API misuse (a value the serializer cannot write, a bad option)

/** What a SyncMLError carries besides its message. @public */
export interface SyncMLErrorDetails {
  /** Element path, e.g. `SyncBody/Replace[2]/Item[1]/Target` ('' when unknown). */
  path?: string;
  /** Byte offset in the input (for XML: in its UTF-8 form). */
  offset?: number;
  line?: number;
  column?: number;
  cause?: unknown;
}

/** @public */
export class SyncMLError extends Error {
  override readonly name = 'SyncMLError';
  readonly code: SyncMLErrorCode;
  /** Element path (`SyncBody/Replace[2]/Item[1]/Target`): 1-based index among same-named siblings. */
  readonly path: string;
  readonly offset: number | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(code: SyncMLErrorCode, message: string, details: SyncMLErrorDetails = {}) {
    const where: string[] = [];
    if (details.path) where.push(`at ${details.path}`);
    if (details.line !== undefined) where.push(`line ${details.line}:${details.column ?? 0}`);
    else if (details.offset !== undefined && details.offset >= 0) where.push(`byte ${details.offset}`);
    super(where.length ? `${message} (${where.join(', ')})` : message, details.cause !== undefined ? { cause: details.cause } : undefined);
    Object.setPrototypeOf(this, new.target.prototype);
    this.code = code;
    this.path = details.path ?? '';
    this.offset = details.offset;
    this.line = details.line;
    this.column = details.column;
  }
}

const CODES = new Set<string>([
  'UNEXPECTED_ELEMENT', 'MISSING_ELEMENT', 'DUPLICATE_ELEMENT', 'ELEMENT_ORDER', 'BAD_VALUE',
  'UNKNOWN_ELEMENT', 'BAD_ENCODING', 'BAD_DOCUMENT', 'INVALID_ARGUMENT',
]);

/**
 * True for errors of this layer, also across module copies (ESM/CJS) where `instanceof` fails.
 * @public
 */
export function isSyncMLError(e: unknown): e is SyncMLError {
  return e instanceof Error && e.name === 'SyncMLError' && CODES.has((e as SyncMLError).code);
}

/**
 * Turns anything thrown below into a SyncMLError: WbxmlErrors keep their offset and position
 * (and travel as `cause`), other errors become BAD_DOCUMENT.
 */
export function wrapError(e: unknown, path = '', fallbackOffset?: number): SyncMLError {
  if (isSyncMLError(e)) return e;
  const p = lowerError(e);
  return new SyncMLError(p.code, p.message, {
    path, offset: p.offset ?? fallbackOffset, line: p.line, column: p.column, cause: e,
  });
}

/** What an error thrown below the syncml layer says, as SyncMLError parts (no location in the message). */
export function lowerError(e: unknown): { code: SyncMLErrorCode; message: string; offset?: number; line?: number; column?: number } {
  if (isWbxmlError(e)) {
    const w = e as WbxmlError;
    const code: SyncMLErrorCode = w.code === 'UNKNOWN_TAG' ? 'UNKNOWN_ELEMENT'
      : w.code === 'BAD_ENCODING' || w.code === 'INVALID_XML_CHAR' ? 'BAD_ENCODING'
        : w.code === 'INVALID_ARGUMENT' ? 'INVALID_ARGUMENT' : 'BAD_DOCUMENT';
    return { code, message: `${w.code}: ${stripWhere(w.message)}`, offset: w.offset >= 0 ? w.offset : undefined, line: w.line, column: w.column };
  }
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return { code: 'BAD_DOCUMENT', message: `internal error while reading the document: ${msg}` };
}

/** WbxmlError messages end with "(at byte N)" / "(at line L:C)": the SyncMLError says it again. */
function stripWhere(m: string): string {
  const i = m.lastIndexOf(' (at ');
  return i > 0 && m.endsWith(')') ? m.slice(0, i) : m;
}
