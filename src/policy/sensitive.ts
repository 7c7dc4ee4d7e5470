/**
 * Built-in denylist: models and fields that hold credentials, security configuration or code. A policy can reach
 * them only by naming them exactly: the wildcards (`"*"` as model or as field list) never include them.
 */

/** Models that store secrets, decide who may do what, or run code. */
export const SENSITIVE_MODELS: ReadonlySet<string> = new Set([
  // Secrets and credentials
  'ir.config_parameter', // database secret, mail and OAuth settings
  'res.users.apikeys',
  'res.users.apikeys.description',
  'res.users.identitycheck',
  'res.users.deletion',
  'auth_totp.device',
  'ir.mail_server', // SMTP passwords
  'fetchmail.server', // IMAP/POP passwords
  'payment.provider', // payment API keys
  'auth.oauth.provider',
  // Access control
  'res.groups',
  'ir.model.access',
  'ir.rule',
  'res.users.log',
  'change.password.wizard',
  'change.password.user',
  // Code and configuration that executes or changes the system
  'ir.actions.server',
  'ir.cron',
  'base.automation',
  'ir.ui.view',
  'ir.module.module',
  'res.config.settings',
  'ir.model',
  'ir.model.fields',
  'ir.attachment', // raw file store, includes other models' private files
])

/** Field names that hold secrets: passwords, tokens, API keys, TOTP seeds, portal access tokens. */
const SENSITIVE_FIELD_PATTERN = /(^|_)(password|passwd|pwd|secret|token|apikey|api_key|private_key|totp|otp|signature_key)(_|$)/i

export function isSensitiveModel(model: string): boolean {
  return SENSITIVE_MODELS.has(model)
}

export function isSensitiveField(field: string): boolean {
  return SENSITIVE_FIELD_PATTERN.test(field)
}
