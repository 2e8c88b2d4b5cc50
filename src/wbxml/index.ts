/**
 * `syncml-dm/wbxml`: bytes and tokens. A zero-copy WBXML tokenizer, a streaming encoder, code
 * pages as data (SyncML 1.0-1.2 + MetInf, DevInf 1.0-1.2, DM DDF 1.2), and the XML bridge.
 * Knows nothing of SyncML semantics.
 * @packageDocumentation
 */
export { WbxmlError, isWbxmlError, type WbxmlErrorCode, type XmlPosition } from './errors.js';
export { TokenKind } from './tokens.js';
export * as tokens from './tokens.js';
export {
  CodePageRegistry, defineCodePageSet, normalizePublicId,
  type CodePageData, type CodePageSet, type CodePageSetData, type NestedDocumentRule,
} from './code-page.js';
export { defaultRegistry, registerCodePageSet, codePageSet, builtinCodePageSets } from './code-pages/index.js';
export { WbxmlReader, defaultMaxTableTextBytes, type WbxmlReaderOptions, type CodePageSource } from './reader.js';
export { WbxmlWriter, type WbxmlWriterOptions, type WbxmlVersion } from './writer.js';
export { readMb, putMb, mbSize } from './mbuint.js';
export { configureTextDecoding, type Utf8DecodeHook } from './text.js';
export { wbxmlToXml, wbxmlToXmlBytes, type WbxmlToXmlOptions } from './to-xml.js';
export { toBase64, fromBase64, type FromBase64Options } from './base64.js';
export { xmlToWbxml, type XmlToWbxmlOptions } from './from-xml.js';
export { XmlScanner, XmlToken, unescapeXmlInto, type XmlScannerOptions } from './xml/scanner.js';
export { disassemble, type DisassemblyLine } from './disassemble.js';
