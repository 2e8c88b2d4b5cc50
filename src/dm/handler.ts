/**
 * Handlers: the configuration service providers (CSPs) that own a subtree (research note 6.1,
 * "Configuration Manager2 ... routing to the owning CSP"). The configuration manager routes each
 * command to the handler mounted at the longest matching prefix, after the access policy and the
 * DDF said yes.
 *
 * A handler throws a `DmError` to fail a command with that error's status; anything else it
 * throws becomes 500 and never escapes the configuration manager.
 */
import type { MgmtTree } from '../syncml/ddf-types.js';
import type { ManagementTree, NodeValue } from './tree.js';

/** A Generic Alert (1226) a handler wants sent, e.g. the final FUMO result (DMPRO 2.x). @public */
export interface PendingAlert {
  /** Alert Type, e.g. `urn:oma:at:fumo:1.0:downloadandupdate`. */
  type: string;
  /** Source LocURI: the node the alert is about. */
  source?: string;
  /** Correlator of the Exec it answers. */
  correlator?: string;
  format?: string;
  /** Mark, e.g. `critical`. */
  mark?: string;
  data?: string;
}

/** What a handler is told about the command it runs. @public */
export interface HandlerContext {
  serverId: string;
  tree: ManagementTree;
  /** Exec Correlator (DMREPPRO 4.1.6.6), to quote in the Generic Alert of an asynchronous Exec. */
  correlator?: string;
  /** The command's Meta (Format, Type, Size of a large object). */
  meta?: { format?: string; type?: string; size?: number };
  /** Queues a Generic Alert; the configuration manager returns it in `ExecuteResult.alerts`. */
  alert(alert: PendingAlert): void;
}

/** A node's data as a handler sees or answers it. @public */
export interface NodeData {
  format?: string;
  type?: string;
  value?: NodeValue;
  /** A parsed TNDS document (Add/Replace with Type `application/vnd.syncml.dmtnds+xml|+wbxml`). */
  tnds?: MgmtTree;
}

/** A configuration service provider. Every method is optional. @public */
export interface Handler {
  /**
   * True when the handler keeps its nodes itself: Add/Replace/Delete below its mount do not touch
   * the tree, and Get asks only the handler (properties still come from the tree's nodes, if any).
   * Default false: the tree records every node (so ACLs and properties work) and the handler is
   * told about the change.
   */
  readonly ownsStorage?: boolean;
  /** Return undefined to let the tree answer. */
  get?(uri: string, ctx: HandlerContext): NodeData | undefined | Promise<NodeData | undefined>;
  add?(uri: string, data: NodeData, ctx: HandlerContext): void | Promise<void>;
  replace?(uri: string, data: NodeData, ctx: HandlerContext): void | Promise<void>;
  delete?(uri: string, ctx: HandlerContext): void | Promise<void>;
  /** Returns the status: 200 when done, 202 when it finishes later (it then owes a Generic Alert). */
  exec?(uri: string, data: NodeData | undefined, ctx: HandlerContext): number | Promise<number>;
  copy?(from: string, to: string, ctx: HandlerContext): void | Promise<void>;
  /** Called once per transaction, before the first command that reaches this handler. */
  begin?(ctx: HandlerContext): void | Promise<void>;
  commit?(ctx: HandlerContext): void | Promise<void>;
  rollback?(ctx: HandlerContext): void | Promise<void>;
}
