// The initial database of a simulated Odoo version; deterministic, rebuilt on reset.
import type { OdooVersion, StoredRecord } from '../types'
import { companySeed, configParameterSeed, countrySeed, currencySeed, groupSeed, irModelSeed, userSeed } from './base'
import { bankSeed, departmentSeed, employeeSeed } from './hr'
import { partnerSeed } from './partners'
import { categorySeed, productSeed, salesSeed } from './sales'

export function seedData(version: OdooVersion): Map<string, StoredRecord[]> {
  const sales = salesSeed()
  return new Map<string, StoredRecord[]>([
    ['res.partner', partnerSeed(version)],
    ['res.users', userSeed()],
    ['res.groups', groupSeed(version)],
    ['res.company', companySeed()],
    ['res.country', countrySeed()],
    ['res.currency', currencySeed()],
    ['res.partner.bank', bankSeed()],
    ['product.product', productSeed()],
    ['product.category', categorySeed()],
    ['sale.order', sales.orders],
    ['sale.order.line', sales.lines],
    ['hr.employee', employeeSeed()],
    ['hr.department', departmentSeed()],
    ['ir.config_parameter', configParameterSeed()],
    ['ir.model', irModelSeed()],
  ])
}
