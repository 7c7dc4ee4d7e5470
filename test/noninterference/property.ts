/**
 * The non-interference property of the policy guard (docs/SECURITY.md):
 *
 *   For a key with policy P, every answer to every tool call is the same, byte for byte and errors included, on two
 *   Odoo databases that differ only in values P hides; and no call changes a value P does not let the key write,
 *   nor creates or deletes a record of a model P does not let it create in or delete from.
 *
 * One case: a policy, a seed for the hidden values of the second database, an Odoo version and a tool call. The
 * call runs through the gateway's real code (tests/noninterference/gateway.ts) against both databases. With a
 * version 2 policy the hidden values include records a filter leaves out (their values, existence and number) and
 * masked values beyond their masks (world.ts); writes may not change a record a filter leaves out.
 */
import fc from 'fast-check'
import { parsePolicy } from '../../src/policy/schema'
import { createState } from '../odoo-sim/handler'
import { keyCaller, serve } from './gateway'
import type { Db } from '../odoo-sim/db'
import { callArbitrary, Catalog, policyArbitrary, type Call } from './requests'
import {
  NO_WRITES,
  addGhosts,
  canonicalHashes,
  decorateHiddenDisplayNames,
  keepFilterSides,
  outsideIds,
  perturbMasked,
  perturbOutside,
  perturb,
  perturbableColumns,
  protectedColumns,
  ReferencePolicy,
  snapshot,
  unexplainedChanges,
  type PolicyDocument,
  type WriteReach,
} from './world'

export interface Case {
  version: 18 | 19
  policy: PolicyDocument | null
  /** Decides the second database's hidden values. */
  seed: number
  call: Call
}

const WRITE_TOOLS = new Set(['create_record', 'update_records', 'delete_records'])

/** Catalogs of the untouched demo databases, one per version (generators draw names and values from them). */
const catalogs = { 18: new Catalog(createState({ version: 18 }).db), 19: new Catalog(createState({ version: 19 }).db) }

export const caseArbitrary: fc.Arbitrary<Case> = fc
  .tuple(fc.constantFrom<18 | 19>(18, 19), fc.integer({ min: 1, max: 2 ** 31 - 1 }))
  .chain(([version, seed]) =>
    policyArbitrary(catalogs[version]).chain((policy) =>
      callArbitrary(catalogs[version], policy).map((call): Case => ({ version, policy, seed, call })),
    ),
  )

/** How many cases ran per tool, and how many of those the gateway answered without an error (coverage report). */
export const coverage = new Map<string, { cases: number; answered: number }>()

/** Runs one case; returns what differed (a leak), or `null` when both databases answered alike. */
export async function runCase(sample: Case): Promise<string | null> {
  const { version, policy, seed, call } = sample
  let parsedPolicy = null
  if (policy) {
    const parsed = parsePolicy(policy)
    if (!parsed.ok) throw new Error(`a generated policy did not parse: ${parsed.errors.join('; ')}`)
    parsedPolicy = parsed.policy
  }
  const first = createState({ version })
  const second = createState({ version })
  const reference = new ReferencePolicy(policy, first.db)
  const writes = WRITE_TOOLS.has(call.tool)
  // Record filters: records left out exist in the first database only or in both (ghosts), with other values.
  const reach = writes ? writeReach(first.db, call) : NO_WRITES
  addGhosts(reference, first.db, second.db, seed, reach)
  const outside = outsideIds(reference, first.db)
  const columns = perturbableColumns(reference, second.db, reach)
  perturb(second.db, columns, seed)
  perturbOutside(reference, second.db, outside, seed, reach)
  keepFilterSides(reference, first.db, second.db)
  await perturbMasked(reference, second.db, seed)
  decorateHiddenDisplayNames(second.db, reference, seed, outside)

  const callers = [keyCaller(serve(`first${version}`, first), version, parsedPolicy), keyCaller(serve(`second${version}`, second), version, parsedPolicy)]
  const guarded = protectedColumns(reference, first.db)
  const before = writes ? [snapshot(first.db, guarded, outsideIds(reference, first.db)), snapshot(second.db, guarded, outsideIds(reference, second.db))] : []

  const answers = []
  // A hash mask shows which values are equal, not the values: hashes are compared by the equalities they show.
  for (const caller of callers) answers.push(canonicalHashes(JSON.stringify(await caller.call(call.tool, call.args))))
  const counts = coverage.get(call.tool) ?? { cases: 0, answered: 0 }
  counts.cases++
  if (!answers[0]!.includes('"isError":true')) counts.answered++
  coverage.set(call.tool, counts)
  if (answers[0] !== answers[1]) {
    const [a, b] = answers as [string, string]
    let at = 0
    while (at < a.length && a[at] === b[at]) at++
    const around = (text: string) => `...${text.slice(Math.max(0, at - 400), at + 300)}...`
    return `the answers differ:\n  database 1: ${clip(a)}\n  database 2: ${clip(b)}\n  first difference, at ${at}:\n  database 1: ${around(a)}\n  database 2: ${around(b)}`
  }
  if (writes) {
    for (const [index, state] of [first, second].entries()) {
      const changes = unexplainedChanges(before[index]!, snapshot(state.db, guarded), state.db, reference)
      if (changes.length > 0) return `the call changed what the policy protects (database ${index + 1}): ${changes.slice(0, 5).join('; ')}`
    }
  }
  return null
}

/**
 * The models a write call reaches: its own, and through one2many / many2many values the related models (which
 * commands create, write or delete records of, at any depth).
 */
function writeReach(db: Db, call: Call): WriteReach {
  const model = String(call.args.model)
  const written = new Set<string>([model])
  const deleted = new Set<string>(call.tool === 'delete_records' ? [model] : [])
  const walk = (modelName: string, values: unknown) => {
    if (!values || typeof values !== 'object' || Array.isArray(values)) return
    const definition = db.registry.get(modelName)
    for (const [name, value] of Object.entries(values)) {
      const field = definition?.field(name)
      if (!field?.relation || (field.type !== 'one2many' && field.type !== 'many2many')) continue
      written.add(field.relation)
      deleted.add(field.relation)
      if (Array.isArray(value)) for (const command of value) if (Array.isArray(command)) walk(field.relation, command[2])
    }
  }
  walk(model, call.args.values)
  return { written: [...written], deleted: [...deleted] }
}

function clip(text: string): string {
  return text.length > 1500 ? `${text.slice(0, 1500)}...` : text
}

/** A counter-example as a reader wants it: the policy, the call, and the seed to replay it with. */
export function describeCase(sample: Case): string {
  return [
    `Odoo ${sample.version}, seed ${sample.seed}`,
    `policy: ${JSON.stringify(sample.policy)}`,
    `call: ${sample.call.tool} ${JSON.stringify(sample.call.args)}`,
  ].join('\n')
}
