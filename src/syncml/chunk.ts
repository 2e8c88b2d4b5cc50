/**
 * Large objects (DMPRO 2.2, research note §1.4): an Item whose Data does not fit in one message
 * travels as chunks, one per message: `MoreData` on every chunk but the last, `Meta/Size` (the
 * whole object's size in bytes) on the first only, Target / Source / Meta repeated on each.
 *
 * Sizes count what travels: bytes for binary Data (WBXML OPAQUE), the UTF-8 bytes of text
 * (for `b64` Data, the base64 text) — as `dm/large-object.ts` counts them on receipt.
 *
 * Text is cut between code points (never inside a UTF-8 sequence or a surrogate pair), so every
 * chunk is valid text on its own; base64 text (Format `b64`) is cut at multiples of 4 characters
 * so that each chunk also decodes on its own.
 */
import type { Data, Item, Meta } from './types.js';
import { SyncMLError } from './errors.js';

function bad(message: string): SyncMLError {
  return new SyncMLError('INVALID_ARGUMENT', message);
}

/** UTF-8 length of a string (lone surrogates count 3, as TextEncoder writes U+FFFD). */
export function utf8Length(s: string): number {
  let n = 0;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < len) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { n += 4; i++; } else n += 3;
    } else n += 3;
  }
  return n;
}

/**
 * The index where a slice of `s` starting at `start` ends when it may hold at most `maxBytes`
 * UTF-8 bytes, cut between code points; `start` itself when not even one code point fits.
 */
export function textSliceEnd(s: string, start: number, maxBytes: number): number {
  let n = 0;
  const len = s.length;
  let i = start;
  while (i < len) {
    const c = s.charCodeAt(i);
    let w: number;
    let step = 1;
    if (c < 0x80) w = 1;
    else if (c < 0x800) w = 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < len && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { w = 4; step = 2; } else w = 3;
    if (n + w > maxBytes) break;
    n += w;
    i += step;
  }
  return i;
}

/** The size of Data as it travels (see the file comment); undefined for DevInf / MgmtTree documents. */
export function dataSize(data: Data | undefined): number | undefined {
  if (data === undefined) return 0;
  if (typeof data === 'string') return utf8Length(data);
  if (data instanceof Uint8Array) return data.length;
  return undefined;
}

/** Whether the Item's Data is base64 text (its Format says `b64`), so chunks keep 4-character groups. */
export function isBase64Text(item: Item, commandMeta?: Meta): boolean {
  return typeof item.data === 'string' && (item.meta?.format ?? commandMeta?.format) === 'b64';
}

/**
 * Where one chunk of `data` starting at unit `start` ends when it may be at most `max` units
 * long (bytes; UTF-8 bytes for text). Text: between code points; `align` (4 for base64 text):
 * a multiple of it unless the chunk runs to the end. Returns `start` when nothing fits.
 */
export function chunkEnd(data: string | Uint8Array, start: number, max: number, align = 1): number {
  if (typeof data === 'string') {
    if (align > 1) {
      // base64 text is ASCII: an index is a byte.
      const rest = data.length - start;
      if (max >= rest) return data.length;
      return start + Math.floor(max / align) * align;
    }
    return textSliceEnd(data, start, max);
  }
  const rest = data.length - start;
  if (max >= rest) return data.length;
  const n = Math.floor(max / align) * align;
  return start + n;
}

/**
 * The chunk of `item` holding `data[start, end)`: Target, Source, parents and Meta repeated,
 * Meta/Size = `total` on the first chunk only, `moreData` unless it is the last.
 */
export function chunkItem(item: Item, start: number, end: number, total: number, last: boolean): Item {
  const d = item.data as string | Uint8Array;
  const out: Item = { ...item };
  out.data = typeof d === 'string' ? d.slice(start, end) : d.subarray(start, end);
  let meta: Meta | undefined = item.meta === undefined ? undefined : { ...item.meta };
  if (start === 0) meta = { ...meta, size: total };
  else if (meta !== undefined) {
    delete meta.size;
    if (Object.keys(meta).length === 0) meta = undefined;
  }
  if (meta === undefined) delete out.meta;
  else out.meta = meta;
  if (last) delete out.moreData;
  else out.moreData = true;
  return out;
}

/**
 * Cuts an Item into Large Object chunks: the first holds at most `firstMax` units of Data, each
 * next one at most `nextMax` (units: bytes, UTF-8 bytes for text). An Item whose Data fits in
 * `firstMax` comes back alone, unchanged. A chunk always holds at least one code point, even when
 * that is more than the limit.
 *
 * @example
 * ```ts
 * const chunks = splitItem({ target: { locUri: './FUMO/Pkg/Update/PkgData' }, data: image }, 3000, 4000);
 * // chunks[0].meta.size === image.length, chunks[0..n-2].moreData === true
 * ```
 * @throws SyncMLError `INVALID_ARGUMENT` for a limit below 1, or Data that is a DevInf / MgmtTree
 * @public
 */
export function splitItem(item: Item, firstMax: number, nextMax: number): Item[] {
  if (!(firstMax >= 1) || !(nextMax >= 1)) throw bad(`chunk limits must be at least 1 (got ${firstMax}, ${nextMax})`);
  const d = item.data;
  const total = dataSize(d);
  if (total === undefined) throw bad('an embedded DevInf or MgmtTree cannot be cut into chunks');
  if (total <= firstMax || d === undefined) return [item];
  const data = d as string | Uint8Array;
  const align = isBase64Text(item) ? 4 : 1;
  const len = data.length;
  const out: Item[] = [];
  let at = 0;
  while (at < len) {
    const max = out.length === 0 ? firstMax : nextMax;
    let end = chunkEnd(data, at, Math.max(max, align), align);
    if (end === at) end = typeof data === 'string' ? textSliceEnd(data, at, 4) : at + 1;
    out.push(chunkItem(item, at, end, total, end >= len));
    at = end;
  }
  return out;
}

/**
 * Joins the chunks of one object (in order) into the whole Item: Target/Source/Meta of the first
 * chunk, the Data concatenated (text when every chunk is text, else bytes, text chunks as UTF-8),
 * no `moreData`. When the first chunk announced a Size and the joined size differs, the answer is
 * `{ error: 424 }` (Size mismatch; the object must not be used).
 *
 * @example
 * ```ts
 * const whole = joinChunks(chunks);
 * if ('error' in whole) status = whole.error; // 424
 * ```
 * @throws SyncMLError `INVALID_ARGUMENT` when the list is empty, a chunk is a DevInf / MgmtTree,
 * or the `moreData` flags do not describe one complete object
 * @public
 */
export function joinChunks(items: readonly Item[]): Item | { error: 424 } {
  if (!Array.isArray(items) || items.length === 0) throw bad('joinChunks needs at least one chunk');
  const n = items.length;
  for (let i = 0; i < n; i++) {
    const more = items[i].moreData === true;
    if (i < n - 1 && !more) throw bad(`chunk ${i + 1} of ${n} has no MoreData: the chunks are not one object`);
    if (i === n - 1 && more) throw bad('the last chunk has MoreData: the object is incomplete');
  }
  let text = true;
  let total = 0;
  for (const it of items) {
    const s = dataSize(it.data);
    if (s === undefined) throw bad('an embedded DevInf or MgmtTree cannot be a chunk');
    total += s;
    if (it.data instanceof Uint8Array) text = false;
  }
  const first = items[0];
  const size = first.meta?.size;
  if (size !== undefined && size !== total) return { error: 424 };
  let data: string | Uint8Array;
  if (text) data = items.map((it) => (it.data as string | undefined) ?? '').join('');
  else {
    const enc = new TextEncoder();
    const parts = items.map((it) => (typeof it.data === 'string' ? enc.encode(it.data) : (it.data as Uint8Array | undefined) ?? new Uint8Array(0)));
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    data = out;
  }
  const whole: Item = { ...first, data };
  delete whole.moreData;
  return whole;
}
