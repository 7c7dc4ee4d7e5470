/**
 * `odoo-mcp credentials status|reseal`, over the admin API (/admin/v1/credentials): the values sealed under the
 * CREDENTIALS_KEY ring, and moving them under the current key after a rotation (docs/KEY-LIFECYCLE.md, "Rotating
 * CREDENTIALS_KEY").
 */
import { adminRequest } from '../admin-api'
import { print, printJson, type Command, type CommandContext } from '../command'
import { EXIT_FAILURE, EXIT_OK } from '../errors'
import { formatTable } from '../format'
import { progress } from '../progress'

/** A value no configured key opens, as the gateway names it. */
interface UnreadableJson {
  table: string
  column: string
  id: string
  key_id: string | null
  problem: string
  in_use: boolean
  message: string
  fix: string
  restorable: boolean
}

interface StatusJson {
  current_key_id: string
  previous_key_ids: string[]
  sealed_values: number
  to_reseal: number
  unreadable: number
  unreadable_in_use: number
  key_ids: { key_id: string; role: 'current' | 'previous'; values: number; v1_format: number }[]
  tables: { table: string; column: string; values: number; to_reseal: number; unreadable: number }[]
  unreadable_values: UnreadableJson[]
}

interface ResealPageJson {
  key_id: string
  examined: number
  resealed: number
  already_current: number
  unreadable: UnreadableJson[]
  next_cursor: string | null
  applied: boolean
}

/** Values per reseal request (the gateway's default): each is one admin log record and one D1 batch. */
const PAGE = 40
/** Every value is opened: a large deployment takes a while. */
const STATUS_TIMEOUT_MS = 120_000

const unreadableJson = (value: UnreadableJson) => ({
  table: value.table,
  column: value.column,
  id: value.id,
  keyId: value.key_id,
  problem: value.problem,
  inUse: value.in_use,
  fix: value.fix,
  restorable: value.restorable,
})

/** The values no configured key opens, with the fix; and the other fix when the key they need is only missing. */
function unreadableTable(values: UnreadableJson[]): string {
  const table = formatTable(
    ['TABLE', 'COLUMN', 'ID', 'KEY ID', 'IN USE', 'FIX'],
    values.map((value) => [value.table, value.column, value.id, value.key_id ?? '(v1)', value.in_use ? 'yes' : 'no', value.fix]),
    80,
  )
  const restorable = values.filter((value) => value.restorable).length
  if (restorable === 0) return table
  return `${table}\n${restorable === values.length ? 'Each' : `${restorable} of them`} also opens again if the key it was sealed under is added back to CREDENTIALS_KEYS_PREVIOUS.`
}

const ROTATION_NOTE = [
  'Rotation: put the new key in CREDENTIALS_KEY and the old one in CREDENTIALS_KEYS_PREVIOUS (comma-separated), deploy,',
  'run `odoo-mcp credentials reseal`, check that `odoo-mcp credentials status` shows no value under the old key id,',
  'then remove the old key from CREDENTIALS_KEYS_PREVIOUS and deploy again (docs/KEY-LIFECYCLE.md).',
].join('\n')

async function fetchStatus(context: CommandContext): Promise<StatusJson> {
  return adminRequest<StatusJson>(context, 'GET', '/credentials/status', { timeoutMs: STATUS_TIMEOUT_MS })
}

const status: Command = {
  name: 'credentials status',
  summary: 'Sealed secrets per CREDENTIALS_KEY key id: what is left to re-seal, what cannot be opened',
  synopsis: '[--json]',
  description: [
    'Opens every secret the gateway keeps sealed in D1 (the Odoo secrets of keys and OAuth connections, webhook',
    'signing secrets) with its key ring, and counts them per key id: CREDENTIALS_KEY is the current key,',
    'CREDENTIALS_KEYS_PREVIOUS the older ones. A key id is the first 8 hex characters of the SHA-256 of the key',
    '(`echo KEY | base64 -d | sha256sum | cut -c1-8`). Values no configured key opens are listed with the fix. Nothing',
    'is changed, and no secret is shown.',
    ROTATION_NOTE,
  ].join('\n'),
  options: {},
  arity: 0,
  async run(context) {
    const answer = await fetchStatus(context)
    if (context.json) {
      printJson(context, {
        currentKeyId: answer.current_key_id,
        previousKeyIds: answer.previous_key_ids,
        sealedValues: answer.sealed_values,
        toReseal: answer.to_reseal,
        unreadable: answer.unreadable,
        unreadableInUse: answer.unreadable_in_use,
        keyIds: answer.key_ids.map((entry) => ({ keyId: entry.key_id, role: entry.role, values: entry.values, v1Format: entry.v1_format })),
        tables: answer.tables.map((table) => ({ table: table.table, column: table.column, values: table.values, toReseal: table.to_reseal, unreadable: table.unreadable })),
        unreadableValues: answer.unreadable_values.map(unreadableJson),
      })
      return EXIT_OK
    }
    const lines = [
      `${answer.sealed_values} sealed value(s). Current key id ${answer.current_key_id}` +
        (answer.previous_key_ids.length ? `; previous: ${answer.previous_key_ids.join(', ')}.` : '; no previous keys.'),
      '',
      formatTable(
        ['KEY ID', 'ROLE', 'VALUES', 'OF WHICH V1'],
        answer.key_ids.map((entry) => [entry.key_id, entry.role, String(entry.values), String(entry.v1_format)]),
      ),
      '',
      answer.to_reseal === 0
        ? 'Nothing to re-seal: every readable value is under the current key.'
        : `${answer.to_reseal} value(s) not under the current key yet: run \`odoo-mcp credentials reseal\`.`,
    ]
    const idle = answer.key_ids.filter((entry) => entry.role === 'previous' && entry.values === 0)
    if (answer.to_reseal === 0 && idle.length > 0) lines.push(`Nothing is sealed under ${idle.map((entry) => entry.key_id).join(', ')}: it can leave CREDENTIALS_KEYS_PREVIOUS.`)
    if (answer.unreadable > 0) {
      lines.push(
        '',
        `${answer.unreadable} value(s) no configured key opens (${answer.unreadable_in_use} still in use)` +
          (answer.unreadable_values.length < answer.unreadable ? `; the first ${answer.unreadable_values.length}:` : ':'),
        unreadableTable(answer.unreadable_values),
      )
    }
    print(context, lines.join('\n'))
    return EXIT_OK
  },
}

const reseal: Command = {
  name: 'credentials reseal',
  summary: 'Re-seal every stored secret under the current CREDENTIALS_KEY (after a rotation)',
  synopsis: '[--json]',
  description: [
    'Moves every sealed secret that is not under the current CREDENTIALS_KEY (sealed under a key of',
    'CREDENTIALS_KEYS_PREVIOUS, or in the old v1 format) under it, a page at a time: each page is one change in',
    'the admin log (counts, key ids and row ids; never a secret), and the keys and connections concerned reload at',
    'once. Safe to run again, and to interrupt: what is done stays done. Values no configured key opens are left as',
    'they are and listed with the fix; the exit code is then 1.',
    ROTATION_NOTE,
  ].join('\n'),
  options: {},
  arity: 0,
  async run(context) {
    // The total, for the progress bar (and to say up front what there is to do).
    const before = await fetchStatus(context)
    const bar = progress(context, 'Re-sealing')
    const totals = { examined: 0, resealed: 0, alreadyCurrent: 0, applied: true }
    const unreadable: UnreadableJson[] = []
    let keyId = before.current_key_id
    let cursor: string | undefined
    try {
      do {
        const page = await adminRequest<ResealPageJson>(context, 'POST', '/credentials/reseal', { body: { limit: PAGE, ...(cursor ? { cursor } : {}) } })
        keyId = page.key_id
        totals.examined += page.examined
        totals.resealed += page.resealed
        totals.alreadyCurrent += page.already_current
        totals.applied &&= page.applied
        unreadable.push(...page.unreadable)
        bar.update(totals.examined, Math.max(before.sealed_values, totals.examined))
        cursor = page.next_cursor ?? undefined
      } while (cursor)
    } finally {
      bar.finish()
    }
    if (!totals.applied) {
      context.io.stderr.write("Some keys' objects could not reload at once: they pick up the re-sealed value within KEY_CACHE_TTL_SECONDS (30 s by default).\n")
    }
    if (context.json) {
      printJson(context, { keyId, ...totals, unreadable: unreadable.map(unreadableJson) })
    } else {
      const lines = [`Re-sealed ${totals.resealed} value(s) under key id ${keyId}; ${totals.alreadyCurrent} already were (${totals.examined} examined).`]
      if (unreadable.length > 0) lines.push('', `${unreadable.length} value(s) no configured key opens were left as they are:`, unreadableTable(unreadable))
      else lines.push('Every stored secret is now under the current key: check with `odoo-mcp credentials status`, then drop the old key.')
      print(context, lines.join('\n'))
    }
    if (unreadable.length > 0) {
      context.io.stderr.write(`odoo-mcp: ${unreadable.length} sealed value(s) could not be opened; see the FIX column (or "fix" with --json).\n`)
      return EXIT_FAILURE
    }
    return EXIT_OK
  },
}

export const credentialsCommands: Command[] = [status, reseal]
