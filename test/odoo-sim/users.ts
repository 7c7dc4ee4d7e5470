// Demo users and security groups of the simulated Odoo. The users mirror the recording in test/fixtures/odoo
// (admin uid 2, demo uid 6, sales_agent uid 8, sales_manager uid 9, internal_user uid 10); each logs in with its
// login as password, or with the API key `odoo-apikey-<login>`.
import type { OdooVersion } from './types'

export interface GroupLabel {
  /** Module category (Odoo 18) or privilege (Odoo 19); null when the group has none. */
  category: string | null
  name: string
}

export interface GroupDef {
  id: number
  xmlid: string
  v18: GroupLabel
  v19: GroupLabel
  implied: readonly string[]
}

function group(id: number, xmlid: string, v18: GroupLabel, v19: GroupLabel | null, implied: string[] = []): GroupDef {
  return { id, xmlid, v18, v19: v19 ?? v18, implied }
}

// Group ids are chosen so that res.users.groups_id of `demo` reads as in the recording ([8, 13, 9, 1, ...], ordered
// by group name like Odoo's res.groups._order).
export const GROUPS: readonly GroupDef[] = [
  group(
    1,
    'base.group_user',
    { category: 'User types', name: 'Internal User' },
    { category: null, name: 'Role / User' },
  ),
  group(2, 'base.group_erp_manager', { category: 'Administration', name: 'Access Rights' }, null, ['base.group_user']),
  group(3, 'base.group_system', { category: 'Administration', name: 'Settings' }, null, ['base.group_erp_manager']),
  group(
    4,
    'base.group_no_one',
    { category: 'Technical', name: 'Technical Features' },
    { category: null, name: 'Technical Features' },
  ),
  group(5, 'base.group_portal', { category: 'User types', name: 'Portal' }, { category: null, name: 'Role / Portal' }),
  group(6, 'base.group_public', { category: 'User types', name: 'Public' }, { category: null, name: 'Role / Public' }),
  group(7, 'sales_team.group_sale_salesman_all_leads', { category: 'Sales', name: 'User: All Documents' }, null, [
    'sales_team.group_sale_salesman',
  ]),
  group(
    8,
    'base.group_allow_export',
    { category: 'Technical', name: 'Access to export feature' },
    {
      category: null,
      name: 'Access to export feature',
    },
  ),
  group(
    9,
    'sale.group_discount_per_so_line',
    { category: 'Technical', name: 'Discount on lines' },
    {
      category: null,
      name: 'Discount on lines',
    },
  ),
  group(10, 'sales_team.group_sale_manager', { category: 'Sales', name: 'Administrator' }, null, [
    'sales_team.group_sale_salesman_all_leads',
  ]),
  group(11, 'hr.group_hr_user', { category: 'Employees', name: 'Officer: Manage all employees' }, null, [
    'base.group_user',
  ]),
  group(12, 'hr.group_hr_manager', { category: 'Employees', name: 'Administrator' }, null, ['hr.group_hr_user']),
  group(
    13,
    'base.group_partner_manager',
    { category: 'Extra Rights', name: 'Contact Creation' },
    {
      category: null,
      name: 'Contact Creation',
    },
  ),
  group(
    14,
    'account.group_account_invoice',
    { category: 'Invoicing', name: 'Invoicing' },
    {
      category: 'Accounting',
      name: 'Invoicing',
    },
  ),
  group(
    15,
    'account.group_account_readonly',
    { category: 'Technical', name: 'Show Accounting Features - Readonly' },
    {
      category: null,
      name: 'Show Accounting Features - Readonly',
    },
  ),
  group(
    16,
    'account.group_account_user',
    { category: 'Technical', name: 'Show Full Accounting Features' },
    {
      category: null,
      name: 'Show Full Accounting Features',
    },
  ),
  group(
    17,
    'account.group_account_manager',
    { category: 'Invoicing', name: 'Billing Administrator' },
    {
      category: 'Accounting',
      name: 'Administrator',
    },
    ['account.group_account_invoice'],
  ),
  group(
    19,
    'uom.group_uom',
    { category: 'Technical', name: 'Manage Multiple Units of Measure' },
    {
      category: null,
      name: 'Manage Multiple Units of Measure',
    },
  ),
  group(
    20,
    'product.group_stock_packaging',
    { category: 'Technical', name: 'Packaging' },
    {
      category: null,
      name: 'Packaging',
    },
  ),
  group(21, 'sales_team.group_sale_salesman', { category: 'Sales', name: 'User: Own Documents Only' }, null, [
    'base.group_user',
  ]),
  group(
    26,
    'mail.group_mail_template_editor',
    { category: 'Technical', name: 'Mail Template Editor' },
    {
      category: null,
      name: 'Mail Template Editor',
    },
  ),
  group(
    43,
    'product.group_product_variant',
    { category: 'Technical', name: 'Product Variants' },
    {
      category: null,
      name: 'Product Variants',
    },
  ),
]

export const GROUP_BY_XMLID: ReadonlyMap<string, GroupDef> = new Map(GROUPS.map((g) => [g.xmlid, g]))
export const GROUP_BY_ID: ReadonlyMap<number, GroupDef> = new Map(GROUPS.map((g) => [g.id, g]))

export function groupLabel(g: GroupDef, version: OdooVersion): GroupLabel {
  return version === 18 ? g.v18 : g.v19
}

/** "Sales/Administrator", as listed by ir.model.access in "This operation is allowed for the following groups". */
export function groupAclName(g: GroupDef, version: OdooVersion): string {
  const label = groupLabel(g, version)
  return label.category ? `${label.category}/${label.name}` : label.name
}

/** "Employees / Officer: Manage all employees": res.groups full name / display_name. */
export function groupFullName(g: GroupDef, version: OdooVersion): string {
  const label = groupLabel(g, version)
  return label.category ? `${label.category} / ${label.name}` : label.name
}

/** The groups and every group they imply, transitively (what Odoo stores in res.users.groups_id). */
export function impliedClosure(xmlids: Iterable<string>): string[] {
  const seen = new Set<string>()
  const todo = [...xmlids]
  while (todo.length > 0) {
    const xmlid = todo.pop() as string
    if (seen.has(xmlid)) continue
    seen.add(xmlid)
    todo.push(...(GROUP_BY_XMLID.get(xmlid)?.implied ?? []))
  }
  return [...seen].sort()
}

export interface DemoUser {
  uid: number
  login: string
  /** Same as the login, like the recording's users. */
  password: string
  /** Accepted as password over /jsonrpc and as Bearer token over JSON-2. */
  apiKey: string
  name: string
  partnerId: number
  /** Effective groups (xmlids), implied groups included. */
  groups: readonly string[]
}

function demoUser(uid: number, login: string, name: string, partnerId: number, groups: string[]): DemoUser {
  return {
    uid,
    login,
    password: login,
    apiKey: `odoo-apikey-${login}`,
    name,
    partnerId,
    groups: impliedClosure(groups),
  }
}

export const DEMO_USERS: readonly DemoUser[] = [
  demoUser(2, 'admin', 'Mitchell Admin', 3, [
    'base.group_system',
    'base.group_no_one',
    'base.group_partner_manager',
    'base.group_allow_export',
    'sales_team.group_sale_manager',
    'sale.group_discount_per_so_line',
    'hr.group_hr_manager',
    'account.group_account_manager',
    'account.group_account_readonly',
    'account.group_account_user',
    'uom.group_uom',
    'product.group_stock_packaging',
    'product.group_product_variant',
    'mail.group_mail_template_editor',
  ]),
  demoUser(6, 'demo', 'Marc Demo', 6, [
    'base.group_user',
    'base.group_partner_manager',
    'base.group_allow_export',
    'sale.group_discount_per_so_line',
    'sales_team.group_sale_salesman_all_leads',
    'uom.group_uom',
    'product.group_stock_packaging',
    'product.group_product_variant',
    'mail.group_mail_template_editor',
  ]),
  // "Sales / User: Own Documents Only" and deliberately no "Contact Creation" (transcript 07).
  demoUser(8, 'sales_agent', 'Sales Agent (own docs)', 60, ['base.group_user', 'sales_team.group_sale_salesman']),
  demoUser(9, 'sales_manager', 'Sales Manager (all docs)', 61, [
    'base.group_user',
    'base.group_partner_manager',
    'sales_team.group_sale_salesman_all_leads',
  ]),
  // An employee without any Sales right (transcript 14).
  demoUser(10, 'internal_user', 'Internal User (no sales)', 62, ['base.group_user', 'base.group_partner_manager']),
]

export const DEMO_USER_BY_LOGIN: ReadonlyMap<string, DemoUser> = new Map(DEMO_USERS.map((u) => [u.login, u]))
export const DEMO_USER_BY_UID: ReadonlyMap<number, DemoUser> = new Map(DEMO_USERS.map((u) => [u.uid, u]))
