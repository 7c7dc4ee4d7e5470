/**
 * Hostile corpus, HTTP layer: authentication bypass, client-address spoofing, MCP/JSON-RPC protocol abuse and forged
 * admin-channel calls (entries in corpus/*.json; what each is held to: corpus.ts). This file also checks the corpus
 * itself: its size, its categories, and that its fixture keys do work for what their policies allow.
 */
import { describe, expect, it } from 'vitest'
import { CATEGORIES, loadCorpus, runCorpus, runEntry, type CorpusEntry } from './corpus'

describe('the hostile corpus', () => {
  it('has at least 100 well-formed entries, in every category', () => {
    const corpus = loadCorpus()
    expect(corpus.length).toBeGreaterThanOrEqual(100)
    for (const category of CATEGORIES) expect(corpus.filter((entry) => entry.category === category).length, category).toBeGreaterThanOrEqual(5)
    for (const entry of corpus) {
      expect(entry.id, entry.id).toMatch(/^[a-z]+-\d{2}$/)
      expect(CATEGORIES, entry.id).toContain(entry.category)
      expect(entry.description.length, entry.id).toBeGreaterThan(10)
      expect(entry.category === 'webhook_ssrf' ? entry.url : entry.request ?? entry.key, entry.id).toBeDefined()
      // Every entry says what it expects: a refusal (status, code or tool error), or that it is harmless by design.
      const { status, error, rpcCode, toolError, harmless, reason } = entry.expect
      expect([status, error, rpcCode, toolError, harmless, reason].some((value) => value !== undefined), entry.id).toBe(true)
    }
  })
})

const corpus = runCorpus('hostile requests: HTTP layer', ['auth_bypass', 'header_spoofing', 'protocol_abuse', 'admin_forgery'])

describe('the fixture keys (so that the refusals above are not an artifact of broken fixtures)', () => {
  const allowed: CorpusEntry[] = [
    { id: 'control-01', category: 'header_spoofing', description: 'the IP-locked key from an allowed address', key: 'ipLocked',
      request: { headers: { 'cf-connecting-ip': '203.0.113.5' }, tool: { name: 'count_records', arguments: { model: 'res.partner' } } }, expect: {} },
    { id: 'control-02', category: 'header_spoofing', description: 'the IP-locked key from an allowed IPv4-mapped address', key: 'ipLocked',
      request: { headers: { 'cf-connecting-ip': '::ffff:203.0.113.5' }, tool: { name: 'count_records', arguments: { model: 'res.partner' } } }, expect: {} },
    { id: 'control-03', category: 'field_leak', description: 'the restricted key reading allowed fields', key: 'restricted',
      request: { tool: { name: 'search_records', arguments: { model: 'sale.order', fields: ['name', 'amount_total'], domain: [['partner_id.country_id.code', '!=', false]], order: 'amount_total desc', limit: 3 } } }, expect: {} },
    { id: 'control-04', category: 'model_leak', description: 'the wildcard key reading a non-sensitive model', key: 'wildcard',
      request: { tool: { name: 'search_records', arguments: { model: 'res.users', fields: ['name', 'login'], limit: 3 } } }, expect: {} },
  ]
  it.each(allowed.map((entry) => [entry.description, entry] as const))('%s', async (_title, entry) => {
    const outcome = await runEntry(entry, corpus.fixtures())
    expect(outcome.status, outcome.raw).toBe(200)
    const body = JSON.parse(outcome.raw) as { result?: { isError?: boolean; structuredContent?: unknown } }
    expect(body.result?.isError, outcome.raw).toBeFalsy()
    expect(body.result?.structuredContent, outcome.raw).toBeDefined()
  })
})
