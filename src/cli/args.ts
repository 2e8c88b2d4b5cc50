/**
 * A small argument parser: `--flag`, `--name value`, `--name=value`, `-o value`, positionals.
 * Each command declares what it takes, so a typo is an error rather than silently ignored.
 */

export interface ArgSpec {
  /** Options that take a value (long names without dashes; short aliases map to them). */
  values?: string[];
  /** Options that are flags. */
  flags?: string[];
  /** Options that may repeat (values collected in order). */
  repeat?: string[];
  /** Short aliases, e.g. `{ o: 'output' }`. */
  short?: Record<string, string>;
}

export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string | undefined>;
  lists: Record<string, string[]>;
  flags: Record<string, boolean>;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseArgs(argv: readonly string[], spec: ArgSpec): ParsedArgs {
  const values = new Set(spec.values ?? []);
  const flags = new Set([...(spec.flags ?? []), 'help']);
  const repeat = new Set(spec.repeat ?? []);
  const out: ParsedArgs = { positionals: [], values: {}, lists: {}, flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-' || !a.startsWith('-')) {
      out.positionals.push(a);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      inline = eq > 0 ? a.slice(eq + 1) : undefined;
    } else {
      const s = a.slice(1);
      name = spec.short?.[s] ?? (s === 'h' ? 'help' : '');
      if (!name) throw new UsageError(`unknown option '${a}'`);
    }
    if (flags.has(name)) {
      if (inline !== undefined) throw new UsageError(`option '--${name}' takes no value`);
      out.flags[name] = true;
    } else if (values.has(name) || repeat.has(name)) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`option '--${name}' needs a value`);
      if (repeat.has(name)) (out.lists[name] ??= []).push(v);
      else out.values[name] = v;
    } else {
      throw new UsageError(`unknown option '${a}'`);
    }
  }
  return out;
}

/** One value from a fixed set, or a usage error naming the choices. */
export function choice<T extends string>(name: string, v: string | undefined, choices: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if ((choices as readonly string[]).includes(v)) return v as T;
  throw new UsageError(`--${name} must be one of ${choices.join(', ')} (got '${v}')`);
}

/** A non-negative integer option. */
export function integer(name: string, v: string | undefined, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number (got '${v}')`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max} (got ${n})`);
  return n;
}
