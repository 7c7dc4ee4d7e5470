/**
 * Checks an Odoo login and secret before `keys create` or `keys set-odoo-secret` store them. The CLI does not know
 * where Odoo is (the demo Odoo of `npm start` has a random port; a deployed gateway holds ODOO_URL in its config), so
 * the gateway checks them against its Odoo, exactly as a key session would use them, over the signed admin channel
 * (POST /admin/odoo/check-credentials, src/admin/routes.ts). `--no-verify` skips the check (offline provisioning).
 *
 * The secret travels in the signed request's body (https, or http on loopback only) and is never printed: every text
 * shown here is also scrubbed of it, whatever the gateway answers.
 */
import type { CommandContext } from './command'
import { CliError } from './errors'
import { adminPost } from './gateway'

/** Odoo may take a while (the gateway's ODOO_TIMEOUT_MS is 30 s by default, and a check is up to three calls). */
const CHECK_TIMEOUT_MS = 90_000

export interface VerifiedCredentials {
  /** The Odoo user id Odoo answered; null only if Odoo would not tell it. */
  uid: number | null
  /** JSON-2 authenticates with the API key alone: false when Odoo would not tell the user's login to compare. */
  loginChecked: boolean
  protocol: string
  gateway: string
}

interface CheckAnswer {
  ok: true
  uid: number | null
  protocol: string
  login_checked: boolean
}

const NO_VERIFY_HINT = 'add --no-verify to skip the check (offline provisioning: a wrong login or secret then shows at the first tool call)'

/**
 * Asks the gateway to check `login` and `secret` against its Odoo. `unchanged` says what was not done when the check
 * fails ("No key was created."). @throws CliError with a message fit for the user
 */
export async function verifyOdooCredentials(
  context: CommandContext,
  login: string,
  secret: string,
  unchanged: string,
): Promise<VerifiedCredentials> {
  const scrub = (text: string) => text.split(secret).join('[redacted]')
  const result = await adminPost<CheckAnswer>(
    context,
    '/admin/odoo/check-credentials',
    { login, secret },
    { timeoutMs: CHECK_TIMEOUT_MS, secretPayload: true },
  )
  if (result.ok) {
    const uid = typeof result.body?.uid === 'number' ? result.body.uid : null
    return { uid, loginChecked: result.body?.login_checked === true, protocol: String(result.body?.protocol ?? ''), gateway: result.gateway }
  }
  const at = result.gateway ? ` at ${result.gateway}` : ''
  const message = scrub(result.message ?? result.reason)
  switch (result.code) {
    case 'odoo_credentials_refused':
    case 'odoo_login_mismatch':
      throw new CliError(`the Odoo credentials for '${login}' were not accepted: ${message}. ${unchanged}`)
    case 'odoo_unavailable':
    case 'odoo_error':
    case 'odoo_not_configured':
      throw new CliError(`cannot check the Odoo credentials (gateway${at}): ${message}. ${unchanged} Retry once Odoo answers, or ${NO_VERIFY_HINT}.`)
    case 'admin_disabled':
      throw new CliError(`cannot check the Odoo credentials: the gateway${at} has its admin channel off (${message}). ${unchanged} Set ADMIN_SECRET on the gateway, or ${NO_VERIFY_HINT}.`)
  }
  if (result.status === 404) {
    throw new CliError(
      `cannot check the Odoo credentials: the gateway${at} has no credential check (a version deployed before it existed?). ` +
        `${unchanged} Deploy the current version, or ${NO_VERIFY_HINT}.`,
    )
  }
  if (result.status === undefined || result.status === 401) {
    // Not reached, or not ours to talk to: the usual case is a gateway that is not running.
    throw new CliError(
      `cannot check the Odoo credentials: could not ask the gateway${at} (${scrub(result.reason)}). ${unchanged} ` +
        'The check goes through the gateway, which knows where Odoo is: start it (`npm start`), or point at it with ' +
        '--gateway URL / ODOO_MCP_GATEWAY_URL and --admin-secret-file FILE / ODOO_MCP_ADMIN_SECRET; or ' +
        `${NO_VERIFY_HINT}.`,
    )
  }
  throw new CliError(`cannot check the Odoo credentials: the gateway${at} answered ${scrub(result.reason)}. ${unchanged} Retry, or ${NO_VERIFY_HINT}.`)
}

/** One line about the check for the output of `keys create` / `keys set-odoo-secret`. */
export function describeVerification(login: string, verified: VerifiedCredentials | undefined): string {
  if (!verified) return 'Odoo credentials not checked (--no-verify): a wrong login or secret shows at the first tool call.'
  const uid = verified.uid === null ? '' : ` (Odoo uid ${verified.uid})`
  if (!verified.loginChecked) {
    return `Odoo accepted the secret${uid}; Odoo did not tell the user's login, so '${login}' could not be compared with it.`
  }
  return `Odoo credentials checked: Odoo accepted '${login}' and its secret${uid}.`
}
