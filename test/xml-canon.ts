/**
 * Document comparison for tests: both sides parsed by @xmldom/xmldom (the oracle), reduced to
 * element names, attributes other than namespace declarations, and text. Whitespace-only text is
 * dropped; adjacent text and CDATA merge. Options undo libwbxml's known lossy rewrites.
 */
import { DOMParser } from '@xmldom/xmldom';

export interface CanonOptions {
  /** Trim leading/trailing whitespace of text (libwbxml does without -k). */
  trim?: boolean;
  /** Treat CR+LF runs as LF (libwbxml's vObject rule turns every LF into CRLF, even after a CR). */
  crlf?: boolean;
  /** Map `…devinf+wbxml`/`…dmtnds+wbxml` to `+xml` (libwbxml rewrites them). */
  nestedType?: boolean;
  /** Compare namespace URIs of elements too (case-insensitively). */
  namespaces?: boolean;
}

export type Canon = { n: string; ns?: string; a?: Record<string, string>; c: (Canon | string)[] };

export function canon(xml: string, o: CanonOptions = {}): Canon {
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level: string, msg: string) => { if (level !== 'warning') errors.push(msg); } }).parseFromString(xml, 'text/xml');
  if (errors.length) throw new Error('not well-formed: ' + errors.join('; '));
  return element(doc.documentElement as unknown as Element, o);
}

function element(e: Element, o: CanonOptions): Canon {
  const out: Canon = { n: e.localName ?? e.nodeName, c: [] };
  if (o.namespaces) out.ns = (e.namespaceURI ?? '').toLowerCase();
  const attrs: Record<string, string> = {};
  for (let i = 0; i < e.attributes.length; i++) {
    const a = e.attributes[i];
    if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) continue;
    attrs[a.name] = a.value;
  }
  if (Object.keys(attrs).length) out.a = attrs;
  const parts: (Canon | string)[] = [];
  for (const k of Array.from(e.childNodes as unknown as ArrayLike<Node>)) {
    if (k.nodeType === 3 || k.nodeType === 4) {
      const last = parts[parts.length - 1];
      if (typeof last === 'string') parts[parts.length - 1] = last + (k as Text).data;
      else parts.push((k as Text).data);
    } else if (k.nodeType === 1) parts.push(element(k as Element, o));
  }
  const mixed = parts.some((p) => typeof p !== 'string');
  for (let p of parts) {
    if (typeof p !== 'string') { out.c.push(p); continue; }
    if (mixed && p.trim() === '') continue; // whitespace between elements
    if (o.crlf) p = p.replace(/\r+\n/g, '\n');
    if (o.trim) p = p.trim();
    if (o.nestedType) p = p.replace(/^(application\/vnd\.syncml(?:-devinf|\.dmtnds))\+wbxml$/, '$1+xml');
    if (p !== '') out.c.push(p);
  }
  return out;
}
