/**
 * Connectionless WSP Push PDU framing for package 0 over WAP push / SMS (DMNOTI 6.3; research
 * note 3.4): `TID, 0x06, uintvar headers-length, content-type, headers, body`.
 */
import { DmError } from './errors.js';

/** WSP well-known content type `application/vnd.syncml.dm+wbxml`. */
export const WSP_CONTENT_TYPE_DM_WBXML = 0x42;
/** WSP well-known content type `application/vnd.syncml.dm+xml`. */
export const WSP_CONTENT_TYPE_DM_XML = 0x43;
/** WSP well-known content type `application/vnd.syncml.notification` (package 0; DMNOTI 6.3). */
export const WSP_CONTENT_TYPE_NOTIFICATION = 0x44;
/** X-WAP-Application-ID value `x-wap-application:syncml.dm` (DMNOTI 6.3). */
export const WAP_APPLICATION_ID_SYNCML_DM = 0x07;
/** WDP port the DM client listens on for pushes (DMNOTI 6.3). */
export const PUSH_PORT = 2948;
/** WSP PDU type Push. */
export const WSP_PDU_PUSH = 0x06;
/** WSP well-known header field code of X-WAP-Application-ID. */
export const WSP_HEADER_X_WAP_APPLICATION_ID = 0x2f;

/** Options of {@link wrapWapPush}. */
export interface WrapWapPushOptions {
  /** WSP transaction id, 0..255; default 0. */
  transactionId?: number;
  /** Well-known content type code 0..127; default {@link WSP_CONTENT_TYPE_NOTIFICATION}. */
  contentType?: number;
  /** X-WAP-Application-ID code 0..127; default {@link WAP_APPLICATION_ID_SYNCML_DM}. */
  applicationId?: number;
}

/** A taken-apart WSP Push PDU. */
export interface WapPush {
  transactionId: number;
  /** Well-known code (e.g. 0x44) or the media type text when sent as a string. */
  contentType: number | string;
  /** X-WAP-Application-ID as a code (0x07) or as the URI text when sent as a string. */
  applicationId?: number | string;
  body: Uint8Array;
}

function bad(message: string, offset: number): DmError {
  return new DmError('BAD_WSP', message, { offset });
}

function shortCode(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 127) {
    throw new DmError('INVALID_ARGUMENT', `${what} ${value} is not a short-integer (0..127)`);
  }
  return 0x80 | value;
}

/** WSP uintvar: 7 bits per byte, most significant first, high bit = more follows. */
function encodeUintvar(value: number): number[] {
  const out = [value & 0x7f];
  for (let v = value >>> 7; v > 0; v >>>= 7) out.unshift(0x80 | (v & 0x7f));
  return out;
}

/**
 * Wraps package 0 (or any body) in a connectionless WSP Push PDU with a short-integer
 * content type and an X-WAP-Application-ID header, ready for a WDP datagram to {@link PUSH_PORT}.
 * @public
 */
export function wrapWapPush(body: Uint8Array, options: WrapWapPushOptions = {}): Uint8Array {
  const tid = options.transactionId ?? 0;
  if (!Number.isInteger(tid) || tid < 0 || tid > 255) throw new DmError('INVALID_ARGUMENT', `transaction id ${tid} is outside 0..255`);
  const headers = [
    shortCode(options.contentType ?? WSP_CONTENT_TYPE_NOTIFICATION, 'content type'),
    0x80 | WSP_HEADER_X_WAP_APPLICATION_ID,
    shortCode(options.applicationId ?? WAP_APPLICATION_ID_SYNCML_DM, 'application id'),
  ];
  const prefix = [tid, WSP_PDU_PUSH, ...encodeUintvar(headers.length), ...headers];
  const out = new Uint8Array(prefix.length + body.length);
  out.set(prefix, 0);
  out.set(body, prefix.length);
  return out;
}

/** A cursor over the PDU that reports the offset of whatever it could not read. */
class Reader {
  constructor(readonly bytes: Uint8Array, public pos: number, readonly end: number) {}

  byte(what: string): number {
    if (this.pos >= this.end) throw bad(`PDU ends inside ${what}`, this.pos);
    return this.bytes[this.pos++];
  }

  uintvar(what: string): number {
    const start = this.pos;
    let v = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.byte(what);
      v = v * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) {
        if (v > 0xffffffff) break;
        return v;
      }
    }
    throw bad(`${what}: uintvar longer than 32 bits`, start);
  }

  /** Text-string: bytes up to a NUL; a leading 0x7F quote is dropped (WSP 8.4.2.1). */
  text(what: string): string {
    const start = this.pos;
    if (this.bytes[this.pos] === 0x7f) this.pos++;
    while (this.pos < this.end && this.bytes[this.pos] !== 0) this.pos++;
    if (this.pos >= this.end) throw bad(`${what}: text string without NUL`, start);
    // Header text is US-ASCII/Latin-1 in practice; map bytes to code points one by one.
    let s = '';
    for (let i = this.bytes[start] === 0x7f ? start + 1 : start; i < this.pos; i++) s += String.fromCharCode(this.bytes[i]);
    this.pos++;
    return s;
  }

  /** Value-length (WSP 8.4.2.2): 0..30 inline, 31 followed by a uintvar. */
  valueLength(first: number, what: string): number {
    const len = first === 31 ? this.uintvar(what) : first;
    if (this.pos + len > this.end) throw bad(`${what}: value of ${len} bytes runs past the headers`, this.pos);
    return len;
  }

  /** Integer-value: short-integer, or long-integer (short-length 1..30 then big-endian bytes). */
  integer(what: string): number {
    const start = this.pos;
    const b = this.byte(what);
    if (b & 0x80) return b & 0x7f;
    if (b < 1 || b > 30) throw bad(`${what}: not an integer value`, start);
    if (b > 6 || this.pos + b > this.end) throw bad(`${what}: long integer of ${b} bytes`, start);
    let v = 0;
    for (let i = 0; i < b; i++) v = v * 256 + this.bytes[this.pos++];
    return v;
  }

  /** Skips one field value using the WSP 8.4.1.2 first-octet rule. */
  skipValue(what: string): void {
    const start = this.pos;
    const b = this.byte(what);
    if (b >= 0x80) return;
    if (b <= 31) {
      this.pos += this.valueLength(b, what);
      return;
    }
    this.pos = start;
    this.text(what);
  }
}

/**
 * Takes a connectionless WSP Push PDU apart: transaction id, content type, X-WAP-Application-ID
 * (other headers are skipped) and the body. Throws DmError `BAD_WSP` with the byte offset for a
 * PDU type other than Push or a truncated/malformed header block.
 * @public
 */
export function unwrapWapPush(pdu: Uint8Array): WapPush {
  const r = new Reader(pdu, 0, pdu.length);
  const transactionId = r.byte('the transaction id');
  const typeAt = r.pos;
  const type = r.byte('the PDU type');
  if (type !== WSP_PDU_PUSH) throw bad(`PDU type 0x${type.toString(16)} is not Push (0x06)`, typeAt);
  const headersLength = r.uintvar('the headers length');
  const headersEnd = r.pos + headersLength;
  if (headersEnd > pdu.length) throw bad(`headers of ${headersLength} bytes run past the end`, r.pos);
  if (headersLength === 0) throw bad('no content type', r.pos);

  const h = new Reader(pdu, r.pos, headersEnd);
  let contentType: number | string;
  const ctAt = h.pos;
  const first = pdu[ctAt];
  if (first >= 0x80) {
    contentType = h.byte('the content type') & 0x7f;
  } else if (first >= 32) {
    contentType = h.text('the content type');
  } else {
    // Content-general-form: value-length then a well-known media code or media text; parameters
    // after it are not needed to route the push.
    h.pos++;
    const end = h.pos + h.valueLength(first, 'the content type');
    const media = new Reader(pdu, h.pos, end);
    const m = pdu[media.pos];
    contentType = media.pos < end && m >= 32 && m < 0x80 ? media.text('the content type') : media.integer('the content type');
    h.pos = end;
  }

  let applicationId: number | string | undefined;
  while (h.pos < headersEnd) {
    const nameAt = h.pos;
    const name = pdu[nameAt];
    if (name >= 0x80) {
      h.pos++;
      if ((name & 0x7f) === WSP_HEADER_X_WAP_APPLICATION_ID && applicationId === undefined) {
        const v = pdu[h.pos];
        applicationId = v !== undefined && v >= 32 && v < 0x80 ? h.text('X-WAP-Application-ID') : h.integer('X-WAP-Application-ID');
      } else {
        h.skipValue('a header value');
      }
    } else if (name >= 32 && name !== 0x7f) {
      // Application header: token-text name and text-string value (WSP 8.4.2.6).
      h.text('a header name');
      h.text('a header value');
    } else {
      // Shift-delimiter (0x7F) / short-cut shift (1..31) to another header code page: out of scope
      // for DM pushes.
      throw bad(`header code page shift 0x${name.toString(16)} is not supported`, nameAt);
    }
  }
  return { transactionId, contentType, ...(applicationId !== undefined ? { applicationId } : {}), body: pdu.slice(headersEnd) };
}
