/**
 * A connector profile's policy in plain words, for the consent page: what a connection made with it will be allowed
 * to do. Built from the stored JSON document (already validated when the profile was added); pure.
 */
import type { ConnectorProfile } from './connector-profile'

const OPERATION_WORDS: Record<string, string> = { read: 'read', create: 'create', write: 'update', unlink: 'delete' }

export interface PolicyWords {
  models: { model: string; operations: string; fields: string }[]
  limits: string[]
}

interface PolicyDocument {
  models?: Record<string, { operations?: string[]; fields?: '*' | string[]; filter?: unknown[]; mask?: Record<string, string> }>
  companies?: number[]
  ip?: { allow?: string[]; deny?: string[] }
  rateLimit?: { perMinute?: number; burst?: number }
  workingHours?: { timezone?: string; days?: string; from?: string; to?: string }
}

function duration(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} day${seconds === 86_400 ? '' : 's'}`
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`
  if (seconds % 60 === 0) return `${seconds / 60} minute${seconds === 60 ? '' : 's'}`
  return `${seconds} seconds`
}

export function describeProfile(profile: Pick<ConnectorProfile, 'policy' | 'tokenTtlSeconds' | 'connectionTtlSeconds'>, defaultPerMinute: number): PolicyWords {
  let document: PolicyDocument
  try {
    document = JSON.parse(profile.policy) as PolicyDocument
  } catch {
    document = {}
  }
  const models = Object.entries(document.models ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([model, rule]) => ({
      model,
      operations: (rule.operations ?? []).map((operation) => OPERATION_WORDS[operation] ?? operation).join(', '),
      fields:
        (rule.fields === '*' ? 'all fields your Odoo user may see' : `only ${(rule.fields ?? []).join(', ')}`) +
        (rule.mask && Object.keys(rule.mask).length ? `; masked: ${Object.entries(rule.mask).map(([field, mask]) => `${field} (${mask})`).join(', ')}` : '') +
        (rule.filter ? `; only records matching ${JSON.stringify(rule.filter)}` : ''),
    }))
  const limits: string[] = []
  const rate = document.rateLimit
  limits.push(
    rate?.perMinute
      ? `At most ${rate.perMinute} requests a minute (bursts of ${rate.burst ?? rate.perMinute}).`
      : `At most ${defaultPerMinute} requests a minute.`,
  )
  if (document.companies?.length) limits.push(`Only in companies ${document.companies.join(', ')} of your Odoo user.`)
  if (document.ip?.allow?.length) limits.push(`Only from these network addresses: ${document.ip.allow.join(', ')}.`)
  if (document.ip?.deny?.length) limits.push(`Never from these network addresses: ${document.ip.deny.join(', ')}.`)
  const hours = document.workingHours
  if (hours) limits.push(`Use outside ${hours.days} ${hours.from}-${hours.to} (${hours.timezone}) raises an alert for the administrators.`)
  limits.push(`Each access token lasts ${duration(profile.tokenTtlSeconds)}; the connection ends after ${duration(profile.connectionTtlSeconds)}, or when you or an administrator revoke it.`)
  limits.push("Odoo's own access rights for your user still apply: the connection never gets more than your account has.")
  limits.push('Every call is recorded in the gateway\'s audit log.')
  return { models, limits }
}
