/**
 * DM server accounts (DMSTDOBJ DMAcc; research note 4.5): the DM 1.2 layout (MO
 * `urn:oma:mo:oma-dm-dmacc:1.0`, found by Type wherever the device put it) and the flat DM 1.1.2
 * layout that Windows Mobile 6.5 and 1.1.2 servers still use.
 *
 * Each layout is installed as a DDF: a permanent container (`./DMAcc` by default, AccessType Get)
 * with a placeholder `<X>` for the accounts (ZeroOrMore, Add/Delete/Get/Replace). Secrets and
 * nonces (`AAuthSecret`, `AAuthData`, `ServerPW`, `ClientPW`, `ServerNonce`, `ClientNonce`) have
 * no Get in their AccessType, so a Get answers 405 whoever asks. An account node's ACL is
 * `Get=<serverId>&Replace=<serverId>`: only its own server reads or changes it; its children
 * inherit that ACL.
 */
import type { DdfNode, MgmtTree } from '../../syncml/ddf-types.js';
import type { ConfigManager } from '../config-manager.js';
import { applyDdf, ddfNode } from '../ddf-tree.js';
import { DmError } from '../errors.js';
import type { ManagementTree, NodeDefinition, NodeValue } from '../tree.js';
import { decodeSegment, encodeSegment } from '../uri.js';

/** MO identifier of a DM 1.2 account. @public */
export const DMACC_TYPE = 'urn:oma:mo:oma-dm-dmacc:1.0';

/** Credentials in one direction. @public */
export interface DmCredential {
  /** AAuthType (1.2: `DIGEST`, `BASIC`, `HMAC`...) or the 1.1.2 AuthPref (`syncml:auth-md5`...). */
  type: string;
  name: string;
  secret: string;
  /** The nonce to use next (empty when none is stored). */
  nonce: Uint8Array;
}

/** An account as `readDmAccounts` finds it. @public */
export interface DmAccount {
  /** URI of the account node (`./DMAcc/<X>`). */
  uri: string;
  layout: '1.2' | '1.1.2';
  serverId: string;
  name?: string;
  addr: string;
  addrType?: string;
  port?: number;
  prefConRef?: string;
  authPref?: string;
  /** What the client authenticates with (1.2 AAuthLevel `CLCRED`; 1.1.2 UserName/ClientPW/ClientNonce). */
  clientCred: DmCredential;
  /** What the server must authenticate with (1.2 `SRVCRED`; 1.1.2 ServerId/ServerPW/ServerNonce). */
  serverCred: DmCredential;
}

/** What {@link installDmAccount} writes. @public */
export interface DmAccountInit {
  /** Name of the `<X>` node; default: the server id with characters outside `[A-Za-z0-9._-]` replaced by `_`. */
  nodeName?: string;
  serverId: string;
  name?: string;
  addr: string;
  /** Default `URI`. */
  addrType?: string;
  port?: number;
  prefConRef?: string;
  authPref?: string;
  clientCred: { type?: string; name: string; secret: string; nonce?: Uint8Array };
  /** `name` defaults to the server id. */
  serverCred: { type?: string; name?: string; secret: string; nonce?: Uint8Array };
}

/** Options of {@link installDmAccount}. @public */
export interface InstallDmAccountOptions {
  /** Default `1.2`. */
  layout?: '1.2' | '1.1.2';
  /** Container of the accounts; default `./DMAcc`. */
  parent?: string;
}

const RW: ('Add' | 'Get' | 'Replace')[] = ['Add', 'Get', 'Replace'];
const SECRET: ('Add' | 'Replace')[] = ['Add', 'Replace'];
const ITEM = ['Add', 'Delete', 'Get', 'Replace'] as ('Add' | 'Delete' | 'Get' | 'Replace')[];

function chr(name: string, access = RW, optional = false): DdfNode {
  return ddfNode(name, { access: [...access], format: 'chr', occurrence: { kind: optional ? 'ZeroOrOne' : 'One' }, scope: 'Dynamic' });
}

function bin(name: string): DdfNode {
  return ddfNode(name, { access: [...SECRET], format: 'bin', occurrence: { kind: 'ZeroOrOne' }, scope: 'Dynamic' });
}

function group(name: string, optional: boolean, children: DdfNode[]): DdfNode {
  return ddfNode(name, { access: ['Add', 'Delete', 'Get'], format: 'node', occurrence: { kind: optional ? 'ZeroOrOne' : 'One' }, scope: 'Dynamic' }, children);
}

function items(children: DdfNode[], oneOrMore = true): DdfNode {
  return ddfNode('', { access: [...ITEM], format: 'node', occurrence: { kind: oneOrMore ? 'OneOrMore' : 'ZeroOrMore' }, scope: 'Dynamic' }, children);
}

function split(parent: string): { path: string; name: string } {
  const i = parent.lastIndexOf('/');
  if (parent === '.' || i < 0) throw new DmError('INVALID_ARGUMENT', 'the account container cannot be the root');
  return { path: parent.slice(0, i) || '.', name: decodeSegment(parent.slice(i + 1)) };
}

/**
 * The DDF of an account container at `parent` in the given layout.
 * @public
 */
export function dmAccDdf(layout: '1.2' | '1.1.2', parent = './DMAcc'): MgmtTree {
  const { path, name } = split(parent);
  const account = layout === '1.2'
    ? ddfNode('', { access: [...ITEM], format: 'node', type: DMACC_TYPE, occurrence: { kind: 'ZeroOrMore' }, scope: 'Dynamic' }, [
      chr('AppID', ['Add', 'Get']),
      chr('ServerID', ['Add', 'Get']),
      chr('Name', RW, true),
      chr('PrefConRef', RW, true),
      group('ToConRef', true, [items([chr('ConRef')])]),
      group('AppAddr', false, [items([
        chr('Addr'),
        chr('AddrType'),
        group('Port', true, [items([chr('PortNbr')])]),
      ])]),
      chr('AAuthPref', RW, true),
      group('AppAuth', true, [items([
        chr('AAuthLevel'),
        chr('AAuthType'),
        chr('AAuthName', RW, true),
        chr('AAuthSecret', SECRET, true),
        bin('AAuthData'),
      ])]),
      group('Ext', true, []),
    ])
    : ddfNode('', { access: [...ITEM], format: 'node', occurrence: { kind: 'ZeroOrMore' }, scope: 'Dynamic' }, [
      chr('Addr'),
      chr('AddrType', RW, true),
      chr('PortNbr', RW, true),
      chr('ConRef', RW, true),
      chr('ServerId'),
      chr('ServerPW', SECRET, true),
      bin('ServerNonce'),
      chr('UserName', RW, true),
      chr('ClientPW', SECRET, true),
      bin('ClientNonce'),
      chr('AuthPref', RW, true),
      chr('Name', RW, true),
    ]);
  return {
    kind: 'MgmtTree', verDTD: '1.2', nodes: [
      ddfNode(name, { access: ['Get'], format: 'node', occurrence: { kind: 'One' }, scope: 'Permanent', path }, [account]),
    ],
  };
}

function layoutOfDefinition(def: NodeDefinition | undefined): '1.2' | '1.1.2' | undefined {
  const x = def?.children.find((c) => c.name === '');
  if (!x) return undefined;
  if (x.children.some((c) => c.name === 'AppID')) return '1.2';
  if (x.children.some((c) => c.name === 'ServerId')) return '1.1.2';
  return undefined;
}

function defaultNodeName(serverId: string): string {
  const s = serverId.replace(/[^A-Za-z0-9._-]/g, '_');
  return s === '' || s === '.' || s === '..' ? 'account' : s;
}

/**
 * Installs (device-side, e.g. from a bootstrap) one server account and returns its URI. The
 * container's DDF is applied the first time. All or nothing: on error the tree is unchanged.
 * Throws 418 when the account node exists, INVALID_ARGUMENT when the container already holds the
 * other layout, BAD_ACL (400) for a server id an ACL cannot carry.
 * @public
 */
export function installDmAccount(cm: ConfigManager, account: DmAccountInit, options: InstallDmAccountOptions = {}): string {
  const tree = cm.tree;
  const layout = options.layout ?? '1.2';
  const parent = tree.resolve(options.parent ?? './DMAcc').path;
  const existing = tree.exists(parent) ? layoutOfDefinition(tree.definitionOf(parent)) : undefined;
  if (existing !== undefined && existing !== layout) {
    throw new DmError('INVALID_ARGUMENT', `${parent} holds DM ${existing} accounts, not ${layout}`);
  }
  const snap = tree.snapshot();
  try {
    if (existing === undefined) applyDdf(tree, dmAccDdf(layout, parent));
    const uri = `${parent}/${encodeSegment(account.nodeName ?? defaultNodeName(account.serverId))}`;
    tree.add(uri, { format: 'node', type: layout === '1.2' ? DMACC_TYPE : '', acl: `Get=${account.serverId}&Replace=${account.serverId}` });
    const put = (rel: string, value: NodeValue | undefined, format: 'chr' | 'bin' = 'chr'): void => {
      if (value !== undefined) tree.add(`${uri}/${rel}`, { format, value });
    };
    const c = account.clientCred;
    const s = account.serverCred;
    if (layout === '1.2') {
      put('AppID', 'w7');
      put('ServerID', account.serverId);
      put('Name', account.name);
      put('PrefConRef', account.prefConRef);
      put('AppAddr/1/Addr', account.addr);
      put('AppAddr/1/AddrType', account.addrType ?? 'URI');
      if (account.port !== undefined) put('AppAddr/1/Port/1/PortNbr', String(account.port));
      put('AAuthPref', account.authPref);
      for (const [level, cred, name] of [['CLCRED', c, c.name], ['SRVCRED', s, s.name ?? account.serverId]] as const) {
        put(`AppAuth/${level}/AAuthLevel`, level);
        put(`AppAuth/${level}/AAuthType`, cred.type ?? account.authPref ?? 'DIGEST');
        put(`AppAuth/${level}/AAuthName`, name);
        put(`AppAuth/${level}/AAuthSecret`, cred.secret);
        put(`AppAuth/${level}/AAuthData`, cred.nonce ?? new Uint8Array(0), 'bin');
      }
    } else {
      put('Addr', account.addr);
      put('AddrType', account.addrType ?? 'URI');
      if (account.port !== undefined) put('PortNbr', String(account.port));
      put('ConRef', account.prefConRef);
      put('ServerId', account.serverId);
      put('ServerPW', s.secret);
      put('ServerNonce', s.nonce ?? new Uint8Array(0), 'bin');
      put('UserName', c.name);
      put('ClientPW', c.secret);
      put('ClientNonce', c.nonce ?? new Uint8Array(0), 'bin');
      put('AuthPref', account.authPref ?? c.type ?? s.type);
      put('Name', account.name);
    }
    return uri;
  } catch (e) {
    tree.restore(snap);
    throw e;
  }
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

function text(tree: ManagementTree, uri: string): string | undefined {
  const v = tree.info(uri)?.value;
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : utf8Decoder.decode(v);
}

function bytes(tree: ManagementTree, uri: string): Uint8Array {
  const v = tree.info(uri)?.value;
  if (v === undefined) return new Uint8Array(0);
  return typeof v === 'string' ? utf8.encode(v) : v;
}

function firstChild(tree: ManagementTree, uri: string): string | undefined {
  const name = tree.info(uri)?.children?.[0];
  return name === undefined ? undefined : `${uri}/${encodeSegment(name)}`;
}

function port(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = Number.parseInt(s, 10);
  return Number.isInteger(n) && n >= 0 && n <= 0xffff ? n : undefined;
}

function assign<T extends object>(target: T, key: keyof T, value: T[keyof T] | undefined): void {
  if (value !== undefined) target[key] = value;
}

/** 1.2: the AppAuth entry with this AAuthLevel. */
function appAuthEntry(tree: ManagementTree, uri: string, level: string): string | undefined {
  const info = tree.info(`${uri}/AppAuth`);
  for (const name of info?.children ?? []) {
    const entry = `${uri}/AppAuth/${encodeSegment(name)}`;
    if (text(tree, `${entry}/AAuthLevel`) === level) return entry;
  }
  return undefined;
}

function read12(tree: ManagementTree, uri: string): DmAccount {
  const addrEntry = firstChild(tree, `${uri}/AppAddr`);
  const portEntry = addrEntry ? firstChild(tree, `${addrEntry}/Port`) : undefined;
  const cred = (level: string): DmCredential => {
    const e = appAuthEntry(tree, uri, level);
    if (!e) return { type: '', name: '', secret: '', nonce: new Uint8Array(0) };
    return {
      type: text(tree, `${e}/AAuthType`) ?? '', name: text(tree, `${e}/AAuthName`) ?? '',
      secret: text(tree, `${e}/AAuthSecret`) ?? '', nonce: bytes(tree, `${e}/AAuthData`),
    };
  };
  const acc: DmAccount = {
    uri, layout: '1.2', serverId: text(tree, `${uri}/ServerID`) ?? '', addr: addrEntry ? text(tree, `${addrEntry}/Addr`) ?? '' : '',
    clientCred: cred('CLCRED'), serverCred: cred('SRVCRED'),
  };
  assign(acc, 'name', text(tree, `${uri}/Name`));
  if (addrEntry) assign(acc, 'addrType', text(tree, `${addrEntry}/AddrType`));
  if (portEntry) assign(acc, 'port', port(text(tree, `${portEntry}/PortNbr`)));
  assign(acc, 'prefConRef', text(tree, `${uri}/PrefConRef`));
  assign(acc, 'authPref', text(tree, `${uri}/AAuthPref`));
  return acc;
}

function read112(tree: ManagementTree, uri: string): DmAccount {
  const serverId = text(tree, `${uri}/ServerId`) ?? '';
  const authPref = text(tree, `${uri}/AuthPref`);
  const acc: DmAccount = {
    uri, layout: '1.1.2', serverId, addr: text(tree, `${uri}/Addr`) ?? '',
    clientCred: {
      type: authPref ?? '', name: text(tree, `${uri}/UserName`) ?? '', secret: text(tree, `${uri}/ClientPW`) ?? '',
      nonce: bytes(tree, `${uri}/ClientNonce`),
    },
    // DM 1.1.2 servers authenticate with their ServerId as the user name.
    serverCred: { type: authPref ?? '', name: serverId, secret: text(tree, `${uri}/ServerPW`) ?? '', nonce: bytes(tree, `${uri}/ServerNonce`) },
  };
  assign(acc, 'name', text(tree, `${uri}/Name`));
  assign(acc, 'addrType', text(tree, `${uri}/AddrType`));
  assign(acc, 'port', port(text(tree, `${uri}/PortNbr`)));
  assign(acc, 'prefConRef', text(tree, `${uri}/ConRef`));
  if (authPref !== undefined) acc.authPref = authPref;
  return acc;
}

/**
 * Every account in the tree, in tree order: interior nodes of Type `urn:oma:mo:oma-dm-dmacc:1.0`
 * (1.2, wherever they are) and interior nodes with `ServerId` and `Addr` leaves (1.1.2).
 * Reads device-side: secrets and nonces included.
 * @public
 */
export function readDmAccounts(tree: ManagementTree): DmAccount[] {
  const out: DmAccount[] = [];
  tree.walk('.', (info) => {
    if (info.leaf) return false;
    if (info.type === DMACC_TYPE) {
      out.push(read12(tree, info.uri));
      return false;
    }
    const kids = info.children!;
    if (kids.includes('ServerId') && kids.includes('Addr') && tree.info(`${info.uri}/ServerId`)?.leaf) {
      out.push(read112(tree, info.uri));
      return false;
    }
    return true;
  });
  return out;
}

/**
 * Stores the next nonce of an account (the session calls it when a peer sends NextNonce):
 * `client` = the nonce the client uses to authenticate (1.2 CLCRED AAuthData, 1.1.2 ClientNonce),
 * `server` = the one the server must use (SRVCRED AAuthData, ServerNonce). Creates the node (and
 * a 1.2 AppAuth entry for the level) when missing. Throws 404 when the account is gone.
 * @public
 */
export function updateAccountNonce(tree: ManagementTree, account: Pick<DmAccount, 'uri' | 'layout'>, which: 'client' | 'server', nonce: Uint8Array): void {
  if (!tree.exists(account.uri)) throw new DmError('NOT_FOUND', `no account ${account.uri}`);
  let uri: string;
  if (account.layout === '1.2') {
    const level = which === 'client' ? 'CLCRED' : 'SRVCRED';
    let entry = appAuthEntry(tree, account.uri, level);
    if (!entry) {
      entry = `${account.uri}/AppAuth/${level}`;
      tree.add(`${entry}/AAuthLevel`, { format: 'chr', value: level });
    }
    uri = `${entry}/AAuthData`;
  } else {
    uri = `${account.uri}/${which === 'client' ? 'ClientNonce' : 'ServerNonce'}`;
  }
  if (tree.exists(uri)) tree.replace(uri, { format: 'bin', value: nonce });
  else tree.add(uri, { format: 'bin', value: nonce });
}
