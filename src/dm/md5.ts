/**
 * MD5 (RFC 1321) in plain JavaScript. DM 1.2 authentication and the package 0 digest are built on
 * MD5 (DMSEC, DMNOTI 6.2), and Web Crypto offers no MD5, so the protocol layer carries its own.
 * Works on 32-bit words held in locals: no allocation per 64-byte block.
 */

const utf8 = new TextEncoder();

/** Runs the MD5 compression function over every whole 64-byte block in `data[offset, end)`. */
function compress(state: Int32Array, data: Uint8Array, offset: number, end: number): void {
  let a0 = state[0], b0 = state[1], c0 = state[2], d0 = state[3];
  for (let o = offset; o + 64 <= end; o += 64) {
    // RFC 1321 3.4: the block is sixteen little-endian 32-bit words.
    const x0 = data[o] | (data[o + 1] << 8) | (data[o + 2] << 16) | (data[o + 3] << 24);
    const x1 = data[o + 4] | (data[o + 5] << 8) | (data[o + 6] << 16) | (data[o + 7] << 24);
    const x2 = data[o + 8] | (data[o + 9] << 8) | (data[o + 10] << 16) | (data[o + 11] << 24);
    const x3 = data[o + 12] | (data[o + 13] << 8) | (data[o + 14] << 16) | (data[o + 15] << 24);
    const x4 = data[o + 16] | (data[o + 17] << 8) | (data[o + 18] << 16) | (data[o + 19] << 24);
    const x5 = data[o + 20] | (data[o + 21] << 8) | (data[o + 22] << 16) | (data[o + 23] << 24);
    const x6 = data[o + 24] | (data[o + 25] << 8) | (data[o + 26] << 16) | (data[o + 27] << 24);
    const x7 = data[o + 28] | (data[o + 29] << 8) | (data[o + 30] << 16) | (data[o + 31] << 24);
    const x8 = data[o + 32] | (data[o + 33] << 8) | (data[o + 34] << 16) | (data[o + 35] << 24);
    const x9 = data[o + 36] | (data[o + 37] << 8) | (data[o + 38] << 16) | (data[o + 39] << 24);
    const x10 = data[o + 40] | (data[o + 41] << 8) | (data[o + 42] << 16) | (data[o + 43] << 24);
    const x11 = data[o + 44] | (data[o + 45] << 8) | (data[o + 46] << 16) | (data[o + 47] << 24);
    const x12 = data[o + 48] | (data[o + 49] << 8) | (data[o + 50] << 16) | (data[o + 51] << 24);
    const x13 = data[o + 52] | (data[o + 53] << 8) | (data[o + 54] << 16) | (data[o + 55] << 24);
    const x14 = data[o + 56] | (data[o + 57] << 8) | (data[o + 58] << 16) | (data[o + 59] << 24);
    const x15 = data[o + 60] | (data[o + 61] << 8) | (data[o + 62] << 16) | (data[o + 63] << 24);
    let a = a0, b = b0, c = c0, d = d0;
    // Four rounds of sixteen steps (RFC 1321 3.4); F and G use the equivalent one-AND forms,
    // constants are floor(abs(sin(i)) * 2^32).
    // round 1
    a = (a + (d ^ (b & (c ^ d))) + x0 + 0xd76aa478) | 0; a = (((a << 7) | (a >>> 25)) + b) | 0;
    d = (d + (c ^ (a & (b ^ c))) + x1 + 0xe8c7b756) | 0; d = (((d << 12) | (d >>> 20)) + a) | 0;
    c = (c + (b ^ (d & (a ^ b))) + x2 + 0x242070db) | 0; c = (((c << 17) | (c >>> 15)) + d) | 0;
    b = (b + (a ^ (c & (d ^ a))) + x3 + 0xc1bdceee) | 0; b = (((b << 22) | (b >>> 10)) + c) | 0;
    a = (a + (d ^ (b & (c ^ d))) + x4 + 0xf57c0faf) | 0; a = (((a << 7) | (a >>> 25)) + b) | 0;
    d = (d + (c ^ (a & (b ^ c))) + x5 + 0x4787c62a) | 0; d = (((d << 12) | (d >>> 20)) + a) | 0;
    c = (c + (b ^ (d & (a ^ b))) + x6 + 0xa8304613) | 0; c = (((c << 17) | (c >>> 15)) + d) | 0;
    b = (b + (a ^ (c & (d ^ a))) + x7 + 0xfd469501) | 0; b = (((b << 22) | (b >>> 10)) + c) | 0;
    a = (a + (d ^ (b & (c ^ d))) + x8 + 0x698098d8) | 0; a = (((a << 7) | (a >>> 25)) + b) | 0;
    d = (d + (c ^ (a & (b ^ c))) + x9 + 0x8b44f7af) | 0; d = (((d << 12) | (d >>> 20)) + a) | 0;
    c = (c + (b ^ (d & (a ^ b))) + x10 + 0xffff5bb1) | 0; c = (((c << 17) | (c >>> 15)) + d) | 0;
    b = (b + (a ^ (c & (d ^ a))) + x11 + 0x895cd7be) | 0; b = (((b << 22) | (b >>> 10)) + c) | 0;
    a = (a + (d ^ (b & (c ^ d))) + x12 + 0x6b901122) | 0; a = (((a << 7) | (a >>> 25)) + b) | 0;
    d = (d + (c ^ (a & (b ^ c))) + x13 + 0xfd987193) | 0; d = (((d << 12) | (d >>> 20)) + a) | 0;
    c = (c + (b ^ (d & (a ^ b))) + x14 + 0xa679438e) | 0; c = (((c << 17) | (c >>> 15)) + d) | 0;
    b = (b + (a ^ (c & (d ^ a))) + x15 + 0x49b40821) | 0; b = (((b << 22) | (b >>> 10)) + c) | 0;
    // round 2
    a = (a + (c ^ (d & (b ^ c))) + x1 + 0xf61e2562) | 0; a = (((a << 5) | (a >>> 27)) + b) | 0;
    d = (d + (b ^ (c & (a ^ b))) + x6 + 0xc040b340) | 0; d = (((d << 9) | (d >>> 23)) + a) | 0;
    c = (c + (a ^ (b & (d ^ a))) + x11 + 0x265e5a51) | 0; c = (((c << 14) | (c >>> 18)) + d) | 0;
    b = (b + (d ^ (a & (c ^ d))) + x0 + 0xe9b6c7aa) | 0; b = (((b << 20) | (b >>> 12)) + c) | 0;
    a = (a + (c ^ (d & (b ^ c))) + x5 + 0xd62f105d) | 0; a = (((a << 5) | (a >>> 27)) + b) | 0;
    d = (d + (b ^ (c & (a ^ b))) + x10 + 0x02441453) | 0; d = (((d << 9) | (d >>> 23)) + a) | 0;
    c = (c + (a ^ (b & (d ^ a))) + x15 + 0xd8a1e681) | 0; c = (((c << 14) | (c >>> 18)) + d) | 0;
    b = (b + (d ^ (a & (c ^ d))) + x4 + 0xe7d3fbc8) | 0; b = (((b << 20) | (b >>> 12)) + c) | 0;
    a = (a + (c ^ (d & (b ^ c))) + x9 + 0x21e1cde6) | 0; a = (((a << 5) | (a >>> 27)) + b) | 0;
    d = (d + (b ^ (c & (a ^ b))) + x14 + 0xc33707d6) | 0; d = (((d << 9) | (d >>> 23)) + a) | 0;
    c = (c + (a ^ (b & (d ^ a))) + x3 + 0xf4d50d87) | 0; c = (((c << 14) | (c >>> 18)) + d) | 0;
    b = (b + (d ^ (a & (c ^ d))) + x8 + 0x455a14ed) | 0; b = (((b << 20) | (b >>> 12)) + c) | 0;
    a = (a + (c ^ (d & (b ^ c))) + x13 + 0xa9e3e905) | 0; a = (((a << 5) | (a >>> 27)) + b) | 0;
    d = (d + (b ^ (c & (a ^ b))) + x2 + 0xfcefa3f8) | 0; d = (((d << 9) | (d >>> 23)) + a) | 0;
    c = (c + (a ^ (b & (d ^ a))) + x7 + 0x676f02d9) | 0; c = (((c << 14) | (c >>> 18)) + d) | 0;
    b = (b + (d ^ (a & (c ^ d))) + x12 + 0x8d2a4c8a) | 0; b = (((b << 20) | (b >>> 12)) + c) | 0;
    // round 3
    a = (a + (b ^ c ^ d) + x5 + 0xfffa3942) | 0; a = (((a << 4) | (a >>> 28)) + b) | 0;
    d = (d + (a ^ b ^ c) + x8 + 0x8771f681) | 0; d = (((d << 11) | (d >>> 21)) + a) | 0;
    c = (c + (d ^ a ^ b) + x11 + 0x6d9d6122) | 0; c = (((c << 16) | (c >>> 16)) + d) | 0;
    b = (b + (c ^ d ^ a) + x14 + 0xfde5380c) | 0; b = (((b << 23) | (b >>> 9)) + c) | 0;
    a = (a + (b ^ c ^ d) + x1 + 0xa4beea44) | 0; a = (((a << 4) | (a >>> 28)) + b) | 0;
    d = (d + (a ^ b ^ c) + x4 + 0x4bdecfa9) | 0; d = (((d << 11) | (d >>> 21)) + a) | 0;
    c = (c + (d ^ a ^ b) + x7 + 0xf6bb4b60) | 0; c = (((c << 16) | (c >>> 16)) + d) | 0;
    b = (b + (c ^ d ^ a) + x10 + 0xbebfbc70) | 0; b = (((b << 23) | (b >>> 9)) + c) | 0;
    a = (a + (b ^ c ^ d) + x13 + 0x289b7ec6) | 0; a = (((a << 4) | (a >>> 28)) + b) | 0;
    d = (d + (a ^ b ^ c) + x0 + 0xeaa127fa) | 0; d = (((d << 11) | (d >>> 21)) + a) | 0;
    c = (c + (d ^ a ^ b) + x3 + 0xd4ef3085) | 0; c = (((c << 16) | (c >>> 16)) + d) | 0;
    b = (b + (c ^ d ^ a) + x6 + 0x04881d05) | 0; b = (((b << 23) | (b >>> 9)) + c) | 0;
    a = (a + (b ^ c ^ d) + x9 + 0xd9d4d039) | 0; a = (((a << 4) | (a >>> 28)) + b) | 0;
    d = (d + (a ^ b ^ c) + x12 + 0xe6db99e5) | 0; d = (((d << 11) | (d >>> 21)) + a) | 0;
    c = (c + (d ^ a ^ b) + x15 + 0x1fa27cf8) | 0; c = (((c << 16) | (c >>> 16)) + d) | 0;
    b = (b + (c ^ d ^ a) + x2 + 0xc4ac5665) | 0; b = (((b << 23) | (b >>> 9)) + c) | 0;
    // round 4
    a = (a + (c ^ (b | ~d)) + x0 + 0xf4292244) | 0; a = (((a << 6) | (a >>> 26)) + b) | 0;
    d = (d + (b ^ (a | ~c)) + x7 + 0x432aff97) | 0; d = (((d << 10) | (d >>> 22)) + a) | 0;
    c = (c + (a ^ (d | ~b)) + x14 + 0xab9423a7) | 0; c = (((c << 15) | (c >>> 17)) + d) | 0;
    b = (b + (d ^ (c | ~a)) + x5 + 0xfc93a039) | 0; b = (((b << 21) | (b >>> 11)) + c) | 0;
    a = (a + (c ^ (b | ~d)) + x12 + 0x655b59c3) | 0; a = (((a << 6) | (a >>> 26)) + b) | 0;
    d = (d + (b ^ (a | ~c)) + x3 + 0x8f0ccc92) | 0; d = (((d << 10) | (d >>> 22)) + a) | 0;
    c = (c + (a ^ (d | ~b)) + x10 + 0xffeff47d) | 0; c = (((c << 15) | (c >>> 17)) + d) | 0;
    b = (b + (d ^ (c | ~a)) + x1 + 0x85845dd1) | 0; b = (((b << 21) | (b >>> 11)) + c) | 0;
    a = (a + (c ^ (b | ~d)) + x8 + 0x6fa87e4f) | 0; a = (((a << 6) | (a >>> 26)) + b) | 0;
    d = (d + (b ^ (a | ~c)) + x15 + 0xfe2ce6e0) | 0; d = (((d << 10) | (d >>> 22)) + a) | 0;
    c = (c + (a ^ (d | ~b)) + x6 + 0xa3014314) | 0; c = (((c << 15) | (c >>> 17)) + d) | 0;
    b = (b + (d ^ (c | ~a)) + x13 + 0x4e0811a1) | 0; b = (((b << 21) | (b >>> 11)) + c) | 0;
    a = (a + (c ^ (b | ~d)) + x4 + 0xf7537e82) | 0; a = (((a << 6) | (a >>> 26)) + b) | 0;
    d = (d + (b ^ (a | ~c)) + x11 + 0xbd3af235) | 0; d = (((d << 10) | (d >>> 22)) + a) | 0;
    c = (c + (a ^ (d | ~b)) + x2 + 0x2ad7d2bb) | 0; c = (((c << 15) | (c >>> 17)) + d) | 0;
    b = (b + (d ^ (c | ~a)) + x9 + 0xeb86d391) | 0; b = (((b << 21) | (b >>> 11)) + c) | 0;

    a0 = (a0 + a) | 0; b0 = (b0 + b) | 0; c0 = (c0 + c) | 0; d0 = (d0 + d) | 0;
  }
  state[0] = a0; state[1] = b0; state[2] = c0; state[3] = d0;
}

/** Appends the RFC 1321 3.1/3.2 padding and length to `tail` and finishes `state` into 16 bytes. */
function finish(state: Int32Array, tail: Uint8Array, tailLength: number, totalBytes: number): Uint8Array {
  const blockBytes = tailLength < 56 ? 64 : 128;
  const last = new Uint8Array(blockBytes);
  last.set(tail.subarray(0, tailLength));
  last[tailLength] = 0x80;
  // The message length is counted in bits, 64-bit little-endian; lengths up to 2^53 bytes stay exact.
  const bitsLow = (totalBytes * 8) >>> 0;
  const bitsHigh = Math.floor(totalBytes / 0x20000000) >>> 0;
  const p = blockBytes - 8;
  last[p] = bitsLow; last[p + 1] = bitsLow >>> 8; last[p + 2] = bitsLow >>> 16; last[p + 3] = bitsLow >>> 24;
  last[p + 4] = bitsHigh; last[p + 5] = bitsHigh >>> 8; last[p + 6] = bitsHigh >>> 16; last[p + 7] = bitsHigh >>> 24;
  compress(state, last, 0, blockBytes);
  const out = new Uint8Array(16);
  for (let i = 0; i < 4; i++) {
    const w = state[i];
    out[i * 4] = w; out[i * 4 + 1] = w >>> 8; out[i * 4 + 2] = w >>> 16; out[i * 4 + 3] = w >>> 24;
  }
  return out;
}

/** RFC 1321 3.3 initial chaining values A, B, C, D. */
function initialState(): Int32Array {
  return Int32Array.of(0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476);
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? utf8.encode(data) : data;
}

/**
 * Streaming MD5: feed data with {@link Md5.update}, read the hash with {@link Md5.digest}.
 * `digest()` does not consume the state, so more data may follow (a running hash).
 * @public
 */
export class Md5 {
  private readonly state = initialState();
  private readonly buffer = new Uint8Array(64);
  private buffered = 0;
  private total = 0;

  /** Adds bytes (strings are UTF-8 encoded) and returns `this` for chaining. */
  update(data: Uint8Array | string): this {
    const bytes = toBytes(data);
    const n = bytes.length;
    this.total += n;
    let i = 0;
    if (this.buffered > 0) {
      const take = Math.min(64 - this.buffered, n);
      this.buffer.set(bytes.subarray(0, take), this.buffered);
      this.buffered += take;
      i = take;
      if (this.buffered < 64) return this;
      compress(this.state, this.buffer, 0, 64);
      this.buffered = 0;
    }
    const whole = i + ((n - i) & ~63);
    if (whole > i) compress(this.state, bytes, i, whole);
    if (whole < n) {
      this.buffer.set(bytes.subarray(whole), 0);
      this.buffered = n - whole;
    }
    return this;
  }

  /** The 16-byte MD5 of everything passed to {@link Md5.update} so far. */
  digest(): Uint8Array {
    return finish(Int32Array.from(this.state), this.buffer, this.buffered, this.total);
  }
}

/**
 * One-shot MD5 of bytes or of a string's UTF-8 encoding; returns the 16-byte digest.
 * @public
 */
export function md5(data: Uint8Array | string): Uint8Array {
  const bytes = toBytes(data);
  const state = initialState();
  const whole = bytes.length & ~63;
  compress(state, bytes, 0, whole);
  return finish(state, bytes.subarray(whole), bytes.length - whole, bytes.length);
}

/**
 * MD5 as 32 lower-case hex digits (for logs and test vectors).
 * @public
 */
export function md5Hex(data: Uint8Array | string): string {
  let s = '';
  for (const b of md5(data)) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}
