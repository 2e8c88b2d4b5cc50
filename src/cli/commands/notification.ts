import { parseArgs, choice, integer, UsageError } from '../args.js';
import { readInput, writeOutput } from '../io.js';

export const help = `Usage: syncml-dm notification encode --server-id ID --server-password P --nonce B64
                                    --session-id HEX [--ui-mode MODE] [--initiator server|client]
                                    [--version 11] [--vendor HEX] [--wap-push] [-o FILE]
       syncml-dm notification decode [FILE|-] [--server-password P --nonce B64]

Builds or reads an OMA DM package 0 (DMNOTI 6.2: the server-alerted session trigger).

encode
  --server-id ID         the server identifier (DMAcc ServerID)
  --server-password P    the server password the digest is keyed with (DMAcc SRVCRED AAuthSecret)
  --nonce B64            the server nonce the device holds, base64 ('' for an empty nonce)
  --session-id HEX       1..FFFF, becomes the SyncHdr SessionID
  --ui-mode MODE         not-specified (default), background, informative, user-interaction
  --initiator WHO        server (default) or client
  --version N            the 10-bit version field (default 11, what DM 1.2 clients accept)
  --vendor HEX           vendor-specific bytes after the server id
  --wap-push             wrap it in a WSP push PDU (content type 0x44, application id 0x07)
  -o, --output FILE      where to write it (default: standard output)

decode
  Prints one 'name: value' line per field: version, ui-mode, initiator, session-id (hex),
  server-id, vendor (hex), digest (valid, invalid or unchecked). A WSP push PDU is unwrapped
  first. With --server-password and --nonce the digest is checked (then with the reset nonces,
  DMNOTI 6.1); the exit status is 1 when it is invalid.
`;

const UI_MODES = ['not-specified', 'background', 'informative', 'user-interaction'] as const;

function hexBytes(name: string, v: string | undefined): Uint8Array {
  if (v === undefined || v === '') return new Uint8Array(0);
  const t = v.replace(/\s+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(t)) throw new UsageError(`--${name} must be hex bytes (got '${v}')`);
  return Uint8Array.from(t.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
}

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

async function nonceOf(v: string): Promise<Uint8Array> {
  const { fromBase64 } = await import('../../dm/base64.js');
  try {
    return fromBase64(v);
  } catch {
    throw new UsageError(`--nonce must be base64 (got '${v}')`);
  }
}

function required(values: Record<string, string | undefined>, name: string): string {
  const v = values[name];
  if (v === undefined) throw new UsageError(`encode needs --${name}`);
  return v;
}

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs(argv, {
    values: ['server-id', 'server-password', 'nonce', 'session-id', 'ui-mode', 'initiator', 'version', 'vendor', 'output'],
    flags: ['wap-push'],
    short: { o: 'output' },
  });
  if (a.flags.help) return void process.stdout.write(help), 0;
  const [sub, ...rest] = a.positionals;
  const dm = await import('../../dm/index.js');
  if (sub === 'encode') {
    if (rest.length > 0) throw new UsageError('encode takes no file argument (use -o)');
    const serverId = required(a.values, 'server-id');
    const serverPassword = required(a.values, 'server-password');
    const nonce = await nonceOf(required(a.values, 'nonce'));
    const sid = required(a.values, 'session-id');
    if (!/^[0-9a-fA-F]{1,4}$/.test(sid) || Number.parseInt(sid, 16) === 0) throw new UsageError(`--session-id must be hex 1..FFFF (got '${sid}')`);
    let bytes = dm.encodeNotification({
      serverId,
      serverPassword,
      nonce,
      sessionId: Number.parseInt(sid, 16),
      uiMode: choice('ui-mode', a.values['ui-mode'], UI_MODES, 'not-specified'),
      initiator: choice('initiator', a.values.initiator, ['server', 'client'] as const, 'server'),
      version: integer('version', a.values.version, dm.DEFAULT_NOTIFICATION_VERSION, 0, 1023),
      vendor: hexBytes('vendor', a.values.vendor),
    });
    if (a.flags['wap-push']) bytes = dm.wsp.wrapWapPush(bytes);
    await writeOutput(a.values.output, bytes);
    return 0;
  }
  if (sub === 'decode') {
    if (rest.length > 1) throw new UsageError('decode takes one input');
    const password = a.values['server-password'];
    const nonceText = a.values.nonce;
    if ((password === undefined) !== (nonceText === undefined)) throw new UsageError('checking the digest needs both --server-password and --nonce');
    const input = await readInput(rest[0]);
    const { unwrapNotificationPush } = await import('../../client/push-router.js');
    const n = dm.decodeNotification(unwrapNotificationPush(input).body);
    let digest = 'unchecked';
    if (password !== undefined) {
      const check = dm.verifyNotificationDigest(n, password, await nonceOf(nonceText!));
      digest = check.valid ? 'valid' : 'invalid';
    }
    const lines = [
      `version: ${n.version}`,
      `ui-mode: ${n.uiMode}`,
      `initiator: ${n.initiator}`,
      `session-id: ${n.sessionIdHex}`,
      `server-id: ${n.serverId}`,
      `vendor: ${toHex(n.vendor)}`,
      `digest: ${digest}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    if (digest === 'invalid') {
      process.stderr.write('syncml-dm: the digest does not verify with this server password and nonce\n');
      return 1;
    }
    return 0;
  }
  throw new UsageError(sub === undefined ? 'notification needs encode or decode' : `unknown notification command '${sub}'`);
}
