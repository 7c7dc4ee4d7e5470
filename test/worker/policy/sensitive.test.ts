/**
 * The built-in sensitive lists (src/policy/sensitive.ts): every listed model and field name, the families of models
 * (`ir.actions.*`...), the near misses that must stay under the wildcards, and the guard applying them to `"*"`. A
 * property compares both functions with a reading written here from the documented rules.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ToolError } from '../../../src/errors'
import { createPolicyGuard } from '../../../src/guard/policy-guard'
import type { ToolRequest } from '../../../src/guard/request'
import type { MetadataSource, ModelFields } from '../../../src/odoo/metadata'
import { isSensitiveField, isSensitiveModel } from '../../../src/policy/sensitive'
import { parsePolicy, type Policy } from '../../../src/policy/schema'

/** Models a real Odoo 17-19 has that hold secrets, control access or run code. */
const SENSITIVE_MODELS = [
  'ir.config_parameter', 'res.users.identitycheck', 'res.users.deletion', 'ir.mail_server', 'fetchmail.server', 'payment.provider',
  'payment.token', 'auth.oauth.provider', 'iap.account', 'res.users.settings', 'auth.passkey.key', 'certificate.certificate',
  'certificate.key', 'account_edi_proxy_client.user', 'mail.mail', 'mail.message', 'sms.sms', 'mail.tracking.value',
  'mail.template', 'res.groups', 'ir.rule', 'res.users.log', 'change.password.wizard', 'change.password.user', 'base.automation',
  'ir.module.module', 'ir.default', 'ir.logging', 'ir.profile', 'ir.asset', 'ir.attachment',
  // families
  'ir.actions.actions', 'ir.actions.server', 'ir.actions.act_window', 'ir.actions.act_window.view', 'ir.actions.report',
  'ir.actions.client', 'ir.actions.act_url', 'ir.actions.todo', 'ir.actions.act_window_close',
  'ir.model', 'ir.model.fields', 'ir.model.fields.selection', 'ir.model.access', 'ir.model.data', 'ir.model.constraint',
  'ir.model.relation', 'ir.model.inherit', 'ir.cron', 'ir.cron.trigger', 'ir.cron.progress', 'ir.ui.view', 'ir.ui.view.custom',
  'res.users.apikeys', 'res.users.apikeys.description', 'res.users.apikeys.show', 'auth_totp.device', 'auth_totp.wizard',
  'res.device', 'res.device.log', 'base.module.update', 'base.module.upgrade', 'base.module.uninstall', 'res.config.settings',
  'res.config.installer',
]
/** Ordinary business models, some named like sensitive ones. */
const ORDINARY_MODELS = [
  'res.partner', 'res.users', 'res.company', 'sale.order', 'account.move', 'res.partner.bank', 'hr.employee', 'product.product',
  'mail.activity', 'mail.followers', 'discuss.channel', 'payment.transaction', 'ir.sequence', 'ir.ui.menu', 'ir.filters',
  'ir.actionsx', 'ir.models', 'ir.model_data', 'x_ir.actions.server', 'ir', 'res.users.apikeysx', 'res.configuration', 'res.devices',
  'mail.mailing', 'mailing.mailing', 'sms.template', 'iap.service', 'certificate', 'res.users.settingsx',
]

/** Field names holding secrets in Odoo 17-19 (core and standard modules), and custom ones following the same words. */
const SENSITIVE_FIELDS = [
  'password', 'new_password', 'smtp_pass', 'ldap_password', 'dhl_password', 'ups_passwd', 'pwd', 'passphrase', 'x_wifi_passphrase',
  'secret', 'totp_secret', 'client_secret', 'stripe_webhook_secret', 'razorpay_key_secret', 'buckaroo_secret_key',
  'token', 'access_token', 'signup_token', 'oauth_access_token', 'refresh_token', 'account_token', 'google_calendar_token',
  'google_calendar_rtoken', 'microsoft_calendar_rtoken', 'google_gmail_refresh_token', 'paypal_pdt_token',
  'apikey', 'api_key', 'api_key_ids', 'mollie_api_key', 'adyen_api_key', 'easypost_production_api_key', 'google_maps_api_key',
  'private_key', 'recaptcha_private_key', 'signature_key', 'authorize_signature_key', 'alipay_md5_signature_key',
  'signing_key', 'encryption_key', 'fedex_developer_key', 'totp', 'totp_enabled', 'otp', 'otp_code',
  'pin', 'pos_security_pin', 'hmac', 'adyen_hmac_key', 'x_hmac_secret', 'credential', 'credentials', 'credential_identifier',
  'ogone_shakey_in', 'ogone_shakey_out', 'signup_url', 'google_gmail_authorization_code', 'google_drive_authorization_code',
  'PASSWORD', 'Api_Key', 'X_Pin',
]
/** Ordinary fields, many of them close to a secret word: they stay under "*". */
const ORDINARY_FIELDS = [
  'name', 'display_name', 'email', 'login', 'barcode', 'is_pinned', 'pinned', 'spin', 'pinyin', 'opinion', 'tokens', 'tokenizer',
  'hotpot', 'secretary', 'signature', 'passwords', 'passport_id', 'keypad', 'key', 'x_api_keys', 'apikeys',
  'public_key', 'stripe_publishable_key', 'adyen_client_key', 'access_url', 'access_warning', 'signup_type', 'signup_expiration',
  'signup_valid', 'smtp_port', 'smtp_user', 'smtp_host', 'bank_account_id', 'acc_number', 'private_email', 'private_phone',
  'ssnid', 'identification_id', 'checksum', 'inalterable_hash', 'hmacs', 'pins', 'developer', 'authorization', 'code',
  'l10n_ar_afip_auth_code', 'oauth_uid', 'oauth_provider_id', 'x_pinned', 'passage', 'bypass', 'otpx', 'totpx',
]

describe('sensitive lists', () => {
  it('lists every model that holds secrets, controls access or runs code, and no ordinary one', () => {
    for (const model of SENSITIVE_MODELS) expect(isSensitiveModel(model), model).toBe(true)
    for (const model of ORDINARY_MODELS) expect(isSensitiveModel(model), model).toBe(false)
  })

  it('treats ir.actions.*, ir.model.*, ir.cron.* and the other families as prefixes of whole name parts', () => {
    for (const model of ['ir.actions.server', 'ir.actions.some_future_action', 'ir.model.fields.selection', 'ir.cron.anything', 'base.module.install.request']) {
      expect(isSensitiveModel(model), model).toBe(true)
    }
    for (const model of ['ir.actionsx.server', 'ir.action.server', 'x_ir.actions', 'ir.modelx', 'ir.cronx']) expect(isSensitiveModel(model), model).toBe(false)
  })

  it('hides every field name holding a secret, and keeps the near misses', () => {
    for (const field of SENSITIVE_FIELDS) expect(isSensitiveField(field), field).toBe(true)
    for (const field of ORDINARY_FIELDS) expect(isSensitiveField(field), field).toBe(false)
  })

  it('agrees with a reading of the documented rules on random names', () => {
    const words = ['password', 'passwd', 'pwd', 'passphrase', 'secret', 'token', 'rtoken', 'apikey', 'totp', 'otp', 'pin', 'hmac', 'credential', 'credentials', 'shakey']
    const pairs = ['api key', 'private key', 'signature key', 'signing key', 'encryption key', 'developer key', 'smtp pass', 'signup url', 'authorization code']
    const reference = (name: string) => {
      const parts = name.toLowerCase().split('_')
      return parts.some((part) => words.includes(part)) || parts.slice(1).some((part, i) => pairs.includes(`${parts[i]} ${part}`))
    }
    const vocabulary = [...words, ...pairs.flatMap((pair) => pair.split(' ')), 'x', 'id', 'ids', 'pins', 'tokens', 'pinned', 'keys', 'public', 'url', 'code', 'smtp', 'name', 'hash', 'PIN', 'Token', '']
    const name = fc.array(fc.constantFrom(...vocabulary), { minLength: 1, maxLength: 4 }).map((parts) => parts.join('_'))
    fc.assert(fc.property(fc.oneof(name, fc.string({ maxLength: 20 })), (field) => {
      expect(isSensitiveField(field), field).toBe(reference(field))
    }), { numRuns: 3000 })

    const families = [['ir', 'actions'], ['ir', 'model'], ['ir', 'cron'], ['ir', 'ui', 'view'], ['res', 'users', 'apikeys'], ['auth_totp'], ['res', 'device'], ['base', 'module'], ['res', 'config']]
    const exact = new Set(SENSITIVE_MODELS.filter((model) => !families.some((family) => family.every((part, i) => model.split('.')[i] === part))))
    const referenceModel = (model: string) => exact.has(model) || families.some((family) => family.every((part, i) => model.split('.')[i] === part))
    const parts = ['ir', 'actions', 'model', 'cron', 'ui', 'view', 'res', 'users', 'apikeys', 'auth_totp', 'device', 'base', 'module', 'config', 'settings', 'mail', 'message', 'server', 'data', 'x', 'partner', 'actionsx']
    const model = fc.oneof(
      fc.array(fc.constantFrom(...parts), { minLength: 1, maxLength: 4 }).map((pieces) => pieces.join('.')),
      fc.constantFrom(...SENSITIVE_MODELS, ...ORDINARY_MODELS),
    )
    fc.assert(fc.property(model, (name) => {
      expect(isSensitiveModel(name), name).toBe(referenceModel(name))
    }), { numRuns: 3000 })
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Through the guard: the wildcards leave them out, an exact name reaches them
// ---------------------------------------------------------------------------------------------------------------

const m2o = (relation: string) => ({ type: 'many2one', relation })
const METADATA: Record<string, ModelFields> = {
  'hr.employee': {
    id: { type: 'integer' },
    name: { type: 'char' },
    barcode: { type: 'char' },
    pin: { type: 'char' },
    private_email: { type: 'char' },
    bank_account_id: m2o('res.partner.bank'),
    res_users_settings_id: m2o('res.users.settings'),
    message_ids: { type: 'one2many', relation: 'mail.message' },
  },
  'res.users.settings': { id: { type: 'integer' }, name: { type: 'char' }, google_calendar_rtoken: { type: 'char' }, google_calendar_token: { type: 'char' } },
  'ir.mail_server': { id: { type: 'integer' }, name: { type: 'char' }, smtp_host: { type: 'char' }, smtp_user: { type: 'char' }, smtp_pass: { type: 'char' } },
  'payment.provider': { id: { type: 'integer' }, name: { type: 'char' }, adyen_hmac_key: { type: 'char' }, adyen_client_key: { type: 'char' } },
  'res.partner.bank': { id: { type: 'integer' }, acc_number: { type: 'char' } },
  'res.partner': { id: { type: 'integer' }, name: { type: 'char' }, signup_url: { type: 'char' }, signup_type: { type: 'char' } },
}
for (const model of ['mail.mail', 'mail.message', 'ir.model.data', 'ir.default', 'ir.logging', 'ir.actions.server', 'ir.actions.act_window', 'ir.actions.report', 'ir.actions.client']) {
  METADATA[model] = { id: { type: 'integer' }, name: { type: 'char' } }
}

const metadata: MetadataSource = {
  async fieldsOf(model) {
    const fields = METADATA[model]
    if (!fields) throw new Error(`unknown model ${model}`)
    return fields
  },
}

function policy(document: unknown): Policy {
  const parsed = parsePolicy(document)
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'))
  return parsed.policy
}

const read = (model: string, extra: Partial<ToolRequest> = {}): ToolRequest => ({ tool: 'search_records', model, operation: 'read', ...extra })

describe('sensitive lists through the guard', () => {
  const everything = createPolicyGuard(policy({ version: 1, models: { '*': { operations: ['read'], fields: '*' } } }), metadata)

  it('keeps the new sensitive models out of the wildcard model, and lets an exact name reach them', async () => {
    for (const model of ['mail.mail', 'mail.message', 'ir.model.data', 'ir.default', 'ir.logging', 'ir.actions.server', 'ir.actions.act_window', 'ir.actions.report', 'ir.actions.client', 'res.users.settings']) {
      const refusal = await everything.authorize(read(model)).then(() => undefined, (error: unknown) => error)
      expect(refusal, model).toBeInstanceOf(ToolError)
      expect((refusal as ToolError).message, model).toMatch(/is not allowed/)
      const exact = createPolicyGuard(policy({ version: 1, models: { [model]: { operations: ['read'], fields: ['name'] } } }), metadata)
      await expect(exact.authorize(read(model)), model).resolves.toBeDefined()
    }
    expect(everything.filterModels([{ model: 'hr.employee', name: 'Employee' }, { model: 'ir.actions.server', name: 'Server Action' }, { model: 'mail.mail', name: 'Outgoing Mails' }])).toEqual([
      { model: 'hr.employee', name: 'Employee' },
    ])
  })

  it('leaves the employee PIN, HMAC keys, SMTP passwords, calendar refresh tokens and signup URLs out of "*", not barcodes or bank accounts', async () => {
    const star = createPolicyGuard(policy({
      version: 1,
      models: Object.fromEntries(['hr.employee', 'ir.mail_server', 'payment.provider', 'res.partner', 'res.partner.bank', 'res.users.settings'].map((model) => [model, { operations: ['read'], fields: '*' }])),
    }), metadata)
    const fieldsOf = async (model: string) => (await star.authorize(read(model))).readFields
    const employee = await fieldsOf('hr.employee')
    expect(employee).not.toContain('pin')
    expect(employee).not.toContain('res_users_settings_id') // points to a sensitive model
    expect(employee).not.toContain('message_ids')
    expect(employee).toEqual(expect.arrayContaining(['name', 'barcode', 'private_email', 'bank_account_id']))
    expect(await fieldsOf('ir.mail_server')).toEqual(expect.arrayContaining(['smtp_host', 'smtp_user']))
    expect(await fieldsOf('ir.mail_server')).not.toContain('smtp_pass')
    expect(await fieldsOf('payment.provider')).not.toContain('adyen_hmac_key')
    expect(await fieldsOf('payment.provider')).toContain('adyen_client_key')
    expect(await fieldsOf('res.partner')).not.toContain('signup_url')
    expect(await fieldsOf('res.partner')).toContain('signup_type')
    expect((await fieldsOf('res.users.settings')).sort()).toEqual(['id', 'name'])
    // Asked for by name under "*": refused, naming the field.
    await expect(star.authorize(read('hr.employee', { fields: ['name', 'pin'] }))).rejects.toThrow(/'pin'/)
    // Named exactly: reachable.
    const exact = createPolicyGuard(policy({ version: 1, models: { 'hr.employee': { operations: ['read'], fields: ['name', 'pin'] } } }), metadata)
    expect((await exact.authorize(read('hr.employee', { fields: ['name', 'pin'] }))).readFields).toContain('pin')
  })
})
