/**
 * WBXML 1.3 global tokens (WAP-192-WBXML §7.1) and the tag bits, as a const enum: the bundler
 * writes its members into the code as literals. The hot loops use it; across the chunks of a split
 * build a plain exported constant would be an imported binding, loaded on every use.
 * @internal
 */
export const enum G {
  SWITCH_PAGE = 0x00, END = 0x01, ENTITY = 0x02, STR_I = 0x03, LITERAL = 0x04,
  EXT_I_0 = 0x40, EXT_I_1 = 0x41, EXT_I_2 = 0x42, PI = 0x43, LITERAL_C = 0x44,
  EXT_T_0 = 0x80, EXT_T_1 = 0x81, EXT_T_2 = 0x82, STR_T = 0x83, LITERAL_A = 0x84,
  EXT_0 = 0xc0, EXT_1 = 0xc1, EXT_2 = 0xc2, OPAQUE = 0xc3, LITERAL_AC = 0xc4,
  /** Tag token bits: bit 7 = attributes follow, bit 6 = content follows, bits 0-5 = the tag. */
  TAG_ATTRS = 0x80, TAG_CONTENT = 0x40, TAG_MASK = 0x3f,
}

/** WBXML 1.3 global tokens (WAP-192-WBXML §7.1); the same byte values on every code page. */
export const SWITCH_PAGE = G.SWITCH_PAGE;
export const END = G.END;
export const ENTITY = G.ENTITY;
export const STR_I = G.STR_I;
export const LITERAL = G.LITERAL;
export const EXT_I_0 = G.EXT_I_0;
export const EXT_I_1 = G.EXT_I_1;
export const EXT_I_2 = G.EXT_I_2;
export const PI = G.PI;
export const LITERAL_C = G.LITERAL_C;
export const EXT_T_0 = G.EXT_T_0;
export const EXT_T_1 = G.EXT_T_1;
export const EXT_T_2 = G.EXT_T_2;
export const STR_T = G.STR_T;
export const LITERAL_A = G.LITERAL_A;
export const EXT_0 = G.EXT_0;
export const EXT_1 = G.EXT_1;
export const EXT_2 = G.EXT_2;
export const OPAQUE = G.OPAQUE;
export const LITERAL_AC = G.LITERAL_AC;

/** Tag token bits: bit 7 = attributes follow, bit 6 = content follows, bits 0-5 = the tag. */
export const TAG_ATTRS = G.TAG_ATTRS;
export const TAG_CONTENT = G.TAG_CONTENT;
export const TAG_MASK = G.TAG_MASK;

/** Charsets (IANA MIBenum) the codec reads. */
export const CHARSET_US_ASCII = 3;
export const CHARSET_ISO_8859_1 = 4;
export const CHARSET_UTF_8 = 106;

/** Public ID values with a meaning of their own (OMNA registry). */
export const PUBLIC_ID_IN_STRING_TABLE = 0x00;
export const PUBLIC_ID_UNKNOWN = 0x01;

/** Token kinds as a const enum, inlined like {@link G}. @internal */
export const enum K {
  EOF = 0, START_TAG = 1, END_TAG = 2, TEXT = 3, ENTITY = 4, OPAQUE = 5, EXTENSION = 6,
  ATTR_START = 7, ATTR_VALUE = 8, ATTRS_END = 9, PI = 10,
}

/**
 * What {@link WbxmlReader.next} returns: one small integer per token. The details of the current
 * token are in the reader's fields.
 * @public
 */
export const TokenKind = {
  /** No more tokens: the root element has ended. */
  EOF: K.EOF,
  /** A tag: `page`, `token`, `hasAttributes`, `hasContent`; `tagName()` gives its name. */
  START_TAG: K.START_TAG,
  /** The end of the element most recently started (also reported for tags without content). */
  END_TAG: K.END_TAG,
  /** STR_I or STR_T: the bytes `start`..`end`; `text()` decodes them. `fromTable` tells which. */
  TEXT: K.TEXT,
  /** ENTITY: the code point in `entity`. */
  ENTITY: K.ENTITY,
  /** OPAQUE: the bytes `start`..`end`; `opaque()` returns a view. */
  OPAQUE: K.OPAQUE,
  /** EXT_I_n, EXT_T_n or EXT_n: `ext` = 0..2, `start`..`end` the string (empty for EXT_n). */
  EXTENSION: K.EXTENSION,
  /** An attribute start token: `attrName()`, and `attrValuePrefix()` for tokens that carry one. */
  ATTR_START: K.ATTR_START,
  /** An attribute value token (>= 0x80 on the attribute page): `attrValueToken()`. */
  ATTR_VALUE: K.ATTR_VALUE,
  /** The END that closes an attribute list (or a PI). */
  ATTRS_END: K.ATTRS_END,
  /** PI: processing instruction; its target and data follow as ATTR_START / value tokens. */
  PI: K.PI,
} as const;
/** @public */
export type TokenKind = (typeof TokenKind)[keyof typeof TokenKind];
