// Models of the `sale` / `product` apps. Access rights and record rules follow sale's security files: a
// "User: Own Documents Only" salesman sees the orders whose salesperson is him (or nobody), "User: All Documents"
// sees every order.
import { f, acl, type DataView, type ModelDef, type RuleDef } from './model'
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

function orderValue(line: StoredRecord, data: DataView, field: string): StoredRecord[string] {
  const orderId = line['order_id']
  if (typeof orderId !== 'number') return false
  return data.get('sale.order', orderId)?.[field] ?? false
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
    f.monetary('amount_untaxed', 'Untaxed Amount', { readonly: true, aggregator: 'sum', compute: orderUntaxed }),
    f.monetary('amount_tax', 'Taxes', { readonly: true, aggregator: 'sum', compute: () => 0 }),
    f.monetary('amount_total', 'Total', { readonly: true, aggregator: 'sum', compute: orderUntaxed }),
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
  rules: ownDocuments('user_id', 'Orders'),
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
    f.monetary('price_subtotal', 'Subtotal', { readonly: true, aggregator: 'sum', compute: lineSubtotal }),
    f.float('price_tax', 'Total Tax', { readonly: true, aggregator: 'sum', compute: () => 0 }),
    f.monetary('price_total', 'Total', { readonly: true, aggregator: 'sum', compute: lineSubtotal }),
    f.many2one('salesman_id', 'Salesperson', 'res.users', {
      readonly: true,
      compute: (line, data) => orderValue(line, data, 'user_id'),
    }),
    f.many2one('order_partner_id', 'Customer', 'res.partner', {
      readonly: true,
      compute: (line, data) => orderValue(line, data, 'partner_id'),
    }),
    f.selection('state', 'Order Status', SALE_STATES, {
      readonly: true,
      compute: (line, data) => orderValue(line, data, 'state'),
    }),
    f.many2one('currency_id', 'Currency', 'res.currency', {
      readonly: true,
      compute: (line, data) => orderValue(line, data, 'currency_id'),
    }),
    f.many2one('company_id', 'Company', 'res.company', {
      readonly: true,
      compute: (line, data) => orderValue(line, data, 'company_id'),
    }),
  ],
  acl: SALE_ACL,
  rules: ownDocuments('salesman_id', 'Order Lines'),
  defaults: { sequence: () => 10, product_uom_qty: () => 1 },
}

export const productProduct: ModelDef = {
  name: 'product.product',
  description: 'Product Variant',
  module: 'product',
  order: 'default_code, name, id',
  recName: 'name',
  recNamesSearch: ['name', 'default_code', 'barcode'],
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
    f.float('lst_price', 'Sales Price', { store: false, compute: (r) => r['list_price'] ?? 0 }),
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
    f.char('complete_name', 'Complete Name', {
      readonly: true,
      compute: (r, d) => {
        const parent = typeof r['parent_id'] === 'number' ? d.get('product.category', r['parent_id']) : undefined
        return parent ? `${String(parent['name'])} / ${String(r['name'])}` : String(r['name'])
      },
    }),
    f.many2one('parent_id', 'Parent Category', 'product.category', { ondelete: 'cascade' }),
  ],
  acl: [acl('base.group_user', 'r'), acl('sales_team.group_sale_manager', 'rwcu')],
}
