/**
 * Rotating CREDENTIALS_KEY in the Worker (docs/KEY-LIFECYCLE.md, "Rotating CREDENTIALS_KEY"): values sealed under key
 * A keep working once B is current and A previous; /admin/v1/credentials/reseal moves them under B a page at a
 * time, through the admin log; then a ring of B alone opens everything. A value no configured key opens gives the
 * agent one clear error naming the key and the fix, logged once, and the webhook dispatcher says so once too.
 *
 * The bindings are one object shared by the Worker and its Durable Objects in this runtime, so a test switches the
 * ring by changing it, and puts it back after. D1 is shared with the other files of the project: the rotation takes
 * their rows along (the fixed test key stays in the ring) and ends by rotating back to the fixed key.
 */
import { env } from 'cloudflare:workers'
import { abortAllDurableObjects, runDurableObjectAlarm } from 'cloudflare:test'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { credentialsKeyId, generateCredentialsKey, importCredentialsKey, openSealed, sealSecret } from '../../../src/lib/crypto'
import { loadSubscription } from '../../../src/webhooks/subscriptions'
import { callTool, createTestKey } from '../helpers'
import { sealV1 } from '../legacy-seal'
import { admin } from './client'

const POLICY = { version: 1, models: { 'res.partner': { operations: ['read'], fields: ['name'] } } }
const bindings = env as unknown as { CREDENTIALS_KEY: string; CREDENTIALS_KEYS_PREVIOUS?: string }
const FIXED = env.CREDENTIALS_KEY

function useRing(current: string, previous: string[] = []): void {
  bindings.CREDENTIALS_KEY = current
  if (previous.length > 0) bindings.CREDENTIALS_KEYS_PREVIOUS = previous.join(',')
  else delete bindings.CREDENTIALS_KEYS_PREVIOUS
}

afterEach(() => {
  useRing(FIXED)
  vi.restoreAllMocks()
})

interface UnreadableJson {
  table: string
  column: string
  id: string
  key_id: string | null
  problem: string
  in_use: boolean
  fix: string
  restorable: boolean
}

interface Status {
  current_key_id: string
  previous_key_ids: string[]
  sealed_values: number
  to_reseal: number
  unreadable: number
  key_ids: { key_id: string; role: string; values: number; v1_format: number }[]
  unreadable_values: UnreadableJson[]
}

interface ResealPage {
  key_id: string
  examined: number
  resealed: number
  already_current: number
  unreadable: UnreadableJson[]
  next_cursor: string | null
  applied: boolean
  admin_log_seq: number | null
}

async function status(): Promise<Status> {
  const answer = await admin<Status>('GET', '/credentials/status')
  expect(answer.status, JSON.stringify(answer.body)).toBe(200)
  return answer.body
}

/** Every page of a reseal; the pages as answered. */
async function resealAll(limit: number): Promise<ResealPage[]> {
  const pages: ResealPage[] = []
  let cursor: string | undefined
  do {
    const answer = await admin<ResealPage>('POST', '/credentials/reseal', { limit, ...(cursor ? { cursor } : {}) })
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    pages.push(answer.body)
    cursor = answer.body.next_cursor ?? undefined
  } while (cursor)
  return pages
}

async function works(key: string): Promise<boolean> {
  const call = await callTool(key, 'count_records', { model: 'res.partner' })
  return call.status === 200 && call.result?.isError !== true
}

async function sealedOf(table: string, column: string, id: string): Promise<string> {
  const row = await env.DB.prepare(`SELECT ${column} AS sealed FROM ${table} WHERE id = ?1`).bind(id).first<{ sealed: string }>()
  return row!.sealed
}

async function insertSubscription(id: string, secret: string, previous: string | null): Promise<void> {
  await env.DB.prepare(
    `INSERT INTO webhook_subscriptions (id, url, models, events, fields, secret, created_at, previous_secret, previous_until)
     VALUES (?1, ?2, '["res.partner"]', NULL, '"*"', ?3, ?4, ?5, ?6)`,
  )
    .bind(id, `${env.RECEIVER_URL}/ok/credentials-${id}`, secret, Date.now(), previous, previous ? Date.now() + 3_600_000 : null)
    .run()
}

async function insertConnection(id: string, sealed: string): Promise<void> {
  await env.DB.prepare(
    `INSERT INTO connections (id, profile, client_id, client_name, redirect_uri, grant_id, odoo_login, odoo_secret, created_at, expires_at)
     VALUES (?1, 'credentials-test', 'client', 'client', 'https://client.example/cb', ?2, 'admin', ?3, ?4, ?5)`,
  )
    .bind(id, `grant-${id}`, sealed, Date.now(), Date.now() + 3_600_000)
    .run()
}

const hex16 = () => [...crypto.getRandomValues(new Uint8Array(8))].map((byte) => byte.toString(16).padStart(2, '0')).join('')

describe('rotating CREDENTIALS_KEY', () => {
  it('keeps A-sealed values working under {B; previous A}, re-seals them under B through the admin log, and then B alone opens everything', async () => {
    const A = generateCredentialsKey()
    const B = generateCredentialsKey()
    const [idA, idB, idFixed] = await Promise.all([credentialsKeyId(A), credentialsKeyId(B), credentialsKeyId(FIXED)])

    // Before: A is current (the fixed test key stays in the ring for the other files' rows).
    useRing(A, [FIXED])
    const viaApi = await admin<{ id: string; key: string }>('POST', '/keys', { name: 'rotation', odoo_login: 'admin', odoo_secret: 'admin', policy: POLICY, verify: false })
    expect(viaApi.status).toBe(201)
    const direct = await createTestKey({ policy: POLICY })
    const legacy = await createTestKey({ policy: POLICY })
    await env.DB.prepare('UPDATE api_keys SET odoo_secret = ?1 WHERE id = ?2').bind(await sealV1(A, 'admin', legacy.id), legacy.id).run()
    const subscription = `whk_${hex16()}`
    const ringA = await importCredentialsKey(A)
    await insertSubscription(subscription, await sealSecret(ringA, 'whsec_current', subscription), await sealSecret(ringA, 'whsec_previous', subscription))
    const connection = `con_${hex16()}`
    await insertConnection(connection, await sealSecret(ringA, 'odoo-apikey-admin', connection))
    for (const key of [viaApi.body.key, direct.key, legacy.key]) expect(await works(key)).toBe(true)

    // Deployed with B current and A previous: everything still works, and status shows what is left under A.
    useRing(B, [A, FIXED])
    for (const key of [viaApi.body.key, direct.key, legacy.key]) expect(await works(key)).toBe(true)
    const before = await status()
    expect(before.current_key_id).toBe(idB)
    expect(before.previous_key_ids).toEqual([idA, idFixed])
    expect(before.unreadable).toBe(0)
    const underA = before.key_ids.find((entry) => entry.key_id === idA)!
    expect(underA).toMatchObject({ role: 'previous', values: 6, v1_format: 1 })
    expect(before.to_reseal).toBeGreaterThanOrEqual(6)

    const pages = await resealAll(2)
    expect(pages.length).toBeGreaterThan(2)
    expect(pages.every((page) => page.key_id === idB && page.unreadable.length === 0 && page.applied)).toBe(true)
    expect(pages.reduce((sum, page) => sum + page.resealed, 0)).toBe(before.to_reseal)
    expect(pages.reduce((sum, page) => sum + page.examined, 0)).toBe(before.sealed_values)

    const after = await status()
    expect(after.to_reseal).toBe(0)
    expect(after.key_ids).toEqual([
      { key_id: idB, role: 'current', values: before.sealed_values, v1_format: 0 },
      { key_id: idA, role: 'previous', values: 0, v1_format: 0 },
      { key_id: idFixed, role: 'previous', values: 0, v1_format: 0 },
    ])
    // A second pass finds nothing to do and writes no admin log record.
    const again = await resealAll(500)
    expect(again.map((page) => [page.resealed, page.admin_log_seq])).toEqual(again.map(() => [0, null]))

    // The admin log has the re-seal: key ids and counts, row ids, never a secret.
    const { results: records } = await env.DB.prepare("SELECT target, before, after FROM admin_audit WHERE action = 'credentials.reseal' AND seq IN (" + pages.map((page) => page.admin_log_seq ?? 0).join(',') + ')').all<{ target: string; before: string; after: string }>()
    expect(records.length).toBe(pages.filter((page) => page.resealed > 0).length)
    const logged = records.map((record) => `${record.before} ${record.after}`).join('\n')
    expect(logged).toContain(idA)
    expect(logged).toContain(`"${idB}"`)
    expect(logged).toContain(legacy.id)
    expect(logged).toContain(subscription)
    for (const secret of ['whsec_current', 'whsec_previous', 'odoo-apikey-admin', '"admin"', 'v1.', 'v2.']) expect(logged).not.toContain(secret)

    // B alone: every value opens, with fresh objects (no session kept from before).
    useRing(B)
    await abortAllDurableObjects()
    const onlyB = await importCredentialsKey(B)
    for (const [table, column, id] of [
      ['api_keys', 'odoo_secret', viaApi.body.id],
      ['api_keys', 'odoo_secret', direct.id],
      ['api_keys', 'odoo_secret', legacy.id],
      ['connections', 'odoo_secret', connection],
      ['webhook_subscriptions', 'secret', subscription],
      ['webhook_subscriptions', 'previous_secret', subscription],
    ] as const) {
      const opened = await openSealed(onlyB, await sealedOf(table, column, id), id)
      expect(opened.keyId).toBe(idB)
      expect(opened.format).toBe('v2')
    }
    expect((await loadSubscription(env, subscription))!.secrets).toEqual(['whsec_current', 'whsec_previous'])
    for (const key of [viaApi.body.key, direct.key, legacy.key]) expect(await works(key)).toBe(true)
    const onlyBStatus = await status()
    expect(onlyBStatus.unreadable).toBe(0)
    expect(onlyBStatus.key_ids).toEqual([{ key_id: idB, role: 'current', values: before.sealed_values, v1_format: 0 }])

    // And back to the fixed test key, for the files that run after this one.
    useRing(FIXED, [B])
    await resealAll(500)
    expect((await status()).to_reseal).toBe(0)
  })

  it('refuses a cursor it did not give out, and an unknown field', async () => {
    const bad = await admin('POST', '/credentials/reseal', { cursor: 'bm90IGEgY3Vyc29y' })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toBe('invalid_cursor')
    const unknown = await admin('POST', '/credentials/reseal', { everything: true })
    expect(unknown.status).toBe(400)
    expect(unknown.body.error).toBe('invalid_body')
  })

  it('names a broken CREDENTIALS_KEYS_PREVIOUS instead of failing as "nothing was changed"', async () => {
    useRing(FIXED, ['c2hvcnQ='])
    const answer = await admin('POST', '/credentials/reseal', {})
    expect(answer.status).toBe(500)
    expect(answer.body.error).toBe('credentials_key_invalid')
    expect(answer.body.message).toMatch(/CREDENTIALS_KEYS_PREVIOUS entry 1 must decode to 32 bytes/)
  })
})

describe('a secret no configured key opens', () => {
  let errors: string[] = []

  beforeEach(() => {
    errors = []
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      errors.push(args.map(String).join(' '))
    })
  })

  it('gives the agent one clear error naming the key, its key id and the fix, logged once', async () => {
    const lost = generateCredentialsKey()
    const lostId = await credentialsKeyId(lost)
    const key = await createTestKey({ policy: POLICY })
    await env.DB.prepare('UPDATE api_keys SET odoo_secret = ?1 WHERE id = ?2').bind(await sealSecret(await importCredentialsKey(lost), 'admin', key.id), key.id).run()

    const expected =
      `The gateway cannot read the stored Odoo credentials of key ${key.id} (sealed under key id ${lostId}, which is not in ` +
      `CREDENTIALS_KEY / CREDENTIALS_KEYS_PREVIOUS): an administrator must run \`odoo-mcp keys set-odoo-secret ${key.id}\`, ` +
      'or add the key it was sealed under to CREDENTIALS_KEYS_PREVIOUS.'
    for (let call = 0; call < 4; call++) {
      const answer = await callTool(key.key, 'count_records', { model: 'res.partner' })
      expect(answer.status).toBe(200)
      expect(answer.result?.isError).toBe(true)
      expect(answer.text).toBe(expected)
    }
    const aboutKey = errors.filter((line) => line.includes(key.id))
    expect(aboutKey).toHaveLength(1)
    expect(aboutKey[0]).toContain(`key id ${lostId}`)
    expect(errors.join('\n')).not.toContain('Internal gateway error')

    // status and reseal name it, and leave it as it is.
    const listed = (await status()).unreadable_values.find((value) => value.id === key.id)
    expect(listed).toMatchObject({
      table: 'api_keys',
      column: 'odoo_secret',
      key_id: lostId,
      problem: 'unknown_key_id',
      in_use: true,
      fix: `odoo-mcp keys set-odoo-secret ${key.id}`,
      restorable: true,
    })
    const sealedBefore = await sealedOf('api_keys', 'odoo_secret', key.id)
    const pages = await resealAll(500)
    expect(pages.flatMap((page) => page.unreadable).map((value) => value.id)).toContain(key.id)
    expect(await sealedOf('api_keys', 'odoo_secret', key.id)).toBe(sealedBefore)

    // The fix: a new Odoo secret applies at once, and the remembered failure goes with the old value.
    const fixed = await admin('PUT', `/keys/${key.id}/odoo-secret`, { odoo_secret: 'admin' })
    expect(fixed.status, JSON.stringify(fixed.body)).toBe(200)
    expect(await works(key.key)).toBe(true)
    expect((await status()).unreadable_values.map((value) => value.id)).not.toContain(key.id)
  })

  it('says so for a v1 value too, and is cured by restoring the key to CREDENTIALS_KEYS_PREVIOUS (a restart)', async () => {
    const lost = generateCredentialsKey()
    const key = await createTestKey({ policy: POLICY })
    await env.DB.prepare('UPDATE api_keys SET odoo_secret = ?1 WHERE id = ?2').bind(await sealV1(lost, 'admin', key.id), key.id).run()
    const answer = await callTool(key.key, 'count_records', { model: 'res.partner' })
    expect(answer.text).toContain(`cannot read the stored Odoo credentials of key ${key.id} (sealed in the old v1 format under a key that is not in CREDENTIALS_KEY / CREDENTIALS_KEYS_PREVIOUS)`)
    expect(await works(key.key)).toBe(false)
    // A deploy with the key back in the ring restarts the objects.
    useRing(FIXED, [lost])
    await abortAllDurableObjects()
    expect(await works(key.key)).toBe(true)
    await resealAll(500)
    useRing(FIXED)
    await abortAllDurableObjects()
    expect(await works(key.key)).toBe(true)
    expect(errors.filter((line) => line.includes(key.id))).toHaveLength(1)
  })

  it('stops webhook deliveries with the reason in the attempt log, logged once', async () => {
    const lost = generateCredentialsKey()
    const subscription = `whk_${hex16()}`
    await insertSubscription(subscription, await sealSecret(await importCredentialsKey(lost), 'whsec_lost', subscription), null)
    const dispatcher = env.WEBHOOK_DISPATCHERS.get(env.WEBHOOK_DISPATCHERS.idFromName(subscription))
    const deliveryId = crypto.randomUUID()
    await dispatcher.enqueue(subscription, [{ deliveryId, eventId: `evt_${hex16()}`, payload: '{"type":"test"}' }])
    for (let run = 0; run < 3; run++) {
      await runDurableObjectAlarm(dispatcher)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    const { results: attempts } = await env.DB.prepare('SELECT error FROM webhook_attempts WHERE delivery_id = ?1 ORDER BY attempt').bind(deliveryId).all<{ error: string }>()
    expect(attempts.length).toBeGreaterThanOrEqual(2)
    for (const attempt of attempts) {
      expect(attempt.error).toContain(`signing secret (secret) of webhook subscription ${subscription}`)
      expect(attempt.error).toContain(`odoo-mcp webhooks rotate-secret ${subscription}`)
    }
    expect(errors.filter((line) => line.includes(subscription))).toHaveLength(1)
    await env.DB.prepare('DELETE FROM webhook_subscriptions WHERE id = ?1').bind(subscription).run()
  })
})
