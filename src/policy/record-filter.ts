/**
 * Record filters (policy version 2): per model, an Odoo domain every search, count, read and aggregate of the key is
 * narrowed by, written by the administrator with placeholders resolved on each call:
 *
 * - `"$uid"`: the id of the key's Odoo user;
 * - `"$company_ids"`: the companies the key is pinned to (`"companies"`; required by this placeholder);
 * - `"$today"`: today's date in UTC, `YYYY-MM-DD`.
 *
 * A placeholder is a whole string value: `["user_id", "=", "$uid"]`, `["company_id", "in", "$company_ids"]`,
 * `["date_deadline", ">=", "$today"]`. Any other string starting with `$` is refused, so a typo never becomes a
 * literal that silently matches nothing.
 *
 * How the guard applies a filter is in src/guard/record-scope.ts. Pure: no I/O.
 */
import { parseDomain, type ParsedDomain } from '../domain/domain'
import { ToolError } from '../errors'

export const PLACEHOLDERS = ['$uid', '$company_ids', '$today'] as const
export type Placeholder = (typeof PLACEHOLDERS)[number]

/** The values placeholders stand for on one call. */
export interface PlaceholderValues {
  uid: number
  companyIds: number[]
  /** `YYYY-MM-DD`, UTC. */
  today: string
}

/** A record filter as stored in a parsed policy: the domain as written, and which placeholders it uses. */
export interface RecordFilter {
  /** The domain as the administrator wrote it (placeholders unresolved). */
  terms: unknown[]
  placeholders: ReadonlySet<Placeholder>
}

/** Values used to check a filter's shape when the policy is parsed (any valid values would do). */
const SAMPLE_VALUES: PlaceholderValues = { uid: 1, companyIds: [1], today: '2026-01-01' }

/**
 * Replaces placeholders in a domain (values, lists of values, `any` sub-domains), collecting the ones used.
 * @throws Error naming an unknown placeholder
 */
function substitute(node: unknown, values: PlaceholderValues, used: Set<Placeholder>, inCondition = false): unknown {
  if (typeof node === 'string' && node.startsWith('$')) {
    if (!inCondition) return node
    switch (node) {
      case '$uid':
        used.add(node)
        return values.uid
      case '$company_ids':
        used.add(node)
        return [...values.companyIds]
      case '$today':
        used.add(node)
        return values.today
      default:
        throw new UnknownPlaceholderError(node)
    }
  }
  if (!Array.isArray(node)) return node
  // A condition [field, operator, value]: its value (and an `any` sub-domain) may hold placeholders; its field and
  // operator are never substituted.
  if (node.length === 3 && typeof node[0] === 'string' && typeof node[1] === 'string' && !['&', '|', '!'].includes(node[0])) {
    const [field, operator, value] = node
    const resolved = Array.isArray(value) && (operator === 'any' || operator === 'not any')
      ? value.map((term) => substitute(term, values, used))
      : Array.isArray(value)
        ? value.map((item) => substitute(item, values, used, true))
        : substitute(value, values, used, true)
    return [field, operator, resolved]
  }
  return node.map((term) => substitute(term, values, used))
}

class UnknownPlaceholderError extends Error {
  constructor(readonly placeholder: string) {
    super(`unknown placeholder ${JSON.stringify(placeholder.slice(0, 40))}: the placeholders are ${PLACEHOLDERS.join(', ')}`)
  }
}

/** Checks a record filter as written in a policy. @returns the filter, or the problems found (without JSON path). */
export function compileRecordFilter(document: unknown, pinned: boolean): { ok: true; filter: RecordFilter } | { ok: false; errors: string[] } {
  if (!Array.isArray(document)) return { ok: false, errors: ['a record filter must be an Odoo domain: a JSON array such as [["user_id", "=", "$uid"]]'] }
  const used = new Set<Placeholder>()
  try {
    parseDomain(substitute(document, SAMPLE_VALUES, used))
  } catch (error) {
    if (error instanceof UnknownPlaceholderError || error instanceof ToolError) return { ok: false, errors: [error.message] }
    throw error
  }
  if (used.has('$company_ids') && !pinned) {
    return { ok: false, errors: ['"$company_ids" needs the key pinned to companies: set "companies": [ids] in the policy'] }
  }
  return { ok: true, filter: { terms: document, placeholders: used } }
}

/** The filter with its placeholders resolved, parsed as any domain is (src/domain/domain.ts). */
export function resolveRecordFilter(filter: RecordFilter, values: PlaceholderValues): ParsedDomain {
  return parseDomain(substitute(filter.terms, values, new Set()))
}

/** Today in UTC, as `$today` stands for it. */
export function utcToday(now = new Date()): string {
  return now.toISOString().slice(0, 10)
}
