/**
 * The rest of a seeded gateway for `npm run bench:cli`, besides the audit log (bench/cli-seed.ts): one API key per
 * key chain, OAuth connector profiles and connections, webhook sources, subscriptions, deliveries and attempts, and
 * alerts, at the scale of a busy deployment, so every list command has real pages to fetch and print.
 *
 * Secrets are sealed with the bench's CREDENTIALS_KEY exactly as the gateway seals them (src/lib/crypto.ts), so a
 * command that opens one works; key hashes are random (nobody holds those keys).
 */
import { randomBytes } from 'node:crypto'
import { sealSecret } from '../src/lib/crypto'
import { prng, seededKeyId, seededLogin, SPAN_MS, type ChainPlan } from './cli-seed'

export type SqlValue = string | number | null

export interface TableRows {
  table: string
  columns: string[]
  rows: SqlValue[][]
}

const DAY = 86_400_000
const hex = (r: () => number, digits: number) => Array.from({ length: digits }, () => Math.floor(r() * 16).toString(16)).join('')

/** A policy as a sales or support agent would have: a few models, some field lists, an IP allowlist, a rate limit. */
export const BENCH_POLICY = {
  version: 1,
  models: {
    'res.partner': { operations: ['read', 'write'], fields: ['name', 'email', 'phone', 'city', 'country_id', 'is_company'] },
    'sale.order': { operations: ['read', 'create'], fields: ['name', 'partner_id', 'date_order', 'amount_total', 'state'] },
    'account.move': { operations: ['read'], fields: ['name', 'partner_id', 'invoice_date', 'amount_total', 'state'] },
    'product.product': { operations: ['read'], fields: '*' },
  },
  ip: { allow: ['203.0.0.0/16', '2001:db8::/32'] },
  rateLimit: { perMinute: 600 },
}

/** Webhook subscriptions seeded: the first is the one `webhooks deliveries` is timed on. */
export const SUBSCRIPTIONS = 5
export const subscriptionId = (index: number) => `whk_be0c${index.toString(16).padStart(12, '0')}`

export async function fixtureRows(chains: ChainPlan[], endTime: number, credentialsKey: CryptoKey): Promise<TableRows[]> {
  const r = prng(0xf1c7)
  const start = endTime - SPAN_MS
  const policy = JSON.stringify(BENCH_POLICY)

  const keys: SqlValue[][] = []
  const secrets: SqlValue[][] = []
  for (const chain of chains) {
    if (chain.keyIndex === null) continue
    const k = chain.keyIndex
    const created = Math.floor(start - r() * 30 * DAY)
    // Most keys active; some revoked, some expired, a few expiring within a week (flagged by `keys list`).
    const fate = r()
    const revokedAt = fate < 0.05 ? Math.floor(endTime - r() * 30 * DAY) : null
    const expiresAt = fate < 0.05 ? null : fate < 0.08 ? Math.floor(endTime - r() * 10 * DAY) : fate < 0.1 ? endTime + 3 * DAY : fate < 0.5 ? endTime + 90 * DAY : null
    const rotatedAt = r() < 0.2 ? Math.floor(endTime - r() * 60 * DAY) : null
    const prefix = `omk_${k.toString(36).padStart(8, 'b')}`
    keys.push([
      chain.id, `bench agent ${k}`, prefix, seededLogin(k), await sealSecret(credentialsKey, `odoo-apikey-${seededLogin(k)}`, chain.id),
      100 + (k % 50), policy, created, expiresAt, revokedAt, rotatedAt, revokedAt ? null : Math.floor(endTime - r() * DAY),
    ])
    secrets.push([randomBytes(32).toString('hex'), chain.id, prefix, rotatedAt ?? created, null])
  }

  const profiles = ['claude', 'chatgpt', 'sales', 'support', 'finance']
  const connectorProfiles: SqlValue[][] = profiles.map((name, index) => [
    name, policy, index % 2 ? JSON.stringify(['sales@example.com', 'support@example.com']) : null, index === 0 ? 'Claude' : null,
    JSON.stringify(index === 0 ? ['https://claude.ai/api/mcp/auth_callback'] : []), 3600, 30 * 86_400, Math.floor(start - index * DAY), null,
  ])
  const connections: SqlValue[][] = []
  for (let c = 0; c < 200; c++) {
    const id = `con_be0c${c.toString(16).padStart(12, '0')}`
    const created = Math.floor(start + r() * SPAN_MS)
    const revoked = r() < 0.1
    connections.push([
      id, profiles[c % profiles.length]!, `client_${hex(r, 16)}`, c % 2 ? 'Claude' : 'ChatGPT', 'https://claude.ai/api/mcp/auth_callback',
      `grant_${hex(r, 16)}`, seededLogin(c), await sealSecret(credentialsKey, `odoo-apikey-${seededLogin(c)}`, id), 100 + (c % 50), created,
      created + 30 * DAY, revoked ? created + DAY : null, revoked ? 'admin' : null, revoked ? null : Math.floor(endTime - r() * DAY),
    ])
  }

  const sources: SqlValue[][] = ['odoo-sales', 'odoo-invoices'].map((name) => [name, randomBytes(32).toString('hex'), start, null])
  const subscriptions: SqlValue[][] = []
  for (let s = 1; s <= SUBSCRIPTIONS; s++) {
    const id = subscriptionId(s)
    subscriptions.push([
      id, `https://hooks.example.com/odoo/${s}`, JSON.stringify(['res.partner', 'sale.order']), s % 2 ? null : JSON.stringify(['create', 'write']),
      s === 3 ? '"*"' : JSON.stringify(['name', 'email', 'state', 'amount_total']), await sealSecret(credentialsKey, `whsec_${randomBytes(24).toString('base64')}`, id),
      null, null, start, null, null,
    ])
  }
  const deliveries: SqlValue[][] = []
  const attempts: SqlValue[][] = []
  for (let d = 0; d < 20_000; d++) {
    const id = `dlv_${d.toString(16).padStart(16, '0')}`
    const created = Math.floor(start + (d / 20_000) * SPAN_MS)
    const roll = r()
    const status = roll < 0.95 ? 'delivered' : roll < 0.98 ? 'dead' : 'pending'
    const count = status === 'delivered' ? (r() < 0.9 ? 1 : 2) : status === 'dead' ? 8 : 1
    const lastStatus = status === 'delivered' ? 200 : status === 'dead' ? 500 : null
    const payload = JSON.stringify({ event: 'write', model: 'sale.order', id: 1 + (d % 8000), values: { name: `S${String(d).padStart(5, '0')}`, state: 'sale', amount_total: 1234.5 } })
    deliveries.push([
      id, subscriptionId(1 + (d % SUBSCRIPTIONS)), `evt_${d.toString(16).padStart(16, '0')}`, payload, status, count, lastStatus,
      status === 'dead' ? 'HTTP 500' : status === 'pending' ? 'connect ECONNREFUSED' : null, created, created + count * 30_000,
    ])
    for (let a = 1; a <= count; a++) {
      const ok = a === count && status === 'delivered'
      attempts.push([id, a, created + (a - 1) * 30_000, ok ? 200 : status === 'pending' ? null : 500, 40 + Math.floor(r() * 200), ok ? null : 'HTTP 500'])
    }
  }

  const rules = ['rate_limit', 'auth_failures', 'model_denied', 'field_denied', 'new_model', 'off_hours', 'volume_spike']
  const alerts: SqlValue[][] = []
  const keyCount = Math.max(1, keys.length)
  for (let a = 0; a < 5_000; a++) {
    const k = 1 + Math.floor(r() * keyCount)
    const rule = rules[Math.floor(r() * rules.length)]!
    alerts.push([
      `alt_${a.toString(16).padStart(16, '0')}`, Math.floor(start + r() * SPAN_MS), rule, rule === 'auth_failures' ? `ip:203.0.113.${a % 250}` : seededKeyId(k),
      rule === 'auth_failures' ? null : seededKeyId(k), `${rule.replace('_', ' ')} on bench agent ${k}`, `${hex(r, 8)}-0000-4000-8000-${hex(r, 12)}`,
    ])
  }

  return [
    { table: 'api_keys', columns: ['id', 'name', 'prefix', 'odoo_login', 'odoo_secret', 'odoo_uid', 'policy', 'created_at', 'expires_at', 'revoked_at', 'rotated_at', 'last_used_at'], rows: keys },
    { table: 'api_key_secrets', columns: ['key_hash', 'key_id', 'prefix', 'created_at', 'retires_at'], rows: secrets },
    { table: 'connector_profiles', columns: ['name', 'policy', 'logins', 'client_name', 'redirect_uris', 'token_ttl_seconds', 'connection_ttl_seconds', 'created_at', 'removed_at'], rows: connectorProfiles },
    {
      table: 'connections',
      columns: ['id', 'profile', 'client_id', 'client_name', 'redirect_uri', 'grant_id', 'odoo_login', 'odoo_secret', 'odoo_uid', 'created_at', 'expires_at', 'revoked_at', 'revoked_reason', 'last_used_at'],
      rows: connections,
    },
    { table: 'webhook_sources', columns: ['name', 'token_hash', 'created_at', 'revoked_at'], rows: sources },
    {
      table: 'webhook_subscriptions',
      columns: ['id', 'url', 'models', 'events', 'fields', 'secret', 'previous_secret', 'previous_until', 'created_at', 'disabled_at', 'disabled_reason'],
      rows: subscriptions,
    },
    { table: 'webhook_deliveries', columns: ['id', 'subscription_id', 'event_id', 'payload', 'status', 'attempts', 'last_status', 'last_error', 'created_at', 'updated_at'], rows: deliveries },
    { table: 'webhook_attempts', columns: ['delivery_id', 'attempt', 'time', 'status_code', 'latency_ms', 'error'], rows: attempts },
    { table: 'alerts', columns: ['id', 'time', 'rule', 'subject', 'key_id', 'message', 'request_id'], rows: alerts },
  ]
}
