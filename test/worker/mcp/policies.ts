/** Policies the MCP tests give their keys. */

/** Everything the key's Odoo user may do (Odoo's rights are then the only limit), including ir.config_parameter. */
export const FULL_ACCESS = {
  version: 1,
  models: {
    '*': { operations: ['read', 'create', 'write', 'unlink'], fields: '*' },
    'ir.config_parameter': { operations: ['read'], fields: '*' },
  },
}

/** The example: a sales agent that reads orders and a few partner fields. */
export const SALES_AGENT_POLICY = {
  version: 1,
  models: {
    'sale.order': { operations: ['read'], fields: ['name', 'date_order', 'amount_total', 'state', 'partner_id', 'order_line', 'user_id'] },
    'res.partner': { operations: ['read'], fields: ['name', 'city', 'country_id', 'is_company', 'parent_id'] },
    'res.country': { operations: ['read'], fields: ['name', 'code'] },
  },
}
