/**
 * The embeddable DM client (WM-ARCH: push router -> transport client -> DPU -> configuration
 * manager -> CSPs): one object that owns the device's tree and store and runs sessions.
 *
 * ```
 * DmClient.open(options)            tree from the store (or fresh): DevInfo, DevDetail, DMAcc,
 *                                   Inbox, FUMO, the embedder's CSPs (options.setup)
 * runSession()                      client-initiated session (Alert 1201)
 * handleNotification(bytes)         package 0 -> push router -> session (Alert 1200)
 *   each session:   client-session.start -> transport.send -> parse -> receive
 *                   -> DPU.process -> afterExecution -> save -> transport.send ...
 *   after it:       FUMO jobs (download -> install -> State) -> report session(s) with the
 *                   Generic Alerts until the server acknowledges them
 * ```
 *
 * Durability: the store is saved after every server message is processed and before the reply is
 * sent, so what a reply acknowledges (a 202 for an Exec, a nonce handed out) is on disk first.
 *
 * DM 1.1.2 fallback: when the transport's rule says the server refused DM 1.2 (HTTP 4xx on package
 * 1, SyncHdr 505/513), the accounts under `./DMAcc` move to the 1.1.2 layout, the server is marked
 * 1.1.2 in the store, and package 1 is sent again as SyncML 1.1 / DM/1.1.
 */
import { mkdir, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigManager } from '../dm/config-manager.js';
import { schemeOf, type AuthScheme } from '../dm/client-auth.js';
import {
  abortSession, afterExecution, encodeOutgoing, maxResponseCommands, receive, startClientSession,
  type ClientSessionConfig, type ClientSessionEffect, type SessionEndReason, type SessionTrigger, type StepResult,
} from '../dm/client-session.js';
import { Dpu } from '../dm/dpu.js';
import { DmError, isDmError } from '../dm/errors.js';
import { FumoState } from '../dm/fumo-states.js';
import { FUMO_MO_TYPE, fumoResultAlert, installFumo, type FumoHandler, type FumoJob, type InstallFumoOptions } from '../dm/fumo.js';
import { installDevDetail, type DevDetailValues } from '../dm/mo/devdetail.js';
import { devInfoItems, installDevInfo, type DevInfoValues } from '../dm/mo/devinfo.js';
import { installDmAccount, readDmAccounts, updateAccountNonce, type DmAccount } from '../dm/mo/dmacc.js';
import { installInbox } from '../dm/mo/inbox.js';
import { ManagementTree } from '../dm/tree.js';
import type { Timers, UserInteraction } from '../dm/ui-alert.js';
import { alertLabel } from '../syncml/alert-codes.js';
import type { GenericAlertRequest } from '../syncml/generic-alert.js';
import { isFumoSuccess } from '../syncml/generic-alert.js';
import { parse } from '../syncml/parse.js';
import { serialize } from '../syncml/serialize.js';
import { statusText } from '../syncml/status-codes.js';
import type { Command, Item, SyncML } from '../syncml/types.js';
import { downloadPackage, downloadResultCode, type DownloadProgress } from './fumo-download.js';
import { MemoryNotificationLog, PushRouter, type PushOutcome, type PushUi } from './push-router.js';
import { MemoryStore, type ClientState, type ClientStore, type StoredAlert, type StoredFumoJob } from './store.js';
import {
  backoffDelay, HttpTransport, systemClock, transportError, type Clock, type TlsOptions, type Transport, type TransportOptions,
} from './transport.js';

/** The DM server this device talks to (written into `./DMAcc`). @public */
export interface DmClientServer {
  /** The server URL: DMAcc AppAddr Addr, SyncHdr Target, where package 1 goes. */
  url: string;
  /** DMAcc ServerID; default the URL's host. */
  serverId?: string;
  /** Client credentials (CLCRED). */
  username?: string;
  password?: string;
  /** Default `md5` with a user name, else `none`. */
  authType?: AuthScheme;
  /** Server credentials (SRVCRED): checked in its messages, and the package 0 digest key. */
  serverPassword?: string;
  /** Default the server id. */
  serverUsername?: string;
  /** Default `md5` with a server password, else `none` (the server is not checked). */
  serverAuthType?: AuthScheme;
}

/** Installs the firmware (the embedder's part of FUMO). @public */
export interface FumoInstaller {
  /** At Ready to Update (State 50): false = the user declined (result 401, State 70). */
  confirm?(job: FumoJob): boolean | Promise<boolean>;
  /**
   * Installs the package. Returns the result code (default 200; 250-299 for vendor success) or
   * throws: an error with a numeric `fumoResult` (or `status`) in 400-599 reports that code, any
   * other error 410 (Firmware update failed).
   */
  install(job: FumoJob, file: string): number | void | Promise<number | void>;
  /** A restart found an update interrupted at State 60: its result (default 410). */
  resumeInterrupted?(job: FumoJob, file: string | undefined): number | Promise<number>;
}

/** FUMO options of the client. @public */
export interface DmClientFumoOptions extends Omit<InstallFumoOptions, 'onJob' | 'onPackageData' | 'onStateChange'> {
  installer?: FumoInstaller;
  /** Where packages are kept; default `<store directory>/packages`. */
  downloadDir?: string;
  onDownloadProgress?: (job: FumoJob, p: DownloadProgress) => void;
  /** Download attempts after the first (each resumes); default 3. */
  downloadRetries?: number;
  /** Run jobs and report them right after the session that created them; default true. */
  autoRun?: boolean;
  /** TLS for package downloads (default: the transport's). */
  tls?: TlsOptions;
}

/** One line group of the trace. @public */
export interface TraceEvent {
  direction: 'out' | 'in' | 'note';
  sessionId?: string;
  package?: number;
  msgId?: string;
  bytes?: number;
  url?: string;
  httpStatus?: number;
  /** Human-readable: the header line, then one line per command (children indented). */
  lines: string[];
  /** The message as XML (verbose only). */
  xml?: string;
}

/** Options of {@link DmClient.open}. @public */
export interface DmClientOptions {
  /** DevInfo DevId (`IMEI:…`, `MAC:…`): SyncHdr Source. */
  deviceId: string;
  server?: DmClientServer;
  devInfo?: Partial<Omit<DevInfoValues, 'devId'>>;
  devDetail?: Partial<DevDetailValues>;
  /** Default: memory (nothing survives the process). */
  store?: ClientStore;
  /** Default `wbxml`. */
  encoding?: 'wbxml' | 'xml';
  /** Version of package 1 (w7 PROTOVER); default `1.2`. */
  protocol?: '1.2' | '1.1.2';
  /** A transport, or options for the built-in HTTP(S) one. */
  transport?: Transport | TransportOptions;
  clock?: Clock;
  random?: (n: number) => Uint8Array;
  /** Largest message this device takes (SyncHdr MaxMsgSize); default 65 536. */
  maxMsgSize?: number;
  /** Largest object (MaxObjSize); default 4 MiB. */
  maxObjSize?: number;
  /** The user interface for alerts 1100-1104 (absent: 406). */
  ui?: UserInteraction;
  timers?: Timers;
  /** FUMO (default: on, `./FUMO`); false: no FUMO. */
  fumo?: DmClientFumoOptions | false;
  /**
   * The embedder's CSPs and nodes. Runs on every build of the configuration manager, on a tree
   * that may already hold what it created before (restored from the store): make it idempotent.
   */
  setup?: (cm: ConfigManager) => void;
  onTrace?: (event: TraceEvent) => void;
  /** Add the XML of every message to the trace. */
  verbose?: boolean;
  /** Every FUMO State change. */
  onFumoState?: (instance: string, from: number, to: number) => void;
  /** ui-mode handling of package 0. */
  push?: { ui?: PushUi; resetNonces?: readonly Uint8Array[]; duplicateWindowMs?: number };
  /** Report sessions for pending Generic Alerts: attempts per call and back-off; default 5, 16 s initial, 1 h max. */
  alertRetry?: { attempts?: number; initialBackoffMs?: number; maxBackoffMs?: number };
}

/** What one session did. @public */
export interface SessionReport {
  sessionId: string;
  serverId: string;
  reason: SessionEndReason;
  code?: number;
  message: string;
  version: '1.2' | '1.1.2';
  /** The session was sent again as DM 1.1.2. */
  fellBack: boolean;
  messagesSent: number;
  messagesReceived: number;
  /** The server's credentials were checked and found valid (undefined: not checked). */
  serverAuthenticated?: boolean;
  /** FUMO jobs the server started. */
  jobs: FumoJob[];
  /** Generic Alerts the server acknowledged. */
  alertsAcknowledged: string[];
}

/** What a FUMO job ended with. @public */
export interface FumoReport {
  id: string;
  instance: string;
  operation: FumoJob['operation'];
  result: number;
  /** The States it went through in this run. */
  states: number[];
}

const DEFAULT_DEVINFO = { man: 'syncml-dm', mod: 'reference client', dmV: '1.2', lang: 'en-US' };

function devDetailDefaults(v: Partial<DevDetailValues> = {}): DevDetailValues {
  return {
    devTyp: v.devTyp ?? 'device', oem: v.oem ?? 'syncml-dm', fwV: v.fwV ?? '1.0', swV: v.swV ?? '1.0', hwV: v.hwV ?? '1.0',
    lrgObj: v.lrgObj ?? true, uriLimits: v.uriLimits ?? { maxDepth: 0, maxTotLen: 0, maxSegLen: 0 },
  };
}

function isTransport(t: unknown): t is Transport {
  return typeof (t as Transport | undefined)?.send === 'function' && typeof (t as Transport).shouldFallBack === 'function';
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || '_';
}

const AUTH_TYPE_12: Record<AuthScheme, string> = { none: '', basic: 'BASIC', md5: 'DIGEST', hmac: 'HMAC' };
const AUTH_TYPE_112: Record<AuthScheme, string> = { none: '', basic: 'syncml:auth-basic', md5: 'syncml:auth-md5', hmac: 'syncml:auth-MAC' };

/**
 * The device side of OMA DM, ready to embed.
 *
 * @example
 * ```ts
 * const client = await DmClient.open({
 *   deviceId: 'IMEI:356938035643809',
 *   server: { url: 'https://dm.example.net/omadm', serverId: 'dm.example.net', username: 'dev01', password: 's3cret' },
 *   store: JsonFileStore.forDevice('/var/lib/dm', 'IMEI:356938035643809'),
 *   fumo: { instances: ['pkg1'], installer: { install: async (job, file) => flash(file) } },
 *   onTrace: (e) => console.log(e.lines.join('\n')),
 * });
 * const report = await client.runSession();
 * ```
 * @public
 */
export class DmClient {
  readonly options: DmClientOptions;
  readonly store: ClientStore;
  readonly transport: Transport;
  private readonly clock: Clock;
  private state: ClientState;
  private treeRef: ManagementTree;
  private cm!: ConfigManager;
  private fumoHandler: FumoHandler | undefined;
  private newJobs: FumoJob[] = [];
  private newPackages = new Map<string, Uint8Array>();
  private stateLog: Map<string, number[]> = new Map();
  private readonly router: PushRouter<SessionReport>;

  private constructor(options: DmClientOptions, state: ClientState) {
    this.options = options;
    this.store = options.store ?? new MemoryStore();
    this.clock = options.clock ?? systemClock;
    this.transport = isTransport(options.transport) ? options.transport : new HttpTransport({ clock: this.clock, ...(options.transport as TransportOptions | undefined) });
    this.state = state;
    const treeClock = () => new Date(this.clock.now());
    this.treeRef = state.tree ? ManagementTree.fromJSON(state.tree, { clock: treeClock }) : new ManagementTree({ clock: treeClock });
    this.build();
    const log = new MemoryNotificationLog(this.state.notified, options.push?.duplicateWindowMs);
    this.router = new PushRouter<SessionReport>({
      tree: () => this.treeRef,
      log: {
        isDuplicate: (s, id, now) => log.isDuplicate(s, id, now),
        record: async (s, id, now) => { log.record(s, id, now); await this.save(); },
        forget: async (s, id) => { log.forget(s, id); await this.save(); },
      },
      ui: options.push?.ui,
      resetNonces: options.push?.resetNonces,
      clock: this.clock,
      startSession: (t) => this.session({ kind: 'server', sessionId: t.notification.sessionIdHex, serverNonce: t.serverNonce }, t.account.serverId),
    });
  }

  /**
   * Opens the client: loads the store, builds (or restores) the tree, writes the server account,
   * saves. Throws DmError INVALID_ARGUMENT for options that cannot work (no device id).
   */
  static async open(options: DmClientOptions): Promise<DmClient> {
    if (!options || typeof options.deviceId !== 'string' || options.deviceId === '') throw new DmError('INVALID_ARGUMENT', 'a DM client needs its device id');
    const store = options.store ?? new MemoryStore();
    const state = await store.load();
    const client = new DmClient({ ...options, store }, state);
    if (options.server) client.upsertAccount(options.server);
    const prefs = client.state.servers;
    if (Object.values(prefs).some((p) => p.protocol === '1.1.2') || options.protocol === '1.1.2') client.migrateAccounts('1.1.2');
    await client.save();
    return client;
  }

  /** The management tree. */
  get tree(): ManagementTree {
    return this.treeRef;
  }

  /** The configuration manager (mount more CSPs here, or in `options.setup`). */
  get configManager(): ConfigManager {
    return this.cm;
  }

  /** The FUMO handler, unless FUMO is off. */
  get fumo(): FumoHandler | undefined {
    return this.fumoHandler;
  }

  /** The DM accounts in the tree. */
  accounts(): DmAccount[] {
    return readDmAccounts(this.treeRef);
  }

  /** Generic Alerts not yet acknowledged. */
  pendingAlerts(): readonly StoredAlert[] {
    return this.state.alerts;
  }

  /** FUMO jobs not finished (reported and acknowledged). */
  pendingJobs(): readonly StoredFumoJob[] {
    return this.state.fumoJobs;
  }

  /** Saves the tree and the rest of the state. */
  async save(): Promise<void> {
    this.state.tree = this.treeRef.toJSON();
    await this.store.save(this.state);
  }

  // ---- building the tree --------------------------------------------------------------------------

  private build(): void {
    const o = this.options;
    const cm = new ConfigManager({ tree: this.treeRef });
    installDevInfo(cm, this.devInfoValues());
    installDevDetail(cm, devDetailDefaults(o.devDetail));
    this.fumoHandler = undefined;
    if (o.fumo !== false) {
      const f = o.fumo ?? {};
      this.fumoHandler = installFumo(cm, {
        ...f,
        onJob: (job) => {
          // The State log of a job starts with the transition its Exec made.
          const l = this.stateLog.get(job.instance);
          if (l) this.stateLog.set(job.instance, l.slice(-2));
          this.newJobs.push(job);
        },
        onPackageData: (instance, data) => { this.newPackages.set(instance, data); },
        onStateChange: (instance, from, to) => {
          const l = this.stateLog.get(instance) ?? [from];
          l.push(to);
          this.stateLog.set(instance, l);
          this.note([`FUMO ${instance}: State ${from} -> ${to}`]);
          o.onFumoState?.(instance, from, to);
        },
      });
      installInbox(cm, { placements: { [FUMO_MO_TYPE]: this.fumoHandler.mount } });
    } else {
      installInbox(cm, { placements: {} });
    }
    o.setup?.(cm);
    this.cm = cm;
  }

  /**
   * DevInfo as configured. DmV, unless the embedder set it, follows the protocol the device speaks:
   * `1.1.2` when configured for DM 1.1.2 or after a server refused 1.2 (the 1.1.2 fallback).
   */
  private devInfoValues(): DevInfoValues {
    const o = this.options;
    const v112 = o.protocol === '1.1.2' || Object.values(this.state.servers).some((p) => p.protocol === '1.1.2');
    return { devId: o.deviceId, ...DEFAULT_DEVINFO, dmV: v112 ? '1.1.2' : DEFAULT_DEVINFO.dmV, ...o.devInfo };
  }

  private accountLayout(): '1.2' | '1.1.2' {
    const existing = readDmAccounts(this.treeRef).find((a) => a.uri.startsWith('./DMAcc/'));
    if (existing) return existing.layout;
    return this.options.protocol === '1.1.2' ? '1.1.2' : '1.2';
  }

  /** Writes the server account (device-side); a changed one is rewritten, its nonces kept. */
  private upsertAccount(server: DmClientServer): void {
    let host: string;
    try {
      host = new URL(server.url).host;
    } catch {
      throw new DmError('INVALID_ARGUMENT', `the server URL '${server.url}' is not a URL`);
    }
    const serverId = server.serverId ?? host;
    const clientScheme = server.authType ?? (server.username ? 'md5' : 'none');
    const serverScheme = server.serverAuthType ?? (server.serverPassword ? 'md5' : 'none');
    const layout = this.accountLayout();
    const types = layout === '1.2' ? AUTH_TYPE_12 : AUTH_TYPE_112;
    const existing = readDmAccounts(this.treeRef).find((a) => a.serverId === serverId);
    const want = {
      addr: server.url, cName: server.username ?? '', cSecret: server.password ?? '', cType: types[clientScheme],
      sName: server.serverUsername ?? serverId, sSecret: server.serverPassword ?? '', sType: types[serverScheme],
    };
    if (existing) {
      const same = existing.addr === want.addr && existing.clientCred.name === want.cName && existing.clientCred.secret === want.cSecret
        && schemeOf(existing.clientCred.type) === clientScheme && existing.serverCred.secret === want.sSecret
        && (layout === '1.1.2' || (existing.serverCred.name === want.sName && schemeOf(existing.serverCred.type) === serverScheme));
      if (same) return;
      this.treeRef.delete(existing.uri);
    }
    installDmAccount(this.cm, {
      nodeName: existing ? decodeURIComponent(existing.uri.slice(existing.uri.lastIndexOf('/') + 1)) : undefined,
      serverId,
      name: serverId,
      addr: server.url,
      authPref: layout === '1.1.2' ? types[clientScheme !== 'none' ? clientScheme : serverScheme] || undefined : undefined,
      clientCred: { type: want.cType, name: want.cName, secret: want.cSecret, nonce: existing?.clientCred.nonce },
      serverCred: { type: want.sType, name: want.sName, secret: want.sSecret, nonce: existing?.serverCred.nonce },
    }, { layout });
  }

  /** Moves the accounts under `./DMAcc` to another layout (the DM 1.1.2 fallback), nonces kept. */
  private migrateAccounts(layout: '1.2' | '1.1.2'): void {
    const accounts = readDmAccounts(this.treeRef).filter((a) => a.uri.startsWith('./DMAcc/') && a.layout !== layout);
    if (accounts.length === 0) return;
    const json = this.treeRef.toJSON();
    json.root.children = (json.root.children ?? []).filter((c) => c.name !== 'DMAcc');
    this.treeRef = ManagementTree.fromJSON(json, { clock: () => new Date(this.clock.now()) });
    this.build();
    const types = layout === '1.2' ? AUTH_TYPE_12 : AUTH_TYPE_112;
    for (const a of accounts) {
      const cs = schemeOf(a.clientCred.type || a.authPref);
      const ss = schemeOf(a.serverCred.type || a.authPref);
      installDmAccount(this.cm, {
        nodeName: decodeURIComponent(a.uri.slice(a.uri.lastIndexOf('/') + 1)),
        serverId: a.serverId, name: a.name, addr: a.addr, addrType: a.addrType, port: a.port, prefConRef: a.prefConRef,
        authPref: layout === '1.1.2' ? types[cs !== 'none' ? cs : ss] || undefined : a.authPref,
        clientCred: { type: types[cs], name: a.clientCred.name, secret: a.clientCred.secret, nonce: a.clientCred.nonce },
        serverCred: { type: types[ss], name: a.serverCred.name, secret: a.serverCred.secret, nonce: a.serverCred.nonce },
      }, { layout });
    }
    this.note([`DMAcc accounts moved to the DM ${layout} layout`]);
  }

  // ---- sessions -----------------------------------------------------------------------------------

  private account(serverId?: string): DmAccount {
    const all = readDmAccounts(this.treeRef);
    const a = serverId === undefined ? all[0] : all.find((x) => x.serverId === serverId);
    if (!a) throw new DmError('INVALID_ARGUMENT', serverId === undefined ? 'no DM account: give options.server' : `no DM account for server '${serverId}'`);
    return a;
  }

  /**
   * Runs one session with the server (client-initiated, Alert 1201, unless `trigger` says
   * otherwise), then, unless `fumo.autoRun` is false, the FUMO jobs it started and the sessions
   * that report them.
   * @throws DmError TRANSPORT when the server cannot be reached (after the retries)
   */
  async runSession(trigger: { kind: 'client' } | { kind: 'report' } = { kind: 'client' }, options: { serverId?: string } = {}): Promise<SessionReport> {
    return this.session(trigger, options.serverId);
  }

  /**
   * Handles a package 0 (raw, or a WAP push PDU): verify, de-duplicate, ui-mode, then a session
   * with Alert 1200 and the notified SessionID.
   */
  handleNotification(bytes: Uint8Array): Promise<PushOutcome<SessionReport>> {
    return this.router.route(bytes);
  }

  /** Queues a Generic Alert (persisted) for the next session with the server. Returns its id. */
  async queueGenericAlert(alert: GenericAlertRequest, serverId?: string): Promise<string> {
    const id = `a${++this.state.seq}`;
    const rec: StoredAlert = { id, alert, createdAt: this.clock.now(), attempts: 0 };
    if (serverId !== undefined) rec.serverId = serverId;
    this.state.alerts.push(rec);
    await this.save();
    return id;
  }

  private async session(trigger: SessionTrigger, serverId: string | undefined): Promise<SessionReport> {
    const report = await this.exchange(trigger, serverId);
    const fumo = this.options.fumo;
    const autoRun = fumo !== false && (fumo?.autoRun ?? true);
    if (autoRun && report.jobs.length > 0) {
      await this.runFumoJobs();
    }
    return report;
  }

  private sessionConfig(account: DmAccount, version: '1.2' | '1.1.2', alerts: StoredAlert[]): ClientSessionConfig {
    const o = this.options;
    const prefs = this.state.servers[account.serverId] ?? {};
    const cs = schemeOf(account.clientCred.type || account.authPref);
    const ss = account.serverCred.secret === '' ? 'none' : schemeOf(account.serverCred.type || account.authPref);
    const cfg: ClientSessionConfig = {
      deviceId: o.deviceId,
      serverUri: account.addr,
      serverId: account.serverId,
      version,
      encoding: o.encoding ?? 'wbxml',
      clientAuth: { scheme: cs, name: account.clientCred.name, secret: account.clientCred.secret, nonce: account.clientCred.nonce },
      devInfo: devInfoItems(this.treeRef),
      maxMsgSize: o.maxMsgSize ?? 65536,
      maxObjSize: o.maxObjSize ?? 4 * 1024 * 1024,
      alerts: alerts.map((a) => ({ id: a.id, alert: a.alert })),
    };
    if (ss !== 'none') cfg.serverAuth = { scheme: ss, name: account.serverCred.name || account.serverId, secret: account.serverCred.secret, nonce: account.serverCred.nonce };
    if (prefs.nonceForm) cfg.nonceForm = prefs.nonceForm;
    if (o.random) cfg.random = o.random;
    return cfg;
  }

  private alertsFor(serverId: string, isDefault: boolean): StoredAlert[] {
    return this.state.alerts.filter((a) => a.serverId === serverId || (a.serverId === undefined && isDefault));
  }

  /** One session, with the DM 1.1.2 fallback; saves after every processed server message. */
  private async exchange(trigger: SessionTrigger, serverId: string | undefined): Promise<SessionReport> {
    let account = this.account(serverId);
    const isDefault = readDmAccounts(this.treeRef)[0]?.serverId === account.serverId;
    const prefs = (this.state.servers[account.serverId] ??= {});
    let version: '1.2' | '1.1.2' = prefs.protocol ?? this.options.protocol ?? '1.2';
    let fellBack = false;
    const jobs: FumoJob[] = [];
    for (;;) {
      const alerts = version === '1.2' ? this.alertsFor(account.serverId, isDefault) : [];
      for (const a of alerts) a.attempts++;
      const r = await this.runExchange(this.sessionConfig(account, version, alerts), trigger, account, jobs);
      if (r.fallback && version === '1.2') {
        this.note([`the server refused DM 1.2 (${r.fallback}): sending package 1 again as DM 1.1.2`]);
        version = '1.1.2';
        fellBack = true;
        prefs.protocol = '1.1.2';
        this.migrateAccounts('1.1.2');
        installDevInfo(this.cm, this.devInfoValues());
        account = this.account(account.serverId);
        await this.save();
        continue;
      }
      await this.save();
      return { ...r.report, version, fellBack, jobs, serverId: account.serverId };
    }
  }

  private async runExchange(cfg: ClientSessionConfig, trigger: SessionTrigger, account: DmAccount, jobs: FumoJob[]):
    Promise<{ fallback?: string; report: Omit<SessionReport, 'version' | 'fellBack' | 'jobs' | 'serverId'> }> {
    let step: StepResult = startClientSession(cfg, trigger);
    const sessionId = step.state.sessionId;
    const acked: string[] = [];
    let sent = 0;
    let got = 0;
    let serverAuthenticated: boolean | undefined;
    const apply = (effects: ClientSessionEffect[]) => {
      for (const e of effects) {
        if (e.kind === 'server-authenticated') serverAuthenticated = e.ok;
        if (e.kind === 'alerts-acknowledged') acked.push(...e.ids);
      }
      this.applyEffects(effects, account);
    };
    apply(step.effects);
    let dpu: Dpu | undefined;
    const finish = (reason: SessionEndReason, message: string, code?: number) => {
      const report: Omit<SessionReport, 'version' | 'fellBack' | 'jobs' | 'serverId'> = {
        sessionId, reason, message, messagesSent: sent, messagesReceived: got, alertsAcknowledged: acked,
      };
      if (code !== undefined) report.code = code;
      if (serverAuthenticated !== undefined) report.serverAuthenticated = serverAuthenticated;
      this.note([`session ${sessionId}: ${reason} (${message})`], sessionId);
      return { report };
    };
    for (;;) {
      const out = step.outgoing!;
      const { body, headers } = encodeOutgoing(out);
      this.trace('out', out.message, body.length, { sessionId, package: out.package, url: out.url });
      sent++;
      const res = await this.transport.send({ url: out.url, body, headers });
      if (res.status < 200 || res.status > 299) {
        if (this.transport.shouldFallBack({ package: out.package, version: cfg.version ?? '1.2', httpStatus: res.status })) {
          return { fallback: `HTTP ${res.status}`, report: finish('version-not-supported', `HTTP ${res.status}`).report };
        }
        throw transportError(`${out.url} answered HTTP ${res.status}`, { httpStatus: res.status, attempts: res.attempts });
      }
      let msg: SyncML;
      try {
        msg = parse(res.body, { strict: false });
      } catch (e) {
        // Nothing in it can be answered: tell the server the session is over (Alert 1223), then give up.
        const abort = abortSession(step.state);
        const a = encodeOutgoing(abort.outgoing!);
        this.trace('out', abort.outgoing!.message, a.body.length, { sessionId, package: abort.outgoing!.package, url: abort.outgoing!.url });
        await this.transport.send({ url: abort.outgoing!.url, body: a.body, headers: a.headers }).catch(() => undefined);
        throw new DmError('PROTOCOL_ERROR', `the server's answer is not a SyncML message: ${(e as Error).message}`, { cause: e });
      }
      got++;
      this.trace('in', msg, res.body.length, { sessionId, httpStatus: res.status });
      const r = receive(step.state, msg, { hmacHeader: res.hmacHeader, body: res.body });
      apply(r.effects);
      if (r.done) {
        await this.save();
        if (r.done.reason === 'version-not-supported' && this.transport.shouldFallBack({ package: out.package, version: cfg.version ?? '1.2', syncHdrStatus: r.done.code })) {
          return { fallback: `SyncHdr ${r.done.code}`, report: finish(r.done.reason, r.done.message, r.done.code).report };
        }
        return finish(r.done.reason, r.done.message, r.done.code);
      }
      if (r.toExecute) {
        dpu ??= new Dpu({
          configManager: this.cm, serverId: account.serverId, ui: this.options.ui, timers: this.options.timers,
          maxObjSize: cfg.maxObjSize, maxResponseCommands: maxResponseCommands(r.state.peer.maxMsgSize, r.state.encoding),
        });
        const result = await dpu.process(r.toExecute);
        await this.collectJobs(jobs);
        const a = afterExecution(r.state, result);
        apply(a.effects);
        await this.save();
        if (a.done) return finish(a.done.reason, a.done.message, a.done.code);
        step = a;
      } else {
        await this.save();
        step = r;
      }
    }
  }

  private applyEffects(effects: ClientSessionEffect[], account: DmAccount): void {
    const prefs = (this.state.servers[account.serverId] ??= {});
    for (const e of effects) {
      switch (e.kind) {
        case 'store-nonce':
          updateAccountNonce(this.treeRef, account, e.which, e.nonce);
          break;
        case 'nonce-form':
          prefs.nonceForm = e.form;
          break;
        case 'alerts-acknowledged':
          this.dropAlerts(e.ids);
          break;
        case 'alerts-refused':
          if (!e.retry) {
            this.note([`the server refused Generic Alert(s) ${e.ids.join(', ')} with ${e.code} ${statusText(e.code)}: dropped`]);
            this.dropAlerts(e.ids);
          }
          break;
        case 'alerts-queued':
          for (const r of e.alerts) this.state.alerts.push({ ...r, serverId: account.serverId, createdAt: this.clock.now(), attempts: 1 });
          break;
        case 'warning':
          this.note([`warning: ${e.message}`]);
          break;
        default:
          break;
      }
    }
  }

  private dropAlerts(ids: string[]): void {
    this.state.alerts = this.state.alerts.filter((a) => !ids.includes(a.id));
    // A FUMO job is over once its final alert is acknowledged (FUMO §10.2).
    this.state.fumoJobs = this.state.fumoJobs.filter((j) => !(j.alertId !== undefined && ids.includes(j.alertId)));
  }

  /** Moves the jobs and packages the FUMO handler produced during a DPU run into the store. */
  private async collectJobs(jobs: FumoJob[]): Promise<void> {
    for (const [instance, data] of this.newPackages) {
      const file = this.packageFile(instance);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, data);
      this.state.packages[instance] = file;
    }
    this.newPackages.clear();
    for (const job of this.newJobs) {
      const id = `fumo${++this.state.seq}`;
      this.state.fumoJobs.push({ id, job, phase: 'queued', createdAt: this.clock.now() });
      jobs.push(job);
    }
    this.newJobs = [];
  }

  private packageFile(instance: string): string {
    const f = this.options.fumo === false ? undefined : this.options.fumo;
    const dir = f?.downloadDir ?? (this.store.directory ? join(this.store.directory, 'packages') : join(tmpdir(), 'syncml-dm-packages', safeName(this.options.deviceId)));
    return join(dir, `${safeName(instance.replace(/^\.\//, ''))}.pkg`);
  }

  // ---- FUMO jobs ------------------------------------------------------------------------------------

  /**
   * Runs every FUMO job not yet reported (download, install, State), queues their final Generic
   * Alerts, and reports them in client-initiated sessions until the server acknowledges them.
   * Jobs interrupted by a restart continue where they stood (a download resumes).
   */
  async runFumoJobs(): Promise<FumoReport[]> {
    const reports: FumoReport[] = [];
    for (const stored of [...this.state.fumoJobs]) {
      if (stored.phase === 'reporting' || stored.phase === 'done') continue;
      const result = await this.runJob(stored);
      reports.push({ id: stored.id, instance: stored.job.instance, operation: stored.job.operation, result, states: this.stateLog.get(stored.job.instance) ?? [] });
    }
    if (this.state.alerts.length > 0) await this.reportAlerts();
    return reports;
  }

  private setState(instance: string, to: number): void {
    const f = this.fumoHandler;
    if (!f || !this.treeRef.exists(instance)) return;
    if (f.state(instance) !== to) f.setState(instance, to);
  }

  /** Ends a job: its State, its final Generic Alert (persisted), phase `reporting`. */
  private async conclude(stored: StoredFumoJob, result: number, finalState: number): Promise<number> {
    const j = stored.job;
    this.setState(j.instance, finalState);
    const alertId = `a${++this.state.seq}`;
    this.state.alerts.push({ id: alertId, serverId: j.serverId, alert: fumoResultAlert(j, result), createdAt: this.clock.now(), attempts: 0 });
    stored.result = result;
    stored.alertId = alertId;
    stored.phase = 'reporting';
    this.note([`FUMO ${j.operation} of ${j.instance}: result ${result}`]);
    await this.save();
    return result;
  }

  private async runJob(stored: StoredFumoJob): Promise<number> {
    const j = stored.job;
    const f = this.options.fumo === false ? undefined : this.options.fumo;
    if (stored.phase === 'queued' || stored.phase === 'downloading') {
      if (j.operation === 'Update') {
        stored.file = this.state.packages[j.instance];
        stored.phase = 'downloaded';
      } else {
        this.setState(j.instance, FumoState.DOWNLOAD_PROGRESSING);
        stored.phase = 'downloading';
        await this.save();
        if (!j.pkgUrl) return this.conclude(stored, 411, FumoState.DOWNLOAD_FAILED);
        const file = this.packageFile(j.instance);
        try {
          await mkdir(dirname(file), { recursive: true });
          const tls = f?.tls ?? (isTransport(this.options.transport) ? undefined : (this.options.transport as TransportOptions | undefined)?.tls);
          await downloadPackage({
            url: j.pkgUrl, file, expectedSize: j.expectedSize, sha256: j.expectedSha256, tls, clock: this.clock,
            retries: f?.downloadRetries, onProgress: (p) => f?.onDownloadProgress?.(j, p),
          });
        } catch (e) {
          if (!isDmError(e)) throw e;
          this.note([`FUMO download of ${j.pkgUrl} failed: ${e.message}`]);
          return this.conclude(stored, downloadResultCode(e), FumoState.DOWNLOAD_FAILED);
        }
        stored.file = file;
        this.state.packages[j.instance] = file;
        stored.phase = 'downloaded';
        this.setState(j.instance, FumoState.DOWNLOAD_COMPLETE);
        await this.save();
        if (j.operation === 'Download') return this.conclude(stored, 200, FumoState.DOWNLOAD_COMPLETE);
      }
    }
    const installer = f?.installer;
    if (stored.phase === 'installing') {
      // The device restarted in the middle of the update (State 60).
      const code = installer?.resumeInterrupted ? await installer.resumeInterrupted(j, stored.file) : 410;
      return this.afterInstall(stored, code);
    }
    // phase 'downloaded': Ready to Update (50), then Update Progressing (60).
    const file = stored.file;
    this.setState(j.instance, FumoState.READY_TO_UPDATE);
    if (!file || !(await exists(file))) {
      this.setState(j.instance, FumoState.UPDATE_PROGRESSING);
      return this.conclude(stored, 400, FumoState.UPDATE_FAILED_NO_DATA);
    }
    if (!installer) return this.conclude(stored, 408, FumoState.UPDATE_FAILED_HAVE_DATA);
    if (installer.confirm && !(await installer.confirm(j))) return this.conclude(stored, 401, FumoState.UPDATE_FAILED_HAVE_DATA);
    stored.phase = 'installing';
    this.setState(j.instance, FumoState.UPDATE_PROGRESSING);
    await this.save();
    let code: number;
    try {
      const r = await installer.install(j, file);
      code = typeof r === 'number' ? r : 200;
    } catch (e) {
      const x = e as { fumoResult?: unknown; status?: unknown };
      const c = typeof x?.fumoResult === 'number' ? x.fumoResult : typeof x?.status === 'number' ? x.status : undefined;
      code = c !== undefined && c >= 400 && c <= 599 ? c : 410;
      this.note([`FUMO install of ${j.instance} failed: ${(e as Error)?.message ?? String(e)}`]);
    }
    return this.afterInstall(stored, code);
  }

  private async afterInstall(stored: StoredFumoJob, code: number): Promise<number> {
    const j = stored.job;
    if (isFumoSuccess(code)) {
      // Update Successful / No Data: the package is not needed any more.
      if (stored.file) {
        await unlink(stored.file).catch(() => undefined);
      }
      delete this.state.packages[j.instance];
      return this.conclude(stored, code, FumoState.UPDATE_SUCCESSFUL_NO_DATA);
    }
    return this.conclude(stored, code, FumoState.UPDATE_FAILED_HAVE_DATA);
  }

  /**
   * Sends the pending Generic Alerts in client-initiated sessions until the server acknowledges
   * them (FUMO: the final result must reach the server), waiting between attempts with
   * exponential back-off. Alerts still pending after the attempts stay in the store for the next
   * call or session. Returns the last session's report (undefined when nothing was pending).
   */
  async reportAlerts(): Promise<SessionReport | undefined> {
    const r = this.options.alertRetry ?? {};
    const attempts = r.attempts ?? 5;
    const policy = { count: attempts, initialBackoffMs: r.initialBackoffMs ?? 16_000, maxBackoffMs: r.maxBackoffMs ?? 3_600_000 };
    let last: SessionReport | undefined;
    for (let i = 1; i <= attempts; i++) {
      const servers = [...new Set(this.state.alerts.map((a) => a.serverId))];
      if (servers.length === 0) return last;
      for (const s of servers) {
        try {
          last = await this.exchange({ kind: 'report' }, s);
        } catch (e) {
          if (!isDmError(e)) throw e;
          this.note([`reporting Generic Alerts failed: ${e.message}`]);
        }
      }
      if (this.state.alerts.length === 0) return last;
      if (i < attempts) {
        const wait = backoffDelay(policy, i);
        this.note([`${this.state.alerts.length} Generic Alert(s) not acknowledged: trying again in ${Math.round(wait / 1000)} s`]);
        await this.clock.sleep(wait);
      }
    }
    return last;
  }

  // ---- trace ------------------------------------------------------------------------------------------

  private note(lines: string[], sessionId?: string): void {
    const e: TraceEvent = { direction: 'note', lines };
    if (sessionId !== undefined) e.sessionId = sessionId;
    this.options.onTrace?.(e);
  }

  private trace(direction: 'out' | 'in', msg: SyncML, bytes: number, extra: Partial<TraceEvent>): void {
    if (!this.options.onTrace) return;
    const e: TraceEvent = { direction, msgId: msg.header.msgId, bytes, lines: summarizeMessage(msg), ...extra };
    if (this.options.verbose) e.xml = serialize(msg, { encoding: 'xml', indent: true });
    this.options.onTrace(e);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

// ---- message summaries ---------------------------------------------------------------------------

function shortValue(d: Item['data']): string {
  if (d === undefined) return '';
  if (typeof d === 'string') return d.length > 40 ? `"${d.slice(0, 39)}…"` : `"${d}"`;
  if (d instanceof Uint8Array) return `<${d.length} bytes>`;
  return `<${(d as { kind?: string }).kind ?? 'document'}>`;
}

function itemLine(it: Item): string {
  const uri = it.target?.locUri ?? it.source?.locUri ?? '(no URI)';
  const v = shortValue(it.data);
  return `${uri}${v ? ` = ${v}` : ''}${it.moreData ? ' (more data)' : ''}`;
}

function commandLines(c: Command, depth: number, out: string[]): void {
  const pad = '  '.repeat(depth);
  switch (c.kind) {
    case 'Status': {
      const chal = c.chal?.meta?.type ? ` [challenge ${c.chal.meta.type}${c.chal.meta.nextNonce !== undefined ? ' with nonce' : ''}]` : '';
      out.push(`${pad}Status ${c.cmd} (msg ${c.msgRef}, cmd ${c.cmdRef}): ${c.code} ${statusText(c.code)}${chal}`);
      return;
    }
    case 'Alert': {
      const corr = c.correlator !== undefined ? ` correlator ${c.correlator}` : '';
      out.push(`${pad}Alert ${c.code} ${alertLabel(c.code)}${corr}`);
      if (c.code === 1226 || c.code === 1224) for (const it of c.items) out.push(`${pad}  ${it.meta?.type ?? ''}: ${itemLine(it)}`);
      return;
    }
    case 'Atomic': case 'Sequence':
      out.push(`${pad}${c.kind} (${c.commands.length} commands)`);
      for (const x of c.commands) commandLines(x, depth + 1, out);
      return;
    case 'Results':
      out.push(`${pad}Results (msg ${c.msgRef ?? '1'}, cmd ${c.cmdRef})`);
      for (const it of c.items) out.push(`${pad}  ${itemLine(it)}`);
      return;
    default: {
      const items = (c as { items?: Item[] }).items ?? [];
      const corr = c.kind === 'Exec' && c.correlator !== undefined ? ` correlator ${c.correlator}` : '';
      if (items.length === 1) out.push(`${pad}${c.kind} ${itemLine(items[0])}${corr}`);
      else {
        out.push(`${pad}${c.kind} (${items.length} items)${corr}`);
        for (const it of items) out.push(`${pad}  ${itemLine(it)}`);
      }
    }
  }
}

/**
 * A readable summary of a message: the header line (session, message, who to whom, Cred,
 * RespURI), then one line per command (children and Items indented), then `Final`.
 * @public
 */
export function summarizeMessage(msg: SyncML): string[] {
  const h = msg.header;
  const cred = h.cred ? `, Cred ${h.cred.meta?.type ?? 'syncml:auth-basic'}` : '';
  const resp = h.respUri ? `, RespURI ${h.respUri}` : '';
  const out = [`SyncML ${h.verDTD} ${h.verProto} session ${h.sessionId} msg ${h.msgId} from ${h.source.locUri} to ${h.target.locUri}${cred}${resp}`];
  for (const c of msg.body.commands) commandLines(c, 1, out);
  if (msg.body.final) out.push('  Final');
  return out;
}
