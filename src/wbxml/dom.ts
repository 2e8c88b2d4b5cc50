/**
 * `syncml-dm/dom` — DOM interop: a WBXML document as a DOM `Document`, and a DOM back to WBXML. Any DOM works
 * (the browser's, or @xmldom/xmldom, which is the default where there is no global one).
 * The fast paths are the byte-level `wbxmlToXml` / `xmlToWbxml`; this is for code that wants a DOM.
 */
import { DOMParser as XmldomParser, XMLSerializer as XmldomSerializer } from '@xmldom/xmldom';
import { WbxmlError } from './errors.js';
import { xmlToWbxml, type XmlToWbxmlOptions } from './from-xml.js';
import { wbxmlToXml, type WbxmlToXmlOptions } from './to-xml.js';

interface ParserLike {
  parseFromString(text: string, type: string): Document;
}
interface SerializerLike {
  serializeToString(node: Node): string;
}

/** Options of {@link wbxmlToDocument}. @public */
export interface WbxmlToDocumentOptions extends WbxmlToXmlOptions {
  /** The DOM parser to build with. Default: the global `DOMParser`, else @xmldom/xmldom's. */
  domParser?: ParserLike;
}

/** Options of {@link documentToWbxml}. @public */
export interface DocumentToWbxmlOptions extends XmlToWbxmlOptions {
  /** The serializer to read the DOM with. Default: the global `XMLSerializer`, else @xmldom/xmldom's. */
  xmlSerializer?: SerializerLike;
}

/**
 * Decodes WBXML into a DOM `Document` (nested DevInf/DDF inlined).
 * @public
 */
export function wbxmlToDocument(bytes: Uint8Array, options: WbxmlToDocumentOptions = {}): Document {
  const xml = wbxmlToXml(bytes, { ...options, doctype: false });
  const g = globalThis as { DOMParser?: new () => ParserLike };
  const parser = options.domParser ?? (g.DOMParser ? new g.DOMParser() : (new XmldomParser() as unknown as ParserLike));
  return parser.parseFromString(xml, 'text/xml');
}

/**
 * Encodes a DOM `Document` (or an element and its subtree) as WBXML.
 * @public
 */
export function documentToWbxml(node: Document | Element, options: DocumentToWbxmlOptions = {}): Uint8Array {
  if (!node || typeof (node as Node).nodeType !== 'number') {
    throw new WbxmlError('INVALID_ARGUMENT', -1, 'documentToWbxml needs a DOM Document or Element');
  }
  const g = globalThis as { XMLSerializer?: new () => SerializerLike };
  const serializer = options.xmlSerializer ?? (g.XMLSerializer ? new g.XMLSerializer() : (new XmldomSerializer() as unknown as SerializerLike));
  return xmlToWbxml(serializer.serializeToString(node as Node), options);
}
