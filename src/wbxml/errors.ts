/**
 * Every way a WBXML or XML document can be refused. Codes are stable: software may switch on them.
 * @public
 */
export type WbxmlErrorCode =
  | 'TRUNCATED' // input ends inside a token, a string or the header
  | 'BAD_VERSION' // header version byte above 1.3 (strict)
  | 'BAD_MBUINT' // mb_u_int32 longer than 5 bytes or above 2^32-1
  | 'UNKNOWN_PUBLIC_ID' // no code pages for the document's public ID and none could be inferred
  | 'UNSUPPORTED_CHARSET' // a MIBenum other than 3, 4 and 106
  | 'BAD_STRING_TABLE_REF' // STR_T / LITERAL / EXT_T index outside the string table
  | 'BAD_OPAQUE_LENGTH' // OPAQUE length past the end of the input
  | 'UNKNOWN_TOKEN' // a global token that is not valid here
  | 'UNKNOWN_TAG' // a tag token with no name on the current code page
  | 'UNKNOWN_ATTRIBUTE' // an attribute token with no name on the current attribute page
  | 'UNKNOWN_CODE_PAGE' // SWITCH_PAGE to a page the document type does not have
  | 'BAD_ENTITY' // ENTITY above U+10FFFF or a surrogate
  | 'BAD_ENCODING' // bytes that are not valid in the document charset
  | 'TRAILING_DATA' // bytes after the root element
  | 'UNBALANCED' // END with nothing open, or input ending with elements open
  | 'NO_ROOT' // a document without a root element
  | 'DEPTH_LIMIT' // nesting deeper than maxDepth
  | 'SIZE_LIMIT' // document larger than maxBytes, or an expansion larger than allowed
  | 'INVALID_XML_CHAR' // a character XML 1.0 cannot carry
  | 'XML_SYNTAX' // XML text that is not well-formed
  | 'XML_UNDEFINED_ENTITY' // &name; that is neither predefined nor numeric
  | 'XML_MISMATCHED_TAG' // </b> closing <a>
  | 'BAD_NESTED_DOCUMENT' // an embedded DevInf/DDF document that cannot be encoded or decoded
  | 'INVALID_ARGUMENT'; // API misuse (an option out of range, a writer call out of order)

/** Where an XML problem is: 1-based line and column (columns count UTF-16 code units). */
export interface XmlPosition {
  line: number;
  column: number;
}

/**
 * The single error type of the `wbxml` layer. `offset` is the byte offset in the input where the
 * problem starts (for XML input: the byte offset in its UTF-8 form), `line`/`column` are set
 * for XML input.
 * @public
 */
export class WbxmlError extends Error {
  override readonly name = 'WbxmlError';
  readonly code: WbxmlErrorCode;
  readonly offset: number;
  readonly line: number | undefined;
  readonly column: number | undefined;
  /** The message without its position, for callers that print the position their own way. */
  readonly detail: string;

  constructor(code: WbxmlErrorCode, offset: number, message: string, position?: XmlPosition) {
    super(position
      ? `${message} (at line ${position.line}:${position.column})`
      : offset >= 0 ? `${message} (at byte ${offset})` : message);
    Object.setPrototypeOf(this, new.target.prototype);
    this.code = code;
    this.detail = message;
    this.offset = offset;
    this.line = position?.line;
    this.column = position?.column;
  }
}

/**
 * True for errors thrown by this layer, across module copies (ESM/CJS) where `instanceof` fails.
 * @public
 */
export function isWbxmlError(e: unknown): e is WbxmlError {
  return e instanceof Error && e.name === 'WbxmlError' && typeof (e as WbxmlError).code === 'string';
}

/** Two hex digits for a byte, for messages. */
export function hexByte(b: number): string {
  return '0x' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
}
