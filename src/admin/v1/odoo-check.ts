/**
 * Checks an Odoo login and secret against this gateway's Odoo before a key stores them (keys create, keys
 * odoo-secret), as a key session would use them (admin/odoo-credentials.ts). The secret is never logged, stored or
 * echoed: every text that could reach the answer is scrubbed of it.
 */
import { ConfigError, loadConfig, type GatewayConfig } from '../../config'
import { logError } from '../../log'
import { checkOdooCredentials } from '../odoo-credentials'
import { adminError, type AdminContext } from './http'

export type CheckedCredentials = { ok: true; uid: number | null; protocol: string; loginChecked: boolean } | { ok: false; response: Response }

export async function checkCredentials(c: AdminContext, login: string, secret: string): Promise<CheckedCredentials> {
  let config: GatewayConfig
  try {
    config = loadConfig(c.env)
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, response: adminError(c, 503, 'odoo_not_configured', `The gateway's Odoo settings are invalid: ${error.message}`) }
    throw error
  }
  const redact = (text: string) => text.split(secret).join('[redacted]')
  let result: Awaited<ReturnType<typeof checkOdooCredentials>>
  try {
    result = await checkOdooCredentials({ config, credentials: { login, secret }, checkId: c.get('requestId') })
  } catch (error) {
    // Our own fault: logged without its message, which could in theory quote what was sent.
    logError(new Error(`credential check failed: ${error instanceof Error ? error.name : 'unknown error'}`), 'admin check credentials', c.get('requestId'))
    return { ok: false, response: adminError(c, 500, 'internal_error', `The credential check failed unexpectedly; request id ${c.get('requestId')}`) }
  }
  switch (result.kind) {
    case 'ok':
      return { ok: true, uid: result.uid, protocol: result.protocol, loginChecked: result.loginChecked }
    case 'refused':
      return {
        ok: false,
        response: adminError(
          c,
          422,
          'odoo_credentials_refused',
          result.protocol === 'json2'
            ? "Odoo refused the secret: over JSON-2 it must be the user's Odoo API key (a password is not accepted there)"
            : 'Odoo refused the login or the secret (Odoo does not say which)',
        ),
      }
    case 'login_mismatch':
      return {
        ok: false,
        response: adminError(c, 422, 'odoo_login_mismatch', `Odoo accepted the secret, but it is the API key of Odoo user '${redact(result.actualLogin)}' (uid ${result.uid}), not of '${login}'`),
      }
    case 'unavailable':
      return { ok: false, response: adminError(c, 502, 'odoo_unavailable', `Odoo is unavailable: ${redact(result.message)}`) }
    case 'odoo_error':
      return { ok: false, response: adminError(c, 502, 'odoo_error', `Odoo answered with an error: ${redact(result.message)}`) }
  }
}
