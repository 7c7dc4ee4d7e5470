/**
 * GET /admin/v1/alerts in the Worker, on the real D1: newest first, `since` as a lower bound, every alert exactly once
 * whatever the page size (ties in time broken by id), and bad queries answered 400 naming the parameter.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { bytesToHex } from '../../../src/lib/encoding'
import { admin } from './client'

const random = (bytes = 8) => bytesToHex(crypto.getRandomValues(new Uint8Array(bytes)))

interface AlertJson {
  id: string
  time: string
  rule: string
  subject: string
  key_id: string | null
  message: string
  request_id: string
}

interface Page {
  items: AlertJson[]
  next_cursor: string | null
}

/**
 * Alerts far in the future, in a window of their own (a random hour of the year 2999), so other tests' alerts never
 * fall within `since`. Several share a time: the id orders them.
 */
const base = Date.parse('2999-01-01T00:00:00Z') + Math.floor(Math.random() * 8000) * 3_600_000
const offsets = [0, 1_000, 1_000, 1_000, 2_000, 5_000, 5_000, 9_000, 60_000, 60_000, 120_000]
const inserted: { id: string; time: number }[] = []

beforeAll(async () => {
  for (const [index, offset] of offsets.entries()) {
    const id = `alt_${random()}`
    inserted.push({ id, time: base + offset })
    await env.DB.prepare('INSERT INTO alerts (id, time, rule, subject, key_id, message, request_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)')
      .bind(id, base + offset, index % 2 ? 'rate_limit' : 'auth_failures', index % 2 ? 'key_0123456789abcdef' : 'ip:198.51.100.7', index % 2 ? 'key_0123456789abcdef' : null, `alert ${index}`, `req-${index}`)
      .run()
  }
  // The first admin request of a file starts the admin ledger (it keeps the nonces): seconds, once.
  expect((await admin('GET', '/whoami')).status).toBe(200)
}, 30_000)

/** Newest first; the same time: the greater id first. */
const expectedOrder = () => [...inserted].sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : -1)).map((alert) => alert.id)

async function pages(query: string, size: number): Promise<AlertJson[]> {
  const seen: AlertJson[] = []
  let cursor: string | null = null
  do {
    const answer: Awaited<ReturnType<typeof admin<Page>>> = await admin<Page>('GET', `/alerts?${query}&limit=${size}${cursor ? `&cursor=${cursor}` : ''}`)
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    expect(answer.body.items.length).toBeLessThanOrEqual(size)
    seen.push(...answer.body.items)
    cursor = answer.body.next_cursor
  } while (cursor)
  return seen
}

const since = (ms: number) => `since=${encodeURIComponent(new Date(ms).toISOString())}`

describe('alerts through the admin API', () => {
  it('lists alerts newest first, as stored', async () => {
    const answer = await admin<Page>('GET', `/alerts?${since(base)}&limit=1000`)
    expect(answer.status).toBe(200)
    expect(answer.body.next_cursor).toBeNull()
    expect(answer.body.items.map((alert) => alert.id)).toEqual(expectedOrder())
    const last = answer.body.items.at(-1)!
    expect(last).toEqual({
      id: inserted[0]!.id,
      time: new Date(base).toISOString(),
      rule: 'auth_failures',
      subject: 'ip:198.51.100.7',
      key_id: null,
      message: 'alert 0',
      request_id: 'req-0',
    })
    expect(answer.body.items.find((alert) => alert.id === inserted[1]!.id)).toMatchObject({ rule: 'rate_limit', key_id: 'key_0123456789abcdef' })
  })

  it('serves every alert exactly once, in order, whatever the page size', async () => {
    for (const size of [1, 2, 3, 4, 7, 11]) expect((await pages(since(base), size)).map((alert) => alert.id), `page size ${size}`).toEqual(expectedOrder())
  })

  it('takes since as an inclusive lower bound', async () => {
    const from = base + 5_000
    const expected = expectedOrder().filter((id) => inserted.find((alert) => alert.id === id)!.time >= from)
    expect(expected).toHaveLength(6)
    expect((await pages(since(from), 2)).map((alert) => alert.id)).toEqual(expected)
    expect((await admin<Page>('GET', `/alerts?${since(base + 120_001)}`)).body).toEqual({ items: [], next_cursor: null })
  })

  it('answers bad queries with 400 naming the parameter, never a 500', async () => {
    for (const [query, code, detail] of [
      ['since=yesterday', 'invalid_query', /^since: /m],
      ['since=2026-13-45T99:00:00Z', 'invalid_query', /^since: /m],
      ['limit=0', 'invalid_query', /^limit: /m],
      ['limit=1001', 'invalid_query', /^limit: /m],
      ['limit=ten', 'invalid_query', /^limit: /m],
      ['rule=rate_limit', 'invalid_query', /rule/],
      ['cursor=bm90LWEtY3Vyc29y', 'invalid_cursor', undefined],
      ['cursor=WyJ4Il0', 'invalid_cursor', undefined],
      ['since=2026-01-01&since=2026-02-01', 'invalid_query', undefined],
    ] as const) {
      const answer = await admin('GET', `/alerts?${query}`)
      expect([answer.status, answer.body.error], query).toEqual([400, code])
      if (detail) expect(answer.body.details!.join('\n'), query).toMatch(detail)
    }
  })
})
