/**
 * A WBXML disassembler: every byte of a document accounted for, as (offset, bytes, meaning)
 * lines. The tool people reach for when a DM session fails on a device's bytes.
 */
import { WbxmlError } from './errors.js';
import { WbxmlReader, type WbxmlReaderOptions } from './reader.js';
import { readMb } from './mbuint.js';
import { TokenKind } from './tokens.js';

/** One line of a disassembly. @public */
export interface DisassemblyLine {
  /** Byte offset in the outermost input. */
  offset: number;
  /** The bytes this line explains. */
  bytes: Uint8Array;
  /** Nesting: element depth, plus the depth of the enclosing element for nested documents. */
  depth: number;
  /** What the bytes mean. */
  text: string;
}

const CHARSETS: Record<number, string> = { 3: 'US-ASCII', 4: 'ISO-8859-1', 106: 'UTF-8' };
const MAX_TEXT = 60;

/**
 * Disassembles a WBXML document. Nested documents (OPAQUE holding a complete WBXML document with
 * known code pages) are disassembled in place, indented. On malformed input, the lines up to the
 * problem are returned along with the error, so the bad byte can be shown in context.
 * @public
 */
export function disassemble(bytes: Uint8Array, options: WbxmlReaderOptions = {}): { lines: DisassemblyLine[]; error?: WbxmlError } {
  const lines: DisassemblyLine[] = [];
  try {
    walk(bytes, 0, 0, options, lines, 0);
    return { lines };
  } catch (e) {
    if (e instanceof WbxmlError) return { lines, error: e };
    throw e;
  }
}

function walk(bytes: Uint8Array, base: number, depth0: number, options: WbxmlReaderOptions, lines: DisassemblyLine[], nesting: number): void {
  const line = (offset: number, end: number, depth: number, text: string) =>
    lines.push({ offset: base + offset, bytes: bytes.subarray(offset, end), depth: depth0 + depth, text });

  // Header, field by field (the reader parses it in one go).
  let p = 0;
  if (bytes.length > 0) {
    const v = bytes[0];
    line(0, 1, 0, `version ${v <= 3 ? `1.${v}` : `0x${v.toString(16)} (unknown)`}`);
    p = 1;
  }
  const r = new WbxmlReader(bytes, options);
  const pid = readMb(bytes, p);
  if (pid.value === 0) {
    const idx = readMb(bytes, pid.next);
    line(p, idx.next, 0, `public id in string table at ${idx.value}: '${r.publicIdString ?? ''}'`);
    p = idx.next;
  } else {
    const known = r.codePages && r.codePages.publicId === pid.value ? ` (${r.codePages.publicIdString})` : pid.value === 1 ? ' (unknown)' : '';
    line(p, pid.next, 0, `public id 0x${pid.value.toString(16).toUpperCase().padStart(4, '0')}${known}`);
    p = pid.next;
  }
  if (bytes[0] !== 0) {
    const cs = readMb(bytes, p);
    line(p, cs.next, 0, `charset ${cs.value} (${CHARSETS[cs.value] ?? 'unknown'})`);
    p = cs.next;
  }
  const tl = readMb(bytes, p);
  line(p, tl.next, 0, `string table length ${tl.value}`);
  if (tl.value > 0) line(tl.next, tl.next + tl.value, 0, `string table ${quote(new TextDecoder().decode(bytes.subarray(tl.next, tl.next + tl.value)).replace(/\0/g, '\\0'))}`);
  lines.push({ offset: base + r.bodyStart, bytes: bytes.subarray(r.bodyStart, r.bodyStart), depth: depth0, text: `code pages: ${r.codePages?.name ?? 'none'} (${r.codePageSource})` });

  let prevEnd = r.bodyStart;
  for (;;) {
    const k = r.next();
    if (k === TokenKind.EOF) break;
    const at = r.offset;
    // Bytes the reader consumed silently before this token: SWITCH_PAGE.
    for (let q = prevEnd; q + 1 < at; q += 2) {
      if (bytes[q] !== 0) break;
      line(q, q + 2, r.depth, `SWITCH_PAGE ${bytes[q + 1]}`);
    }
    const end = r.position;
    const d = k === TokenKind.END_TAG ? r.depth : r.depth - (k === TokenKind.START_TAG ? 1 : 0);
    switch (k) {
      case TokenKind.START_TAG:
        line(at, end, d, `<${r.tagName()}>${r.token < 0 ? " (literal)" : ` page ${r.page} token 0x${r.token.toString(16).padStart(2, '0')}`}${r.hasAttributes ? ' +attributes' : ''}${r.hasContent ? '' : ' (empty)'}`);
        break;
      case TokenKind.END_TAG:
        if (end > at && prevEnd !== end) line(at, end, d, `END </${r.tagName()}>`);
        break;
      case TokenKind.TEXT:
        line(at, end, d, `${r.fromTable ? `STR_T ${r.start - r.stringTableStart}` : 'STR_I'} ${quote(safeText(r))}`);
        break;
      case TokenKind.ENTITY:
        line(at, end, d, `ENTITY U+${r.entity.toString(16).toUpperCase().padStart(4, '0')}`);
        break;
      case TokenKind.OPAQUE: {
        line(at, end, d, `OPAQUE ${r.end - r.start} bytes${describeOpaque(r.opaque())}`);
        if (nesting < 4 && looksNested(r.opaque())) {
          const inner: DisassemblyLine[] = [];
          try {
            walk(r.opaque(), base + r.start, depth0 + d + 1, { ...options, codePages: undefined }, inner, nesting + 1);
            lines.push(...inner);
          } catch {
            // Not a document after all: the OPAQUE line says enough.
          }
        }
        break;
      }
      case TokenKind.EXTENSION:
        line(at, end, d, `EXT_${r.extKind.toUpperCase() || ''}${r.extKind ? '_' : ''}${r.ext}${r.extKind ? ' ' + quote(safeText(r)) : ''}`);
        break;
      case TokenKind.PI:
        line(at, end, d, 'PI');
        break;
      case TokenKind.ATTR_START:
        line(at, end, d + 1, `attribute ${r.attrName()}${r.attrValuePrefix() ? ` = ${quote(r.attrValuePrefix())}…` : ''}`);
        break;
      case TokenKind.ATTR_VALUE:
        line(at, end, d + 1, `attribute value ${quote(r.attrValueText())}`);
        break;
      case TokenKind.ATTRS_END:
        line(at, end, d + 1, 'END (attributes)');
        break;
    }
    prevEnd = end;
  }
}

function safeText(r: WbxmlReader): string {
  try {
    return r.text();
  } catch {
    return `<${r.end - r.start} undecodable bytes>`;
  }
}

function quote(s: string): string {
  const j = JSON.stringify(s.length > MAX_TEXT ? s.slice(0, MAX_TEXT) : s);
  return s.length > MAX_TEXT ? `${j}… (${s.length} chars)` : j;
}

function describeOpaque(b: Uint8Array): string {
  let text = true;
  for (let i = 0; i < b.length && text; i++) if (b[i] < 0x20 && b[i] !== 9 && b[i] !== 10 && b[i] !== 13) text = false;
  if (text && b.length > 0) {
    try {
      return ' ' + quote(new TextDecoder('utf-8', { fatal: true }).decode(b));
    } catch {
      /* binary */
    }
  }
  const hex = Array.from(b.subarray(0, 16), (x) => x.toString(16).padStart(2, '0')).join(' ');
  return b.length ? ` [${hex}${b.length > 16 ? ' …' : ''}]` : '';
}

function looksNested(b: Uint8Array): boolean {
  return b.length >= 5 && b[0] >= 1 && b[0] <= 3;
}
