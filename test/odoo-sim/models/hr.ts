// Models of the `hr` app. As in Odoo, every private field of hr.employee carries groups="hr.group_hr_user"; internal
// users without HR rights read employees through hr.employee.public, i.e. the fields without groups.
import { f, acl, hierarchyName, type ModelDef } from './model'

const HR = 'hr.group_hr_user'

export const hrEmployee: ModelDef = {
  name: 'hr.employee',
  description: 'Employee',
  module: 'hr',
  order: 'name',
  recName: 'name',
  recNamesSearch: ['name', 'work_email'],
  parentField: 'parent_id',
  publicModel: 'hr.employee.public',
  fields: [
    // Public profile (also on hr.employee.public).
    f.char('name', 'Employee Name'),
    f.boolean('active', 'Active'),
    f.many2one('user_id', 'User', 'res.users'),
    f.many2one('company_id', 'Company', 'res.company', { required: true }),
    f.many2one('department_id', 'Department', 'hr.department'),
    f.char('job_title', 'Job Title'),
    f.char('work_email', 'Work Email'),
    f.char('work_phone', 'Work Phone'),
    f.char('mobile_phone', 'Work Mobile'),
    f.many2one('work_contact_id', 'Work Contact', 'res.partner'),
    f.many2one('parent_id', 'Manager', 'hr.employee'),
    f.many2one('coach_id', 'Coach', 'hr.employee'),
    f.one2many('child_ids', 'Direct subordinates', 'hr.employee', 'parent_id'),
    f.char('tz', 'Timezone'),
    // Private information: HR officers only.
    f.selection(
      'employee_type',
      'Employee Type',
      [
        ['employee', 'Employee'],
        ['worker', 'Worker'],
        ['student', 'Student'],
        ['trainee', 'Trainee'],
        ['contractor', 'Contractor'],
        ['freelance', 'Freelancer'],
      ],
      { groups: HR },
    ),
    f.char('private_street', 'Private Street', { groups: HR }),
    f.char('private_city', 'Private City', { groups: HR }),
    f.char('private_zip', 'Private Zip', { groups: HR }),
    f.many2one('private_country_id', 'Private Country', 'res.country', { groups: HR }),
    f.char('private_email', 'Private Email', { groups: HR }),
    f.char('private_phone', 'Private Phone', { groups: HR }),
    f.date('birthday', 'Birthday', { groups: HR }),
    f.char('place_of_birth', 'Place of Birth', { groups: HR }),
    f.many2one('country_of_birth', 'Country of Birth', 'res.country', { groups: HR }),
    f.char('ssnid', 'SSN No', { groups: HR, help: 'Social Security Number' }),
    f.char('sinid', 'SIN No', { groups: HR, help: 'Social Insurance Number' }),
    f.char('identification_id', 'Identification No', { groups: HR }),
    f.char('passport_id', 'Passport No', { groups: HR }),
    f.selection(
      'gender',
      'Gender',
      [
        ['male', 'Male'],
        ['female', 'Female'],
        ['other', 'Other'],
      ],
      { groups: HR },
    ),
    f.selection(
      'marital',
      'Marital Status',
      [
        ['single', 'Single'],
        ['married', 'Married'],
        ['cohabitant', 'Legal Cohabitant'],
        ['widower', 'Widower'],
        ['divorced', 'Divorced'],
      ],
      { groups: HR },
    ),
    f.integer('children', 'Number of Dependent Children', { groups: HR }),
    f.char('emergency_contact', 'Contact Name', { groups: HR }),
    f.char('emergency_phone', 'Contact Phone', { groups: HR }),
    f.many2one('bank_account_id', 'Bank Account', 'res.partner.bank', { groups: HR }),
    f.integer('km_home_work', 'Home-Work Distance', { groups: HR }),
    f.char('barcode', 'Badge ID', { groups: HR }),
    f.char('pin', 'PIN', { groups: HR }),
    // Odoo keeps the wage on hr.contract (18) / hr.version (19); the simulator puts it on the employee.
    f.monetary('wage', 'Wage', { groups: HR, aggregator: 'sum' }),
  ],
  acl: [acl(HR, 'rwc'), acl('hr.group_hr_manager', 'rwcu')],
  defaults: { active: () => true, company_id: () => 1, employee_type: () => 'employee', tz: () => 'Europe/Brussels' },
}

export const hrDepartment: ModelDef = {
  name: 'hr.department',
  description: 'Department',
  module: 'hr',
  order: 'name',
  recName: 'complete_name',
  parentField: 'parent_id',
  fields: [
    f.char('name', 'Department Name', { required: true, translate: true }),
    // Odoo: @api.depends('name', 'parent_id.complete_name'): 'Management / Research & Development / R&D USA'.
    f.char('complete_name', 'Complete Name', {
      readonly: true,
      depends: ['name', 'parent_id.complete_name'],
      compute: (r, d) => hierarchyName('hr.department', r, d),
    }),
    f.many2one('parent_id', 'Parent Department', 'hr.department'),
    f.many2one('manager_id', 'Manager', 'hr.employee'),
    f.one2many('member_ids', 'Members', 'hr.employee', 'department_id'),
    f.many2one('company_id', 'Company', 'res.company'),
    f.boolean('active', 'Active'),
  ],
  acl: [acl('base.group_user', 'r'), acl(HR, 'rwcu')],
  defaults: { active: () => true, company_id: () => 1 },
}
