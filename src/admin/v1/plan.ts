/**
 * How a change made through the admin API is described: a planner reads what it needs from D1, decides, and returns
 * the statements to run, the state before and after (for the admin log) and the answer. The ledger
 * (admin/v1/ledger.ts) runs planners one at a time and writes the statements and the admin log record in one D1
 * batch, so no change is made without its record, and "before" is what the change replaced.
 */
import type { Env } from '../../env'
import type { Statement } from './statement'

export interface Refusal {
  status: 400 | 404 | 409 | 422
  code: string
  message: string
}

export type Plan<Result> =
  | { kind: 'refused'; refusal: Refusal }
  /** Nothing to change (e.g. revoking a revoked key): no statement runs, no record is written. */
  | { kind: 'unchanged'; result: Result }
  | {
      kind: 'change'
      target: string
      before: unknown
      after: unknown
      statements: Statement[]
      result: Result
      /**
       * The last statement is a conditional write (`... WHERE revoked_at IS NULL`) on a row that code outside the
       * ledger may change too (the webhook dispatcher, the OAuth side): the record is written only if that statement
       * changed a row, else nothing is and the ledger plans again from the new state.
       */
      guarded?: true
    }

export type Planner<Input, Result> = (env: Env, input: Input, now: number) => Promise<Plan<Result>>

export const refused = (status: Refusal['status'], code: string, message: string): Plan<never> => ({ kind: 'refused', refusal: { status, code, message } })
