/** Every change the admin API makes, by action name (the name the admin log records). One module per feature. */
import { connectorsPlanners } from './connectors/plans'
import { credentialsPlanners } from './credentials/plans'
import { planCreateKey, planRevokeKey, planRotateKey, planSetOdooSecret, planSetPolicy } from './keys/plans'
import { webhooksPlanners } from './webhooks/plans'

export const PLANNERS = {
  'keys.create': planCreateKey,
  'keys.revoke': planRevokeKey,
  'keys.rotate': planRotateKey,
  'keys.policy.set': planSetPolicy,
  'keys.odoo_secret.set': planSetOdooSecret,
  ...connectorsPlanners,
  ...credentialsPlanners,
  ...webhooksPlanners,
} as const

export type ActionName = keyof typeof PLANNERS
export type ActionInput<A extends ActionName> = Parameters<(typeof PLANNERS)[A]>[1]
export type ActionResult<A extends ActionName> = Awaited<ReturnType<(typeof PLANNERS)[A]>> extends infer P ? (P extends { kind: 'change'; result: infer R } ? R : never) : never
