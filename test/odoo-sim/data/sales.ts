// Demo products and sales orders. The 20 orders reproduce what the recording shows: S00001-S00003 belong to
// sales_agent (uid 8) and are quotations of 1740.0, 2947.5 and 377.5; the others belong to admin or sales_manager.
// Per customer (transcript 18): Deco Addict 2 orders / 2145, Gemini Furniture 13 / 13973, Lumber Inc 1 / 750,
// Ready Mat 2 / 3325, Joel Willis 2 / 4687.5. Per state (Odoo 19 transcripts 07/07a): draft 4 / 5470, sent 1 / 1740,
// sale 15 / 17670.5; `state = 'sale'` ordered by id starts with 4, 6, 7. Orders are untaxed so totals stay exact.
import type { StoredRecord } from '../types'

// [id, default_code, name, list_price, standard_price, type, categ_id]
type ProductRow = [number, string, string, number, number, 'consu' | 'service', number]

const PRODUCTS: ProductRow[] = [
  [1, 'FURN_0096', 'Customizable Desk', 750.0, 600.0, 'consu', 3],
  [2, 'FURN_7800', 'Desk Combination', 450.0, 300.0, 'consu', 3],
  [3, 'E-COM06', 'Corner Desk Right Sit', 147.0, 98.0, 'consu', 3],
  [4, 'E-COM07', 'Large Cabinet', 320.0, 240.0, 'consu', 3],
  [5, 'E-COM08', 'Storage Box', 15.8, 11.0, 'consu', 3],
  [6, 'E-COM09', 'Large Desk', 1799.0, 1299.0, 'consu', 3],
  [7, 'E-COM10', 'Pedal Bin', 45.0, 10.0, 'consu', 3],
  [8, 'E-COM11', 'Cabinet with Doors', 140.0, 120.5, 'consu', 3],
  [9, 'E-COM12', 'Conference Chair', 33.0, 28.0, 'consu', 3],
  [10, 'FURN_7777', 'Office Chair', 70.0, 55.0, 'consu', 3],
  [11, 'FURN_8888', 'Office Lamp', 40.0, 35.0, 'consu', 3],
  [12, 'FURN_6666', 'Acoustic Bloc Screens', 295.0, 287.0, 'consu', 3],
  [13, 'FURN_8855', 'Drawer', 110.5, 100.0, 'consu', 3],
  [14, 'FURN_8522', 'Table Leg', 50.0, 40.0, 'consu', 3],
  [15, 'FURN_1118', 'Corner Desk Left Sit', 85.0, 78.0, 'consu', 3],
  [16, 'FURN_0269', 'Office Chair Black', 120.5, 110.0, 'consu', 3],
  [17, 'FURN_5555', 'Cable Management Box', 100.0, 70.0, 'consu', 3],
  [18, 'FURN_8999', 'Three-Seat Sofa', 1500.0, 1000.0, 'consu', 3],
  [19, 'FURN_8220', 'Four Person Desk', 2350.0, 2100.0, 'consu', 3],
  [20, 'SERV_DESIGN', 'Virtual Interior Design', 30.0, 25.0, 'service', 4],
]

export function productSeed(): StoredRecord[] {
  return PRODUCTS.map(([id, code, name, price, cost, type, categ]) => ({
    id,
    default_code: code,
    name,
    list_price: price,
    standard_price: cost,
    type,
    categ_id: categ,
    barcode: type === 'service' ? false : `60${String(1000000 + id * 7919).padStart(8, '0')}`,
    sale_ok: true,
    purchase_ok: type !== 'service',
    description_sale: false,
    weight: type === 'service' ? 0 : Math.round(id * 1.7 * 10) / 10,
    active: true,
    company_id: false,
  }))
}

export function categorySeed(): StoredRecord[] {
  return [
    { id: 1, name: 'All', parent_id: false },
    { id: 2, name: 'Saleable', parent_id: 1 },
    // Under 'Saleable', like Odoo's demo ('All / Saleable / Office Furniture'): a hierarchy two levels deep.
    { id: 3, name: 'Office Furniture', parent_id: 2 },
    { id: 4, name: 'Services', parent_id: 2 },
  ]
}

type State = 'draft' | 'sent' | 'sale' | 'cancel'
// [id, partner, salesperson uid, state, amount_total, lines as [product, qty]; the last line's unit price is set so
// that the order total is exactly amount_total]
type OrderRow = [number, number, number, State, number, [number, number][]]

const ORDERS: OrderRow[] = [
  [
    1,
    10,
    8,
    'draft',
    1740.0,
    [
      [1, 2],
      [10, 2],
      [17, 1],
    ],
  ],
  [
    2,
    12,
    8,
    'draft',
    2947.5,
    [
      [19, 1],
      [13, 5],
      [7, 1],
    ],
  ],
  [
    3,
    12,
    8,
    'draft',
    377.5,
    [
      [16, 1],
      [10, 2],
      [8, 1],
    ],
  ],
  [
    4,
    11,
    2,
    'sale',
    2240.0,
    [
      [6, 1],
      [12, 1],
      [9, 4],
    ],
  ],
  [
    5,
    11,
    9,
    'sent',
    1740.0,
    [
      [1, 2],
      [10, 2],
      [17, 1],
    ],
  ],
  [
    6,
    11,
    2,
    'sale',
    1800.0,
    [
      [18, 1],
      [17, 3],
    ],
  ],
  [
    7,
    11,
    9,
    'sale',
    1450.0,
    [
      [1, 1],
      [4, 2],
      [11, 1],
    ],
  ],
  [8, 16, 2, 'sale', 750.0, [[1, 1]]],
  [
    9,
    11,
    9,
    'sale',
    1249.5,
    [
      [12, 3],
      [16, 2],
      [13, 1],
    ],
  ],
  [
    10,
    8,
    2,
    'sale',
    1442.5,
    [
      [4, 3],
      [13, 4],
      [7, 1],
    ],
  ],
  [
    11,
    10,
    9,
    'draft',
    405.0,
    [
      [12, 1],
      [14, 2],
    ],
  ],
  [
    12,
    11,
    2,
    'sale',
    1105.0,
    [
      [1, 1],
      [12, 1],
      [7, 1],
    ],
  ],
  [
    13,
    11,
    9,
    'sale',
    985.0,
    [
      [4, 2],
      [3, 2],
      [7, 1],
    ],
  ],
  [
    14,
    11,
    2,
    'sale',
    870.5,
    [
      [12, 2],
      [16, 2],
      [7, 1],
    ],
  ],
  [
    15,
    11,
    9,
    'sale',
    765.0,
    [
      [1, 1],
      [5, 1],
    ],
  ],
  [16, 11, 2, 'sale', 640.0, [[4, 2]]],
  [
    17,
    11,
    9,
    'sale',
    512.0,
    [
      [8, 3],
      [14, 2],
    ],
  ],
  [
    18,
    11,
    2,
    'sale',
    346.0,
    [
      [10, 4],
      [9, 2],
    ],
  ],
  [
    19,
    11,
    9,
    'sale',
    270.0,
    [
      [15, 2],
      [7, 2],
    ],
  ],
  [
    20,
    8,
    2,
    'sale',
    3245.0,
    [
      [19, 1],
      [4, 2],
      [16, 2],
    ],
  ],
]

function pad(n: number): string {
  return String(n).padStart(2, '0')
}

/** Order dates: one day apart from 2026-10-26 21:18:00 (S00001, as in the 19 recording) onwards. */
function orderDate(id: number): string {
  const d = new Date(Date.UTC(2026, 9, 26, 21, 18, 0) + (id - 1) * 86_400_000)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:00`
}

function addDays(datetime: string, days: number): string {
  const d = new Date(Date.parse(`${datetime.slice(0, 10)}T00:00:00Z`) + days * 86_400_000)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`
}

export interface SalesSeed {
  orders: StoredRecord[]
  lines: StoredRecord[]
}

export function salesSeed(): SalesSeed {
  const products = new Map(PRODUCTS.map((row) => [row[0], row]))
  const orders: StoredRecord[] = []
  const lines: StoredRecord[] = []
  for (const [id, partner, user, state, total, lineSpecs] of ORDERS) {
    const date = orderDate(id)
    orders.push({
      id,
      name: `S${String(id).padStart(5, '0')}`,
      partner_id: partner,
      partner_invoice_id: partner,
      partner_shipping_id: partner,
      user_id: user,
      state,
      date_order: date,
      validity_date: addDays(date, 30),
      company_id: 1,
      currency_id: 1,
      client_order_ref: false,
      origin: false,
      note: false,
      invoice_status: state === 'sale' ? 'to invoice' : 'no',
    })
    let remaining = Math.round(total * 100)
    lineSpecs.forEach(([productId, qty], index) => {
      const product = products.get(productId)
      if (!product) throw new Error(`unknown product ${productId}`)
      const last = index === lineSpecs.length - 1
      const priceCents = last ? remaining / qty : Math.round(product[3] * 100)
      if (!Number.isInteger(priceCents)) throw new Error(`order ${id}: total ${total} not reachable with exact prices`)
      remaining -= priceCents * qty
      lines.push({
        id: lines.length + 1,
        order_id: id,
        sequence: 10 + index,
        name: `[${product[1]}] ${product[2]}`,
        product_id: productId,
        product_uom_qty: qty,
        price_unit: priceCents / 100,
        discount: 0,
      })
    })
    if (remaining !== 0) throw new Error(`order ${id}: lines do not add up to ${total}`)
  }
  return { orders, lines }
}
