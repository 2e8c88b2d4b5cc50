import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs, integer, choice, UsageError } from '../args.js';
import { DmError } from '../../dm/errors.js';

export const help = `Usage: syncml-dm admin [--url URL] [--token T] [--data DIR] [--json] <command> ...

Talks to a running 'syncml-dm server' through its admin API. The URL and token come from
--url/--token, the SYNCML_DM_ADMIN_URL/SYNCML_DM_ADMIN_TOKEN variables, or the server's data
directory (--data, default ./syncml-dm-data: files admin-url and admin-token).

Devices
  devices list
  devices add ID [--scheme md5|basic|hmac|none] [--client-name N] [--client-secret S]
                 [--server-id ID] [--server-secret S] [--server-scheme md5|basic|hmac|none]
                 [--server-nonce B64] [--client-nonce B64]
                 [--name NAME] [--push-address A]
  devices show ID
  devices credentials ID [the credential options of 'devices add']
  devices tree ID            the device's tree as the server last saw it
  devices delete ID
Jobs
  queue DEVICE get|delete TARGET
  queue DEVICE add|replace TARGET [VALUE | --text VALUE | --data-file FILE] [--format F] [--type T]
  queue DEVICE exec TARGET [VALUE] [--correlator C]
  queue DEVICE copy TARGET --source URI
  queue DEVICE alert 1100|1101|1102|1103|1104 TEXT [--choice C]... [--min-dt S] [--max-dt S] [--default D]
  queue DEVICE --spec JSON   any job spec (an Atomic or Sequence group, for one)
  jobs list [--device ID] [--state S] [--campaign C]
  jobs show JOB
  jobs cancel JOB
  fumo DEVICE... --node ./FUMO/x (--pkg-url URL | --pkg-file FILE --operation Update)
                 [--operation DownloadAndUpdate|Download|Update] [--campaign NAME] [--correlator C] [--no-create]
  fumo status CAMPAIGN
Sessions
  notify DEVICE [--ui-mode not-specified|background|informative|user-interaction] [--session-id N]
  alerts [--device ID]
  results [--device ID] [--job JOB]
  sessions [--device ID]

Output is JSON for 'show' and the like, a table for lists (--json: always JSON).
`;

const VALUES = [
  'url', 'token', 'data', 'scheme', 'server-scheme', 'client-name', 'client-secret', 'server-id', 'server-secret', 'server-nonce', 'client-nonce',
  'name', 'push-address', 'device', 'state', 'campaign', 'job', 'format', 'type', 'source', 'correlator', 'data-file', 'spec',
  'node', 'pkg-url', 'pkg-file', 'operation', 'ui-mode', 'session-id', 'min-dt', 'max-dt', 'default', 'text',
];

interface Conn {
  url: string;
  token: string;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function connection(v: Record<string, string | undefined>): Conn {
  const dir = resolve(v.data ?? 'syncml-dm-data');
  const fromDir = v.data !== undefined || existsSync(dir);
  const url = v.url ?? process.env.SYNCML_DM_ADMIN_URL ?? (fromDir ? readText(join(dir, 'admin-url')) : undefined) ?? 'http://127.0.0.1:8444';
  const token = v.token ?? process.env.SYNCML_DM_ADMIN_TOKEN ?? (fromDir ? readText(join(dir, 'admin-token')) : undefined);
  if (token === undefined || token === '') throw new UsageError('no admin token: give --token, set SYNCML_DM_ADMIN_TOKEN, or --data with the server\'s data directory');
  return { url: url.replace(/\/+$/, ''), token };
}

/** Calls the API; HTTP errors become DmErrors so the command prints one line. */
async function call(c: Conn, method: string, path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${c.url}${path}`, {
      method, headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new DmError('TRANSPORT', `cannot reach the admin API at ${c.url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  if (!res.ok) {
    const msg = (json as { error?: string } | undefined)?.error ?? `HTTP ${res.status}`;
    const code = res.status === 404 ? 'NOT_FOUND' : res.status === 401 ? 'AUTH_FAILED' : res.status === 409 ? 'FORBIDDEN' : res.status >= 500 ? 'TRANSPORT' : 'INVALID_ARGUMENT';
    throw new DmError(code, msg);
  }
  return json;
}

const enc = encodeURIComponent;

function print(v: unknown): void {
  process.stdout.write(JSON.stringify(v, null, 2) + '\n');
}

function table(rows: Record<string, unknown>[], cols: string[]): void {
  if (rows.length === 0) return void process.stdout.write('(none)\n');
  const cell = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = cols.map((c) => Math.min(48, Math.max(c.length, ...rows.map((r) => cell(r[c]).length))));
  const line = (vals: string[]) => vals.map((x, i) => x.slice(0, widths[i]).padEnd(widths[i])).join('  ').trimEnd() + '\n';
  process.stdout.write(line(cols.map((c) => c.toUpperCase())));
  for (const r of rows) process.stdout.write(line(cols.map((c) => cell(r[c]))));
}

function when(ms: unknown): string {
  return typeof ms === 'number' ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '';
}

function credentials(v: Record<string, string | undefined>): Record<string, string> {
  const map: [string, string][] = [['scheme', 'scheme'], ['client-name', 'clientName'], ['client-secret', 'clientSecret'], ['server-id', 'serverId'],
    ['server-secret', 'serverSecret'], ['server-scheme', 'serverScheme'], ['server-nonce', 'serverNonce'], ['client-nonce', 'clientNonce']];
  const out: Record<string, string> = {};
  for (const [opt, key] of map) if (v[opt] !== undefined) out[key] = v[opt]!;
  if (out.scheme !== undefined) choice('scheme', out.scheme, ['md5', 'basic', 'hmac', 'none'] as const, 'md5');
  if (out.serverScheme !== undefined) choice('server-scheme', out.serverScheme, ['md5', 'basic', 'hmac', 'none'] as const, 'md5');
  return out;
}

function need(list: string[], n: number, usage: string): void {
  if (list.length < n) throw new UsageError(`usage: syncml-dm admin ${usage}`);
}

const VERBS: Record<string, string> = { get: 'Get', add: 'Add', replace: 'Replace', delete: 'Delete', exec: 'Exec', copy: 'Copy' };

function jobSpec(args: string[], v: Record<string, string | undefined>, lists: Record<string, string[]>): unknown {
  if (v.spec !== undefined) {
    try {
      return JSON.parse(v.spec);
    } catch {
      throw new UsageError('--spec must be JSON');
    }
  }
  need(args, 2, 'queue DEVICE VERB TARGET ... (see --help)');
  const [verb, target, text] = args;
  if (verb === 'alert') {
    const code = Number(target);
    if (![1100, 1101, 1102, 1103, 1104].includes(code)) throw new UsageError('alert code must be 1100-1104');
    const options: Record<string, unknown> = {};
    if (v['min-dt'] !== undefined) options.minDisplayTime = integer('min-dt', v['min-dt'], 0);
    if (v['max-dt'] !== undefined) options.maxDisplayTime = integer('max-dt', v['max-dt'], 0);
    if (v.default !== undefined) options.defaultResponse = v.default;
    const alert: Record<string, unknown> = { code, text: text ?? v.text ?? '', options };
    if (lists.choice !== undefined) alert.choices = lists.choice;
    return { kind: 'ui-alert', alert };
  }
  const V = VERBS[verb];
  if (V === undefined) throw new UsageError(`unknown verb '${verb}' (get, add, replace, delete, exec, copy, alert)`);
  const command: Record<string, unknown> = { verb: V, target };
  if (v['data-file'] !== undefined) {
    let b: Buffer;
    try {
      b = readFileSync(v['data-file']);
    } catch (e) {
      throw new UsageError(`cannot read '${v['data-file']}': ${(e as Error).message}`);
    }
    command.dataBase64 = b.toString('base64');
  } else if (v.text !== undefined || args[2] !== undefined) command.data = v.text ?? args[2];
  for (const k of ['format', 'type', 'source', 'correlator'] as const) if (v[k] !== undefined) command[k] = v[k];
  return { kind: 'command', command };
}

export async function run(argv: string[]): Promise<number> {
  // `--data` names the data directory; a command's text data goes in --text or as an argument.
  const a = parseArgs(argv, { values: VALUES, flags: ['json', 'no-create'], repeat: ['choice'] });
  if (a.flags.help || a.positionals.length === 0) return void process.stdout.write(help), 0;
  const v = a.values;
  const c = connection(v);
  const json = !!a.flags.json;
  const [cmd, ...rest] = a.positionals;
  const q = (params: Record<string, string | undefined>): string => {
    const s = new URLSearchParams();
    for (const [k, x] of Object.entries(params)) if (x !== undefined) s.set(k, x);
    const t = s.toString();
    return t ? `?${t}` : '';
  };

  switch (cmd) {
    case 'devices': {
      const [sub, id] = rest;
      if (sub === 'list' || sub === undefined) {
        const list = (await call(c, 'GET', '/api/devices')) as Record<string, any>[];
        if (json) print(list);
        else table(list.map((d) => ({ id: d.id, name: d.name, auth: d.auth.scheme, dm: d.dmVersion, man: d.devInfo?.Man, mod: d.devInfo?.Mod, 'last seen': when(d.lastSeen) })), ['id', 'name', 'auth', 'dm', 'man', 'mod', 'last seen']);
        return 0;
      }
      need(rest, 2, `devices ${sub} ID`);
      if (sub === 'add') {
        const body: Record<string, unknown> = { id, auth: credentials(v) };
        if (v.name !== undefined) body.name = v.name;
        if (v['push-address'] !== undefined) body.pushAddress = v['push-address'];
        print(await call(c, 'POST', '/api/devices', body));
        return 0;
      }
      if (sub === 'show') return print(await call(c, 'GET', `/api/devices/${enc(id)}`)), 0;
      if (sub === 'credentials') return print(await call(c, 'PUT', `/api/devices/${enc(id)}/credentials`, credentials(v))), 0;
      if (sub === 'delete') return print(await call(c, 'DELETE', `/api/devices/${enc(id)}`)), 0;
      if (sub === 'tree') {
        const nodes = (await call(c, 'GET', `/api/devices/${enc(id)}/tree`)) as Record<string, unknown>[];
        if (json) print(nodes);
        else table(nodes.map((n) => ({ uri: n.uri, value: n.data, format: n.format, seen: when(n.at) })), ['uri', 'value', 'format', 'seen']);
        return 0;
      }
      throw new UsageError(`unknown 'devices ${sub}' (list, add, show, credentials, tree, delete)`);
    }
    case 'queue': {
      need(rest, 1, 'queue DEVICE VERB TARGET ...');
      const [device, ...spec] = rest;
      print(await call(c, 'POST', `/api/devices/${enc(device)}/jobs`, jobSpec(spec, v, a.lists)));
      return 0;
    }
    case 'jobs': {
      const [sub, id] = rest;
      if (sub === 'list' || sub === undefined) {
        const list = (await call(c, 'GET', `/api/jobs${q({ device: v.device, state: v.state, campaign: v.campaign })}`)) as Record<string, any>[];
        if (json) print(list);
        else {
          table(list.map((j) => ({
            id: j.id, device: j.deviceId, kind: j.spec.kind === 'command' ? `${j.spec.command.verb} ${j.spec.command.target}` : j.spec.kind === 'group' ? j.spec.group : j.spec.kind,
            state: j.state, step: j.step, codes: j.statuses.map((s: { code: number }) => s.code).join(','), updated: when(j.updatedAt),
          })), ['id', 'device', 'kind', 'state', 'step', 'codes', 'updated']);
        }
        return 0;
      }
      need(rest, 2, `jobs ${sub} JOB`);
      if (sub === 'show') return print(await call(c, 'GET', `/api/jobs/${enc(id)}`)), 0;
      if (sub === 'cancel') return print(await call(c, 'DELETE', `/api/jobs/${enc(id)}`)), 0;
      throw new UsageError(`unknown 'jobs ${sub}' (list, show, cancel)`);
    }
    case 'fumo': {
      if (rest[0] === 'status') {
        need(rest, 2, 'fumo status CAMPAIGN');
        print(await call(c, 'GET', `/api/fumo/${enc(rest[1])}`));
        return 0;
      }
      need(rest, 1, 'fumo DEVICE... --node URI --pkg-url URL');
      if (v.node === undefined) throw new UsageError('fumo needs --node (the FUMO instance, e.g. ./FUMO/fw1)');
      const body: Record<string, unknown> = { devices: rest, node: v.node };
      if (v.operation !== undefined) body.operation = choice('operation', v.operation, ['DownloadAndUpdate', 'Download', 'Update'] as const, 'DownloadAndUpdate');
      if (v['pkg-url'] !== undefined) body.pkgUrl = v['pkg-url'];
      if (v['pkg-file'] !== undefined) {
        try {
          body.pkgDataBase64 = readFileSync(v['pkg-file']).toString('base64');
        } catch (e) {
          throw new UsageError(`cannot read '${v['pkg-file']}': ${(e as Error).message}`);
        }
      }
      if (v.campaign !== undefined) body.campaign = v.campaign;
      if (v.correlator !== undefined) body.correlator = v.correlator;
      if (a.flags['no-create']) body.createInstance = false;
      print(await call(c, 'POST', '/api/fumo', body));
      return 0;
    }
    case 'notify': {
      need(rest, 1, 'notify DEVICE');
      const body: Record<string, unknown> = {};
      if (v['ui-mode'] !== undefined) body.uiMode = choice('ui-mode', v['ui-mode'], ['not-specified', 'background', 'informative', 'user-interaction'] as const, 'not-specified');
      if (v['session-id'] !== undefined) body.sessionId = integer('session-id', v['session-id'], 1, 1, 0xffff);
      print(await call(c, 'POST', `/api/devices/${enc(rest[0])}/notify`, body));
      return 0;
    }
    case 'alerts': {
      const list = (await call(c, 'GET', `/api/alerts${q({ device: v.device })}`)) as Record<string, unknown>[];
      if (json) print(list);
      else table(list.map((x) => ({ at: when(x.at), device: x.deviceId, code: x.code, type: x.type, source: x.source, data: x.data, job: x.jobId })), ['at', 'device', 'code', 'type', 'source', 'data', 'job']);
      return 0;
    }
    case 'results': {
      const list = (await call(c, 'GET', `/api/results${q({ device: v.device, job: v.job })}`)) as Record<string, unknown>[];
      if (json) print(list);
      else table(list.map((x) => ({ at: when(x.at), device: x.deviceId, job: x.jobId, uri: x.uri, value: x.data })), ['at', 'device', 'job', 'uri', 'value']);
      return 0;
    }
    case 'sessions': {
      const list = (await call(c, 'GET', `/api/sessions${q({ device: v.device })}`)) as Record<string, unknown>[];
      if (json) print(list);
      else table(list.map((x) => ({ started: when(x.startedAt), device: x.deviceId, session: x.sessionId, by: x.initiator, auth: x.authenticated, msgs: `${x.messagesIn}/${x.messagesOut}`, ended: x.reason })), ['started', 'device', 'session', 'by', 'auth', 'msgs', 'ended']);
      return 0;
    }
    default:
      throw new UsageError(`unknown admin command '${cmd}' (devices, queue, jobs, fumo, notify, alerts, results, sessions)`);
  }
}
