import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64 } from '../src/dm/base64.js';
import { isDmError } from '../src/dm/errors.js';
import {
  NOTIFICATION_RESET_NONCES, decodeNotification, encodeNotification, notificationDigest,
  swappedSessionIdHex, verifyNotificationDigest, type NotificationInput,
} from '../src/dm/notification.js';
import {
  PUSH_PORT, WSP_CONTENT_TYPE_DM_WBXML, WSP_CONTENT_TYPE_DM_XML, WSP_CONTENT_TYPE_NOTIFICATION,
  unwrapWapPush, wrapWapPush,
} from '../src/dm/wsp.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const te = new TextEncoder();

const NONCE = fromBase64('MTIzNA==');
const BASE: NotificationInput = {
  serverId: 'dm.example.net', serverPassword: 'srvsecret', nonce: NONCE, sessionId: 0x4f2a,
  uiMode: 'not-specified', initiator: 'server',
};

function errorOf(fn: () => unknown): { code: string; offset?: number } | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (!isDmError(e)) throw e;
    return { code: e.code, offset: e.offset };
  }
}

describe('package 0 vectors (research note 3.2)', () => {
  it('version 11', () => {
    const p = encodeNotification({ ...BASE, version: 11 });
    expect(p).toHaveLength(38);
    expect(hex(p.subarray(16))).toBe('02c80000004f2a0e646d2e6578616d706c652e6e6574');
    expect(hex(p.subarray(0, 16))).toBe('eedb045c5edb985d4e788d90cfb444b0');
    // 11 is also the default version.
    expect(hex(encodeNotification(BASE))).toBe(hex(p));
  });

  it('version 12', () => {
    const p = encodeNotification({ ...BASE, version: 12 });
    expect(hex(p.subarray(16))).toBe('03080000004f2a0e646d2e6578616d706c652e6e6574');
    expect(hex(p.subarray(0, 16))).toBe('02e439b0b782fd8fcede34f9eb5cf1f2');
  });

  it('version 12 with the 4-zero-byte reset nonce', () => {
    const p = encodeNotification({ ...BASE, version: 12, nonce: new Uint8Array(4) });
    expect(hex(p.subarray(0, 16))).toBe('84107461e6d5e160a694d6d6f1620628');
    const n = decodeNotification(p);
    expect(verifyNotificationDigest(n, 'srvsecret', NONCE)).toEqual({ valid: true, nonceUsed: 'reset', resetIndex: 0 });
  });

  it('decodes the version 11 vector', () => {
    const n = decodeNotification(encodeNotification(BASE));
    expect(n).toMatchObject({
      version: 11, uiMode: 'not-specified', initiator: 'server', futureUse: 0,
      sessionId: 0x4f2a, sessionIdHex: '4F2A', serverId: 'dm.example.net',
    });
    expect(n.vendor).toHaveLength(0);
    expect(hex(n.trigger)).toBe('02c80000004f2a0e646d2e6578616d706c652e6e6574');
    expect(hex(n.digest)).toBe('eedb045c5edb985d4e788d90cfb444b0');
    expect(verifyNotificationDigest(n, 'srvsecret', NONCE)).toEqual({ valid: true, nonceUsed: 'stored' });
  });
});

describe('package 0 header bits, hand-computed', () => {
  // Byte 16 = version bits 9..2; byte 17 = version bits 1..0 (<<6) | ui-mode (<<4) | initiator (<<3)
  // | future-use bits 26..24; bytes 18-20 = future-use; 21-22 = session id; 23 = server-id length.
  const header = (input: Partial<NotificationInput>) => hex(encodeNotification({ ...BASE, ...input }).subarray(16, 24));

  it('version 11 = 0b00000010_11: byte16 0x02; background (01) + client (0): byte17 = 0xC0|0x10 = 0xD0', () => {
    expect(header({ version: 11, uiMode: 'background', initiator: 'client' })).toBe('02d00000004f2a0e');
  });

  it('version 12 = 0b00000011_00: byte16 0x03; informative (10) + server (1): byte17 = 0x20|0x08 = 0x28', () => {
    expect(header({ version: 12, uiMode: 'informative', initiator: 'server' })).toBe('03280000004f2a0e');
  });

  it('version 10 = 0b00000010_10: byte16 0x02; user-interaction (11) + client: byte17 = 0x80|0x30 = 0xB0', () => {
    expect(header({ version: 10, uiMode: 'user-interaction', initiator: 'client' })).toBe('02b00000004f2a0e');
  });

  it('version 1023 = all ones: byte16 0xFF; user-interaction + server: byte17 = 0xC0|0x30|0x08 = 0xF8', () => {
    expect(header({ version: 1023, uiMode: 'user-interaction', initiator: 'server' })).toBe('fff80000004f2a0e');
  });

  it('version 0, session id 0x0001, 1-byte server id: all-zero version bits, length 0x01', () => {
    expect(header({ version: 0, serverId: 'x', sessionId: 1 })).toBe('00080000000001' + '01');
  });

  it('session id is big-endian and its hex has no leading zeros', () => {
    for (const [id, h] of [[1, '1'], [0xab, 'AB'], [0x0100, '100'], [0xffff, 'FFFF']] as const) {
      const n = decodeNotification(encodeNotification({ ...BASE, sessionId: id }));
      expect(n.sessionIdHex).toBe(h);
    }
    expect(header({ sessionId: 0xab })).toBe('02c800000000ab0e');
  });

  it('swappedSessionIdHex reproduces libdmclient\'s ntohs bug', () => {
    expect(swappedSessionIdHex(0x4f2a)).toBe('2A4F');
    expect(swappedSessionIdHex(0x0100)).toBe('1');
    expect(swappedSessionIdHex(0x00ff)).toBe('FF00');
  });
});

describe('decodeNotification', () => {
  const good = () => encodeNotification(BASE);

  it('keeps the vendor part and includes it in the digest', () => {
    const vendor = Uint8Array.of(1, 2, 3, 0xff);
    const p = encodeNotification({ ...BASE, vendor });
    const n = decodeNotification(p);
    expect([...n.vendor]).toEqual([1, 2, 3, 0xff]);
    expect(n.trigger).toHaveLength(22 + 4);
    expect(verifyNotificationDigest(n, 'srvsecret', NONCE).valid).toBe(true);
    p[p.length - 1] ^= 1;
    expect(verifyNotificationDigest(decodeNotification(p), 'srvsecret', NONCE)).toEqual({ valid: false, nonceUsed: null });
  });

  it('rejects input shorter than 24 bytes', () => {
    expect(errorOf(() => decodeNotification(good().subarray(0, 23)))).toEqual({ code: 'BAD_NOTIFICATION', offset: 23 });
    expect(errorOf(() => decodeNotification(new Uint8Array(0)))).toEqual({ code: 'BAD_NOTIFICATION', offset: 0 });
  });

  it('rejects a server id running past the end', () => {
    expect(errorOf(() => decodeNotification(good().subarray(0, 37)))).toEqual({ code: 'BAD_NOTIFICATION', offset: 23 });
  });

  it('rejects a server id that is not UTF-8, keeps a BOM byte-exact', () => {
    const p = good();
    p[24] = 0xc3; // lead byte followed by 'm' (not a continuation byte)
    expect(errorOf(() => decodeNotification(p))).toEqual({ code: 'BAD_NOTIFICATION', offset: 24 });
    const bom = encodeNotification({ ...BASE, serverId: '\uFEFFsrv' });
    const n = decodeNotification(bom);
    expect(n.serverId).toBe('\uFEFFsrv');
    expect(verifyNotificationDigest(n, 'srvsecret', NONCE).valid).toBe(true);
  });

  it('rejects session id 0', () => {
    const p = good();
    p[21] = 0; p[22] = 0;
    expect(errorOf(() => decodeNotification(p))).toEqual({ code: 'BAD_NOTIFICATION', offset: 21 });
  });

  it('reports non-zero future-use bits leniently, rejects them when strict', () => {
    const p = good();
    p[20] = 0x01;
    expect(decodeNotification(p).futureUse).toBe(1);
    expect(errorOf(() => decodeNotification(p, { strict: true }))).toEqual({ code: 'BAD_NOTIFICATION', offset: 17 });
    const q = good();
    q[17] |= 0x04; // bit 26 of future-use
    expect(decodeNotification(q).futureUse).toBe(1 << 26);
    expect(decodeNotification(q).initiator).toBe('server');
  });

  it('rejects versions outside 10..12 unless allowAnyVersion', () => {
    for (const version of [0, 9, 13, 1023]) {
      const p = encodeNotification({ ...BASE, version });
      expect(errorOf(() => decodeNotification(p))).toEqual({ code: 'UNSUPPORTED_NOTIFICATION_VERSION', offset: 16 });
      expect(decodeNotification(p, { allowAnyVersion: true }).version).toBe(version);
    }
  });

  it('encodeNotification validates its fields', () => {
    for (const bad of [
      { sessionId: 0 }, { sessionId: 0x10000 }, { sessionId: 1.5 }, { version: -1 }, { version: 1024 },
      { serverId: '' }, { serverId: 'x'.repeat(256) }, { uiMode: 'loud' as never }, { initiator: 'nobody' as never },
    ]) {
      expect(errorOf(() => encodeNotification({ ...BASE, ...bad }))?.code, JSON.stringify(bad)).toBe('INVALID_ARGUMENT');
    }
    expect(encodeNotification({ ...BASE, serverId: 'x'.repeat(255) })).toHaveLength(24 + 255);
  });

  it('round-trips random field values (fast-check)', () => {
    const input = fc.record({
      serverId: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
      serverPassword: fc.string(),
      nonce: fc.uint8Array({ maxLength: 20 }),
      sessionId: fc.integer({ min: 1, max: 0xffff }),
      uiMode: fc.constantFrom('not-specified', 'background', 'informative', 'user-interaction' as const),
      initiator: fc.constantFrom('server', 'client' as const),
      version: fc.integer({ min: 10, max: 12 }),
      vendor: fc.uint8Array({ maxLength: 20 }),
    });
    fc.assert(fc.property(input, (i) => {
      const n = decodeNotification(encodeNotification(i));
      expect(n).toMatchObject({
        serverId: i.serverId, sessionId: i.sessionId, uiMode: i.uiMode, initiator: i.initiator, version: i.version,
        futureUse: 0, sessionIdHex: i.sessionId.toString(16).toUpperCase(),
      });
      expect(hex(n.vendor)).toBe(hex(i.vendor));
      expect(verifyNotificationDigest(n, i.serverPassword, i.nonce, { resetNonces: [] })).toEqual({ valid: true, nonceUsed: 'stored' });
    }), { numRuns: 300 });
  });

  it('only throws DmError on random bytes (fast-check)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), fc.boolean(), fc.boolean(), (bytes, strict, allowAnyVersion) => {
      try {
        decodeNotification(bytes, { strict, allowAnyVersion });
      } catch (e) {
        return isDmError(e);
      }
      return true;
    }), { numRuns: 2000 });
  });
});

describe('verifyNotificationDigest nonce resynchronisation (DMNOTI 6.1)', () => {
  it('tries the stored nonce, then each reading of "0x00000000" in order', () => {
    expect(NOTIFICATION_RESET_NONCES.map((b) => hex(b))).toEqual([
      '00000000', hex(te.encode('0x00000000')), hex(te.encode('0000000000000000')),
    ]);
    NOTIFICATION_RESET_NONCES.forEach((reset, i) => {
      const n = decodeNotification(encodeNotification({ ...BASE, nonce: reset }));
      expect(verifyNotificationDigest(n, 'srvsecret', NONCE)).toEqual({ valid: true, nonceUsed: 'reset', resetIndex: i });
      expect(verifyNotificationDigest(n, 'srvsecret', NONCE, { resetNonces: [] })).toEqual({ valid: false, nonceUsed: null });
      expect(verifyNotificationDigest(n, 'srvsecret', reset)).toEqual({ valid: true, nonceUsed: 'stored' });
    });
  });

  it('honours a custom reset list and fails with the wrong password', () => {
    const custom = te.encode('MTIzNDU=');
    const n = decodeNotification(encodeNotification({ ...BASE, nonce: custom }));
    expect(verifyNotificationDigest(n, 'srvsecret', NONCE, { resetNonces: [new Uint8Array(4), custom] }))
      .toEqual({ valid: true, nonceUsed: 'reset', resetIndex: 1 });
    expect(verifyNotificationDigest(n, 'wrong', custom)).toEqual({ valid: false, nonceUsed: null });
  });

  it('notificationDigest is the raw 16-byte digest of the trigger', () => {
    const p = encodeNotification(BASE);
    expect(hex(notificationDigest('dm.example.net', 'srvsecret', NONCE, p.subarray(16)))).toBe(hex(p.subarray(0, 16)));
  });
});

describe('WSP push framing (DMNOTI 6.3)', () => {
  it('constants', () => {
    expect([WSP_CONTENT_TYPE_DM_WBXML, WSP_CONTENT_TYPE_DM_XML, WSP_CONTENT_TYPE_NOTIFICATION, PUSH_PORT]).toEqual([0x42, 0x43, 0x44, 2948]);
  });

  it('wraps package 0 as TID, 0x06 Push, headers length 3, 0xC4 content type, 0xAF 0x87 app id', () => {
    const body = encodeNotification(BASE);
    const pdu = wrapWapPush(body, { transactionId: 1 });
    expect(hex(pdu.subarray(0, 6))).toBe('010603c4af87');
    expect(hex(pdu.subarray(6))).toBe(hex(body));
    expect(unwrapWapPush(pdu)).toEqual({ transactionId: 1, contentType: 0x44, applicationId: 7, body });
  });

  it('unwraps a hand-built PDU with general-form content type, other headers and a long-integer app id', () => {
    const pdu = unhex(`
      2a 06 16
      03 c4 81 ea
      8d 90
      85 02 aa bb
      58 2d 46 6f 6f 00 62 00
      af 02 00 07
      de ad`); // content-length 16 (0x8D 0x90), a value-length header, X-Foo: b, app id as long integer
    expect(unwrapWapPush(pdu)).toEqual({ transactionId: 0x2a, contentType: 0x44, applicationId: 7, body: Uint8Array.of(0xde, 0xad) });
  });

  it('unwraps text forms of content type and app id', () => {
    const ct = te.encode('application/vnd.syncml.notification\0');
    const app = te.encode('x-wap-application:syncml.dm\0');
    const headers = Uint8Array.from([...ct, 0xaf, ...app]);
    const pdu = Uint8Array.from([0, 6, headers.length, ...headers, 9]);
    expect(unwrapWapPush(pdu)).toEqual({
      transactionId: 0, contentType: 'application/vnd.syncml.notification', applicationId: 'x-wap-application:syncml.dm', body: Uint8Array.of(9),
    });
  });

  it('reads a headers length over 127 as a multi-byte uintvar', () => {
    // Headers: C4, AF 87, then an application header "X" NUL + a 200-char text value + NUL = 206
    // bytes = 1*128 + 78 -> uintvar 0x81 0x4E.
    const headers = Uint8Array.from([0xc4, 0xaf, 0x87, ...te.encode('X\0' + 'x'.repeat(200) + '\0')]);
    expect(headers).toHaveLength(206);
    const pdu = Uint8Array.from([5, 6, 0x81, 0x4e, ...headers, 1, 2]);
    expect(unwrapWapPush(pdu)).toEqual({ transactionId: 5, contentType: 0x44, applicationId: 7, body: Uint8Array.of(1, 2) });
  });

  it('round-trips random transaction ids, content types and bodies', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 127 }), fc.uint8Array({ maxLength: 200 }), (tid, ct, body) => {
      const u = unwrapWapPush(wrapWapPush(body, { transactionId: tid, contentType: ct }));
      return u.transactionId === tid && u.contentType === ct && u.applicationId === 7 && hex(u.body) === hex(body);
    }));
  });

  it('rejects malformed PDUs with BAD_WSP and an offset', () => {
    const cases: [string, number][] = [
      ['', 0], ['01', 1], ['0107', 1], ['0106', 2], ['010683', 3], ['010605c4af87', 3], ['010600', 3],
      ['010602c4af', 5], ['010603c4ff02', 6], ['0106027f01', 3], ['010602c47f', 4], ['010602c401', 4], ['010601', 3],
    ];
    for (const [h, offset] of cases) {
      expect(errorOf(() => unwrapWapPush(unhex(h))), h).toEqual({ code: 'BAD_WSP', offset });
    }
    expect(errorOf(() => wrapWapPush(new Uint8Array(0), { transactionId: 256 }))?.code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => wrapWapPush(new Uint8Array(0), { contentType: 128 }))?.code).toBe('INVALID_ARGUMENT');
  });

  it('only throws DmError on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
      try {
        unwrapWapPush(Uint8Array.from([bytes[0] ?? 0, 6, ...bytes.subarray(1)]));
      } catch (e) {
        return isDmError(e);
      }
      return true;
    }), { numRuns: 3000 });
  });
});
