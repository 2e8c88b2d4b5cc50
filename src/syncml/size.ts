/**
 * How many bytes a command adds to a message, measured by serializing (never estimated), for
 * `serialize(msg, { encoding })` with its default options: WBXML 1.2 without a string table,
 * compact XML with the XML declaration and no DOCTYPE. Other options (indentation, a string
 * table) give other sizes.
 *
 * Why it is an upper bound and not always exact:
 * - XML: exact. A command's bytes do not depend on its neighbours (namespaces are declared on an
 *   element only when its code page differs from its parent's, and every command's parent is
 *   SyncBody).
 * - WBXML: the writer switches code pages lazily, at the next tag. A command that ends inside
 *   MetInf (an Item with Meta and no Data, say) makes the *next* element pay a SWITCH_PAGE (2
 *   bytes). `commandSize` charges those 2 bytes to the command that causes them (it is measured
 *   with `Final` after it), so the sum over a message's commands is exact whatever their order.
 * - WBXML literal tags (elements the code pages lack: unknown elements kept by a tolerant parse,
 *   1.2-only elements in a 1.1 message) go through the string table: each distinct name is paid
 *   once per message, so measuring alone over-counts repeats; but a string table past 127 bytes
 *   (or literal offsets past 127) make a length field one byte longer, which a command measured
 *   alone cannot see. The packer re-serializes each message it fills and takes back the last
 *   command in that (rare) case.
 */
import type { Command, SyncHdr, SyncML } from './types.js';
import { serializeToBytes } from './serialize.js';

/** What the measurement depends on. @public */
export interface SizeOptions {
  encoding: 'wbxml' | 'xml';
  /** The message's VerDTD (`1.2` default, `1.1`): it picks the code pages and namespace. */
  verDTD?: string;
}

function probeHeader(verDTD: string): SyncHdr {
  return { verDTD, verProto: verDTD === '1.1' ? 'DM/1.1' : 'DM/1.2', sessionId: '1', msgId: '1', target: { locUri: 't' }, source: { locUri: 's' } };
}

const emptySizes = new Map<string, number>();
const headers = new Map<string, SyncHdr>();

function probe(verDTD: string): SyncHdr {
  let h = headers.get(verDTD);
  if (h === undefined) headers.set(verDTD, (h = probeHeader(verDTD)));
  return h;
}

/** Size of a message with `header`, these commands and `Final`. */
export function measureMessage(header: SyncHdr, commands: Command[], encoding: 'wbxml' | 'xml', final = true): number {
  const msg: SyncML = { header, body: { commands, final } };
  return serializeToBytes(msg, { encoding }).length;
}

function emptySize(encoding: 'wbxml' | 'xml', verDTD: string): number {
  const key = `${encoding}|${verDTD}`;
  let n = emptySizes.get(key);
  if (n === undefined) emptySizes.set(key, (n = measureMessage(probe(verDTD), [], encoding)));
  return n;
}

/**
 * The bytes `cmd` adds to a message (see the file comment for why this is an upper bound in
 * WBXML and exact in XML). Measure the command as it will be sent: its CmdID is part of it, so
 * number it first (`MessageBuilder.number`).
 *
 * @example
 * ```ts
 * const n = commandSize(builder.number(replace), { encoding: 'wbxml', verDTD: '1.2' });
 * ```
 * @throws SyncMLError `INVALID_ARGUMENT` when the command cannot be serialized
 * @public
 */
export function commandSize(cmd: Command, options: SizeOptions): number {
  const verDTD = options.verDTD ?? '1.2';
  return measureMessage(probe(verDTD), [cmd], options.encoding) - emptySize(options.encoding, verDTD);
}

/**
 * The bytes of a message with this header, an empty body and `Final`: what every message costs
 * before its first command. A message's size is at most `messageOverhead + Σ commandSize`.
 * @public
 */
export function messageOverhead(header: SyncHdr, encoding: 'wbxml' | 'xml'): number {
  return measureMessage(header, [], encoding);
}

/** The exact size of a whole message, serialized with default options. @public */
export function messageSize(msg: SyncML, encoding: 'wbxml' | 'xml'): number {
  return serializeToBytes(msg, { encoding }).length;
}
