/**
 * One key's calls are not serialised behind Odoo's latency: the key's object executes every tool call of the key,
 * and its input gate opens while it waits for Odoo, so calls in flight together reach Odoo together. Shown without
 * timing: the simulator counts how many calls of one Odoo user it is answering at once (inside a 150 ms delay
 * applied to that user only). Serialised calls would never overlap (at most 1).
 */
import { env } from 'cloudflare:workers'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { callTool, createTestKey, odooApiKey } from '../helpers'

const LOGIN = 'demo'
const control = (path: string, init?: RequestInit) => fetch(`${env.ODOO_URL}/__sim/${path}`, init)
const setLatency = (ms: number) => control('latency', { method: 'POST', body: JSON.stringify({ ms, login: LOGIN }) })

let key: string

beforeAll(async () => {
  key = (await createTestKey({ login: LOGIN, secret: odooApiKey(LOGIN), policy: { version: 1, models: { 'res.partner': { operations: ['read'], fields: ['name'] } } } })).key
  await callTool(key, 'search_records', { model: 'res.partner', fields: ['name'], limit: 1 })
  await setLatency(150)
})

afterAll(async () => {
  await setLatency(0)
})

it('16 calls of one key in flight together reach Odoo together', async () => {
  await control('in-flight/clear', { method: 'POST' })
  const results = await Promise.all(
    Array.from({ length: 16 }, () => callTool(key, 'search_records', { model: 'res.partner', fields: ['name'], limit: 1 })),
  )
  for (const result of results) expect(result.result?.isError, result.text).toBeFalsy()
  const { max } = (await (await control('in-flight')).json()) as { max: Record<string, number> }
  expect(max[LOGIN]).toBeGreaterThanOrEqual(12)
})
