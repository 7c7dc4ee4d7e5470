// Demo data of the base models: countries, currencies, the company, users, groups, system parameters and the
// ir.model rows describing the simulated models.
import type { OdooVersion, StoredRecord } from '../types'
import { DEMO_USERS, GROUPS, GROUP_BY_XMLID, groupFullName, groupLabel, impliedClosure } from '../users'
import { MODEL_DEFS } from '../models'
import { BE, US } from './partners'

export function countrySeed(): StoredRecord[] {
  const rows: [number, string, string, number, number | false][] = [
    [BE, 'Belgium', 'BE', 32, 126],
    [38, 'Canada', 'CA', 1, false],
    [43, 'Switzerland', 'CH', 41, false],
    [57, 'Germany', 'DE', 49, 126],
    [68, 'Spain', 'ES', 34, 126],
    [75, 'France', 'FR', 33, 126],
    [104, 'India', 'IN', 91, false],
    [133, 'Luxembourg', 'LU', 352, 126],
    [166, 'Netherlands', 'NL', 31, 126],
    [231, 'United Kingdom', 'GB', 44, false],
    [US, 'United States', 'US', 1, 1],
  ]
  return rows.map(([id, name, code, phone, currency]) => ({ id, name, code, phone_code: phone, currency_id: currency }))
}

export function currencySeed(): StoredRecord[] {
  return [
    {
      id: 1,
      name: 'USD',
      full_name: 'United States dollar',
      symbol: '$',
      rounding: 0.01,
      position: 'before',
      active: true,
    },
    { id: 126, name: 'EUR', full_name: 'Euro', symbol: '€', rounding: 0.01, position: 'after', active: true },
  ]
}

export function companySeed(): StoredRecord[] {
  return [
    {
      id: 1,
      name: 'YourCompany',
      sequence: 0,
      partner_id: 1,
      currency_id: 1,
      email: 'info@yourcompany.com',
      phone: '+1 555-555-5556',
      vat: 'US12345671',
      company_registry: false,
      street: '250 Executive Park Blvd, Suite 3400',
      city: 'San Francisco',
      zip: '94134',
      country_id: US,
      website: 'http://www.example.com',
      active: true,
    },
  ]
}

function groupIds(xmlids: readonly string[]): number[] {
  return xmlids.map((xmlid) => GROUP_BY_XMLID.get(xmlid)?.id ?? 0).filter((id) => id > 0)
}

export function userSeed(): StoredRecord[] {
  const base = {
    company_id: 1,
    company_ids: [1],
    lang: 'en_US',
    tz: 'Europe/Brussels',
    signature: false,
  }
  const system: StoredRecord[] = [
    {
      id: 1,
      name: 'OdooBot',
      login: '__system__',
      partner_id: 2,
      active: false,
      groups_id: groupIds(['base.group_user']),
      login_date: false,
      ...base,
    },
    {
      id: 3,
      name: 'Public user',
      login: 'public',
      partner_id: 4,
      active: false,
      groups_id: groupIds(['base.group_public']),
      login_date: false,
      ...base,
    },
    {
      id: 4,
      name: 'Default User Template',
      login: 'default',
      partner_id: 5,
      active: false,
      groups_id: groupIds(impliedClosure(['base.group_user', 'base.group_partner_manager'])),
      login_date: false,
      ...base,
    },
    {
      id: 5,
      name: 'Joel Willis',
      login: 'portal',
      partner_id: 8,
      active: true,
      groups_id: groupIds(['base.group_portal']),
      login_date: false,
      ...base,
    },
  ]
  const demo: StoredRecord[] = DEMO_USERS.map((user) => ({
    id: user.uid,
    name: user.name,
    login: user.login,
    partner_id: user.partnerId,
    active: true,
    groups_id: groupIds(user.groups),
    login_date: '2026-11-26 08:00:00',
    ...base,
  }))
  return [...system, ...demo].sort((a, b) => a.id - b.id)
}

export function groupSeed(version: OdooVersion): StoredRecord[] {
  return GROUPS.map((g) => ({
    id: g.id,
    name: groupLabel(g, version).name,
    full_name: groupFullName(g, version),
    implied_ids: groupIds(g.implied),
    share: g.xmlid === 'base.group_portal' || g.xmlid === 'base.group_public',
    comment: false,
  }))
}

export function configParameterSeed(): StoredRecord[] {
  const params: [string, string][] = [
    ['auth_signup.invitation_scope', 'b2b'],
    ['base.login_cooldown_after', '10'],
    ['database.create_date', '2026-10-01 08:00:00'],
    ['database.secret', '4f6c1b9e-2d7a-4c83-9e51-7a0d3b2c8f14'],
    ['database.uuid', '0b8e7c52-5a1f-11f1-9d3e-0242ac120002'],
    ['mail.catchall.domain', 'example.com'],
    ['mail.default.from', 'notifications'],
    ['sale.automatic_invoice', 'False'],
    ['web.base.url', 'http://localhost:8069'],
  ]
  return params.map(([key, value], index) => ({ id: index + 1, key, value }))
}

export function irModelSeed(): StoredRecord[] {
  return MODEL_DEFS.map((def, index) => ({
    id: index + 1,
    name: def.description,
    model: def.name,
    order: def.order,
    info: def.description,
    state: 'base',
    transient: def.transient ?? false,
    modules: def.module,
  }))
}
