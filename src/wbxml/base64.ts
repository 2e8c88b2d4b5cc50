/** Base64 (RFC 4648 §4) in plain JS, so the core needs neither Buffer nor btoa. */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const ENC = new Uint8Array(64);
for (let i = 0; i < 64; i++) ENC[i] = ALPHABET.charCodeAt(i);
const DEC = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) DEC[ALPHABET.charCodeAt(i)] = i;

/** Base64 of `bytes[start,end)` as ASCII bytes written into `out` at `o`; returns the new offset. */
export function base64Into(bytes: Uint8Array, start: number, end: number, out: Uint8Array, o: number): number {
  let i = start;
  for (; i + 2 < end; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out[o++] = ENC[v >> 18];
    out[o++] = ENC[(v >> 12) & 63];
    out[o++] = ENC[(v >> 6) & 63];
    out[o++] = ENC[v & 63];
  }
  const rest = end - i;
  if (rest === 1) {
    const v = bytes[i] << 16;
    out[o++] = ENC[v >> 18];
    out[o++] = ENC[(v >> 12) & 63];
    out[o++] = 61;
    out[o++] = 61;
  } else if (rest === 2) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out[o++] = ENC[v >> 18];
    out[o++] = ENC[(v >> 12) & 63];
    out[o++] = ENC[(v >> 6) & 63];
    out[o++] = 61;
  }
  return o;
}

/** Length of the base64 text of n bytes. */
export function base64Length(n: number): number {
  return Math.ceil(n / 3) * 4;
}

/** Base64 text of `bytes`. @public */
export function toBase64(bytes: Uint8Array): string {
  const out = new Uint8Array(base64Length(bytes.length));
  base64Into(bytes, 0, bytes.length, out, 0);
  let s = '';
  for (let i = 0; i < out.length; i += 4096) {
    s += String.fromCharCode.apply(null, out.subarray(i, i + 4096) as unknown as number[]);
  }
  return s;
}

/**
 * Bytes of base64 `text`. White space is skipped; missing padding is accepted. Returns undefined
 * when the text is not base64 (callers turn that into their own typed error).
 * @public
 */
export function fromBase64(text: string): Uint8Array | undefined {
  const out = new Uint8Array(Math.floor((text.length * 3) / 4) + 3);
  let o = 0, acc = 0, bits = 0, pad = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    if (c === 61) { pad++; continue; }
    if (pad > 0) return undefined; // data after padding
    const v = c < 256 ? DEC[c] : -1;
    if (v < 0) return undefined;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if (bits >= 6 || pad > 2) return undefined; // a lone sextet cannot encode a byte
  return out.slice(0, o);
}
