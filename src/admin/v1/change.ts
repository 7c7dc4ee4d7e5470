/** Runs one change through the ledger (admin/v1/ledger.ts) for a route, and makes it apply at once. */
import { clip } from '../../audit/trail'
import { clientAddress } from '../../http/auth'
import { keyObject } from '../../keys/placement'
import { logError } from '../../log'
import { adminError, refusalResponse, type AdminContext } from './http'
import { adminLedger, type ChangeOutcome } from './ledger'
import type { ActionInput, ActionName, ActionResult } from './planners'

export type Changed<R> = { ok: true; outcome: Exclude<ChangeOutcome<R>, { kind: 'refused' }> } | { ok: false; response: Response }

export async function change<A extends ActionName>(c: AdminContext, action: A, input: ActionInput<A>): Promise<Changed<ActionResult<A>>> {
  let outcome: ChangeOutcome<ActionResult<A>>
  try {
    outcome = (await adminLedger(c.env).change(action, input, {
      actor: c.get('adminActor'),
      ip: clip(clientAddress(c.req.raw)) ?? null,
      requestId: c.get('requestId'),
    })) as ChangeOutcome<ActionResult<A>>
  } catch (error) {
    logError(error, `admin ${action}`, c.get('requestId'))
    const requestId = c.get('requestId')
    // The change and its record are one D1 batch: both were written, or neither. Whether D1 committed a batch whose
    // answer was lost is asked before saying so; when even that cannot be asked, the client is told to look first.
    // By message: an error crossing the Durable Object boundary keeps its message, not its class (LedgerWriteError).
    if (error instanceof Error && /outcome unknown/.test(error.message)) {
      return {
        ok: false,
        response: adminError(c, 503, 'change_outcome_unknown', `The database did not answer: the change may or may not have been made. Check (the admin log has request id ${requestId} if it was) before retrying`),
      }
    }
    return { ok: false, response: adminError(c, 503, 'change_failed', `Nothing was changed (the database or the admin ledger did not answer); retry. Request id ${requestId}`) }
  }
  if (outcome.kind === 'refused') return { ok: false, response: refusalResponse(c, outcome.refusal) }
  return { ok: true, outcome }
}

/**
 * Tells a key's (or connection's) object to reload from D1 now. false: it could not be reached, and the change
 * applies within KEY_CACHE_TTL_SECONDS instead (D1 holds it already).
 */
export async function applyNow(c: AdminContext, id: string): Promise<boolean> {
  try {
    await keyObject(c.env, id).refresh(id)
    return true
  } catch (error) {
    logError(error, 'admin refresh', c.get('requestId'))
    return false
  }
}
