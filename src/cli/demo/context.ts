/**
 * What the demo's steps share: options, output, the servers (each with its admin API client), the
 * tour's device, and what must be closed at the end. Plus the device-side pieces every demo
 * client gets: the vendor subtree with its ACLs and the handler that "applies" its settings.
 */
import type { DmClient } from '../../client/dm-client.js';
import type { TracingTransport, Tracer } from './trace.js';
import type { ConfigManager } from '../../dm/config-manager.js';
import type { Handler, HandlerContext, NodeData } from '../../dm/handler.js';
import type { ManagementTree } from '../../dm/tree.js';
import type { DmServer } from '../../server/dm-server.js';
import type { SelfSignedCertificate } from '../self-signed.js';
import type { AdminClient } from './admin-client.js';
import type { Style } from './format.js';
import type { PackageServer } from './package-server.js';
import type { ProgressSink } from './progress.js';
import type { Counters } from './trace.js';

export interface DemoOptions {
  encoding: 'wbxml' | 'xml';
  /** 1: the tour alone; more: the tour, then this many simulated devices at once. */
  devices: number;
  /** How many of the simulated devices run at the same time (default: all). */
  concurrency?: number;
  verbose: boolean;
  keep: boolean;
}

/** The two management authorities of the tour. */
export const MAIN_ID = 'dm.example.test';
export const PARTNER_ID = 'partner.example.test';

/** The tour's devices. */
export const DEVICE = 'IMEI:356938035643809';
export const DEVICE_112 = 'IMEI:490154203237518';

/** The vendor subtree every demo device has: an interior node, a protected leaf and two settings. */
export const VENDOR = './Vendor/Example';
export const POLICY = './Vendor/Example/Policy';
export const INTERVAL = './Vendor/Example/Interval';
export const MODE = './Vendor/Example/Mode';
/** The main server may change the vendor subtree, everyone may read it. */
export const VENDOR_ACL = `Add=${MAIN_ID}&Delete=${MAIN_ID}&Get=*&Replace=${MAIN_ID}`;
/** The policy leaf: readable by all, replaceable by the main server only. */
export const POLICY_ACL = `Get=*&Replace=${MAIN_ID}`;
export const INITIAL = { policy: 'strict', interval: '60', mode: 'eco' } as const;

export interface ServerHandle {
  id: string;
  server: DmServer;
  api: AdminClient;
  url: string;
  adminUrl: string;
  dataDir: string;
}

export interface TourDevice {
  id: string;
  client: DmClient;
  transport: TracingTransport;
  settings: SettingsHandler;
}

export interface DemoContext {
  readonly options: DemoOptions;
  readonly dir: string;
  readonly style: Style;
  readonly tracer: Tracer;
  /** Standard error, for the progress bar and the progress line. */
  readonly err: ProgressSink;
  cert?: SelfSignedCertificate;
  main?: ServerHandle;
  partner?: ServerHandle;
  device?: TourDevice;
  pkg?: PackageServer;
  /** The FUMO step's download progress and installer (the device's callbacks forward to them). */
  fumoProgress?: (received: number, total: number | undefined) => void;
  fumoInstall?: (file: string) => Promise<number>;
  /** Every step's counters so far (the audit adds up sessions). */
  readonly stepCounters: Counters[];
  /** Closed in reverse order at the end, whatever happened. */
  readonly closers: (() => unknown)[];
  /** Prints a claim the step just verified. */
  ok(claim: string): void;
  /** Prints an explanation (not a claim). */
  info(text: string): void;
  /** Claims verified so far. */
  checks: number;
}

/** `ctx.main`, or a clear error when an earlier step did not set it up. */
export function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`${what} is not set up`);
  return v;
}

/**
 * The device's "settings service": a handler on the vendor subtree. The tree keeps the nodes (so
 * ACLs and properties work); the handler applies each accepted change and, inside an Atomic,
 * keeps what it must restore if the Atomic rolls back.
 */
export class SettingsHandler implements Handler {
  /** What the device currently runs with. */
  readonly applied = new Map<string, string>();
  private saved: Map<string, string> | undefined;
  rollbacks = 0;

  constructor(private readonly note?: (text: string) => void) {}

  /** Takes the current values from the tree (at every build of the configuration manager). */
  load(tree: ManagementTree): void {
    if (this.applied.size > 0) return;
    for (const uri of [POLICY, INTERVAL, MODE]) {
      const v = tree.info(uri)?.value;
      if (v !== undefined) this.applied.set(uri, typeof v === 'string' ? v : Buffer.from(v).toString('utf8'));
    }
  }

  private apply(uri: string, data: NodeData, ctx: HandlerContext): void {
    const v = data.value === undefined ? '' : typeof data.value === 'string' ? data.value : Buffer.from(data.value).toString('utf8');
    this.applied.set(uri, v);
    this.note?.(`device: ${uri.slice(VENDOR.length + 1)} = "${v}" applied (from ${ctx.serverId})`);
  }

  add(uri: string, data: NodeData, ctx: HandlerContext): void {
    this.apply(uri, data, ctx);
  }

  replace(uri: string, data: NodeData, ctx: HandlerContext): void {
    this.apply(uri, data, ctx);
  }

  begin(): void {
    this.saved = new Map(this.applied);
  }

  commit(): void {
    this.saved = undefined;
  }

  rollback(): void {
    if (this.saved === undefined) return;
    this.applied.clear();
    for (const [k, v] of this.saved) this.applied.set(k, v);
    this.saved = undefined;
    this.rollbacks++;
    this.note?.('device: Atomic failed: the settings handler restored what it had applied');
  }
}

/** The `setup` of every demo client: the vendor subtree (created once) and its handler. */
export function vendorSetup(handler: SettingsHandler): (cm: ConfigManager) => void {
  return (cm) => {
    const t = cm.tree;
    if (!t.exists(VENDOR)) {
      t.add(VENDOR, { format: 'node', acl: VENDOR_ACL });
      t.add(POLICY, { format: 'chr', value: INITIAL.policy, acl: POLICY_ACL });
      t.add(INTERVAL, { format: 'int', value: INITIAL.interval });
      t.add(MODE, { format: 'chr', value: INITIAL.mode });
    }
    handler.load(t);
    cm.mount(VENDOR, handler);
  };
}
