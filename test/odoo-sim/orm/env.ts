// The environment of one call (Odoo's `env`): database, version, user, context, and per-call caches.
import type { Db } from '../db'
import type { SessionUser } from '../access'
import { aclAllows } from '../access'
import type { RuntimeModel } from '../models'
import type { JsonObject, OdooVersion } from '../types'

export interface Env {
  db: Db
  version: OdooVersion
  user: SessionUser
  context: JsonObject
  /** Server time, 'YYYY-MM-DD HH:MM:SS' (UTC). */
  now: string
  /** Position of each record in its model's default order, per model (for ordering by many2one). */
  ranks: Map<string, Map<number, number>>
}

export function nowString(date = new Date()): string {
  return date.toISOString().slice(0, 19).replace('T', ' ')
}

export function makeEnv(db: Db, user: SessionUser, context: JsonObject = {}): Env {
  return { db, version: db.version, user, context, now: nowString(), ranks: new Map() }
}

/**
 * hr.employee for an internal user without HR rights: Odoo serves it through hr.employee.public, i.e. the fields
 * without groups, with no access error on the model itself.
 */
export function isPublicProjection(env: Env, model: RuntimeModel): boolean {
  return (
    model.publicModel !== undefined && !aclAllows(model, 'read', env.user) && env.user.groups.has('base.group_user')
  )
}
