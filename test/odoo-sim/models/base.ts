// Models of Odoo's `base` module: contacts, users, groups, companies, countries, currencies, bank accounts,
// system parameters and the model registry (ir.model). Access rights follow base's ir.model.access.csv (plus what
// sales_team adds on res.partner) closely enough for the messages of the recording to match.
import { f, acl, type DataView, type ModelDef } from './model'
import type { StoredRecord } from '../types'

function str(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

/** res.partner complete_name: "Azure Interior, Brandon Freeman" for a contact of a company. */
export function partnerCompleteName(record: StoredRecord, data: DataView): string {
  const name = str(record['name'])
  const parentId = record['parent_id']
  if (typeof parentId === 'number' && parentId > 0) {
    const parent = data.get('res.partner', parentId)
    const parentName = str(parent?.['name'])
    if (parentName) {
      if (name) return `${parentName}, ${name}`
      const type = str(record['type'])
      const label = ADDRESS_TYPES.find(([value]) => value === type)?.[1] ?? ''
      return `${parentName}, ${label}`
    }
  }
  return name
}

const ADDRESS_TYPES = [
  ['contact', 'Contact'],
  ['invoice', 'Invoice Address'],
  ['delivery', 'Delivery Address'],
  ['other', 'Other Address'],
] as const

const LANGS = [
  ['en_US', 'English (US)'],
  ['fr_BE', 'French (BE) / Français (BE)'],
  ['nl_BE', 'Dutch (BE) / Nederlands (BE)'],
] as const

export const resPartner: ModelDef = {
  name: 'res.partner',
  description: 'Contact',
  module: 'base',
  order: 'complete_name ASC, id DESC',
  recName: 'name',
  recNamesSearch: ['complete_name', 'email', 'ref', 'vat', 'company_registry'],
  parentField: 'parent_id',
  // Odoo: display_name is complete_name (plus context-dependent extras the simulator does not model).
  displayName: (record, data) => partnerCompleteName(record, data),
  displayNameDepends: ['complete_name'],
  fields: [
    f.char('name', 'Name'),
    // Odoo: @api.depends('is_company', 'name', 'parent_id.name', 'type', 'company_name', 'commercial_company_name').
    f.char('complete_name', 'Complete Name', {
      readonly: true,
      compute: partnerCompleteName,
      depends: ['is_company', 'name', 'parent_id.name', 'type'],
    }),
    f.char('title', 'Title'),
    f.many2one('parent_id', 'Related Company', 'res.partner'),
    f.related('parent_name', 'Parent name', 'char', 'parent_id.name', { store: false }),
    // Odoo: domain=[('active', '=', True)], context={'active_test': False}: archived contacts never show up.
    f.one2many('child_ids', 'Contact', 'res.partner', 'parent_id', {
      domain: [['active', '=', true]],
      context: { active_test: false },
    }),
    f.char('ref', 'Reference'),
    f.selection('lang', 'Language', LANGS),
    f.char('tz', 'Timezone'),
    f.many2one('user_id', 'Salesperson', 'res.users'),
    f.char('vat', 'Tax ID'),
    f.char('company_registry', 'Company ID'),
    f.one2many('bank_ids', 'Banks', 'res.partner.bank', 'partner_id'),
    f.char('website', 'Website Link'),
    f.html('comment', 'Notes'),
    f.boolean('active', 'Active'),
    f.selection('type', 'Address Type', ADDRESS_TYPES),
    f.char('street', 'Street'),
    f.char('street2', 'Street2'),
    f.char('zip', 'Zip'),
    f.char('city', 'City'),
    f.many2one('country_id', 'Country', 'res.country', { ondelete: 'restrict' }),
    f.related('country_code', 'Country Code', 'char', 'country_id.code', { store: false }),
    f.char('email', 'Email'),
    f.char('phone', 'Phone'),
    f.char('mobile', 'Mobile', { onlyIn: 18 }),
    f.boolean('is_company', 'Is a Company'),
    f.char('function', 'Job Position'),
    f.many2one('company_id', 'Company', 'res.company'),
    f.many2one('commercial_partner_id', 'Commercial Entity', 'res.partner', {
      readonly: true,
      depends: ['is_company', 'parent_id.commercial_partner_id'],
      compute: (r, d) => {
        let current: StoredRecord | undefined = r
        for (let depth = 0; current && depth < 10; depth++) {
          const parentId: unknown = current['parent_id']
          if (current['is_company'] === true || typeof parentId !== 'number') return current.id
          current = d.get('res.partner', parentId)
        }
        return r.id
      },
    }),
    f.one2many('user_ids', 'Users', 'res.users', 'partner_id'),
    f.one2many('sale_order_ids', 'Sales Order', 'sale.order', 'partner_id'),
    f.integer('sale_order_count', 'Sale Order Count', {
      readonly: true,
      store: false,
      depends: ['sale_order_ids'],
      compute: (r, d) => d.referencing('sale.order', 'partner_id', r.id).length,
    }),
    f.integer('customer_rank', 'Customer Rank'),
    f.integer('supplier_rank', 'Supplier Rank'),
    f.monetary('credit', 'Total Receivable', {
      readonly: true,
      store: false,
      groups: 'account.group_account_invoice,account.group_account_readonly',
      depends: [],
      compute: () => 0,
    }),
  ],
  acl: [
    acl('base.group_user', 'r'),
    acl('base.group_portal', 'r'),
    acl('base.group_partner_manager', 'rwcu'),
    acl('sales_team.group_sale_salesman', 'rw'),
    acl('sales_team.group_sale_manager', 'rwc'),
  ],
  defaults: {
    active: () => true,
    type: () => 'contact',
    lang: () => 'en_US',
    company_id: () => false,
  },
}

export const resUsers: ModelDef = {
  name: 'res.users',
  description: 'User',
  module: 'base',
  order: 'name, login',
  recName: 'name',
  recNamesSearch: ['name', 'login'],
  fields: [
    f.char('name', 'Name', { required: true }),
    f.char('login', 'Login', { required: true }),
    f.many2one('partner_id', 'Related Partner', 'res.partner', { required: true, ondelete: 'restrict' }),
    // _inherits res.partner: Odoo declares email = fields.Char(related='partner_id.email', inherited=True, readonly=False).
    f.related('email', 'Email', 'char', 'partner_id.email', { readonly: false }),
    f.boolean('active', 'Active'),
    f.many2one('company_id', 'Company', 'res.company', { required: true }),
    f.many2many('company_ids', 'Companies', 'res.company'),
    f.many2many('groups_id', 'Groups', 'res.groups', { renamed: { version: 19, name: 'group_ids' } }),
    f.boolean('share', 'Share User', {
      readonly: true,
      depends: ['groups_id'],
      compute: (r) => !(Array.isArray(r['groups_id']) && r['groups_id'].includes(1)),
    }),
    f.selection('lang', 'Language', LANGS),
    f.char('tz', 'Timezone'),
    f.datetime('login_date', 'Latest authentication', { readonly: true }),
    f.html('signature', 'Email Signature'),
    f.one2many('employee_ids', 'Related employee', 'hr.employee', 'user_id'),
  ],
  acl: [acl('base.group_user', 'r'), acl('base.group_portal', 'r'), acl('base.group_erp_manager', 'rwcu')],
  defaults: {
    active: () => true,
    company_id: () => 1,
    company_ids: () => [1],
    // A new user gets the default user's groups: internal user and, in 18, Contact Creation (transcripts 60a).
    groups_id: ({ data }) => (data.version === 18 ? [1, 13] : [1]),
    lang: () => 'en_US',
    tz: () => 'Europe/Brussels',
  },
}

export const resGroups: ModelDef = {
  name: 'res.groups',
  description: 'Access Groups',
  module: 'base',
  order: 'name',
  recName: 'name',
  displayName: (r) => str(r['full_name']) || str(r['name']),
  displayNameDepends: ['full_name', 'name'],
  fields: [
    f.char('name', 'Name', { required: true, translate: true }),
    f.char('full_name', 'Group Name', { readonly: true }),
    f.many2many('implied_ids', 'Inherits', 'res.groups'),
    // The other side of res.users.groups_id (one relation table in Odoo): read from the users, like a one2many.
    f.many2many('users', 'Users', 'res.users', {
      renamed: { version: 19, name: 'user_ids' },
      store: false,
      inverseName: 'groups_id',
    }),
    f.boolean('share', 'Share Group'),
    f.text('comment', 'Comment', { translate: true }),
  ],
  acl: [acl('base.group_user', 'r'), acl('base.group_erp_manager', 'rwcu')],
}

export const resCompany: ModelDef = {
  name: 'res.company',
  description: 'Companies',
  module: 'base',
  order: 'sequence, name',
  recName: 'name',
  fields: [
    f.char('name', 'Company Name', { required: true }),
    f.integer('sequence', 'Sequence'),
    f.many2one('partner_id', 'Partner', 'res.partner', { required: true }),
    f.many2one('currency_id', 'Currency', 'res.currency', { required: true }),
    f.char('email', 'Email'),
    f.char('phone', 'Phone'),
    f.char('vat', 'Tax ID'),
    f.char('company_registry', 'Company ID'),
    f.char('street', 'Street'),
    f.char('city', 'City'),
    f.char('zip', 'Zip'),
    f.many2one('country_id', 'Country', 'res.country'),
    f.char('website', 'Website Link'),
    f.boolean('active', 'Active'),
  ],
  acl: [acl(null, 'r'), acl('base.group_erp_manager', 'rwc'), acl('base.group_system', 'rwcu')],
}

export const resCountry: ModelDef = {
  name: 'res.country',
  description: 'Country',
  module: 'base',
  order: 'name',
  recName: 'name',
  recNamesSearch: ['name', 'code'],
  fields: [
    f.char('name', 'Country Name', { required: true, translate: true }),
    f.char('code', 'Country Code', { required: true }),
    f.integer('phone_code', 'Country Calling Code'),
    f.many2one('currency_id', 'Currency', 'res.currency'),
  ],
  acl: [acl(null, 'r'), acl('base.group_system', 'rwcu')],
}

export const resCurrency: ModelDef = {
  name: 'res.currency',
  description: 'Currency',
  module: 'base',
  order: 'active desc, name',
  recName: 'name',
  fields: [
    f.char('name', 'Currency', { required: true }),
    f.char('full_name', 'Name'),
    f.char('symbol', 'Symbol', { required: true }),
    f.float('rounding', 'Rounding Factor'),
    f.selection('position', 'Symbol Position', [
      ['after', 'After Amount'],
      ['before', 'Before Amount'],
    ]),
    f.boolean('active', 'Active'),
  ],
  acl: [acl(null, 'r'), acl('base.group_system', 'rwcu')],
}

export const resPartnerBank: ModelDef = {
  name: 'res.partner.bank',
  description: 'Bank Accounts',
  module: 'base',
  order: 'sequence, id',
  recName: 'acc_number',
  fields: [
    f.char('acc_number', 'Account Number', { required: true }),
    f.integer('sequence', 'Sequence'),
    f.many2one('partner_id', 'Account Holder', 'res.partner', { required: true, ondelete: 'cascade' }),
    f.char('acc_holder_name', 'Account Holder Name'),
    f.char('bank_name', 'Bank'),
    f.boolean('active', 'Active'),
    f.many2one('company_id', 'Company', 'res.company'),
  ],
  acl: [acl('base.group_user', 'r'), acl('base.group_partner_manager', 'rwcu')],
  defaults: { active: () => true },
}

export const irConfigParameter: ModelDef = {
  name: 'ir.config_parameter',
  description: 'System Parameter',
  module: 'base',
  order: 'key',
  recName: 'key',
  fields: [f.char('key', 'Key', { required: true }), f.text('value', 'Value', { required: true })],
  acl: [acl('base.group_system', 'rwcu')],
}

export const irModel: ModelDef = {
  name: 'ir.model',
  description: 'Models',
  module: 'base',
  order: 'model',
  recName: 'name',
  recNamesSearch: ['name', 'model'],
  fields: [
    f.char('name', 'Model Description', { required: true, translate: true }),
    f.char('model', 'Model', { required: true }),
    f.char('order', 'Order', { required: true }),
    f.text('info', 'Information'),
    f.selection(
      'state',
      'Type',
      [
        ['manual', 'Custom Object'],
        ['base', 'Base Object'],
      ],
      { readonly: true },
    ),
    f.boolean('transient', 'Transient Model'),
    f.char('modules', 'In Apps', { readonly: true }),
  ],
  acl: [acl('base.group_user', 'r'), acl('base.group_system', 'rwcu')],
}
