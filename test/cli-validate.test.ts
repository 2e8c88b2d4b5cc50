/** `syncml-dm validate`: the summary of valid messages, warnings, and errors with element paths. */
import { describe, expect, it } from 'vitest';
import { cli } from './cli.js';
import { fixture, fixtureText } from './helpers.js';

describe('syncml-dm validate', () => {
  it('prints the header line and one line per command of a server package (XML), children indented', () => {
    const r = cli(['validate', 'fixtures/syncml/dm12-pkg2.xml']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe([
      'SyncML 1.2 DM/1.2 session 1A2B msg 1 from http://dm.example.test/omadm to IMEI:356938035643809, XML 2772 bytes',
      'Status #1 -> SyncHdr (msg 1, cmd 0): 212 Authentication accepted',
      'Status #2 -> Alert (msg 1, cmd 1): 200 OK',
      'Status #3 -> Replace (msg 1, cmd 2): 200 OK',
      'Alert #4 1101 CONFIRM OR REJECT (2 items)',
      '  (no URI) = "MINDT=10&MAXDT=30"',
      '  (no URI) = "Apply the new proxy settings now?"',
      'Get #5 (2 items)',
      '  ./DevDetail',
      '  ./DevDetail/SwV',
      'Replace #6 ./Vendor/Example/Polling/Interval = "3600" (int)',
      'Atomic #7 (2 commands)',
      '  Add #8 ./Vendor/Example/Proxy (node)',
      '  Add #9 ./Vendor/Example/Proxy/Addr = "proxy.example.test:8080" (text/plain)',
      'Sequence #10 (2 commands)',
      '  Delete #11 ./Vendor/Example/Cache',
      '  Exec #12 ./FwUpdate/Pkg1/DownloadAndUpdate correlator fumo-job-0042',
      'Final',
      '',
    ].join('\n'));
  });

  it('reads WBXML from standard input, shows bytes as <N bytes>', () => {
    const r = cli(['validate', '-'], fixture('wbxml/dm12-pkg1.libwbxml-n.wbxml'));
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('SyncML 1.2 DM/1.2 session 1A2B msg 1 from IMEI:356938035643809 to http://dm.example.test/omadm, WBXML 440 bytes');
    expect(lines[1]).toBe('Alert #1 1201 CLIENT-INITIATED MGMT');
    expect(lines[2]).toBe('Replace #2 (5 items)');
    expect(lines[3]).toBe('  ./DevInfo/DevId = <20 bytes> (text/plain)');
    expect(lines.at(-2)).toBe('Final');
  });

  it('shortens long values, shows challenges, generic alerts, large-object chunks and embedded documents', () => {
    const lo = cli(['validate', 'fixtures/syncml/dm12-large-object.xml']).stdout;
    expect(lo).toContain('Replace #2 ./Vendor/Example/Certificates/Root/EncodedCertificate = "MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0…" (b64, application/pkix-cert, size 2816, more data)\n');
    expect(lo).not.toContain('Final');
    const chal = cli(['validate', 'fixtures/syncml/dm12-challenge.xml']).stdout;
    expect(chal).toContain('Status #1 -> SyncHdr (msg 1, cmd 0): 401 Invalid credentials [challenge syncml:auth-md5 with nonce]\n');
    expect(chal).toContain('Status #2 -> Alert (msg 1, cmd 1): 407 Missing credentials\n');
    const ga = cli(['validate', 'fixtures/syncml/dm12-generic-alert-fumo.xml']).stdout;
    expect(ga).toContain('Alert #2 1226 GENERIC ALERT ./FwUpdate/Pkg1/DownloadAndUpdate = "200" (int, Reversed-Domain-Name: org.openmobilealliance.dm.firmwareupdate.downloadandupdate, mark critical) correlator fumo-job-0042\n');
    expect(cli(['validate', 'fixtures/syncml/dm12-add-tnds.xml']).stdout).toContain('Add #2 ./Vendor/Example = <MgmtTree, 1 node> (xml, application/vnd.syncml.dmtnds+xml)\n');
    expect(cli(['validate', 'fixtures/syncml/ds12-put-devinf12.xml']).stdout).toContain('Put #1 ./devinf12 = <DevInf IMEI:356938035643809>\n');
    const pkg3 = cli(['validate', 'fixtures/syncml/dm12-pkg3.xml']).stdout;
    expect(pkg3).toContain('Results #4 -> msg 1, cmd 5: (2 items)\n  ./DevDetail = "URI/DevTyp/OEM/FwV/SwV/HwV/LrgObj" (node)\n');
    expect(pkg3).toContain('Status #5 -> Replace (msg 1, cmd 6): 200 OK [./Vendor/Example/Polling/Interval]\n');
  });

  it('tolerant by default: the defects of a Windows message are warnings with their element paths, exit 0', () => {
    const r = cli(['validate', 'fixtures/syncml/windows-defects.xml']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Replace (no CmdID) ./DevInfo/DmV = "1.3"\nFinal\n');
    expect(r.stdout).toContain('warning: SyncBody/Results[1]/Cmd: <Cmd> is not allowed in <Results> (an MS-MDM habit); kept in results.cmd\n');
    expect(r.stdout).toContain('warning: SyncBody/Replace[1]: <Replace> has no <CmdID>\n');
    expect(r.stdout).toContain('warning: SyncBody/Status[3]: CmdID \'3\' of <Status> is used twice in this message\n');
    expect(r.stdout.split('\n').filter((l) => l.startsWith('warning: ')).length).toBe(11);
  });

  it('--strict: every problem with its element path on standard error, exit 1', () => {
    const r = cli(['validate', '--strict', 'fixtures/syncml/windows-defects.xml']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe('syncml-dm: ELEMENT_ORDER at line 9:5, SyncHdr/Target: <Target> is out of DTD order in <SyncHdr>');
    expect(lines).toContain('syncml-dm: MISSING_ELEMENT at SyncBody/Replace[1]: <Replace> has no <CmdID>');
    expect(lines).toContain('syncml-dm: UNKNOWN_ELEMENT at SyncBody/Results[1]/Item[1]/Extra: <Extra> is not a SyncML element (in <Item>); kept as unknown');
    // Not problems in strict mode either: duplicate CmdIDs, Results without MsgRef.
    expect(r.stderr).not.toMatch(/DUPLICATE_CMD_ID|MISSING_MSG_REF/);
    expect(lines.length).toBe(9);
  });

  it('--strict on a valid message is the same summary; a missing MsgID is an error at SyncHdr', () => {
    const ok = cli(['validate', 'fixtures/syncml/dm12-pkg4.xml', '--strict']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe([
      'SyncML 1.2 DM/1.2 session 1A2B msg 2 from http://dm.example.test/omadm to IMEI:356938035643809, XML 777 bytes',
      'Status #1 -> SyncHdr (msg 2, cmd 0): 200 OK',
      'Final',
      '',
    ].join('\n'));
    const noMsgId = fixtureText('syncml/dm12-pkg4.xml').replace('<MsgID>2</MsgID>', '');
    const bad = cli(['validate', '--strict'], noMsgId);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^syncml-dm: MISSING_ELEMENT at line \d+:\d+, SyncHdr: <SyncHdr> has no <MsgID>\n$/);
    // Tolerant: a warning, and the summary.
    const tolerant = cli(['validate'], noMsgId);
    expect(tolerant.status).toBe(0);
    expect(tolerant.stdout).toContain('warning: SyncHdr: <SyncHdr> has no <MsgID>\n');
  });

  it('input that is not a document: one line, exit 1; usage errors exit 2; --help', () => {
    const r = cli(['validate'], '<SyncML');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^syncml-dm: BAD_DOCUMENT at line 1:1: /);
    expect(r.stderr.trim().split('\n').length).toBe(1);
    const w = cli(['validate', '-'], new Uint8Array([0x03, 0x01, 0x6a, 0x00, 0x6d, 0x6c, 0x01]));
    expect(w.status).toBe(1);
    expect(w.stderr).toBe('syncml-dm: BAD_DOCUMENT at byte 7, SyncML: TRUNCATED: input ends with 1 element open\n');
    // Tolerant of an empty SyncML element: the summary says what is missing.
    const empty = cli(['validate', '-'], new Uint8Array([0x03, 0x01, 0x6a, 0x00, 0x6d, 0x01]));
    expect(empty.status).toBe(0);
    expect(empty.stdout).toBe('SyncML ? ? session ? msg ? from ? to ?, WBXML 6 bytes\nwarning: SyncML: <SyncML> has no <SyncHdr>\nwarning: SyncML: <SyncML> has no <SyncBody>\n');
    expect(cli(['validate', 'a', 'b']).status).toBe(2);
    expect(cli(['validate', '--bogus']).status).toBe(2);
    expect(cli(['validate', 'no/such/file.xml']).stderr).toMatch(/cannot read/);
    const h = cli(['validate', '--help']);
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/^Usage: syncml-dm validate \[FILE\|-\] \[--strict\]/);
    expect(cli(['--help']).stdout).toMatch(/validate\s+check a SyncML message/);
  });
});
