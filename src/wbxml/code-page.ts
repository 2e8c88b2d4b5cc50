/**
 * Code pages are data: a document type lists its pages, each page maps tag tokens to names.
 * `defineCodePageSet` turns that data into the lookup arrays the reader and writer use.
 */

/** One code page of tags (and optionally attributes), as plain data. @public */
export interface CodePageData {
  /** The page number used in SWITCH_PAGE. */
  page: number;
  /** The XML namespace of the page's elements (case as the spec writes it). */
  namespace: string;
  /** Tag names keyed by token 0x05..0x3F. */
  tags: Readonly<Record<number, string>>;
  /**
   * Other names the encoder accepts for a token (DevInf 1.2 renamed `Size` to `MaxSize` at 0x1C;
   * writers still send `Size`). The decoder always reports the name in `tags`.
   */
  aliases?: Readonly<Record<string, number>>;
  /** Attribute start tokens 0x05..0x7F: the attribute name and, for some, a value prefix. */
  attributes?: Readonly<Record<number, { name: string; valuePrefix?: string }>>;
  /** Attribute value tokens 0x85..0xFF. */
  attributeValues?: Readonly<Record<number, string>>;
}

/**
 * A document nested inside an element as OPAQUE (DevInf in SyncML `Data`): when the element's
 * governing `Type` names one of `types`, the opaque bytes are a complete WBXML document.
 * @public
 */
export interface NestedDocumentRule {
  /** The element that carries the nested document (`Data`), by page and name. */
  carrier: { page: number; name: string };
  /** The element whose text names the content type (`Type` on the MetInf page). */
  typeElement: { page: number; name: string };
  /**
   * The element whose text names the data format (`Format` on the MetInf page). When binary
   * OPAQUE data must be written to XML as base64, its `bin` becomes `b64` (OMA DM TND 1.2: b64
   * is the Format of base64-encoded data, bin of raw bytes).
   */
  formatElement?: { page: number; name: string };
  /**
   * Content types, each with its XML and WBXML spelling and the root element of the nested
   * document, e.g. `{ xml: 'application/vnd.syncml-devinf+xml', wbxml: '…+wbxml', root: 'DevInf',
   * set: 'DevInf 1.2' }`. `set` names the code page set used to encode the nested document.
   */
  types: readonly { xml: string; wbxml: string; root: string; namespace: string; set: string }[];
}

/** A document type: its public identifiers, root element and code pages, as plain data. @public */
export interface CodePageSetData {
  /** Unique name, e.g. `SyncML 1.2`. */
  name: string;
  /** Root element name. */
  root: string;
  /** The page the root element is on (a standalone DDF document starts with SWITCH_PAGE 2). */
  rootPage: number;
  /** Numeric public ID (0x1201), or 0 when the document type has none (DM DDF). */
  publicId: number;
  /** Formal public identifier, e.g. `-//SYNCML//DTD SyncML 1.2//EN`. */
  publicIdString: string;
  /** Other spellings seen in the wild (matched case-insensitively, like the main one). */
  publicIdAliases?: readonly string[];
  /** System identifier (DTD URL) written in a DOCTYPE. */
  systemId?: string;
  /** Version text in the document (VerDTD), used to tell 1.1 from 1.2 when nothing else can. */
  version?: string;
  pages: readonly CodePageData[];
  nested?: NestedDocumentRule;
}

/** A code page set ready for use: lookup arrays built once. @public */
export interface CodePageSet extends CodePageSetData {
  /** `tagNames[page][token]`: the tag's name, or undefined. */
  readonly tagNames: readonly (readonly (string | undefined)[] | undefined)[];
  /** `attrStarts[page][token]`. */
  readonly attrStarts: readonly (readonly ({ name: string; valuePrefix?: string } | undefined)[] | undefined)[];
  /** `attrValueNames[page][token]`. */
  readonly attrValueNames: readonly (readonly (string | undefined)[] | undefined)[];
  /** Name -> (page << 8 | token); a name on several pages maps to the lowest page. */
  readonly tagTokens: ReadonlyMap<string, number>;
  /** namespace (lower case) -> page. */
  readonly namespacePages: ReadonlyMap<string, number>;
  /** Name -> every (page << 8 | token) carrying it, for namespace-directed lookups. */
  readonly tagTokensAll: ReadonlyMap<string, readonly number[]>;
  /** The namespace of each page. */
  readonly pageNamespaces: readonly (string | undefined)[];
}

/**
 * Builds the lookup arrays of a code page set. Use it for code pages of your own, then
 * `registerCodePageSet` them.
 * @public
 */
export function defineCodePageSet(data: CodePageSetData): CodePageSet {
  const tagNames: (string | undefined)[][] = [];
  const attrStarts: ({ name: string; valuePrefix?: string } | undefined)[][] = [];
  const attrValueNames: (string | undefined)[][] = [];
  const tagTokens = new Map<string, number>();
  const tagTokensAll = new Map<string, number[]>();
  const namespacePages = new Map<string, number>();
  const pageNamespaces: (string | undefined)[] = [];
  for (const p of data.pages) {
    if (!Number.isInteger(p.page) || p.page < 0 || p.page > 255) throw new RangeError(`code page ${p.page} of ${data.name} is not 0..255`);
    const names: (string | undefined)[] = new Array(64).fill(undefined);
    for (const [k, name] of Object.entries(p.tags)) {
      const t = Number(k);
      if (!(t >= 5 && t <= 0x3f)) throw new RangeError(`tag token ${k} of ${data.name} page ${p.page} is not 0x05..0x3F`);
      names[t] = name;
      const id = (p.page << 8) | t;
      if (!tagTokens.has(name)) tagTokens.set(name, id);
      let all = tagTokensAll.get(name);
      if (!all) tagTokensAll.set(name, (all = []));
      all.push(id);
    }
    for (const [name, t] of Object.entries(p.aliases ?? {})) {
      const id = (p.page << 8) | t;
      if (!tagTokens.has(name)) tagTokens.set(name, id);
      let all = tagTokensAll.get(name);
      if (!all) tagTokensAll.set(name, (all = []));
      all.push(id);
    }
    tagNames[p.page] = names;
    const starts: ({ name: string; valuePrefix?: string } | undefined)[] = new Array(128).fill(undefined);
    for (const [k, a] of Object.entries(p.attributes ?? {})) starts[Number(k)] = a;
    attrStarts[p.page] = starts;
    const values: (string | undefined)[] = new Array(256).fill(undefined);
    for (const [k, v] of Object.entries(p.attributeValues ?? {})) values[Number(k)] = v;
    attrValueNames[p.page] = values;
    namespacePages.set(p.namespace.toLowerCase(), p.page);
    pageNamespaces[p.page] = p.namespace;
  }
  return Object.freeze({
    ...data,
    tagNames,
    attrStarts,
    attrValueNames,
    tagTokens,
    tagTokensAll,
    namespacePages,
    pageNamespaces,
  });
}

/** Public-ID strings compare case-insensitively with runs of white space collapsed. */
export function normalizePublicId(s: string): string {
  return s.trim().replace(/\s+/g, ' ').toUpperCase();
}

/**
 * A set of document types the codec knows, found by numeric or textual public ID, namespace or
 * root element. `defaultRegistry` holds the built-in SyncML, MetInf, DevInf and DM DDF sets.
 * @public
 */
export class CodePageRegistry {
  private readonly sets: CodePageSet[] = [];
  private readonly byNumber = new Map<number, CodePageSet>();
  private readonly byString = new Map<string, CodePageSet>();
  private readonly byName = new Map<string, CodePageSet>();

  constructor(sets: readonly CodePageSet[] = []) {
    for (const s of sets) this.register(s);
  }

  /** Adds (or replaces, by name) a document type. Later registrations win lookups. */
  register(set: CodePageSet | CodePageSetData): CodePageSet {
    const s = 'tagNames' in set ? set : defineCodePageSet(set);
    const old = this.byName.get(s.name);
    if (old) this.sets.splice(this.sets.indexOf(old), 1);
    this.sets.push(s);
    this.byName.set(s.name, s);
    if (s.publicId > 1) this.byNumber.set(s.publicId, s);
    this.byString.set(normalizePublicId(s.publicIdString), s);
    for (const a of s.publicIdAliases ?? []) this.byString.set(normalizePublicId(a), s);
    return s;
  }

  /** Every registered set, in registration order. */
  all(): readonly CodePageSet[] {
    return this.sets;
  }

  byPublicId(id: number): CodePageSet | undefined {
    return this.byNumber.get(id);
  }

  byPublicIdString(id: string): CodePageSet | undefined {
    return this.byString.get(normalizePublicId(id));
  }

  get(name: string): CodePageSet | undefined {
    return this.byName.get(name);
  }

  /** The newest set whose root element is on page `page` with token `token`. */
  byRootToken(page: number, token: number): CodePageSet | undefined {
    for (let i = this.sets.length - 1; i >= 0; i--) {
      const s = this.sets[i];
      if (s.rootPage === page && s.tagNames[page]?.[token] === s.root) return s;
    }
    return undefined;
  }

  /** The newest set with this root element whose root namespace matches (case-insensitive). */
  byRoot(root: string, namespace?: string): CodePageSet | undefined {
    const ns = namespace?.toLowerCase();
    for (let i = this.sets.length - 1; i >= 0; i--) {
      const s = this.sets[i];
      if (s.root !== root) continue;
      if (ns === undefined || s.pageNamespaces[s.rootPage]?.toLowerCase() === ns) return s;
    }
    return undefined;
  }
}
