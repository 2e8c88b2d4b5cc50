/**
 * Management tree URIs (DMTND 8.1; research note 4.1): relative to the root `.`, `DMAcc/x` and
 * `./DMAcc/x` name the same node, no trailing `/`, no empty, `.` or `..` segments after the
 * prefix, plus the `?prop=` (DMTND 8.3) and `?list=` (DMTND 8.4) queries.
 */
import { DmError } from './errors.js';

/** Limits published in `./DevDetail/URI/MaxDepth|MaxTotLen|MaxSegLen`; 0 or absent = unlimited. */
export interface UriLimits {
  /** Most segments below the root (`./A/B` has depth 2). */
  maxDepth?: number;
  /** Longest canonical path (`./...`, query excluded), in UTF-8 bytes. */
  maxTotalLength?: number;
  /** Longest segment as written (percent escapes count as three bytes), in UTF-8 bytes. */
  maxSegmentLength?: number;
}

/** The query part of a tree URI; at most one key is present. */
export interface UriQuery {
  /** `?prop=Name`: a node property (ACL, Format, Name, Size, Title, TStamp, Type, VerNo, ...), as written. */
  prop?: string;
  /** `?list=Struct|StructData|TNDS[+/-props]`, as written. */
  list?: string;
}

/** A validated tree URI. */
export interface ParsedUri {
  /** Canonical path: `.` for the root, otherwise `./` followed by the segments. */
  path: string;
  /** Segment texts as given (percent escapes kept; see {@link decodeSegment}). */
  segments: string[];
  query?: UriQuery;
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function badUri(message: string, offset?: number): DmError {
  // DMREPPRO treats a malformed command as 400 Bad request; 404 would claim a well-formed URI.
  return new DmError('BAD_URI', message, { offset, status: 400 });
}

function tooLong(message: string): DmError {
  return new DmError('URI_TOO_LONG', message, { status: 414 });
}

function limit(value: number | undefined, name: string): number {
  if (value === undefined || value === 0) return 0;
  if (!Number.isInteger(value) || value < 0) throw new DmError('INVALID_ARGUMENT', `${name} must be a non-negative integer`);
  return value;
}

function byteLength(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return utf8.encode(s).length;
  return s.length;
}

function parseQuery(q: string, offset: number): UriQuery {
  const eq = q.indexOf('=');
  if (eq <= 0) throw badUri('URI query must be prop=<name> or list=<what>', offset);
  const key = q.slice(0, eq);
  const value = q.slice(eq + 1);
  if (key !== 'prop' && key !== 'list') {
    throw new DmError('UNSUPPORTED_URI_QUERY', `unsupported URI query ${JSON.stringify(key)}`, { offset, status: 406 });
  }
  if (value === '') throw badUri(`empty ?${key}= value`, offset + eq + 1);
  if (value.includes('&') || value.includes('?')) throw badUri('only one URI query parameter is allowed', offset);
  return key === 'prop' ? { prop: value } : { list: value };
}

/**
 * Validates a tree URI and splits off its query. Throws DmError `BAD_URI` (status 400, with the
 * character offset) for an empty path, a leading `/`, a trailing `/`, empty/`.`/`..` segments
 * after the optional `./` prefix, control characters, or a malformed query; DmError
 * `UNSUPPORTED_URI_QUERY` (406) for a query key other than prop/list; DmError `URI_TOO_LONG`
 * (414) when a limit is exceeded.
 * @public
 */
export function parseUri(text: string, limits: UriLimits = {}): ParsedUri {
  const q = text.indexOf('?');
  const raw = q < 0 ? text : text.slice(0, q);
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) throw badUri('control character in URI', i);
  }
  if (raw === '') throw badUri('empty URI', 0);
  if (raw[0] === '/') throw badUri('URI must not start with "/"', 0);
  let segments: string[];
  let base = 0;
  if (raw === '.') {
    segments = [];
  } else {
    // `./` is allowed only as the prefix; `.` alone is the root, `./` is not (DMTND 8.1).
    const rel = raw.startsWith('./') ? raw.slice(2) : raw;
    base = raw.length - rel.length;
    segments = rel.split('/');
    let at = base;
    for (const s of segments) {
      if (s === '') {
        throw badUri(at === raw.length ? 'URI must not end with "/"' : 'empty URI segment', at);
      }
      if (s === '.' || s === '..') throw badUri(`"${s}" segment not allowed`, at);
      at += s.length + 1;
    }
  }
  const path = segments.length === 0 ? '.' : './' + segments.join('/');

  const maxDepth = limit(limits.maxDepth, 'maxDepth');
  const maxTotal = limit(limits.maxTotalLength, 'maxTotalLength');
  const maxSeg = limit(limits.maxSegmentLength, 'maxSegmentLength');
  if (maxDepth && segments.length > maxDepth) throw tooLong(`URI depth ${segments.length} exceeds MaxDepth ${maxDepth}`);
  if (maxTotal) {
    const len = byteLength(path);
    if (len > maxTotal) throw tooLong(`URI length ${len} exceeds MaxTotLen ${maxTotal}`);
  }
  if (maxSeg) {
    for (const s of segments) {
      const len = byteLength(s);
      if (len > maxSeg) throw tooLong(`URI segment of ${len} bytes exceeds MaxSegLen ${maxSeg}`);
    }
  }
  const result: ParsedUri = { path, segments };
  if (q >= 0) result.query = parseQuery(text.slice(q + 1), q + 1);
  return result;
}

/**
 * Canonical form of a tree URI: `./A/B` (or `.` for the root), with its query (if any) kept as
 * `?prop=` / `?list=`. Same errors as {@link parseUri}.
 * @public
 */
export function normalizeUri(uri: string, limits?: UriLimits): string {
  const p = parseUri(uri, limits);
  if (p.query?.prop !== undefined) return `${p.path}?prop=${p.query.prop}`;
  if (p.query?.list !== undefined) return `${p.path}?list=${p.query.list}`;
  return p.path;
}

/**
 * Canonical URI of the parent node, or null for the root. Any query is ignored.
 * @public
 */
export function parentUri(uri: string): string | null {
  const { segments } = parseUri(uri);
  if (segments.length === 0) return null;
  return segments.length === 1 ? '.' : './' + segments.slice(0, -1).join('/');
}

/**
 * Appends relative paths (`Name` or `A/B`, no `./` prefix) to a base URI and validates the result.
 * @public
 */
export function joinUri(base: string, ...names: string[]): string {
  const { segments } = parseUri(base);
  for (const n of names) {
    if (n.startsWith('./') || n === '.') throw badUri(`cannot join a rooted URI ${JSON.stringify(n)}`);
    if (n.includes('?')) throw badUri(`cannot join a URI with a query ${JSON.stringify(n)}`);
  }
  return parseUri(['.', ...segments, ...names].join('/')).path;
}

/**
 * Number of segments below the root: `.` = 0, `./A/B` = 2.
 * @public
 */
export function uriDepth(uri: string): number {
  return parseUri(uri).segments.length;
}

/**
 * True when node `a` is a proper ancestor of node `b` (or `b` itself when `inclusive`); segment-
 * wise, so `./A` is not an ancestor of `./AB`. Queries are ignored.
 * @public
 */
export function isAncestor(a: string, b: string, inclusive = false): boolean {
  const pa = parseUri(a).path;
  const pb = parseUri(b).path;
  if (pa === pb) return inclusive;
  return pa === '.' || pb.startsWith(pa + '/');
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Node name from a segment: `%xx` escapes decoded as UTF-8 (Windows sends non-ASCII names that
 * way; LEARN-OMADM). Throws DmError `BAD_URI` for a malformed escape or invalid UTF-8.
 * @public
 */
export function decodeSegment(segment: string): string {
  if (!segment.includes('%')) return segment;
  const bytes: number[] = [];
  let runStart = 0;
  const flush = (end: number) => {
    if (end > runStart) for (const b of utf8.encode(segment.slice(runStart, end))) bytes.push(b);
  };
  for (let i = 0; i < segment.length; i++) {
    if (segment.charCodeAt(i) !== 0x25) continue;
    flush(i);
    const hi = hexValue(segment.charCodeAt(i + 1));
    const lo = hexValue(segment.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) throw badUri('malformed percent escape', i);
    bytes.push((hi << 4) | lo);
    i += 2;
    runStart = i + 1;
  }
  flush(segment.length);
  try {
    return utf8Strict.decode(Uint8Array.from(bytes));
  } catch (e) {
    throw new DmError('BAD_URI', 'percent escapes are not valid UTF-8', { status: 400, cause: e });
  }
}

/**
 * Segment text for a node name: UTF-8 percent-encodes `%`, `/`, `?`, `#`, space, control and
 * non-ASCII characters, so any name (except empty, `.`, `..`) becomes one valid segment.
 * @public
 */
export function encodeSegment(name: string): string {
  if (name === '' || name === '.' || name === '..') throw badUri(`${JSON.stringify(name)} cannot be a node name`);
  let out = '';
  for (const b of utf8.encode(name)) {
    const keep = b > 0x20 && b < 0x7f && b !== 0x25 && b !== 0x2f && b !== 0x3f && b !== 0x23;
    out += keep ? String.fromCharCode(b) : '%' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
  }
  return out;
}
