/**
 * The tools' JSON Schemas as clients see them (tools/list through the gateway), checked the way strict clients do:
 * MCP Inspector flags every schema node that accepts anything (`{}`, or only a description), fastmcp and the Python
 * SDK turn `number` into floats (`id=69.0`), and an agent learns an argument's limits once for every tool. Then the
 * answers themselves: the SDK client validates each structured result against the advertised output schema (Ajv),
 * as the Python SDK does, so an answer that only the server's zod schema accepted would fail here.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import type { Tool } from '@modelcontextprotocol/sdk/types.js'
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv'
import { env } from 'cloudflare:workers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectClient, createTestKey, odooApiKey, textOf } from '../helpers'
import { FULL_ACCESS } from './policies'

type Schema = Record<string, unknown>

/** Properties whose values are whole numbers (and arrays of them): ids, counts, totals, page sizes and offsets. */
const INTEGER_PROPERTIES = new Set(['id', 'ids', 'count', 'total', 'limit', 'offset', 'missing', 'updated', 'deleted'])
/** What does not constrain a value: left out when comparing an argument across tools. */
const ANNOTATIONS = new Set(['description', 'default', 'title', 'examples'])

/**
 * Every problem of a schema node and the nodes under it. `name` is the property the node describes (kept through
 * `items` and `anyOf`, so the items of `ids` are still "ids").
 */
function schemaProblems(node: unknown, path: string, name?: string): string[] {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return [`${path}: not a schema object (${JSON.stringify(node)})`]
  const schema = node as Schema
  const problems: string[] = []
  const branches = [schema.anyOf, schema.oneOf, schema.allOf].filter(Array.isArray) as unknown[][]
  if (schema.type === undefined && !branches.some((list) => list.length > 0)) {
    problems.push(`${path}: no type, accepts anything (${JSON.stringify(schema).slice(0, 120)})`)
  }
  const types = Array.isArray(schema.type) ? schema.type : [schema.type]
  if (name !== undefined && INTEGER_PROPERTIES.has(name) && types.includes('number')) {
    problems.push(`${path}: '${name}' holds whole numbers but its type is number, not integer`)
  }
  for (const list of branches) list.forEach((branch, index) => problems.push(...schemaProblems(branch, `${path}.anyOf[${index}]`, name)))
  for (const [key, child] of Object.entries((schema.properties as Record<string, unknown> | undefined) ?? {})) {
    problems.push(...schemaProblems(child, `${path}.${key}`, key))
  }
  for (const [pattern, child] of Object.entries((schema.patternProperties as Record<string, unknown> | undefined) ?? {})) {
    problems.push(...schemaProblems(child, `${path}[/${pattern}/]`))
  }
  if (Array.isArray(schema.items)) schema.items.forEach((child, index) => problems.push(...schemaProblems(child, `${path}[${index}]`, name)))
  else if (schema.items !== undefined) problems.push(...schemaProblems(schema.items, `${path}[]`, name))
  if (Array.isArray(schema.prefixItems)) schema.prefixItems.forEach((child, index) => problems.push(...schemaProblems(child, `${path}[${index}]`, name)))
  // `additionalProperties: false` closes an object; a schema there describes every other property's value.
  if (schema.additionalProperties !== undefined && typeof schema.additionalProperties !== 'boolean') {
    problems.push(...schemaProblems(schema.additionalProperties, `${path}.*`))
  }
  if (schema.propertyNames !== undefined) problems.push(...schemaProblems(schema.propertyNames, `${path}(names)`))
  return problems
}

/** A schema without what does not constrain values, keys sorted: equal for two arguments with the same limits. */
function constraints(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(constraints)
  if (node === null || typeof node !== 'object') return node
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => !ANNOTATIONS.has(key))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => [key, constraints(value)]),
  )
}

let key: string
let client: Client
let tools: Tool[]

beforeAll(async () => {
  key = (await createTestKey({ login: 'admin', secret: odooApiKey('admin'), policy: FULL_ACCESS })).key
  client = await connectClient(key)
  tools = (await client.listTools()).tools
})

afterAll(async () => {
  await client.close()
})

describe(`tool schemas as clients see them (${env.ODOO_PROTOCOL})`, () => {
  it('the checker itself finds untyped nodes, floats for ids and nested problems', () => {
    expect(schemaProblems({ type: 'object', properties: { domain: { type: 'array', items: {} } } }, 'x')).toEqual([
      expect.stringMatching(/^x\.domain\[\]: no type/),
    ])
    expect(schemaProblems({ type: 'object', additionalProperties: { description: 'anything' } }, 'x')).toHaveLength(1)
    expect(schemaProblems({ type: 'object', properties: { id: { type: 'number' }, ids: { type: 'array', items: { type: 'number' } } } }, 'x')).toHaveLength(2)
    expect(schemaProblems({ anyOf: [{ type: 'string' }, { type: 'array', items: { anyOf: [{}] } }] }, 'x')).toHaveLength(1)
    expect(schemaProblems({ type: ['string', 'array'], items: { type: 'string' } }, 'x')).toEqual([])
  })

  it('lists all nine tools to a full-access key', () => {
    expect(tools).toHaveLength(9)
  })

  it('gives every input and output schema node a real type, and whole numbers the type integer', () => {
    const problems = tools.flatMap((tool) => [
      ...schemaProblems(tool.inputSchema, `${tool.name}.input`),
      ...(tool.outputSchema ? schemaProblems(tool.outputSchema, `${tool.name}.output`) : []),
    ])
    expect(problems).toEqual([])
    // Every tool answers with structured content, described.
    for (const tool of tools) expect(tool.outputSchema, tool.name).toBeDefined()
  })

  it('gives an argument the same limits in every tool that takes it', () => {
    const seen = new Map<string, { tool: string; constraints: string }>()
    const differences: string[] = []
    for (const tool of tools) {
      for (const [name, property] of Object.entries(tool.inputSchema.properties ?? {})) {
        const mine = JSON.stringify(constraints(property))
        const first = seen.get(name)
        if (!first) seen.set(name, { tool: tool.name, constraints: mine })
        else if (first.constraints !== mine) differences.push(`'${name}': ${first.tool} ${first.constraints} but ${tool.name} ${mine}`)
      }
    }
    expect(differences).toEqual([])
    // The ones shared most: each really is in several tools.
    for (const name of ['model', 'domain', 'ids', 'values', 'limit', 'offset', 'context']) {
      expect(tools.filter((tool) => tool.inputSchema.properties?.[name]).length, name).toBeGreaterThan(1)
    }
  })

  it('accepts, in the advertised input schemas, the arguments the gateway accepts', () => {
    const validator = new AjvJsonSchemaValidator()
    const inputOf = (name: string) => validator.getValidator(tools.find((tool) => tool.name === name)!.inputSchema)
    const search = inputOf('search_records')
    for (const domain of [
      [],
      [['is_company', '=', true], ['country_id.code', '=', 'BE']],
      ['|', ['state', '=', 'sale'], '!', ['amount_total', '>', 1000.5]],
      [['id', 'in', [1, 2, 3]], ['parent_id', '=', false], ['ref', '!=', null]],
      [['order_line', 'any', [['product_id', 'in', [5, 6]], '|', ['price_unit', '>', 0], ['name', 'ilike', 'x']]]],
      [['partner_id', 'not any', [['category_id', 'any', [['name', '=', 'VIP']]]]]],
    ]) {
      const result = search({ model: 'sale.order', domain, limit: 500, offset: 10 })
      expect(result.valid, `${JSON.stringify(domain)}: ${result.errorMessage}`).toBe(true)
    }
    expect(search({ model: 'sale.order', domain: [{ field: 'name' }] }).valid).toBe(false)
    expect(search({ model: 'sale.order', domain: ['OR', ['name', '=', 'x'], ['name', '=', 'y']] }).valid).toBe(false)
    expect(search({ model: 'sale.order', limit: 2.5 }).valid).toBe(false)
    const create = inputOf('create_record')
    for (const values of [
      { name: 'Acme', is_company: true, parent_id: 7, comment: null, color: 3, credit_limit: 10.5 },
      { category_id: [1, 2], child_ids: [[0, 0, { name: 'Contact' }], [4, 12], [6, 0, [3, 4]], [5]] },
      { parent_id: false, properties: { key: 'value' } },
    ]) {
      const result = create({ model: 'res.partner', values })
      expect(result.valid, `${JSON.stringify(values)}: ${result.errorMessage}`).toBe(true)
    }
    expect(create({ model: 'res.partner', values: {} }).valid).toBe(false)
  })

  it("answers every tool with structured content the client's validator accepts", async () => {
    // Client.callTool validates structuredContent against the tool's outputSchema and throws when it does not match.
    const call = async (name: string, args: Record<string, unknown>) => {
      const result = await client.callTool({ name, arguments: args })
      expect(result.isError, `${name}: ${textOf(result as never)}`).toBeFalsy()
      expect(result.structuredContent, name).toBeDefined()
      return result.structuredContent as Record<string, unknown>
    }
    await call('list_models', { search: 'sale' })
    for (const model of ['res.partner', 'sale.order', 'sale.order.line', 'product.product']) await call('describe_model', { model })
    const partners = await call('search_records', { model: 'res.partner', limit: 20, count_total: true })
    expect(Number.isInteger(partners.total)).toBe(true)
    await call('search_records', { model: 'sale.order', limit: 20, offset: 1 })
    await call('read_records', { model: 'sale.order', ids: [1, 2, 999999] })
    expect(await call('count_records', { model: 'res.partner', domain: [['is_company', '=', true]] })).toMatchObject({ count: expect.any(Number) })
    await call('aggregate_records', { model: 'sale.order', groupby: ['partner_id', 'date_order:month'], aggregates: ['amount_total:sum', 'id:count_distinct'] })
    await call('aggregate_records', { model: 'sale.order', groupby: ['state'], aggregates: ['amount_total:avg'], limit: 500, offset: 0 })
    const { id } = (await call('create_record', { model: 'res.partner', values: { name: 'Schema Shape Partner' } })) as { id: number }
    expect(Number.isInteger(id)).toBe(true)
    expect(await call('update_records', { model: 'res.partner', ids: [id], values: { city: 'Ghent' } })).toEqual({ updated: [id] })
    expect(await call('delete_records', { model: 'res.partner', ids: [id] })).toEqual({ deleted: [id] })
  })
})
