/**
 * What a DM client keeps across restarts: the management tree (with the DMAcc secrets and nonces
 * in it), Generic Alerts the server has not acknowledged, FUMO jobs and where they stand, the
 * package 0 session ids already answered, and per-server choices (protocol version, nonce form).
 *
 * `ClientStore` is the interface; `JsonFileStore` the embedded default: one JSON document per
 * device directory, replaced atomically (write a temporary file, fsync it, rename it over the old
 * one, fsync the directory), so a crash at any point leaves either the old or the new state and
 * nothing that was acknowledged is lost once `save` has returned.
 */
import { mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { GenericAlertRecord } from '../dm/client-session.js';
import type { NonceForm } from '../dm/client-auth.js';
import { fromBase64, toBase64 } from '../dm/base64.js';
import { DmError } from '../dm/errors.js';
import type { FumoJob } from '../dm/fumo.js';
import type { TreeJson } from '../dm/tree.js';

/** A Generic Alert waiting for acknowledgement. @public */
export interface StoredAlert extends GenericAlertRecord {
  /** The server it is for (DMAcc ServerID); absent = the default server. */
  serverId?: string;
  createdAt: number;
  /** Sessions that carried it so far. */
  attempts: number;
}

/** Where a FUMO job stands (each step is saved before the next begins). @public */
export type FumoJobPhase = 'queued' | 'downloading' | 'downloaded' | 'installing' | 'reporting' | 'done';

/** A FUMO job as stored. @public */
export interface StoredFumoJob {
  id: string;
  job: FumoJob;
  phase: FumoJobPhase;
  /** The package file, once downloaded (or delivered in DM). */
  file?: string;
  /** The FUMO result code, once known. */
  result?: number;
  /** Id of the Generic Alert reporting it. */
  alertId?: string;
  createdAt: number;
}

/** A package 0 session already answered (duplicate suppression, DMNOTI 6.2). @public */
export interface NotifiedSession {
  serverId: string;
  sessionId: string;
  at: number;
}

/** Per-server choices learnt in earlier sessions. @public */
export interface ServerPreferences {
  /** `1.1.2` after the server refused DM 1.2 (the fallback is kept). */
  protocol?: '1.2' | '1.1.2';
  nonceForm?: NonceForm;
}

/** The whole persisted state of one device. @public */
export interface ClientState {
  format: 'syncml-dm/client-state';
  version: 1;
  tree?: TreeJson;
  alerts: StoredAlert[];
  fumoJobs: StoredFumoJob[];
  notified: NotifiedSession[];
  servers: Record<string, ServerPreferences>;
  /** Package files on the device, by FUMO instance URI (downloaded, or delivered as PkgData). */
  packages: Record<string, string>;
  /** Counter for ids. */
  seq: number;
}

/** A fresh state. @public */
export function emptyClientState(): ClientState {
  return { format: 'syncml-dm/client-state', version: 1, alerts: [], fumoJobs: [], notified: [], servers: {}, packages: {}, seq: 0 };
}

/** Where the client's state lives. `save` is durable when it resolves. @public */
export interface ClientStore {
  load(): Promise<ClientState>;
  save(state: ClientState): Promise<void>;
  /** A directory for files of this device (FUMO packages), when the store has one. */
  readonly directory?: string;
}

function checked(value: unknown, where: string): ClientState {
  const v = value as Partial<ClientState> | null;
  if (!v || typeof v !== 'object' || v.format !== 'syncml-dm/client-state' || v.version !== 1) {
    throw new DmError('INVALID_ARGUMENT', `${where} is not a syncml-dm client state (version 1)`);
  }
  return {
    ...emptyClientState(),
    ...v,
    alerts: Array.isArray(v.alerts) ? v.alerts : [],
    fumoJobs: Array.isArray(v.fumoJobs) ? v.fumoJobs : [],
    notified: Array.isArray(v.notified) ? v.notified : [],
    servers: v.servers && typeof v.servers === 'object' ? v.servers : {},
    packages: v.packages && typeof v.packages === 'object' ? v.packages : {},
    seq: typeof v.seq === 'number' ? v.seq : 0,
  } as ClientState;
}

/** A copy of `v` with its bytes as `{ $b64 }`. */
function bytesAsBase64(v: unknown): unknown {
  if (v instanceof Uint8Array) return { $b64: toBase64(v) };
  if (Array.isArray(v)) return v.map(bytesAsBase64);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = bytesAsBase64(x);
    return out;
  }
  return v;
}

/** JSON text of a state: bytes (alert data) as `{ "$b64": "…" }`. @public */
export function stateToJson(state: ClientState): string {
  // The tree (most of the state) holds no bytes (TreeJson has valueBase64): it goes to
  // JSON.stringify as it is, without a replacer called for each of its values.
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(state)) out[k] = k === 'tree' ? v : bytesAsBase64(v);
  return JSON.stringify(out, null, 1);
}

/** Reads {@link stateToJson} output. Throws DmError INVALID_ARGUMENT for anything else. @public */
export function stateFromJson(text: string, where = 'the state'): ClientState {
  let value: unknown;
  try {
    value = JSON.parse(text, (_k, v: unknown) => {
      if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as { $b64?: unknown }).$b64 === 'string' && Object.keys(v).length === 1) {
        return fromBase64((v as { $b64: string }).$b64);
      }
      return v;
    });
  } catch (e) {
    throw new DmError('INVALID_ARGUMENT', `${where} is not JSON: ${(e as Error).message}`, { cause: e });
  }
  return checked(value, where);
}

/** A store in memory (tests, or devices that keep nothing). @public */
export class MemoryStore implements ClientStore {
  private text: string | undefined;
  readonly directory?: string;

  constructor(directory?: string) {
    if (directory !== undefined) this.directory = directory;
  }

  async load(): Promise<ClientState> {
    return this.text === undefined ? emptyClientState() : stateFromJson(this.text);
  }

  async save(state: ClientState): Promise<void> {
    this.text = stateToJson(state);
  }
}

/** Test hooks of {@link JsonFileStore} (to simulate a crash between the steps of a save). @public */
export interface JsonFileStoreHooks {
  /** Called after the temporary file is written and synced, before the rename. */
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

const STATE_FILE = 'state.json';
const TEMP_PREFIX = `${STATE_FILE}.tmp-`;

/** A directory name for a device id (characters outside `[A-Za-z0-9._-]` become `_`). @public */
export function deviceDirectoryName(deviceId: string): string {
  const s = deviceId.replace(/[^A-Za-z0-9._-]/g, '_');
  return s === '' || s === '.' || s === '..' ? '_' : s;
}

/**
 * The embedded store: `<directory>/state.json`, replaced atomically on every save.
 *
 * @example
 * ```ts
 * const store = JsonFileStore.forDevice('/var/lib/dm', 'IMEI:356938035643809');
 * const state = await store.load(); // empty the first time
 * ```
 * @public
 */
export class JsonFileStore implements ClientStore {
  readonly directory: string;
  private readonly hooks: JsonFileStoreHooks;
  private chain: Promise<unknown> = Promise.resolve();
  private n = 0;

  constructor(directory: string, options: { hooks?: JsonFileStoreHooks } = {}) {
    this.directory = directory;
    this.hooks = options.hooks ?? {};
  }

  /** The store of one device under a root directory (one directory per device). */
  static forDevice(root: string, deviceId: string, options: { hooks?: JsonFileStoreHooks } = {}): JsonFileStore {
    return new JsonFileStore(join(root, deviceDirectoryName(deviceId)), options);
  }

  get path(): string {
    return join(this.directory, STATE_FILE);
  }

  /** The last saved state (empty when none). Leftover temporary files of a crashed save are removed. */
  async load(): Promise<ClientState> {
    await this.removeTemporaries();
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyClientState();
      throw new DmError('INVALID_ARGUMENT', `cannot read ${this.path}: ${(e as Error).message}`, { cause: e });
    }
    return stateFromJson(text, this.path);
  }

  /** Saves atomically; saves run one after another in call order. */
  save(state: ClientState): Promise<void> {
    const text = stateToJson(state);
    const p = this.chain.then(() => this.write(text));
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async write(text: string): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const temp = join(this.directory, `${TEMP_PREFIX}${process.pid}-${++this.n}`);
    const fh = await open(temp, 'w', 0o600);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await this.hooks.beforeRename?.(temp);
      await rename(temp, this.path);
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      throw e;
    }
    await this.syncDirectory();
  }

  /** The rename is durable only once the directory entry is (POSIX); not possible everywhere. */
  private async syncDirectory(): Promise<void> {
    let dir;
    try {
      dir = await open(this.directory, 'r');
      await dir.sync();
    } catch {
      // Windows cannot open a directory; EISDIR / EPERM elsewhere: the rename is all we have.
    } finally {
      await dir?.close().catch(() => undefined);
    }
  }

  private async removeTemporaries(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch {
      return;
    }
    await Promise.all(names.filter((n) => n.startsWith(TEMP_PREFIX)).map((n) => unlink(join(this.directory, n)).catch(() => undefined)));
  }
}
