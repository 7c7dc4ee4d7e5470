// Demo contacts. Ids and names follow the recording where it shows them (YourCompany 1, Mitchell Admin 3, Joel
// Willis 8, Deco Addict 10, Gemini Furniture 11, Ready Mat 12, Azure Interior 15 with Brandon Freeman 27 and Colleen
// Diaz 34, Lumber Inc 16, Abigail Peterson 46); 3 archived partners like a fresh database (OdooBot, Public user,
// Default User Template). Odoo 19's demo adds Acme Corporation, so the 19 dataset has two more contacts: 61 active
// partners there, as in the 19 recording; the 18 dataset ends at id 62, so the next contact created is 63, as in
// the 18 recording.
import type { OdooVersion, StoredRecord } from '../types'

export const US = 233
export const BE = 20

interface PartnerSeed {
  id: number
  name: string
  company?: boolean
  parent?: number
  email?: string
  phone?: string
  mobile?: string
  vat?: string
  country?: number
  street?: string
  city?: string
  zip?: string
  function?: string
  website?: string
  ref?: string
  active?: boolean
  customer?: number
}

const COMPANIES: PartnerSeed[] = [
  {
    id: 1,
    name: 'YourCompany',
    company: true,
    email: 'info@yourcompany.com',
    phone: '+1 555-555-5556',
    vat: 'US12345671',
    country: US,
    street: '250 Executive Park Blvd, Suite 3400',
    city: 'San Francisco',
    zip: '94134',
    website: 'http://www.example.com',
  },
  {
    id: 10,
    name: 'Deco Addict',
    company: true,
    email: 'deco_addict@yourcompany.example.com',
    phone: '(603)-996-3829',
    vat: 'US12345673',
    country: US,
    street: '77 Santa Barbara Rd',
    city: 'Pleasant Hill',
    zip: '94523',
    website: 'http://www.deco-addict.com',
    ref: 'DA-001',
    customer: 3,
  },
  {
    id: 11,
    name: 'Gemini Furniture',
    company: true,
    email: 'gemini_furniture@fake.geminifurniture.com',
    phone: '(941)-284-4875',
    vat: 'US12345674',
    country: US,
    street: '317 Fairchild Dr',
    city: 'Fairfield',
    zip: '94535',
    website: 'http://www.gemini-furniture.com',
    ref: 'GF-001',
    customer: 13,
  },
  {
    id: 12,
    name: 'Ready Mat',
    company: true,
    email: 'ready.mat28@example.com',
    phone: '(803)-873-6126',
    vat: 'US12345675',
    country: US,
    street: '7500 W Linne Road',
    city: 'Tracy',
    zip: '95304',
    website: 'http://www.ready-mat.com',
    customer: 2,
  },
  {
    id: 13,
    name: 'The Jackson Group',
    company: true,
    email: 'jackson.group82@example.com',
    phone: '(334)-502-1024',
    vat: 'US12345676',
    country: US,
    street: '1839 Arbor Way',
    city: 'Turlock',
    zip: '95380',
  },
  {
    id: 14,
    name: 'Wood Corner',
    company: true,
    email: 'wood.corner26@example.com',
    phone: '(623)-853-7197',
    vat: 'US12345677',
    country: US,
    street: '1839 Arbor Way',
    city: 'Turlock',
    zip: '95380',
    website: 'http://www.wood-corner.com',
  },
  {
    id: 15,
    name: 'Azure Interior',
    company: true,
    email: 'azure.Interior24@example.com',
    phone: '(870)-931-0505',
    vat: 'US12345672',
    country: US,
    street: '4557 De Silva St',
    city: 'Fremont',
    zip: '94538',
    website: 'http://www.azure-interior.com',
  },
  {
    id: 16,
    name: 'Lumber Inc',
    company: true,
    email: 'lumber-inv92@example.com',
    phone: '(828)-316-0593',
    vat: 'US12345678',
    country: US,
    street: '1337 N San Joaquin St',
    city: 'Stockton',
    zip: '95202',
    customer: 1,
  },
]

// [id, name, parent, email, phone, function, country]
type Contact = [number, string, number | null, string | null, string | null, string | null, number | null]

const CONTACTS: Contact[] = [
  [3, 'Mitchell Admin', 1, 'admin@example.com', '+1 555-555-5555', 'Chief Technical Officer', US],
  [6, 'Marc Demo', 1, 'mark.brown23@example.com', '(441)-695-2334', 'Experienced Developer', US],
  [7, 'Chester Reed', 1, 'chester.reed79@example.com', '(979)-904-8902', 'Chief Operations Officer', US],
  [8, 'Joel Willis', 1, 'joel.willis63@example.com', '(683)-556-5104', null, US],
  [9, 'Dwayne Newman', null, 'dwayne.newman28@example.com', '+32 2 290 34 90', null, BE],
  [17, 'Addison Olson', 10, 'addison.olson28@example.com', '(223)-399-7637', 'Purchase Manager', US],
  [18, 'Douglas Fletcher', 10, 'douglas.fletcher51@example.com', '(132)-553-7242', 'Functional Consultant', US],
  [19, 'Floyd Steward', 10, 'floyd.steward34@example.com', '(145)-138-3401', 'Analyst', US],
  [20, 'Edwin Hansen', 11, 'edwin.hansen58@example.com', '(943)-352-2555', 'Marketing Manager', US],
  [21, 'Jesse Brown', 11, 'jesse.brown74@example.com', '(829)-386-3277', 'Senior Consultant', US],
  [22, 'Oscar Morgan', 11, 'oscar.morgan11@example.com', '(561)-239-1744', 'Order Clerk', US],
  [23, 'Soham Palmer', 11, 'soham.palmer15@example.com', '(379)-167-2040', 'Director', US],
  [24, 'Billy Fox', 12, 'billy.fox45@example.com', '(915)-498-5611', 'Production Supervisor', US],
  [25, 'Edith Sanchez', 12, 'edith.sanchez68@example.com', '(938)-175-2048', 'Administrative Assistant', US],
  [26, 'Kim Snyder', 12, 'kim.snyder96@example.com', '(215)-379-4865', 'Senior Consultant', US],
  [27, 'Brandon Freeman', 15, 'brandon.freeman55@example.com', '(355)-687-3262', 'Creative Director', US],
  [28, 'Sandra Neal', 12, 'sandra.neal80@example.com', '(430)-371-7293', 'Sales Manager', US],
  [29, 'Julie Richards', 12, 'julie.richards84@example.com', '(225)-148-7811', 'Financial Manager', US],
  [30, 'Toni Rhodes', 13, 'toni.rhodes11@example.com', '(198)-539-4948', 'Managing Partner', US],
  [31, 'Gordon Owens', 13, 'gordon.owens47@example.com', '(336)-723-6569', 'Sales Manager', US],
  [32, 'Willie Burke', 14, 'willie.burke80@example.com', '(846)-523-2111', 'Service Manager', US],
  [33, 'Ron Gibson', 14, 'ron.gibson76@example.com', '(976)-397-4091', 'Store Manager', US],
  [34, 'Colleen Diaz', 15, 'colleen.diaz83@example.com', '(255)-595-8393', 'Business Executive', US],
  [35, 'Nicole Ford', 15, 'nicole.ford75@example.com', '(946)-638-6034', 'Director', US],
  [36, 'Lorraine Douglas', 16, 'lorraine.douglas35@example.com', '(443)-648-9155', 'Functional Consultant', US],
  [37, 'Tom Ruiz', 14, 'tom.ruiz89@example.com', '(102)-834-1602', 'Chief Executive Officer', US],
  [38, 'Theodore Gardner', 13, 'theodore.gardner36@example.com', '(186)-612-6561', 'Consultant', US],
  [39, 'Travis Mendoza', null, 'travis.mendoza24@example.com', '+33 1 84 88 16 25', null, 75],
  // Contacts without email / phone, for ('email', '=', False) and friends.
  [40, 'Kevin Clarke', null, null, '+1 555-0140', null, US],
  [41, 'Lucille Bradley', null, null, null, null, 166],
  // Work contacts of the employees (hr demo data).
  [42, 'Anita Oliver', null, 'anita.oliver32@example.com', '(538)-497-4804', 'Experienced Developer', US],
  [43, 'Audrey Peterson', null, 'audrey.peterson25@example.com', '(203)-276-7903', 'Consultant', US],
  [44, 'Beth Evans', null, 'beth.evans77@example.com', '(754)-532-3841', 'Experienced Developer', US],
  [45, 'Doris Cole', null, 'doris.cole31@example.com', '(883)-331-5378', 'Consultant', US],
  [46, 'Abigail Peterson', null, 'abigail.peterson39@example.com', '(482)-233-3393', 'Consultant', US],
  [47, 'Eli Lambert', null, 'eli.lambert22@example.com', '(644)-169-1352', 'Marketing and Community Manager', US],
  [48, 'Ernest Reed', null, 'ernest.reed47@example.com', '(944)-518-8232', 'Consultant', US],
  [49, 'Jennie Fletcher', null, 'jennie.fletcher76@example.com', '(157)-363-8229', 'Experienced Developer', US],
  [50, 'Keith Byrd', null, 'keith.byrd52@example.com', '(449)-505-5146', 'Experienced Developer', US],
  [51, 'Paul Williams', null, 'paul.williams59@example.com', '(514)-747-9536', 'Experienced Developer', US],
  [52, 'Rachel Perry', null, 'rachel.perry53@example.com', '(206)-267-3735', 'Marketing and Community Manager', US],
  [53, 'Randall Lewis', null, 'randall.lewis74@example.com', '(332)-775-6660', 'Experienced Developer', US],
  [54, 'Roger Scott', null, 'roger.scott49@example.com', '(723)-813-6285', 'Chief Operations Officer', US],
  [55, 'Ronnie Hart', null, 'ronnie.hart87@example.com', '(376)-310-7863', 'Team Leader', US],
  [56, 'Sharlene Rhodes', null, 'sharlene.rhodes49@example.com', '(450)-719-4182', 'Experienced Developer', US],
  [57, 'Tina Williamson', null, 'tina.williamson98@example.com', '(360)-694-7266', 'Human Resources Manager', US],
  [58, 'Toni Jimenez', null, 'toni.jimenez23@example.com', '(663)-707-8451', 'Consultant', US],
  [59, 'Walter Horton', null, 'walter.horton80@example.com', '(350)-912-1201', 'Experienced Developer', US],
  // Partners of the users created for the recording.
  [60, 'Sales Agent (own docs)', null, 'sales.agent@yourcompany.example.com', '+1 555-0160', 'Salesman', US],
  [61, 'Sales Manager (all docs)', null, 'sales.manager@yourcompany.example.com', '+1 555-0161', 'Sales Manager', US],
  [62, 'Internal User (no sales)', null, 'internal.user@yourcompany.example.com', '+1 555-0162', null, US],
]

const ARCHIVED: PartnerSeed[] = [
  { id: 2, name: 'OdooBot', email: 'odoobot@example.com', active: false },
  { id: 4, name: 'Public user', active: false },
  { id: 5, name: 'Default User Template', active: false },
]

const ODOO19_ONLY: PartnerSeed[] = [
  {
    id: 63,
    name: 'Acme Corporation',
    company: true,
    email: 'info@acme-corp.example.com',
    phone: '+32 2 555 12 12',
    vat: 'BE0477472701',
    country: BE,
    street: 'Rue de la Loi 42',
    city: 'Brussels',
    zip: '1040',
  },
  { id: 64, name: 'Jane Cooper', parent: 63, email: 'jane.cooper@acme-corp.example.com', country: BE },
]

function toRecord(p: PartnerSeed): StoredRecord {
  return {
    id: p.id,
    name: p.name,
    is_company: p.company ?? false,
    parent_id: p.parent ?? false,
    email: p.email ?? false,
    phone: p.phone ?? false,
    mobile: p.mobile ?? false,
    vat: p.vat ?? false,
    country_id: p.country ?? false,
    street: p.street ?? false,
    city: p.city ?? false,
    zip: p.zip ?? false,
    function: p.function ?? false,
    website: p.website ?? false,
    ref: p.ref ?? false,
    active: p.active ?? true,
    type: 'contact',
    lang: 'en_US',
    tz: 'Europe/Brussels',
    company_id: false,
    customer_rank: p.customer ?? 0,
    supplier_rank: 0,
  }
}

export function partnerSeed(version: OdooVersion): StoredRecord[] {
  const contacts: PartnerSeed[] = CONTACTS.map(([id, name, parent, email, phone, fn, country]) => ({
    id,
    name,
    ...(parent !== null ? { parent } : {}),
    ...(email !== null ? { email } : {}),
    ...(phone !== null ? { phone } : {}),
    ...(fn !== null ? { function: fn } : {}),
    ...(country !== null ? { country } : {}),
  }))
  const all = [...COMPANIES, ...ARCHIVED, ...contacts, ...(version === 19 ? ODOO19_ONLY : [])]
  return all.map(toRecord).sort((a, b) => a.id - b.id)
}
