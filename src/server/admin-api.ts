/**
 * The admin API: JSON over HTTP, on its own port, every request with `Authorization: Bearer
 * <token>` (compared in constant time). Devices and credentials, jobs and FUMO campaigns,
 * package 0, and what devices reported (trees, results, alerts, sessions). docs/server.md lists
 * every endpoint.
 *
 * Secrets never leave through the API: a device shows `hasClientSecret` / `hasServerSecret`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { constantTimeEqual } from '../dm/auth.js';
import { DmError, isDmError } from '../dm/errors.js';
import { parseJobSpec, type JobState } from '../dm/jobs.js';
import type { DeviceAuth, AuthScheme } from '../dm/server-auth.js';
import { isStoreUnavailable, type DeviceRecord, type ListFilter, type Store } from './store.js';
import { notifyDevice } from './notify.js';
import type { PushSender } from './push.js';
import { silentLogger, type ServerLogger } from './log.js';

/** Options of {@link createAdminApi}. @public */
export interface AdminApiOptions {
  store: Store;
  /** The bearer token every request must carry. */
  token: string;
  /** Delivers package 0 (`POST /api/devices/:id/notify`); without one the notification is only built and recorded. */
  pushSender?: PushSender;
  /** The server id used for package 0 when a device has none. Default `syncml-dm`. */
  serverId?: string;
  /** Largest JSON body (a FUMO Update carries the package). Default 32 MiB. */
  bodyLimit?: number;
  log?: ServerLogger;
  random?: (n: number) => Uint8Array;
  now?: () => number;
  /** Open sessions in memory, for `GET /api/health`. */
  openSessions?: () => number;
}

class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const SCHEMES: readonly AuthScheme[] = ['none', 'basic', 'md5', 'hmac'];
const STATES: readonly JobState[] = ['queued', 'sent', 'answered', 'failed', 'waiting-alert', 'done'];
const UI_MODES = ['not-specified', 'background', 'informative', 'user-interaction'];

/** A device as the API shows it (no secrets). @public */
export function publicDevice(d: DeviceRecord): Record<string, unknown> {
  const { clientSecret, serverSecret, ...auth } = d.auth;
  return { ...d, auth: { ...auth, hasClientSecret: !!clientSecret, hasServerSecret: !!serverSecret } };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function authInput(v: unknown): Partial<DeviceAuth> {
  if (v === undefined) return {};
  if (!isObject(v)) throw new ApiError(400, 'auth must be an object');
  const out: Partial<DeviceAuth> = {};
  for (const k of ['scheme', 'serverScheme'] as const) {
    if (v[k] === undefined) continue;
    if (!SCHEMES.includes(v[k] as AuthScheme)) throw new ApiError(400, `auth.${k} must be one of ${SCHEMES.join(', ')}`);
    out[k] = v[k] as AuthScheme;
  }
  for (const k of ['clientName', 'clientSecret', 'serverId', 'serverSecret', 'clientNonce', 'serverNonce'] as const) {
    if (v[k] === undefined) continue;
    if (typeof v[k] !== 'string') throw new ApiError(400, `auth.${k} must be a string`);
    out[k] = v[k] as string;
  }
  return out;
}

function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) { failed = true; reject(new ApiError(413, `body over ${limit} bytes`)); return; }
      chunks.push(c);
    });
    req.on('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (text === '') return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new ApiError(400, 'the body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function filterOf(q: URLSearchParams): ListFilter {
  const f: ListFilter = {};
  const device = q.get('device');
  if (device) f.deviceId = device;
  const job = q.get('job');
  if (job) f.jobId = job;
  const state = q.get('state');
  if (state) {
    if (!STATES.includes(state as JobState)) throw new ApiError(400, `state must be one of ${STATES.join(', ')}`);
    f.state = state as JobState;
  }
  const campaign = q.get('campaign');
  if (campaign) f.campaign = campaign;
  const limit = q.get('limit');
  if (limit) {
    if (!/^\d+$/.test(limit)) throw new ApiError(400, 'limit must be a whole number');
    f.limit = Number(limit);
  }
  return f;
}

/**
 * Creates the admin API handler. Mount it on its own port (it answers under `/api/`).
 *
 * @example
 * ```ts
 * createServer(createAdminApi({ store, token: 'secret-token' })).listen(8444, '127.0.0.1');
 * // curl -H 'authorization: Bearer secret-token' http://127.0.0.1:8444/api/devices
 * ```
 * @public
 */
export function createAdminApi(options: AdminApiOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { store } = options;
  const log = options.log ?? silentLogger;
  const limit = options.bodyLimit ?? 32 << 20;
  const random = options.random ?? ((n: number) => new Uint8Array(randomBytes(n)));
  const now = options.now ?? Date.now;
  if (typeof options.token !== 'string' || options.token.length < 16) throw new DmError('INVALID_ARGUMENT', 'the admin token must be at least 16 characters');

  async function device(id: string): Promise<DeviceRecord> {
    const d = await store.getDevice(id);
    if (d === undefined) throw new ApiError(404, `no device '${id}'`);
    return d;
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const auth = String(req.headers.authorization ?? '');
    const given = auth.toLowerCase().startsWith('bearer ') ? auth.slice(7).trim() : '';
    if (!constantTimeEqual(given, options.token)) {
      res.setHeader('www-authenticate', 'Bearer');
      throw new ApiError(401, 'a valid bearer token is required');
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p));
    if (parts[0] !== 'api') throw new ApiError(404, 'not found (the API is under /api/)');
    const [, top, id, sub] = parts;
    const method = req.method ?? 'GET';
    const q = url.searchParams;
    const body = method === 'POST' || method === 'PUT' || method === 'PATCH' ? await readJson(req, limit) : undefined;
    const is = (m: string, n: number): boolean => method === m && parts.length === n;

    if (top === 'health' && is('GET', 2)) return sendJson(res, 200, { ok: true, openSessions: options.openSessions?.() ?? 0 });

    if (top === 'devices') {
      if (is('GET', 2)) return sendJson(res, 200, (await store.listDevices()).map(publicDevice));
      if (is('POST', 2)) {
        if (!isObject(body) || typeof body.id !== 'string' || body.id.trim() === '') throw new ApiError(400, 'id (the DevId) is required');
        if (await store.getDevice(body.id)) throw new ApiError(409, `device '${body.id}' exists (PUT /api/devices/:id to change it)`);
        const a = authInput(body.auth);
        const d = await store.putDevice({
          id: body.id.trim(), auth: { scheme: 'md5', ...a },
          ...(typeof body.name === 'string' ? { name: body.name } : {}), ...(typeof body.pushAddress === 'string' ? { pushAddress: body.pushAddress } : {}),
        }, now());
        log.event('admin', { action: 'add-device', device: d.id });
        return sendJson(res, 201, publicDevice(d));
      }
      if (id === undefined) throw new ApiError(405, `${method} not allowed here`);
      if (is('GET', 3)) return sendJson(res, 200, publicDevice(await device(id)));
      if ((method === 'PUT' || method === 'PATCH') && parts.length === 3) {
        await device(id);
        if (!isObject(body)) throw new ApiError(400, 'a JSON object is required');
        const d = await store.putDevice({
          id, ...(body.auth !== undefined ? { auth: authInput(body.auth) } : {}),
          ...(typeof body.name === 'string' ? { name: body.name } : {}), ...(typeof body.pushAddress === 'string' ? { pushAddress: body.pushAddress } : {}),
        }, now());
        return sendJson(res, 200, publicDevice(d));
      }
      if (is('DELETE', 3)) {
        if (!(await store.deleteDevice(id))) throw new ApiError(404, `no device '${id}'`);
        log.event('admin', { action: 'delete-device', device: id });
        return sendJson(res, 200, { deleted: id });
      }
      if (sub === 'credentials' && (method === 'PUT' || method === 'POST') && parts.length === 4) {
        const d = await store.setCredentials(id, authInput(body), now());
        if (d === undefined) throw new ApiError(404, `no device '${id}'`);
        log.event('admin', { action: 'credentials', device: id });
        return sendJson(res, 200, publicDevice(d));
      }
      if (sub === 'tree' && is('GET', 4)) {
        await device(id);
        return sendJson(res, 200, await store.getTree(id));
      }
      if (sub === 'jobs' && is('GET', 4)) return sendJson(res, 200, await store.listJobs({ ...filterOf(q), deviceId: id }));
      if (sub === 'jobs' && is('POST', 4)) {
        await device(id);
        const spec = parseJobSpec(isObject(body) && isObject(body.spec) ? body.spec : body);
        const job = await store.addJob(id, spec, now());
        log.event('admin', { action: 'queue', device: id, job: job.id, kind: spec.kind });
        return sendJson(res, 201, job);
      }
      if (sub === 'results' && is('GET', 4)) return sendJson(res, 200, await store.listResults({ ...filterOf(q), deviceId: id }));
      if (sub === 'alerts' && is('GET', 4)) return sendJson(res, 200, await store.listAlerts({ ...filterOf(q), deviceId: id }));
      if (sub === 'sessions' && is('GET', 4)) return sendJson(res, 200, await store.listSessions({ ...filterOf(q), deviceId: id }));
      if (sub === 'notifications' && is('GET', 4)) return sendJson(res, 200, await store.listNotifications({ ...filterOf(q), deviceId: id }));
      if (sub === 'notify' && is('POST', 4)) {
        const o = isObject(body) ? body : {};
        if (o.uiMode !== undefined && !UI_MODES.includes(o.uiMode as string)) throw new ApiError(400, `uiMode must be one of ${UI_MODES.join(', ')}`);
        if (o.initiator !== undefined && o.initiator !== 'server' && o.initiator !== 'client') throw new ApiError(400, "initiator must be 'server' or 'client'");
        for (const k of ['version', 'sessionId'] as const) if (o[k] !== undefined && !Number.isInteger(o[k])) throw new ApiError(400, `${k} must be an integer`);
        const r = await notifyDevice(store, options.pushSender, id, {
          ...(o.uiMode !== undefined ? { uiMode: o.uiMode as never } : {}), ...(o.initiator !== undefined ? { initiator: o.initiator as never } : {}),
          ...(o.version !== undefined ? { version: o.version as number } : {}), ...(o.sessionId !== undefined ? { sessionId: o.sessionId as number } : {}),
        }, { serverId: options.serverId ?? 'syncml-dm', random, now: now() });
        log.event('admin', { action: 'notify', device: id, session: r.notification.sessionId, delivery: r.delivery });
        return sendJson(res, 201, { ...r.notification, package0: Buffer.from(r.bytes).toString('base64') });
      }
    }

    if (top === 'jobs') {
      if (is('GET', 2)) return sendJson(res, 200, await store.listJobs(filterOf(q)));
      if (is('POST', 2)) {
        if (!isObject(body) || typeof body.device !== 'string') throw new ApiError(400, 'device is required');
        await device(body.device);
        const spec = parseJobSpec(body.spec);
        return sendJson(res, 201, await store.addJob(body.device, spec, now()));
      }
      if (id !== undefined && is('GET', 3)) {
        const j = await store.getJob(id);
        if (j === undefined) throw new ApiError(404, `no job '${id}'`);
        return sendJson(res, 200, j);
      }
      if (id !== undefined && is('DELETE', 3)) {
        const j = await store.getJob(id);
        if (j === undefined) throw new ApiError(404, `no job '${id}'`);
        const c = await store.cancelJob(id, now());
        if (c === undefined) throw new ApiError(409, `job ${id} is ${j.state}: only queued or waiting-alert jobs can be cancelled`);
        return sendJson(res, 200, c);
      }
    }

    if (top === 'fumo') {
      if (is('POST', 2)) {
        if (!isObject(body)) throw new ApiError(400, 'a JSON object is required');
        const devices = body.devices;
        if (!Array.isArray(devices) || devices.length === 0 || !devices.every((d) => typeof d === 'string')) throw new ApiError(400, 'devices must be a non-empty list of device ids');
        const { devices: _d, campaign: name, ...fumo } = body;
        const spec = parseJobSpec({ kind: 'fumo', fumo });
        for (const d of devices as string[]) await device(d);
        const campaign = typeof name === 'string' && name !== '' ? name : `fumo-${Buffer.from(random(6)).toString('hex')}`;
        const jobs = [];
        for (const d of devices as string[]) jobs.push(await store.addJob(d, spec, now(), { campaign }));
        log.event('admin', { action: 'fumo', campaign, devices: devices.length });
        return sendJson(res, 201, { campaign, jobs });
      }
      if (id !== undefined && is('GET', 3)) {
        const jobs = await store.listJobs({ campaign: id });
        if (jobs.length === 0) throw new ApiError(404, `no campaign '${id}'`);
        const states: Record<string, number> = {};
        for (const j of jobs) states[j.state] = (states[j.state] ?? 0) + 1;
        return sendJson(res, 200, { campaign: id, states, jobs });
      }
    }

    if (top === 'alerts' && is('GET', 2)) return sendJson(res, 200, await store.listAlerts(filterOf(q)));
    if (top === 'results' && is('GET', 2)) return sendJson(res, 200, await store.listResults(filterOf(q)));
    if (top === 'sessions' && is('GET', 2)) return sendJson(res, 200, await store.listSessions(filterOf(q)));
    if (top === 'notifications' && is('GET', 2)) return sendJson(res, 200, await store.listNotifications(filterOf(q)));
    if (top === 'auth-events' && is('GET', 2)) return sendJson(res, 200, await store.listAuthEvents(filterOf(q)));
    throw new ApiError(404, `no ${method} ${url.pathname}`);
  }

  return (req, res) => {
    route(req, res).catch((e) => {
      if (e instanceof ApiError) return sendJson(res, e.status, { error: e.message });
      if (isDmError(e)) {
        const status = e.code === 'NOT_FOUND' ? 404 : e.code === 'TRANSPORT' ? 502 : 400;
        return sendJson(res, status, { error: e.message, code: e.code });
      }
      if (isStoreUnavailable(e)) {
        log.error('store unavailable: the admin request was not stored', e, { url: req.url, status: 507 });
        return sendJson(res, 507, { error: `the store cannot write (${(e as { code?: string }).code}): nothing was changed`, code: 'STORE_UNAVAILABLE' });
      }
      log.error('admin request failed', e, { url: req.url });
      sendJson(res, 500, { error: 'internal error' });
    });
  };
}
