/**
 * The shipped policy templates (docs/policy-templates) and how `--template` combines with `--policy` (cli/policy.ts):
 *   - every template is a policy the gateway enforces as written (the Worker's own schema), and is explained in
 *     docs/policy-templates/README.md;
 *   - combining, property style: the result's models are the union, the file's entry winning for a model both name;
 *     the file's other settings replace the template's; nothing else appears.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { combinePolicies, templateDir, templateNames } from '../../cli/policy'
import { parsePolicy } from '../../src/policy/schema'
import { projectRoot } from '../support/wrangler'

const dir = templateDir(projectRoot)

describe('policy templates', () => {
  it('ship at least the documented four, each a valid policy of read-mostly models, each explained', async () => {
    const names = await templateNames(projectRoot)
    expect(names).toEqual(expect.arrayContaining(['accounting-read', 'crm-read', 'helpdesk', 'read-only-sales']))
    expect((await readdir(dir)).filter((file) => !file.endsWith('.json'))).toEqual(['README.md'])
    const readme = await readFile(join(dir, 'README.md'), 'utf8')
    for (const name of names) {
      const document = JSON.parse(await readFile(join(dir, `${name}.json`), 'utf8')) as { models: Record<string, { operations: string[]; fields: unknown }> }
      const parsed = parsePolicy(document)
      expect(parsed.ok ? [] : parsed.errors, name).toEqual([])
      // Explicit field lists only: "*" would follow whatever a module adds to the model.
      for (const [model, entry] of Object.entries(document.models)) {
        expect(Array.isArray(entry.fields), `${name}: ${model}`).toBe(true)
        expect(entry.operations, `${name}: ${model} never deletes`).not.toContain('unlink')
      }
      expect(readme, `README.md explains ${name}`).toContain(`## \`${name}\``)
    }
  })
})

const modelEntry = fc.record({ operations: fc.constant(['read']), fields: fc.array(fc.constantFrom('name', 'state', 'email'), { maxLength: 3 }) })
const modelMap = fc.dictionary(fc.constantFrom('res.partner', 'sale.order', 'account.move', 'crm.lead', 'stock.picking'), modelEntry)
const settings = fc.record(
  { ip: fc.constant({ allow: ['203.0.113.0/24'] }), rateLimit: fc.record({ perMinute: fc.integer({ min: 1, max: 100 }) }) },
  { requiredKeys: [] },
)

describe('--template with --policy', () => {
  it('adds the file to the template: union of models, the file winning per model and per setting', () => {
    fc.assert(
      fc.property(modelMap, settings, modelMap, settings, (baseModels, baseSettings, fileModels, fileSettings) => {
        const base = { version: 1, ...baseSettings, models: baseModels }
        const file = { version: 1, ...fileSettings, models: fileModels }
        const combined = JSON.parse(combinePolicies(JSON.stringify(base), JSON.stringify(file), 'file.json')) as Record<string, unknown>
        const models = combined.models as Record<string, unknown>
        expect(Object.keys(models).sort()).toEqual([...new Set([...Object.keys(baseModels), ...Object.keys(fileModels)])].sort())
        for (const [name, entry] of Object.entries(models)) expect(entry).toEqual(name in fileModels ? fileModels[name] : baseModels[name])
        for (const setting of ['ip', 'rateLimit'] as const) {
          expect(combined[setting]).toEqual(setting in fileSettings ? fileSettings[setting] : baseSettings[setting])
        }
        expect(Object.keys(combined).sort()).toEqual([...new Set(['version', 'models', ...Object.keys(baseSettings), ...Object.keys(fileSettings)])].sort())
      }),
      { numRuns: 300 },
    )
  })

  it('refuses a file that is not a JSON object, naming it', () => {
    expect(() => combinePolicies('{"version":1,"models":{}}', '[1]', 'extra.json')).toThrow(/extra\.json is not a valid policy:\n {2}\$: must be a JSON object/)
    expect(() => combinePolicies('{"version":1,"models":{}}', '{', 'extra.json')).toThrow(/extra\.json is not a valid policy:\n {2}\$: not valid JSON/)
  })
})
