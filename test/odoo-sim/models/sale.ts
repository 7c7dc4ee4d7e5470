// Models of the `sale` / `product` apps. Access rights and record rules follow sale's security files: a
// "User: Own Documents Only" salesman sees the orders whose salesperson is him (or nobody), "User: All Documents"
// sees every order.
import { f, acl, hierarchyName, type DataView, type ModelDef, type RuleDef } from './model'
import type { StoredRecord } from '../types'

function num(value: unknown): number {
  return typeof value === 'number' ? value : 0
}

function round2(value: number): number {
  return Math.round(value * 100) / 100
}

export function lineSubtotal(line: StoredRecord): number {
  return round2(num(line['product_uom_qty']) * num(line['price_unit']) * (1 - num(line['discount']) / 100))
}

function orderUntaxed(order: StoredRecord, data: DataView): number {
  let total = 0
  for (const lineId of data.referencing('sale.order.line', 'order_id', order.id)) {
    const line = data.get('sale.order.line', lineId)
    if (line) total += lineSubtotal(line)
  }
  return round2(total)
}

const SALE_STATES = [
  ['draft', 'Quotation'],
  ['sent', 'Quotation Sent'],
  ['sale', 'Sales Order'],
  ['cancel', 'Cancelled'],
] as const

const SALE_ACL = [
  acl('sales_team.group_sale_salesman', 'rwc'),
  acl('sales_team.group_sale_manager', 'rwcu'),
  acl('account.group_account_invoice', 'rw'),
  acl('account.group_account_readonly', 'r'),
  acl('account.group_account_user', 'r'),
  acl('base.group_portal', 'r'),
]

/** sale/security/sale_security.xml (18.0): sale_order_comp_rule, sale_order_line_comp_rule, a global rule each. */
function companyRule(name: string): RuleDef {
  return { name, groups: [], perms: ['read', 'write', 'create', 'unlink'], domain: (_uid, companyIds) => [['company_id', 'in', [...companyIds]]] }
}

function ownDocuments(field: string, name: string): RuleDef[] {
  return [
    {
      name: `Personal ${name}`,
      groups: ['sales_team.group_sale_salesman'],
      perms: ['read', 'write', 'create', 'unlink'],
      domain: (uid) => ['|', [field, '=', uid], [field, '=', false]],
    },
    {
      name: `All ${name}`,
      groups: ['sales_team.group_sale_salesman_all_leads'],
      perms: ['read', 'write', 'create', 'unlink'],
      domain: () => [[1, '=', 1]],
    },
  ]
}

export const saleOrder: ModelDef = {
  name: 'sale.order',
  description: 'Sales Order',
  module: 'sale',
  order: 'date_order desc, id desc',
  recName: 'name',
  recNamesSearch: ['name', 'partner_id.name'],
  fields: [
    f.char('name', 'Order Reference', { required: true }),
    f.many2one('company_id', 'Company', 'res.company', { required: true }),
    f.many2one('partner_id', 'Customer', 'res.partner', { required: true, ondelete: 'restrict' }),
    f.selection('state', 'Status', SALE_STATES, { readonly: true, groupExpand: true }),
    f.char('client_order_ref', 'Customer Reference'),
    f.datetime('create_date', 'Creation Date', { readonly: true }),
    f.datetime('date_order', 'Order Date', { required: true }),
    f.char('origin', 'Source Document'),
    f.date('validity_date', 'Expiration'),
    f.html('note', 'Terms and conditions'),
    f.many2one('partner_invoice_id', 'Invoice Address', 'res.partner', { required: true }),
    f.many2one('partner_shipping_id', 'Delivery Address', 'res.partner', { required: true }),
    f.many2one('currency_id', 'Currency', 'res.currency', { readonly: true }),
    f.many2one('user_id', 'Salesperson', 'res.users'),
    f.one2many('order_line', 'Order Lines', 'sale.order.line', 'order_id'),
    // Odoo: @api.depends('order_line.price_subtotal', 'order_line.price_tax', 'order_line.price_total'); untaxed here.
    f.monetary('amount_untaxed', 'Untaxed Amount', {
      readonly: true,
      aggregator: 'sum',
      compute: orderUntaxed,
      depends: ['order_line.price_subtotal'],
    }),
    f.monetary('amount_tax', 'Taxes', { readonly: true, aggregator: 'sum', compute: () => 0, depends: [] }),
    f.monetary('amount_total', 'Total', {
      readonly: true,
      aggregator: 'sum',
      compute: orderUntaxed,
      depends: ['order_line.price_total'],
    }),
    f.selection(
      'invoice_status',
      'Invoice Status',
      [
        ['upselling', 'Upselling Opportunity'],
        ['invoiced', 'Fully Invoiced'],
        ['to invoice', 'To Invoice'],
        ['no', 'Nothing to Invoice'],
      ],
      { readonly: true },
    ),
  ],
  acl: SALE_ACL,
  rules: [...ownDocuments('user_id', 'Orders'), companyRule('Sales Order multi-company')],
  defaults: {
    state: () => 'draft',
    date_order: ({ now }) => now,
    user_id: ({ uid }) => uid,
    company_id: () => 1,
    currency_id: () => 1,
    invoice_status: () => 'no',
  },
}

export const saleOrderLine: ModelDef = {
  name: 'sale.order.line',
  description: 'Sales Order Line',
  module: 'sale',
  order: 'order_id, sequence, id',
  recName: 'name',
  displayNameDepends: ['name', 'order_id.name'],
  displayName: (line, data) => {
    const order = typeof line['order_id'] === 'number' ? data.get('sale.order', line['order_id']) : undefined
    const name = typeof line['name'] === 'string' ? line['name'].split('\n')[0] : ''
    return order ? `${String(order['name'])} - ${name}` : name
  },
  fields: [
    f.many2one('order_id', 'Order Reference', 'sale.order', { required: true, ondelete: 'cascade' }),
    f.integer('sequence', 'Sequence'),
    f.text('name', 'Description', { required: true }),
    f.many2one('product_id', 'Product', 'product.product', { ondelete: 'restrict' }),
    f.float('product_uom_qty', 'Quantity', { aggregator: 'sum' }),
    f.float('price_unit', 'Unit Price', { aggregator: 'avg' }),
    f.float('discount', 'Discount (%)'),
    // Odoo: @api.depends('product_uom_qty', 'discount', 'price_unit', 'tax_id') (the simulator has no taxes).
    f.monetary('price_subtotal', 'Subtotal', {
      readonly: true,
      aggregator: 'sum',
      compute: lineSubtotal,
      depends: ['product_uom_qty', 'discount', 'price_unit'],
    }),
    f.float('price_tax', 'Total Tax', { readonly: true, aggregator: 'sum', compute: () => 0, depends: [] }),
    f.monetary('price_total', 'Total', {
      readonly: true,
      aggregator: 'sum',
      compute: lineSubtotal,
      depends: ['product_uom_qty', 'discount', 'price_unit'],
    }),
    // Stored related fields in Odoo (related='order_id.*', store=True).
    f.related('salesman_id', 'Salesperson', 'many2one', 'order_id.user_id', { relation: 'res.users' }),
    f.related('order_partner_id', 'Customer', 'many2one', 'order_id.partner_id', { relation: 'res.partner' }),
    f.related('state', 'Order Status', 'selection', 'order_id.state', { selection: SALE_STATES }),
    f.related('currency_id', 'Currency', 'many2one', 'order_id.currency_id', { relation: 'res.currency' }),
    f.related('company_id', 'Company', 'many2one', 'order_id.company_id', { relation: 'res.company' }),
  ],
  acl: SALE_ACL,
  rules: [...ownDocuments('salesman_id', 'Order Lines'), companyRule('Sales Order Line multi-company')],
  defaults: { sequence: () => 10, product_uom_qty: () => 1 },
}

export const productProduct: ModelDef = {
  name: 'product.product',
  description: 'Product Variant',
  module: 'product',
  order: 'default_code, name, id',
  recName: 'name',
  recNamesSearch: ['name', 'default_code', 'barcode'],
  displayNameDepends: ['name', 'default_code'],
  displayName: (r) =>
    typeof r['default_code'] === 'string' && r['default_code']
      ? `[${r['default_code']}] ${String(r['name'])}`
      : String(r['name']),
  fields: [
    f.char('name', 'Name', { required: true, translate: true }),
    f.char('default_code', 'Internal Reference'),
    f.char('barcode', 'Barcode'),
    f.selection(
      'type',
      'Product Type',
      [
        ['consu', 'Goods'],
        ['service', 'Service'],
        ['combo', 'Combo'],
      ],
      { required: true },
    ),
    f.many2one('categ_id', 'Product Category', 'product.category', { required: true }),
    f.float('list_price', 'Sales Price'),
    // Odoo: @api.depends('list_price', 'price_extra') (no variant extras here).
    f.float('lst_price', 'Sales Price', { store: false, compute: (r) => r['list_price'] ?? 0, depends: ['list_price'] }),
    f.float('standard_price', 'Cost', { groups: 'base.group_user' }),
    f.boolean('sale_ok', 'Can be Sold'),
    f.boolean('purchase_ok', 'Can be Purchased'),
    f.text('description_sale', 'Sales Description', { translate: true }),
    f.float('weight', 'Weight'),
    f.boolean('active', 'Active'),
    f.many2one('company_id', 'Company', 'res.company'),
  ],
  acl: [acl('base.group_user', 'r'), acl('base.group_portal', 'r'), acl('sales_team.group_sale_manager', 'rwcu')],
  defaults: {
    active: () => true,
    type: () => 'consu',
    categ_id: () => 1,
    sale_ok: () => true,
    purchase_ok: () => true,
  },
}

export const productCategory: ModelDef = {
  name: 'product.category',
  description: 'Product Category',
  module: 'product',
  order: 'complete_name',
  recName: 'complete_name',
  parentField: 'parent_id',
  fields: [
    f.char('name', 'Name', { required: true }),
    // Odoo: @api.depends('name', 'parent_id.complete_name'): 'All / Saleable / Office Furniture'.
    f.char('complete_name', 'Complete Name', {
      readonly: true,
      depends: ['name', 'parent_id.complete_name'],
      compute: (r, d) => hierarchyName('product.category', r, d),
    }),
    f.many2one('parent_id', 'Parent Category', 'product.category', { ondelete: 'cascade' }),
  ],
  acl: [acl('base.group_user', 'r'), acl('sales_team.group_sale_manager', 'rwcu')],
}
