// Access rights as Odoo enforces them: model access (ir.model.access, per group and operation), record rules
// (ir.rule: global rules ANDed, group rules ORed) and field groups (groups=). Messages are Odoo's, per version.
import { accessError, type OdooError } from './errors'
import type { Operation } from './models/model'
import type { RuntimeField, RuntimeModel } from './models'
import { andDomains, normalizeDomain, type DomainJson } from './domain'
import type { Json, OdooVersion } from './types'
import { GROUP_BY_XMLID, groupAclName, groupFullName, groupLabel, type GroupDef } from './users'

export interface SessionUser {
  uid: number
  name: string
  login: string
  /** Effective groups (implied included), as xmlids. */
  groups: ReadonlySet<string>
}

/** `user.has_groups('a,b,!c')`: any of the positive groups and none of the negated ones. */
export function hasGroups(user: SessionUser, spec: string): boolean {
  const parts = spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
  const positive = parts.filter((p) => !p.startsWith('!'))
  const negative = parts.filter((p) => p.startsWith('!')).map((p) => p.slice(1))
  if (negative.some((g) => user.groups.has(g))) return false
  return positive.length === 0 || positive.some((g) => user.groups.has(g))
}

export function aclAllows(model: RuntimeModel, operation: Operation, user: SessionUser): boolean {
  return model.acl.some((entry) => entry[operation] && (entry.group === null || user.groups.has(entry.group)))
}

const MODEL_ACCESS_ERROR: Record<Operation, string> = {
  read: "You are not allowed to access '%s' (%s) records.",
  write: "You are not allowed to modify '%s' (%s) records.",
  create: "You are not allowed to create '%s' (%s) records.",
  unlink: "You are not allowed to delete '%s' (%s) records.",
}

function sortGroups(groups: GroupDef[], version: OdooVersion): GroupDef[] {
  return groups.sort((a, b) => {
    const la = groupLabel(a, version)
    const lb = groupLabel(b, version)
    if ((la.category === null) !== (lb.category === null)) return la.category === null ? 1 : -1
    const byCategory = (la.category ?? '').localeCompare(lb.category ?? '')
    return byCategory !== 0 ? byCategory : la.name.localeCompare(lb.name)
  })
}

/** ir.model.access._make_access_error (transcripts 04c, 07, 14). */
export function aclError(model: RuntimeModel, operation: Operation, version: OdooVersion): OdooError {
  const first = MODEL_ACCESS_ERROR[operation].replace('%s', model.description).replace('%s', model.name)
  const groups = new Map<string, GroupDef>()
  for (const entry of model.acl) {
    if (!entry[operation] || entry.group === null) continue
    const g = GROUP_BY_XMLID.get(entry.group)
    if (g) groups.set(g.xmlid, g)
  }
  const names = [...new Set(sortGroups([...groups.values()], version).map((g) => groupAclName(g, version)))]
  const groupInfo = names.length
    ? `This operation is allowed for the following groups:\n${names.map((n) => `\t- ${n}`).join('\n')}`
    : 'No group currently allows this operation.'
  return accessError(`${first}\n\n${groupInfo}\n\nContact your administrator to request access if necessary.`, 'acl')
}

/** The domain the record rules impose on `operation`, or null when no rule applies. */
export function ruleDomain(model: RuntimeModel, operation: Operation, user: SessionUser, companyIds: readonly number[] = [1]): DomainJson | null {
  const rules = (model.rules ?? []).filter((rule) => rule.perms.includes(operation))
  if (rules.length === 0) return null
  const global = rules.filter((rule) => rule.groups.length === 0).map((rule) => normalizeDomain(rule.domain(user.uid, companyIds)))
  const mine = rules
    .filter((rule) => rule.groups.some((g) => user.groups.has(g)))
    .map((rule) => normalizeDomain(rule.domain(user.uid, companyIds)))
  const parts: DomainJson[] = [...global]
  if (mine.length > 0) parts.push([...mine.slice(1).map((): Json => '|'), ...mine.flat()])
  return parts.length === 0 ? null : andDomains(parts)
}

/** ir.rule._make_access_error, as shown to users without "Technical Features" (transcripts 16 / 15). */
export function ruleError(model: RuntimeModel, operation: Operation, user: SessionUser): OdooError {
  return accessError(
    'Uh-oh! Looks like you have stumbled upon some top-secret records.\n\n' +
      `Sorry, ${user.name} (id=${user.uid}) doesn't have '${operation}' access to:\n` +
      `- ${model.description} (${model.name})\n\n` +
      'If you really, really need access, perhaps you can win over your friendly administrator with a batch of freshly baked cookies.',
    'rule',
  )
}

export function fieldAllowed(field: RuntimeField, user: SessionUser): boolean {
  return !field.groups || hasGroups(user, field.groups)
}

function formatFieldGroups(field: RuntimeField, version: OdooVersion): string {
  const parts = (field.groups ?? '').split(',').map((p) => p.trim())
  const names = (xmlids: string[]) =>
    xmlids
      .map((x) => GROUP_BY_XMLID.get(x))
      .filter((g): g is GroupDef => g !== undefined)
      .map((g) => `'${groupFullName(g, version)}'`)
      .join(', ')
  const anyof = parts.filter((p) => !p.startsWith('!'))
  const noneof = parts.filter((p) => p.startsWith('!')).map((p) => p.slice(1))
  const out: string[] = []
  if (anyof.length) out.push(`allowed for groups ${names(anyof)}`)
  if (noneof.length) out.push(`forbidden for groups ${names(noneof)}`)
  return out.join('; ')
}

/** Odoo 18 check_field_access_rights (transcripts 04, 04b). */
export function fieldAccessError18(
  model: RuntimeModel,
  fields: RuntimeField[],
  operation: 'read' | 'write',
  uid: number,
): OdooError {
  const names = fields.map((f) => f.name)
  const sorted = [...fields].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return accessError(
    `You do not have enough rights to access the fields "${names.join(',')}" on ${model.description} (${model.name}). ` +
      `Please contact your system administrator.\n\nOperation: ${operation}\nUser: ${uid}\nFields:\n` +
      sorted.map((f) => `- ${f.name} (${formatFieldGroups(f, 18)})`).join('\n'),
    'field-access',
  )
}

/** Odoo 19 check_field_access: one field at a time; group details only for "Technical Features" users. */
export function fieldAccessError19(
  model: RuntimeModel,
  field: RuntimeField,
  operation: 'read' | 'write',
  user: SessionUser,
): OdooError {
  let message =
    `You do not have enough rights to access the field "${field.name}" on ${model.description} (${model.name}). ` +
    `Please contact your system administrator.\n\nOperation: ${operation}`
  if (user.groups.has('base.group_no_one')) {
    const groups = (field.groups ?? '')
      .split(',')
      .map((x) => GROUP_BY_XMLID.get(x.replace(/^!/, '')))
      .filter((g): g is GroupDef => g !== undefined)
      .sort((a, b) => a.id - b.id)
      .map((g) => `'${groupFullName(g, 19)}'`)
    message += `\nUser: ${user.uid}\nGroups: allowed for groups ${groups.join(', ')}`
  }
  return accessError(message, 'field-access')
}

/** hr.employee._check_private_fields (Odoo 19, transcripts 16 / 16b). */
export function hrPrivateFieldsError(names: string[]): OdooError {
  return accessError(
    `The fields “${names.join(',')}”, which you are trying to read, are not available for employee public profiles.`,
    'hr-private',
  )
}

/**
 * `env.companies` / `env.company` (odoo/api.py, Environment._get_allowed_company_ids in 19, `company` and `companies`
 * in 18): `allowed_company_ids` in the context naming a company outside the user's `company_ids` raises AccessError
 * "Access to unauthorized or invalid companies." when the environment's companies are asked for. Odoo asks when a
 * multi-company record rule or a `company_id` default is evaluated; the simulator asks on every call to a model with
 * a `company_id` field (an approximation: no transcript records a multi-company call).
 */
type CompanyEnv = { db: { get(model: string, id: number): Record<string, unknown> | undefined }; user: SessionUser; context: Record<string, unknown> }

export function checkAllowedCompanies(env: CompanyEnv, model: RuntimeModel): void {
  const asked = env.context['allowed_company_ids']
  if (!Array.isArray(asked) || asked.length === 0 || !model.field('company_id')) return
  const mine = new Set(userCompanyIds(env))
  if (asked.some((id) => !mine.has(id as number))) throw accessError('Access to unauthorized or invalid companies.', 'rule')
}

/** The user's `company_ids` (res.users), [1] for a user the table lacks. */
function userCompanyIds(env: CompanyEnv): number[] {
  const own = env.db.get('res.users', env.user.uid)?.['company_ids']
  return Array.isArray(own) ? (own as number[]) : [1]
}

/** `env.companies` ids: allowed_company_ids (checked by checkAllowedCompanies), else all the user's companies. */
export function envCompanyIds(env: CompanyEnv): number[] {
  const asked = env.context['allowed_company_ids']
  return Array.isArray(asked) && asked.length > 0 ? (asked as number[]) : userCompanyIds(env)
}
