/**
 * /admin/v1/keys end to end in the Worker: every change lands in D1 with its admin log record (same batch), applies
 * at once, and answers with stable codes; lists page with cursors; the admin log never holds a secret.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { adminRecordHash, adminRowToRecord } from '../../../src/admin/v1/admin-record'
import { callTool, odooApiKey } from '../helpers'
import { admin } from './client'

const POLICY = { version: 1, models: { 'res.partner': { operations: ['read'], fields: ['name'] } } }

/** The key can count partners right now (the answer, not the cache, decides). */
async function works(key: string): Promise<boolean> {
  const call = await callTool(key, 'count_records', { model: 'res.partner' })
  return call.status === 200 && call.result !== undefined && call.result.isError !== true
}

async function createKey(overrides: Record<string, unknown> = {}) {
  const answer = await admin<{ id: string; key: string; prefix: string; odoo_uid: number | null; verified: boolean }>('POST', '/keys', {
    name: 'admin api test',
    odoo_login: 'sales_agent',
    odoo_secret: 'sales_agent',
    policy: POLICY,
    ...overrides,
  })
  expect(answer.status, JSON.stringify(answer.body)).toBe(201)
  return answer.body
}

describe('keys through the admin API', () => {
  it('creates a key checked against Odoo, usable at once, and records who created it', async () => {
    const created = await createKey()
    expect(created.id).toMatch(/^key_[0-9a-f]{16}$/)
    expect(created.key).toMatch(/^omk_/)
    expect(created.verified).toBe(true)
    expect(created.odoo_uid).toEqual(expect.any(Number))
    expect(await works(created.key)).toBe(true)

    const history = await admin<{ items: { action: string; actor: string; after: Record<string, unknown> }[] }>('GET', `/keys/${created.id}/history`, undefined, { actor: 'alice' })
    expect(history.status).toBe(200)
    expect(history.body.items.map((item) => item.action)).toEqual(['keys.create'])
    expect(history.body.items[0]!.after).toMatchObject({ name: 'admin api test', odoo_login: 'sales_agent', odoo_secret: 'set', policy: POLICY })
  })

  it('refuses wrong Odoo credentials without creating anything, and a bad policy listing every problem', async () => {
    const before = await env.DB.prepare('SELECT COUNT(*) AS n FROM api_keys').first<{ n: number }>()
    const wrong = await admin('POST', '/keys', { name: 'x', odoo_login: 'sales_agent', odoo_secret: 'wrong', policy: POLICY })
    expect(wrong.status).toBe(422)
    expect(wrong.body.error).toBe('odoo_credentials_refused')
    const bad = await admin('POST', '/keys', { name: 'x', odoo_login: 'sales_agent', odoo_secret: 'sales_agent', policy: { version: 1, models: { 'res.partner': { operations: ['frob'] } } } })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toBe('invalid_body')
    expect(bad.body.details!.join('\n')).toMatch(/policy .*operations/)
    const unknownField = await admin('POST', '/keys', { name: 'x', odoo_login: 'a', odoo_secret: 'b', verify: false, admin: true })
    expect(unknownField.status).toBe(400)
    expect(unknownField.body.details!.join('\n')).toMatch(/admin/)
    const after = await env.DB.prepare('SELECT COUNT(*) AS n FROM api_keys').first<{ n: number }>()
    expect(after!.n).toBe(before!.n)
  })

  it('changes policy, rotates, replaces the Odoo secret and revokes, each applied at once and in the history with before/after', async () => {
    const created = await createKey()
    const narrower = { version: 1, models: { 'res.partner': { operations: ['read'], fields: ['name', 'email'] } } }
    const policy = await admin<{ applied: boolean }>('PUT', `/keys/${created.id}/policy`, { policy: narrower })
    expect(policy.status).toBe(200)
    expect(policy.body.applied).toBe(true)

    const rotated = await admin<{ key: string; grace_ends_at: string }>('POST', `/keys/${created.id}/rotate`, { grace_seconds: 0 })
    expect(rotated.status).toBe(200)
    expect(await works(created.key)).toBe(false)
    expect(await works(rotated.body.key)).toBe(true)

    const secret = await admin<{ verified: boolean; in_key_audit_chain: boolean }>('PUT', `/keys/${created.id}/odoo-secret`, { odoo_secret: odooApiKey('sales_agent') })
    expect(secret.status, JSON.stringify(secret.body)).toBe(200)
    expect(secret.body.verified).toBe(true)

    const revoked = await admin<{ already_revoked: boolean }>('POST', `/keys/${created.id}/revoke`, {})
    expect(revoked.body.already_revoked).toBe(false)
    const again = await admin<{ already_revoked: boolean }>('POST', `/keys/${created.id}/revoke`, {})
    expect(again.body.already_revoked).toBe(true)
    expect(await works(rotated.body.key)).toBe(false)
    const rotateRevoked = await admin('POST', `/keys/${created.id}/rotate`, {})
    expect([rotateRevoked.status, rotateRevoked.body.error]).toEqual([409, 'key_revoked'])

    const history = await admin<{ items: { action: string; before: unknown; after: unknown }[] }>('GET', `/keys/${created.id}/history`)
    expect(history.body.items.map((item) => item.action)).toEqual(['keys.create', 'keys.policy.set', 'keys.rotate', 'keys.odoo_secret.set', 'keys.revoke'])
    expect(history.body.items[1]).toMatchObject({ before: { policy: POLICY }, after: { policy: narrower } })
    // No secret in the admin log: not the key, not the Odoo secret, not even sealed.
    const rows = await env.DB.prepare('SELECT * FROM admin_audit WHERE target = ?1').bind(created.id).all()
    const text = JSON.stringify(rows.results)
    for (const secretText of [created.key, rotated.body.key, odooApiKey('sales_agent'), 'sales_agent"', 'v1.', 'v2.']) expect(text).not.toContain(secretText)
  })

  it('answers 404 and 400 with stable codes, and never echoes a pasted API key', async () => {
    expect((await admin('GET', '/keys/key_0000000000000000')).body.error).toBe('key_not_found')
    expect((await admin('POST', '/keys/key_0000000000000000/revoke', {})).body.error).toBe('key_not_found')
    const pasted = await admin('GET', '/keys/omk_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN')
    expect(pasted.status).toBe(400)
    expect(JSON.stringify(pasted.body)).not.toContain('abcdefghij')
    expect((await admin('GET', '/keys?limit=0')).body.error).toBe('invalid_query')
    expect((await admin('GET', '/keys?status=frob')).body.error).toBe('invalid_query')
    expect((await admin('GET', '/keys?unknown=1')).body.error).toBe('invalid_query')
    expect((await admin('GET', '/keys?cursor=bm90LWEtY3Vyc29y')).body.error).toBe('invalid_cursor')
    expect((await admin('POST', '/keys', '{not json')).body.error).toBe('invalid_json')
    expect((await admin('GET', '/nothing-here')).body.error).toBe('not_found')
  })

  it('pages through every key exactly once, in creation order, whatever the page size', async () => {
    for (let index = 0; index < 7; index++) await createKey({ name: `page ${index}`, verify: false })
    const everything = await admin<{ items: { id: string }[]; next_cursor: string | null }>('GET', '/keys?limit=1000')
    expect(everything.body.next_cursor).toBeNull()
    for (const size of [1, 2, 3, 5]) {
      const seen: string[] = []
      let cursor: string | null = null
      do {
        const answer: Awaited<ReturnType<typeof admin<{ items: { id: string }[]; next_cursor: string | null }>>> = await admin('GET', `/keys?limit=${size}${cursor ? `&cursor=${cursor}` : ''}`)
        expect(answer.body.items.length).toBeLessThanOrEqual(size)
        seen.push(...answer.body.items.map((item) => item.id))
        cursor = answer.body.next_cursor
      } while (cursor)
      expect(seen).toEqual(everything.body.items.map((item) => item.id))
    }
  })

  it('keeps the admin log one unbroken hash chain', async () => {
    await createKey({ verify: false })
    const { results } = await env.DB.prepare('SELECT * FROM admin_audit ORDER BY seq').all<Record<string, unknown>>()
    let previous = '0'.repeat(64)
    results.forEach((row, index) => {
      expect(Number(row.seq)).toBe(index + 1)
      expect(row.prev_hash).toBe(previous)
      previous = String(row.hash)
    })
    for (const row of results) {
      const { hash, ...content } = adminRowToRecord(row)
      expect(await adminRecordHash(content)).toBe(hash)
    }
  })
})
