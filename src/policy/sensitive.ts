/**
 * Built-in denylist: models and fields that hold credentials, security configuration or code. A policy can reach
 * them only by naming them exactly: the wildcards (`"*"` as model or as field list) never include them.
 *
 * The lists follow what a real Odoo 17-19 database holds (core and standard modules). They are about secrets and
 * control of the system, not personal data: ordinary business records (bank accounts, employees' private addresses,
 * barcodes, chatter activities) stay under the wildcards, and a policy that must not show them lists fields instead.
 */

/** Models that store secrets, decide who may do what, or run code. */
export const SENSITIVE_MODELS: ReadonlySet<string> = new Set([
  // Secrets and credentials
  'ir.config_parameter', // database secret, mail and OAuth settings
  'res.users.identitycheck',
  'res.users.deletion',
  'ir.mail_server', // SMTP passwords, Gmail / Outlook OAuth tokens
  'fetchmail.server', // IMAP/POP passwords
  'payment.provider', // payment API keys
  'payment.token', // customers' saved cards and mandates: each one lets the company charge a customer
  'auth.oauth.provider',
  'iap.account', // IAP service tokens (SMS, enrichment, OCR credits are bought with them)
  'res.users.settings', // per-user preferences; since 17 also the Google / Outlook calendar sync OAuth tokens
  'auth.passkey.key', // 18+: passkeys; creating one for a user gives a way to log in as that user
  'certificate.certificate', // 18+: e-invoicing certificates (PKCS#12 content and its password)
  'certificate.key', // 18+: their private keys
  'account_edi_proxy_client.user', // e-invoicing proxy registration: private key and refresh token
  // Messages that carry credentials
  'mail.mail', // outgoing mail: password reset and signup links, portal links with access tokens, 2FA codes by email
  'mail.message', // a mail.mail *is* a mail.message (Odoo's _inherits): the body above lives here, and in the chatter
  'sms.sms', // outgoing SMS, as mail.mail
  'mail.tracking.value', // old and new values of tracked fields of every model, hidden fields included
  'mail.template', // its expressions run when Odoo sends it, often as superuser (password reset), and the result is mailed out
  // Access control
  'res.groups',
  'ir.rule',
  'res.users.log',
  'change.password.wizard',
  'change.password.user',
  // Code and configuration that executes or changes the system
  'base.automation', // server actions on triggers, and webhook URLs that hold their secret
  'ir.module.module',
  'ir.default', // default values of any field, for everyone or per user / company
  'ir.logging', // server logs: tracebacks, and what they quote of the data
  'ir.profile', // profiler output: SQL queries with their parameters
  'ir.asset', // JavaScript and CSS bundles every user's browser runs
  'ir.attachment', // raw file store, includes other models' private files
])

/**
 * Families: the model itself and every model whose name continues it with a dot (`ir.actions.server`,
 * `ir.actions.act_window`, `ir.actions.report`, `ir.actions.client`...), so that a new member is covered the day it
 * appears.
 */
export const SENSITIVE_MODEL_FAMILIES: readonly string[] = [
  'ir.actions', // server actions run Python; window actions carry domains and contexts; reports evaluate expressions
  'ir.model', // the schema: ir.model, .fields, .fields.selection, .access (access rights), .data (external ids), .constraint...
  'ir.cron', // scheduled code: ir.cron, .trigger, .progress
  'ir.ui.view', // QWeb templates, and .custom (users' dashboard layouts)
  'res.users.apikeys', // API keys, .description, and .show (the wizard holding a new key in clear)
  'auth_totp', // .device (remembered 2FA devices), .wizard (the TOTP secret and its QR code during enrolment)
  'res.device', // 18+: login sessions per device (.log); revoking one logs a user out
  'base.module', // module install, upgrade and uninstall wizards: installing a module runs its code
  'res.config', // res.config.settings and installers: company-wide configuration, module installation
]

/**
 * Field names that hold secrets, as whole words of a snake_case name (case ignored): `password`, `passwd`, `pwd`,
 * `passphrase`, `secret`, `token`, `rtoken` (refresh tokens of calendar sync), `apikey`, `totp`, `otp`, `pin` (the
 * employee PIN of the attendance kiosk and the point of sale), `hmac` (`adyen_hmac_key`...), `credential(s)`,
 * `shakey` (payment SHA passphrases); and word pairs: `api_key`, `private_key`, `signature_key`, `signing_key`,
 * `encryption_key`, `developer_key` (carriers' API keys), `smtp_pass`, `signup_url` (the signup / reset link, token
 * included), `authorization_code` (OAuth codes of Gmail / Drive). Near misses stay visible: `tokens`, `hotpot`,
 * `signature`, `pinned`, `public_key`, `barcode`, `access_url`.
 */
const SECRET_WORDS = [
  'password', 'passwd', 'pwd', 'passphrase', 'secret', 'token', 'rtoken', 'apikey', 'totp', 'otp', 'pin', 'hmac',
  'credential', 'credentials', 'shakey',
  'api_key', 'private_key', 'signature_key', 'signing_key', 'encryption_key', 'developer_key', 'smtp_pass', 'signup_url',
  'authorization_code',
]
const SENSITIVE_FIELD_PATTERN = new RegExp(`(^|_)(${SECRET_WORDS.join('|')})(_|$)`, 'i')

export function isSensitiveModel(model: string): boolean {
  return SENSITIVE_MODELS.has(model) || SENSITIVE_MODEL_FAMILIES.some((family) => model === family || model.startsWith(`${family}.`))
}

export function isSensitiveField(field: string): boolean {
  return SENSITIVE_FIELD_PATTERN.test(field)
}
