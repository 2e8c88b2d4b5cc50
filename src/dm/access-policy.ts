/**
 * Who may do what on the tree: the seam between OMA ACLs (DMTND 8.3.7.1) and Windows Mobile's
 * security roles (research notes 4.2, 6.2, 9.8). The configuration manager asks the policy before
 * anything else touches the tree and answers 425 when it says no.
 */
import { aclAllows, grantAcl, formatAcl, parseAcl, type AclCommand } from './acl.js';
import type { ManagementTree } from './tree.js';

/** Commands a policy decides on. @public */
export type AccessCommand = 'Add' | 'Delete' | 'Exec' | 'Get' | 'Replace' | 'Copy';

/** One decision to make. @public */
export interface AccessRequest {
  serverId: string;
  command: AccessCommand;
  /** Canonical node URI (no query); for Copy, the target. */
  uri: string;
  /** `?prop=` name when the command addresses a property. */
  property?: string;
  /** Copy only: the canonical source URI. */
  sourceUri?: string;
  tree: ManagementTree;
}

/** @public */
export interface AccessPolicy {
  allows(request: AccessRequest): boolean;
  /**
   * Optional: the ACL to give the first interior node an allowed Add creates (the configuration
   * manager passes it to the tree as `creatorAcl`); undefined leaves it empty (inherit).
   */
  aclForNewNode?(request: AccessRequest): string | undefined;
}

/**
 * OMA DM ACLs exactly as DMTND 8.3.7.1 says:
 * - a node's ACL is its own when not empty, else the whole ACL of the nearest ancestor with a
 *   value (never merged per command); `*` grants everyone;
 * - Add is checked against the ACL that will govern the new node: its own when the target already
 *   exists with an ACL (Windows checks "at the child level"; the Add then fails with 418), else
 *   the nearest existing ancestor's effective ACL;
 * - Replace of `?prop=ACL`: an interior node's own Replace right, or Replace on its parent; a
 *   leaf's ACL needs Replace on the parent (its own Replace covers value and other properties
 *   only). Replace on the parent taking over the child's ACL is the "two-step takeover";
 * - Get/Replace of other properties follow the node's Get/Replace rights;
 * - Copy (no ACL right of its own) needs Get on the source and Add on the target, or Replace
 *   when the target exists.
 * @public
 */
export class OmaAclPolicy implements AccessPolicy {
  allows(req: AccessRequest): boolean {
    const { tree, serverId, uri } = req;
    const can = (command: AclCommand, at: string): boolean => aclAllows(parseAcl(tree.effectiveAcl(at)), command, serverId);
    const parent = (at: string): string | null => (at === '.' ? null : at.slice(0, at.lastIndexOf('/')) || '.');
    switch (req.command) {
      case 'Get':
        return can('Get', uri);
      case 'Replace': {
        if (req.property !== 'ACL') return can('Replace', uri);
        const p = parent(uri);
        const info = tree.info(uri);
        const onParent = p !== null && can('Replace', p);
        if (info && info.leaf) return onParent;
        return onParent || can('Replace', uri);
      }
      case 'Add':
        return can('Add', uri);
      case 'Delete':
        return can('Delete', uri);
      case 'Exec':
        return can('Exec', uri);
      case 'Copy':
        if (req.sourceUri !== undefined && !can('Get', req.sourceUri)) return false;
        return can(tree.exists(uri) ? 'Replace' : 'Add', uri);
      default:
        return false;
    }
  }

  /**
   * DMTND 8.3.7.1: when a server adds an interior node and lacks Replace on the parent (the
   * nearest existing ancestor), the new node's ACL gives that server Add, Delete and Replace. We
   * start from the ACL the node would have inherited, so the others keep their rights (Get in
   * particular); undefined when the server has Replace there, or when its id cannot be written
   * in an ACL.
   */
  aclForNewNode(req: AccessRequest): string | undefined {
    const { tree, serverId } = req;
    const parentUri = tree.nearestExisting(req.uri);
    const inherited = parseAcl(tree.effectiveAcl(parentUri));
    if (aclAllows(inherited, 'Replace', serverId)) return undefined;
    try {
      return formatAcl(grantAcl(inherited, ['Add', 'Delete', 'Replace'], serverId));
    } catch {
      return undefined;
    }
  }
}

/** Allows everything (tests, single-server devices that trust their transport). @public */
export class AllowAllPolicy implements AccessPolicy {
  allows(): boolean {
    return true;
  }
}

/** A role mask per command, with `*` for the commands not listed. @public */
export type RoleRule = number | Partial<Record<AccessCommand | '*', number>>;

/** Options of {@link RolePolicy}. @public */
export interface RolePolicyOptions {
  /** Role bits of each server (e.g. from its bootstrap). Unknown servers have no roles. */
  serverRoles: Record<string, number>;
  /** Required role mask per subtree (canonical URI); the longest matching prefix wins. */
  rules: Record<string, RoleRule>;
  /** Mask for URIs no rule covers; default: allowed. */
  defaultMask?: number;
}

/**
 * The Windows Mobile model (research note 4.2: "Metabase and OMA DM"): each server has role bits,
 * each subtree a mask of roles allowed; a command is allowed when the server has at least one of
 * the roles the longest matching rule requires. A small, honest stand-in for the real metabase,
 * which stores `AccessRole` per node. ACL properties stay readable/writable data; they decide
 * nothing under this policy.
 *
 * @example
 * ```ts
 * const MANAGER = 8, OPERATOR = 128;
 * const policy = new RolePolicy({
 *   serverRoles: { 'mdm.example': OPERATOR },
 *   rules: { './DMAcc': MANAGER, './Vendor': { Get: OPERATOR | MANAGER, '*': MANAGER } },
 * });
 * ```
 * @public
 */
export class RolePolicy implements AccessPolicy {
  private readonly rules: [string, RoleRule][];

  constructor(private readonly options: RolePolicyOptions) {
    // Longest prefix first, so the first match wins.
    this.rules = Object.entries(options.rules).sort((a, b) => b[0].length - a[0].length);
  }

  private mask(uri: string, command: AccessCommand): number | undefined {
    for (const [prefix, rule] of this.rules) {
      if (prefix === '.' || uri === prefix || uri.startsWith(prefix + '/')) {
        if (typeof rule === 'number') return rule;
        return rule[command] ?? rule['*'] ?? 0;
      }
    }
    return this.options.defaultMask;
  }

  allows(req: AccessRequest): boolean {
    const roles = this.options.serverRoles[req.serverId] ?? 0;
    const ok = (uri: string, command: AccessCommand): boolean => {
      const m = this.mask(uri, command);
      return m === undefined || (roles & m) !== 0;
    };
    if (req.command === 'Copy' && req.sourceUri !== undefined && !ok(req.sourceUri, 'Get')) return false;
    return ok(req.uri, req.command);
  }
}
