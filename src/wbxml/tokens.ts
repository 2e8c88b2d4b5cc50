/** WBXML 1.3 global tokens (WAP-192-WBXML §7.1); the same byte values on every code page. */
export const SWITCH_PAGE = 0x00;
export const END = 0x01;
export const ENTITY = 0x02;
export const STR_I = 0x03;
export const LITERAL = 0x04;
export const EXT_I_0 = 0x40;
export const EXT_I_1 = 0x41;
export const EXT_I_2 = 0x42;
export const PI = 0x43;
export const LITERAL_C = 0x44;
export const EXT_T_0 = 0x80;
export const EXT_T_1 = 0x81;
export const EXT_T_2 = 0x82;
export const STR_T = 0x83;
export const LITERAL_A = 0x84;
export const EXT_0 = 0xc0;
export const EXT_1 = 0xc1;
export const EXT_2 = 0xc2;
export const OPAQUE = 0xc3;
export const LITERAL_AC = 0xc4;

/** Tag token bits: bit 7 = attributes follow, bit 6 = content follows, bits 0-5 = the tag. */
export const TAG_ATTRS = 0x80;
export const TAG_CONTENT = 0x40;
export const TAG_MASK = 0x3f;

/** Charsets (IANA MIBenum) the codec reads. */
export const CHARSET_US_ASCII = 3;
export const CHARSET_ISO_8859_1 = 4;
export const CHARSET_UTF_8 = 106;

/** Public ID values with a meaning of their own (OMNA registry). */
export const PUBLIC_ID_IN_STRING_TABLE = 0x00;
export const PUBLIC_ID_UNKNOWN = 0x01;

/**
 * What {@link WbxmlReader.next} returns: one small integer per token. The details of the current
 * token are in the reader's fields.
 * @public
 */
export const TokenKind = {
  /** No more tokens: the root element has ended. */
  EOF: 0,
  /** A tag: `page`, `token`, `hasAttributes`, `hasContent`; `tagName()` gives its name. */
  START_TAG: 1,
  /** The end of the element most recently started (also reported for tags without content). */
  END_TAG: 2,
  /** STR_I or STR_T: the bytes `start`..`end`; `text()` decodes them. `fromTable` tells which. */
  TEXT: 3,
  /** ENTITY: the code point in `entity`. */
  ENTITY: 4,
  /** OPAQUE: the bytes `start`..`end`; `opaque()` returns a view. */
  OPAQUE: 5,
  /** EXT_I_n, EXT_T_n or EXT_n: `ext` = 0..2, `start`..`end` the string (empty for EXT_n). */
  EXTENSION: 6,
  /** An attribute start token: `attrName()`, and `attrValuePrefix()` for tokens that carry one. */
  ATTR_START: 7,
  /** An attribute value token (>= 0x80 on the attribute page): `attrValueToken()`. */
  ATTR_VALUE: 8,
  /** The END that closes an attribute list (or a PI). */
  ATTRS_END: 9,
  /** PI: processing instruction; its target and data follow as ATTR_START / value tokens. */
  PI: 10,
} as const;
/** @public */
export type TokenKind = (typeof TokenKind)[keyof typeof TokenKind];
