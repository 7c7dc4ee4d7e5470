// Demo employees: 20 of them, like the recording's hr.employee search_count; employee 1 is Mitchell Admin, Chief
// Technical Officer. Managers form a hierarchy three levels deep below him, like the recording's (Marc Demo → Keith
// Byrd → Anita Oliver, Jennie Fletcher; Marc Demo → Paul Williams → Beth Evans, Walter Horton). Private data is made up but deterministic (and contains no real person's data).
import type { StoredRecord } from '../types'
import { US } from './partners'

// [id, name, job_title, department, manager, user, work contact partner, gender]
type EmployeeRow = [number, string, string, number, number | null, number | null, number, 'male' | 'female']

const EMPLOYEES: EmployeeRow[] = [
  [1, 'Mitchell Admin', 'Chief Technical Officer', 4, null, 2, 3, 'male'],
  [2, 'Marc Demo', 'Experienced Developer', 3, 1, 6, 6, 'male'],
  [3, 'Anita Oliver', 'Experienced Developer', 3, 11, null, 42, 'female'],
  [4, 'Audrey Peterson', 'Consultant', 5, 15, null, 43, 'female'],
  [5, 'Beth Evans', 'Experienced Developer', 3, 12, null, 44, 'female'],
  [6, 'Doris Cole', 'Consultant', 5, 15, null, 45, 'female'],
  [7, 'Abigail Peterson', 'Consultant', 5, 15, null, 46, 'female'],
  [8, 'Eli Lambert', 'Marketing and Community Manager', 6, 1, null, 47, 'male'],
  [9, 'Ernest Reed', 'Consultant', 5, 15, null, 48, 'male'],
  [10, 'Jennie Fletcher', 'Experienced Developer', 3, 11, null, 49, 'female'],
  [11, 'Keith Byrd', 'Experienced Developer', 3, 2, null, 50, 'male'],
  [12, 'Paul Williams', 'Experienced Developer', 3, 2, null, 51, 'male'],
  [13, 'Rachel Perry', 'Marketing and Community Manager', 6, 8, null, 52, 'female'],
  [14, 'Randall Lewis', 'Experienced Developer', 3, 2, null, 53, 'male'],
  [15, 'Roger Scott', 'Chief Operations Officer', 4, 1, null, 54, 'male'],
  [16, 'Ronnie Hart', 'Team Leader', 2, 15, null, 55, 'male'],
  [17, 'Sharlene Rhodes', 'Experienced Developer', 3, 2, null, 56, 'female'],
  [18, 'Tina Williamson', 'Human Resources Manager', 1, 1, null, 57, 'female'],
  [19, 'Toni Jimenez', 'Consultant', 5, 15, null, 58, 'female'],
  [20, 'Walter Horton', 'Experienced Developer', 3, 12, null, 59, 'male'],
]

const CITIES = ['Oakland', 'San Jose', 'Sacramento', 'Berkeley', 'Fresno']

export function departmentSeed(): StoredRecord[] {
  return [
    { id: 1, name: 'Administration', parent_id: false, manager_id: 18, company_id: 1, active: true },
    { id: 2, name: 'Sales', parent_id: 4, manager_id: 16, company_id: 1, active: true },
    { id: 3, name: 'Research & Development', parent_id: 4, manager_id: 2, company_id: 1, active: true },
    { id: 4, name: 'Management', parent_id: false, manager_id: 1, company_id: 1, active: true },
    { id: 5, name: 'Professional Services', parent_id: 4, manager_id: 15, company_id: 1, active: true },
    { id: 6, name: 'Marketing', parent_id: 4, manager_id: 8, company_id: 1, active: true },
  ]
}

export function employeeSeed(): StoredRecord[] {
  return EMPLOYEES.map(([id, name, job, department, manager, user, contact, gender]) => {
    const [first = '', last = ''] = name.toLowerCase().split(' ')
    const year = 1970 + ((id * 7) % 30)
    const month = String(((id * 5) % 12) + 1).padStart(2, '0')
    const day = String(((id * 11) % 28) + 1).padStart(2, '0')
    return {
      id,
      name,
      active: true,
      user_id: user ?? false,
      company_id: 1,
      department_id: department,
      job_title: job,
      work_email:
        id === 1
          ? 'admin@example.com'
          : id === 2
            ? 'mark.brown23@example.com'
            : `${first}.${last}@yourcompany.example.com`,
      work_phone: `+1 555-01${String(id).padStart(2, '0')}`,
      mobile_phone: `+1 555-02${String(id).padStart(2, '0')}`,
      work_contact_id: contact,
      parent_id: manager ?? false,
      coach_id: manager ?? false,
      tz: 'Europe/Brussels',
      employee_type: 'employee',
      private_street: `${100 + id * 3} ${last.charAt(0).toUpperCase()}${last.slice(1)} Street`,
      private_city: CITIES[id % CITIES.length] ?? 'Oakland',
      private_zip: String(94000 + id * 17),
      private_country_id: US,
      private_email: `${first}.${last}.home@example.org`,
      private_phone: `+1 555-03${String(id).padStart(2, '0')}`,
      birthday: `${year}-${month}-${day}`,
      place_of_birth: CITIES[(id + 2) % CITIES.length] ?? 'Oakland',
      country_of_birth: US,
      ssnid: `${String(100 + id * 13).padStart(3, '0')}-${String(10 + id).padStart(2, '0')}-${String(1000 + id * 271).slice(-4)}`,
      sinid: false,
      identification_id: `ID-${String(70000 + id * 131)}`,
      passport_id: `P${String(5000000 + id * 7771)}`,
      gender,
      marital: id % 3 === 0 ? 'married' : 'single',
      children: id % 4,
      emergency_contact: `${last.charAt(0).toUpperCase()}${last.slice(1)} Family`,
      emergency_phone: `+1 555-04${String(id).padStart(2, '0')}`,
      bank_account_id: id <= 6 ? id : false,
      km_home_work: 5 + ((id * 3) % 40),
      barcode: `0410${String(id).padStart(8, '0')}`,
      pin: String(1000 + id * 37).slice(-4),
      wage: 3000 + id * 250,
    }
  })
}

export function bankSeed(): StoredRecord[] {
  const holders: [number, number][] = [
    [1, 3],
    [2, 6],
    [3, 42],
    [4, 43],
    [5, 44],
    [6, 45],
  ]
  return holders.map(([id, partner]) => ({
    id,
    acc_number: `US${String(40 + id)} 0000 1111 ${String(2222 + id * 101).padStart(4, '0')} ${String(3333 + id * 7).padStart(4, '0')}`,
    sequence: 10,
    partner_id: partner,
    acc_holder_name: false,
    bank_name: 'Bank of the Bay',
    active: true,
    company_id: false,
  }))
}
