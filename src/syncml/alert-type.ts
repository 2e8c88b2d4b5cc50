/**
 * Generic Alert (1226) and Client Event (1224) types arrive with or without a prefix: the DM 1.2
 * text asks for `Reversed-Domain-Name: org.openmobilealliance.dm.firmwareupdate.devicerequest`,
 * FUMO and Microsoft send the bare name, some clients write `Content-Type:` (research note §9.12).
 * The parser keeps the text as sent; compare types through this function.
 */

const PREFIXES = ['reversed-domain-name:', 'content-type:'];

/**
 * The alert type without an optional `Reversed-Domain-Name:` / `Content-Type:` prefix (any
 * case), trimmed.
 *
 * @example
 * ```ts
 * normalizeAlertType(' Reversed-Domain-Name: org.openmobilealliance.dm.firmwareupdate.download ')
 * // -> 'org.openmobilealliance.dm.firmwareupdate.download'
 * ```
 * @public
 */
export function normalizeAlertType(type: string): string {
  let s = type.trim();
  const lower = s.toLowerCase();
  for (const p of PREFIXES) {
    if (lower.startsWith(p)) {
      s = s.slice(p.length).trim();
      break;
    }
  }
  return s;
}
