/**
 * The code tables against the research notes (shared/research/omadm-protocol.md): §1.9 status
 * codes, §1.5 alert codes, §5.3 FUMO result codes, §1.6 UI alert parameters, §5.4 Generic Alert.
 * The note's rows are copied here as they are written there.
 */
import { describe, expect, it } from 'vitest';
import {
  ALERT_CODES, AlertCode, FUMO_RESULT_CODES, FumoAlertType, STATUS_CODES, StatusCode, alertLabel, formatUiAlertOptions,
  fumoResultText, genericAlert, genericAlerts, isDmAlert, isFumoSuccess, isSuccess, isUiAlert, parse, readGenericAlerts,
  serialize, statusInfo, statusText, uiAlert, isSyncMLError,
} from '../src/syncml/index.js';
import { parseAlertOptions, uiRequestOf } from '../src/dm/ui-alert.js';
import { fixtureText } from './helpers.js';

/** Research note §1.9, "Status codes a DM implementation returns": code | meaning. */
const NOTE_STATUS: [number, string][] = [
  [200, 'OK'], [202, 'Accepted for processing'], [212, 'Authentication accepted'],
  [213, 'Chunked item accepted and buffered'], [214, 'Operation cancelled'], [215, 'Not executed'],
  [216, 'Atomic roll back OK'], [304, 'Not modified'], [400, 'Bad request'],
  [401, 'Unauthorized / invalid credentials'], [403, 'Forbidden'], [404, 'Not found'], [405, 'Command not allowed'],
  [406, 'Optional feature not supported'], [407, 'Authentication required'], [408, 'Request timeout'],
  [412, 'Incomplete command'], [413, 'Request entity too large'], [414, 'URI too long'],
  [415, 'Unsupported media type or format'], [416, 'Requested range not satisfiable'], [418, 'Already exists'],
  [420, 'Device full'], [424, 'Size mismatch'], [425, 'Permission denied'], [500, 'Command failed'],
  [507, 'Atomic failed'], [510, 'Data store failure'], [516, 'Atomic roll back failed'],
  [517, 'Atomic response too large to fit'],
];

/** Research note §1.5: code | name. */
const NOTE_ALERTS: [number, string][] = [
  [1100, 'DISPLAY'], [1101, 'CONFIRM OR REJECT'], [1102, 'TEXT INPUT'], [1103, 'SINGLE CHOICE'],
  [1104, 'MULTIPLE CHOICE'], [1200, 'SERVER-INITIATED MGMT'], [1201, 'CLIENT-INITIATED MGMT'],
  [1222, 'NEXT MESSAGE'], [1223, 'SESSION ABORT'], [1224, 'CLIENT EVENT'], [1225, 'NO END OF DATA'],
  [1226, 'GENERIC ALERT'],
];

/** Research note §5.3: code | meaning (the parenthesised examples left out). */
const NOTE_FUMO: [number, string][] = [
  [200, 'Successful'], [250, 'Successful - vendor specified'], [299, 'Successful - vendor specified'],
  [400, 'Management client error'], [401, 'User cancelled'], [402, 'Corrupted firmware update package'],
  [403, 'Firmware update package - device mismatch'], [404, 'Failed firmware update package validation'],
  [405, 'Firmware update package not acceptable'], [406, 'Alternate download authentication failure'],
  [407, 'Alternate download request time-out'], [408, 'Not implemented'], [409, 'Undefined error'],
  [410, 'Firmware update failed'], [411, 'Malformed or bad URL'], [412, 'Alternate download server unavailable'],
  [450, 'Client error - vendor specified'], [499, 'Client error - vendor specified'],
  [500, 'Alternate download server error'], [501, 'Download fails due to device out of memory'],
  [502, 'Firmware update fails due to device out of memory'], [503, 'Download fails due to network issues'],
  [550, 'Alternate download server error - vendor specified'], [599, 'Alternate download server error - vendor specified'],
];

const norm = (s: string): string => s.toLowerCase().replace(/\s+/g, ' ').trim();

describe('status codes', () => {
  it.each(NOTE_STATUS)('%i is in the table with the meaning of research note §1.9 (%s)', (code, meaning) => {
    const row = statusInfo(code);
    expect(row, `status ${code}`).toBeDefined();
    expect(row!.dm).toBe(true);
    // Every wording the note gives (split on " / ") is the meaning or the other wording in use.
    const known = [row!.meaning, row!.also].filter((x): x is string => x !== undefined).map(norm);
    for (const part of meaning.split(' / ')) expect(known).toContain(norm(part));
  });

  it('holds the rest of SyncML RepPro §10 (DS codes, 505/513) in numeric order, each once', () => {
    const codes = STATUS_CODES.map((r) => r.code);
    expect(codes).toEqual([...codes].sort((a, b) => a - b));
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of [101, 201, 203, 204, 205, 206, 207, 208, 209, 210, 211, 300, 301, 302, 303, 305, 402, 409, 410, 411, 417, 419, 421, 422, 423, 426, 427, 428, 501, 502, 503, 504, 505, 506, 508, 509, 511, 512, 513, 514]) {
      expect(statusInfo(c), `status ${c}`).toBeDefined();
    }
    expect(statusInfo(505)!.meaning).toBe('DTD version not supported');
    expect(statusInfo(513)!.meaning).toBe('Protocol version not supported');
    // DM-relevant: exactly the note's codes plus 505/513 (SyncHdr version refusals).
    expect(STATUS_CODES.filter((r) => r.dm).map((r) => r.code)).toEqual([...NOTE_STATUS.map(([c]) => c), 505, 513].sort((a, b) => a - b));
  });

  it('StatusCode constants come from the table, with the names sessions use', () => {
    for (const r of STATUS_CODES) expect((StatusCode as Record<string, number>)[r.name]).toBe(r.code);
    expect(new Set(STATUS_CODES.map((r) => r.name)).size).toBe(STATUS_CODES.length);
    const expected = {
      OK: 200, ACCEPTED: 202, AUTHENTICATION_ACCEPTED: 212, CHUNKED_ITEM_ACCEPTED: 213, OPERATION_CANCELLED: 214,
      NOT_EXECUTED: 215, ATOMIC_ROLLBACK_OK: 216, NOT_MODIFIED: 304, BAD_REQUEST: 400, INVALID_CREDENTIALS: 401,
      FORBIDDEN: 403, NOT_FOUND: 404, COMMAND_NOT_ALLOWED: 405, OPTIONAL_FEATURE_NOT_SUPPORTED: 406, MISSING_CREDENTIALS: 407,
      REQUEST_TIMEOUT: 408, INCOMPLETE_COMMAND: 412, REQUEST_ENTITY_TOO_LARGE: 413, URI_TOO_LONG: 414,
      UNSUPPORTED_MEDIA_TYPE: 415, REQUESTED_SIZE_TOO_BIG: 416, ALREADY_EXISTS: 418, DEVICE_FULL: 420, SIZE_MISMATCH: 424,
      PERMISSION_DENIED: 425, COMMAND_FAILED: 500, DTD_VERSION_NOT_SUPPORTED: 505, ATOMIC_FAILED: 507,
      DATA_STORE_FAILURE: 510, PROTOCOL_VERSION_NOT_SUPPORTED: 513, ATOMIC_ROLLBACK_FAILED: 516, ATOMIC_RESPONSE_TOO_LARGE: 517,
    };
    expect(StatusCode).toMatchObject(expected);
    expect(Object.isFrozen(StatusCode)).toBe(true);
  });

  it('statusText and isSuccess', () => {
    expect(statusText(212)).toBe('Authentication accepted');
    expect(statusText(599)).toBe('Recipient error (599)');
    expect(statusText(299)).toBe('Success (299)');
    expect([200, 212, 213, 216, 299].every(isSuccess)).toBe(true);
    expect([101, 199, 300, 304, 404, 500, 200.5].some(isSuccess)).toBe(false);
  });
});

describe('alert codes', () => {
  it.each(NOTE_ALERTS)('%i is %s (research note §1.5) and valid in DM', (code, label) => {
    expect(alertLabel(code)).toBe(label);
    expect(isDmAlert(code)).toBe(true);
  });

  it('has the DS sync types, constants from the table, isUiAlert', () => {
    expect(ALERT_CODES.filter((r) => r.dm).map((r) => r.code)).toEqual(NOTE_ALERTS.map(([c]) => c));
    for (let c = 200; c <= 210; c++) expect(isDmAlert(c) === false && alertLabel(c) !== 'UNKNOWN').toBe(true);
    expect(alertLabel(201)).toBe('SLOW SYNC');
    expect(alertLabel(222)).toBe('NEXT MESSAGE');
    expect(alertLabel(1105)).toBe('UNKNOWN');
    expect(AlertCode.CLIENT_INITIATED_MGMT).toBe(1201);
    expect(AlertCode.GENERIC_ALERT).toBe(1226);
    expect(AlertCode.NEXT_MESSAGE).toBe(1222);
    expect(AlertCode.DS_NEXT_MESSAGE).toBe(222);
    for (const r of ALERT_CODES) expect((AlertCode as Record<string, number>)[r.name]).toBe(r.code);
    expect([1100, 1101, 1102, 1103, 1104].every(isUiAlert)).toBe(true);
    expect([1099, 1105, 1200, 1226, 100].some(isUiAlert)).toBe(false);
  });
});

describe('UI alert options (research note §1.6)', () => {
  it('formats the parameters in DMPRO order, URL-encoded, and the device parser reads them back', () => {
    expect(formatUiAlertOptions({ minDisplayTime: 10, maxDisplayTime: 30 })).toBe('MINDT=10&MAXDT=30');
    expect(formatUiAlertOptions({})).toBe('');
    const s = formatUiAlertOptions({ echoType: 'P', inputType: 'N', maxLength: 8, defaultResponse: 'a b&c=d', maxDisplayTime: 60, minDisplayTime: 5 });
    expect(s).toBe('MINDT=5&MAXDT=60&DR=a%20b%26c%3Dd&MAXLEN=8&IT=N&ET=P');
    expect(parseAlertOptions(s)).toEqual({
      minDisplayTime: 5, maxDisplayTime: 60, defaultResponse: 'a b&c=d', maxLength: 8, inputType: 'numeric', echoType: 'password',
    });
    expect(formatUiAlertOptions({ defaultResponse: [2, 3] })).toBe('DR=2-3');
    expect(formatUiAlertOptions({ defaultResponse: true })).toBe('DR=1');
    expect(formatUiAlertOptions({ defaultResponse: 2 })).toBe('DR=2');
  });

  it('refuses values a parameter cannot take', () => {
    for (const bad of [{ minDisplayTime: -1 }, { maxDisplayTime: 1.5 }, { inputType: 'X' }, { echoType: 'A' }, { maxLength: Number.NaN }]) {
      let err: unknown;
      try { formatUiAlertOptions(bad as never); } catch (e) { err = e; }
      expect(isSyncMLError(err) && err.code === 'INVALID_ARGUMENT').toBe(true);
    }
  });

  it('builds 1100-1104 alerts: Item 1 options (or empty), Item 2 text, Items 3.. choices; the device side reads them', () => {
    const confirm = uiAlert({ code: 1101, text: 'Apply the new proxy settings now?', options: { minDisplayTime: 10, maxDisplayTime: 30 } });
    expect(confirm).toEqual({ kind: 'Alert', cmdId: '', code: 1101, items: [{ data: 'MINDT=10&MAXDT=30' }, { data: 'Apply the new proxy settings now?' }] });
    // Same Items as the hand-written fixture.
    const pkg2 = parse(fixtureText('syncml/dm12-pkg2.xml'));
    const fixtureAlert = pkg2.body.commands.find((c) => c.kind === 'Alert');
    expect(fixtureAlert && 'items' in fixtureAlert ? fixtureAlert.items : undefined).toEqual(confirm.items);
    const display = uiAlert({ code: 1100, text: 'Hello' });
    expect(display.items[0]).toEqual({ data: '' });
    const multi = uiAlert({ code: 1104, text: 'Pick', choices: ['a', 'b', 'c'], options: { defaultResponse: [2, 3] } });
    expect(uiRequestOf(multi)).toMatchObject({ kind: 'multipleChoice', text: 'Pick', choices: ['a', 'b', 'c'], defaultChoices: [2, 3] });
    const input = uiAlert({ code: 1102, text: 'PIN?', options: { inputType: 'N', echoType: 'P', maxLength: 4 } });
    expect(uiRequestOf(input)).toMatchObject({ kind: 'textInput', inputType: 'numeric', echo: 'password', maxLength: 4 });
    // Through the wire and back.
    expect(parse(serialize({ header: pkg2.header, body: { commands: [{ ...multi, cmdId: '1' }], final: true } }, { encoding: 'wbxml' })).body.commands[0]).toEqual({ ...multi, cmdId: '1' });
    expect(() => uiAlert({ code: 1103, text: 'x' })).toThrow(/choice/);
    expect(() => uiAlert({ code: 1101, text: 'x', choices: ['a'] })).toThrow(/no choices/);
    expect(() => uiAlert({ code: 1200 as never, text: 'x' })).toThrow(/1100-1104/);
  });
});

describe('Generic Alert and FUMO (research note §5.3, §5.4)', () => {
  it('writes one Item per event with Meta Type and Format, Mark only when given, Correlator on the Alert', () => {
    const a = genericAlert({ type: FumoAlertType.DOWNLOAD_AND_UPDATE, source: './FwUpdate/Pkg1', data: 200, correlator: 'job-1' });
    expect(a).toEqual({
      kind: 'Alert', cmdId: '', code: 1226, correlator: 'job-1',
      items: [{ source: { locUri: './FwUpdate/Pkg1' }, meta: { format: 'int', type: 'org.openmobilealliance.dm.firmwareupdate.downloadandupdate' }, data: '200' }],
    });
    const b = genericAlert({ type: FumoAlertType.DEVICE_REQUEST, data: '', mark: 'informational' });
    expect(b.correlator).toBeUndefined();
    expect(b.items[0].meta).toEqual({ format: 'chr', type: FumoAlertType.DEVICE_REQUEST, mark: 'informational' });
    expect(genericAlerts([{ type: 't1', data: 1 }, { type: 't2', data: new Uint8Array([1]) }]).items.map((i) => i.meta?.format)).toEqual(['int', 'bin']);
    expect(() => genericAlert({ type: ' ', data: 1 })).toThrow(/Type/);
    expect(() => genericAlert({ type: 'x', data: 1, format: '' })).toThrow(/Format/);
  });

  it('reads the events of the fixture, the type normalised (prefix stripped), Mark and Correlator kept', () => {
    const msg = parse(fixtureText('syncml/dm12-generic-alert-fumo.xml'));
    const alert = msg.body.commands.find((c) => c.kind === 'Alert' && c.code === 1226);
    expect(alert?.kind).toBe('Alert');
    const [ev, ...rest] = readGenericAlerts(alert as never);
    expect(rest).toEqual([]);
    expect(ev).toEqual({
      type: FumoAlertType.DOWNLOAD_AND_UPDATE,
      rawType: 'Reversed-Domain-Name: org.openmobilealliance.dm.firmwareupdate.downloadandupdate',
      format: 'int', mark: 'critical', source: './FwUpdate/Pkg1/DownloadAndUpdate', data: '200', correlator: 'fumo-job-0042',
    });
    expect(fumoResultText(Number(ev.data))).toBe('Successful');
    // Defaults: Mark informational, Format chr; other alert codes: none.
    expect(readGenericAlerts({ kind: 'Alert', cmdId: '1', code: 1226, items: [{ meta: { type: 'x' } }] })).toEqual([{ type: 'x', rawType: 'x', format: 'chr', mark: 'informational', data: '' }]);
    expect(readGenericAlerts({ kind: 'Alert', cmdId: '1', code: 1201, items: [] })).toEqual([]);
    // Round trip of what genericAlert writes.
    const made = genericAlert({ type: FumoAlertType.UPDATE, source: './F/x', data: 410, mark: 'critical' });
    expect(readGenericAlerts(made)).toEqual([{ type: FumoAlertType.UPDATE, rawType: FumoAlertType.UPDATE, format: 'int', mark: 'critical', source: './F/x', data: '410' }]);
  });

  it.each(NOTE_FUMO)('FUMO result %i: %s', (code, meaning) => {
    expect(fumoResultText(code)).toBe(meaning);
  });

  it('FUMO table: the five types, success codes, unknown codes', () => {
    expect(Object.values(FumoAlertType)).toEqual([
      'org.openmobilealliance.dm.firmwareupdate.download', 'org.openmobilealliance.dm.firmwareupdate.update',
      'org.openmobilealliance.dm.firmwareupdate.downloadandupdate', 'org.openmobilealliance.dm.firmwareupdate.devicerequest',
      'org.openmobilealliance.dm.firmwareupdate.userrequest',
    ]);
    expect(FUMO_RESULT_CODES.filter((r) => r.to === undefined).length).toBe(NOTE_FUMO.filter(([, m]) => !m.includes('vendor')).length);
    expect(isFumoSuccess(200) && isFumoSuccess(260) && !isFumoSuccess(410)).toBe(true);
    expect(fumoResultText(413)).toBe('Unknown result code (413)');
  });
});
