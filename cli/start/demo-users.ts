/**
 * The users of the demo Odoo (`npm start` without ODOO_URL), as the banner and the README present them: a newcomer
 * tries a restricted key with one of them. The logins, uids and secrets come from the simulator itself; what each
 * user can do is written here, in plain words, and checked against the simulator by test/node/demo-users.test.ts.
 */
import { DEMO_USERS } from '../../test/odoo-sim/users'

/** What each demo user may do in the demo Odoo (its groups, in plain words). */
const ACCESS: Readonly<Record<string, string>> = {
  admin: 'administrator: every model (the demo key acts as this user)',
  demo: 'sales: all orders; contacts, may create them',
  sales_agent: 'sales: only its own orders; reads contacts, may not create them',
  sales_manager: 'sales: all orders; contacts, may create them',
  internal_user: 'employee without sales rights: contacts, no sales orders',
}

export interface DemoUserInfo {
  login: string
  uid: number
  name: string
  /** The user's Odoo API key in the demo Odoo (its password is its login). */
  apiKey: string
  access: string
}

export const DEMO_USER_INFO: readonly DemoUserInfo[] = DEMO_USERS.map((user) => {
  const access = ACCESS[user.login]
  if (!access) throw new Error(`demo user ${user.login} is not described in cli/start/demo-users.ts`)
  return { login: user.login, uid: user.uid, name: user.name, apiKey: user.apiKey, access }
})

/** The demo users as aligned text lines (banner; the README has the same table). */
export function demoUserLines(): string[] {
  const loginWidth = Math.max(...DEMO_USER_INFO.map((user) => user.login.length))
  const keyWidth = Math.max(...DEMO_USER_INFO.map((user) => user.apiKey.length))
  return DEMO_USER_INFO.map((user) => `${user.login.padEnd(loginWidth)}  ${user.apiKey.padEnd(keyWidth)}  ${user.access}`)
}
