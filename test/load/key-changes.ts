/**
 * Key changes made with the CLI while the load runs: a rotation with a grace period (the client switches to the new
 * secret as soon as the CLI prints it), a policy change, and a revocation timed against a client polling the key.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runCliOk, type CliTarget } from './cli'
import type { LoadControl } from './control'
import { callTool, runClock, type CallRecord, type McpTarget, type ToolCall } from './traffic'

/** The secret a driver uses; a rotation swaps it under the running driver. */
export class SecretHolder {
  constructor(
    public key: string,
    public which: 'old' | 'new' = 'old',
  ) {}
  current = () => ({ key: this.key, which: this.which })
}

export interface KeyChange {
  kind: 'rotate' | 'policy' | 'revoke'
  label: string
  startedAt: number
  endedAt: number
  /** The CLI said the gateway applied the change at once ("Applied now"). */
  appliedNow: boolean
  stderr: string
  /** Times the CLI's wrangler call was tried again because the local D1 file was busy (see cli.ts). */
  busyRetries: number
  /** The CLI's admin call that made the gateway reload the key. */
  adminCall?: { startedAt: number; endedAt: number; status: number }
}

const appliedNow = (stderr: string) => /^Applied now: /m.test(stderr)

export async function rotate(cli: CliTarget, label: string, keyId: string, holder: SecretHolder): Promise<KeyChange> {
  const result = await runCliOk(cli, ['keys', 'rotate', keyId, '--grace', '1h', '--json'])
  const rotated = result.json as { key: string }
  holder.key = rotated.key
  holder.which = 'new'
  return { kind: 'rotate', label, startedAt: result.startedAt, endedAt: result.endedAt, appliedNow: appliedNow(result.stderr), stderr: result.stderr.trim(), busyRetries: result.busyRetries, adminCall: result.adminCalls.at(-1) }
}

export async function setPolicy(cli: CliTarget, workDir: string, label: string, keyId: string, policy: unknown): Promise<KeyChange> {
  const file = join(workDir, `policy-${label}-${Date.now()}.json`)
  await writeFile(file, JSON.stringify(policy))
  const result = await runCliOk(cli, ['keys', 'policy', 'set', keyId, '--policy', file])
  return { kind: 'policy', label, startedAt: result.startedAt, endedAt: result.endedAt, appliedNow: appliedNow(result.stderr), stderr: result.stderr.trim(), busyRetries: result.busyRetries, adminCall: result.adminCalls.at(-1) }
}

export interface Revocation extends KeyChange {
  /**
   * The revocation's commit, as the send time of the first D1 read that saw revoked_at set (reads every 20 ms through
   * the load Worker; under load each takes a few hundred ms, which bounds the precision).
   */
  committedAt: number | null
  /** The first request answered 401: when it was sent and when its answer came. */
  firstRefusedSentAt: number | null
  firstRefusedAt: number | null
  /** Requests sent after the first 401 arrived that were still let through (must be 0). */
  admittedAfterRefusal: number
  /** The last request let through: how long after the commit it was sent (negative: before). */
  lastAdmittedSentAfterCommitMs: number | null
  records: CallRecord[]
}

const D1_POLL_MS = 20
/** How long the poller keeps going after the first refusal, to see that every later request is refused too. */
const AFTER_REFUSAL_MS = 1_500

/**
 * Revokes a key with the CLI while `concurrency` clients call it back to back, and times it: from the moment D1 holds
 * the revocation (seen by polling D1 every 20 ms) to the first 401.
 */
export async function revokeWhilePolling(
  cli: CliTarget,
  control: LoadControl,
  target: McpTarget,
  key: { label: string; id: string; key: string },
  call: ToolCall,
  concurrency: number,
): Promise<Revocation> {
  const records: CallRecord[] = []
  let stopAt = Infinity
  let committedAt: number | null = null
  let firstRefused: CallRecord | undefined
  const poller = async () => {
    while (runClock() < stopAt) {
      const answer = await callTool(target, key.key, call)
      const record: CallRecord = { ...answer, key: key.label, call }
      records.push(record)
      if (answer.status === 401 && (!firstRefused || answer.sentAt + answer.ms < firstRefused.sentAt + firstRefused.ms)) {
        firstRefused = record
        stopAt = Math.min(stopAt, runClock() + AFTER_REFUSAL_MS)
      }
    }
  }
  const watcher = async () => {
    while (committedAt === null && runClock() < stopAt) {
      const polledAt = runClock()
      if ((await control.revokedAt(key.id)) !== null) committedAt = polledAt
      else await new Promise((resolve) => setTimeout(resolve, D1_POLL_MS))
    }
  }
  const pollers = Array.from({ length: concurrency }, poller)
  // Let the pollers run a moment first: every one of them must be admitted before the change.
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  const watching = watcher()
  let result: Awaited<ReturnType<typeof runCliOk>>
  try {
    result = await runCliOk(cli, ['keys', 'revoke', key.id])
  } finally {
    // Whatever happened, the pollers stop a little after the CLI is done.
    stopAt = Math.min(stopAt, runClock() + 3_000)
  }
  await Promise.all([...pollers, watching])
  const refusedAt = firstRefused ? firstRefused.sentAt + firstRefused.ms : null
  return {
    kind: 'revoke',
    label: key.label,
    startedAt: result.startedAt,
    endedAt: result.endedAt,
    appliedNow: appliedNow(result.stderr),
    stderr: result.stderr.trim(),
    busyRetries: result.busyRetries,
    adminCall: result.adminCalls.at(-1),
    committedAt,
    firstRefusedSentAt: firstRefused?.sentAt ?? null,
    firstRefusedAt: refusedAt,
    admittedAfterRefusal: refusedAt === null ? 0 : records.filter((record) => record.sentAt > refusedAt && record.status !== 401).length,
    lastAdmittedSentAfterCommitMs:
      committedAt === null ? null : Math.round(Math.max(...records.filter((record) => record.status === 200).map((record) => record.sentAt)) - committedAt),
    records,
  }
}
