// Builds the `debug` member of Odoo's error bodies: a Python 3.11 traceback as Odoo prints it. Frames are those of
// the recorded tracebacks (test/fixtures/odoo) for the same failure, generalised to other models and methods. The
// gateway must never pass this text on, so it has to look (and be as long as) the real thing.
import type { OdooError, TraceSite } from './errors'
import type { OdooVersion, Protocol } from './types'

type Frame = readonly [file: string, line: number, func: string, code: string]

const ODOO = '/opt/odoo/odoo'
const ADDONS = '/opt/odoo/addons'

function models(version: OdooVersion): string {
  return version === 18 ? `${ODOO}/models.py` : `${ODOO}/orm/models.py`
}

/** Python 3.11 underlines the failing expression unless it is the whole line. */
function carets(code: string): string | null {
  const match = /^(return |[\w.[\]'", ]+ = )/.exec(code)
  if (!match) return null
  const expr = code.slice(match[0].length)
  if (!expr) return null
  return ' '.repeat(match[0].length) + '^'.repeat(expr.length)
}

function render(frames: readonly Frame[]): string {
  let out = 'Traceback (most recent call last):\n'
  for (const [file, line, func, code] of frames) {
    out += `  File "${file}", line ${line}, in ${func}\n`
    if (code) {
      out += `    ${code}\n`
      const underline = carets(code)
      if (underline) out += `    ${underline}\n`
    }
  }
  return out
}

function httpPrefix(version: OdooVersion, protocol: Protocol): Frame[] {
  if (version === 18) {
    return [
      [`${ODOO}/http.py`, 1976, '_transactioning', 'return service_model.retrying(func, env=self.env)'],
      [`${ODOO}/service/model.py`, 156, 'retrying', 'result = func()'],
      [`${ODOO}/http.py`, 1943, '_serve_ir_http', 'response = self.dispatcher.dispatch(rule.endpoint, args)'],
      [`${ODOO}/http.py`, 2191, 'dispatch', "result = self.request.registry['ir.http']._dispatch(endpoint)"],
      [`${ODOO}/addons/base/models/ir_http.py`, 333, '_dispatch', 'result = endpoint(**request.params)'],
      [`${ODOO}/http.py`, 740, 'route_wrapper', 'result = endpoint(self, *args, **params_ok)'],
    ]
  }
  return [
    [`${ODOO}/http.py`, 2302, '_serve_db', 'return service_model.retrying(serve_func, env=self.env)'],
    [`${ODOO}/service/model.py`, 188, 'retrying', 'result = func()'],
    [`${ODOO}/http.py`, 2357, '_serve_ir_http', 'response = self.dispatcher.dispatch(rule.endpoint, args)'],
    [
      `${ODOO}/http.py`,
      protocol === 'json2' ? 2637 : 2572,
      'dispatch',
      "result = self.request.registry['ir.http']._dispatch(endpoint)",
    ],
    [`${ODOO}/addons/base/models/ir_http.py`, 355, '_dispatch', 'result = endpoint(**request.params)'],
    [`${ODOO}/http.py`, 811, 'route_wrapper', 'result = endpoint(self, *args, **params_ok)'],
  ]
}

function rpcPrefix(version: OdooVersion): Frame[] {
  return version === 18
    ? [
        [`${ODOO}/addons/base/controllers/rpc.py`, 178, 'jsonrpc', 'return dispatch_rpc(service, method, args)'],
        [`${ODOO}/http.py`, 411, 'dispatch_rpc', 'return dispatch(method, params)'],
      ]
    : [
        [`${ADDONS}/rpc/controllers/jsonrpc.py`, 16, 'jsonrpc', 'return dispatch_rpc(service, method, args)'],
        [`${ODOO}/http.py`, 449, 'dispatch_rpc', 'return dispatch(method, params)'],
      ]
}

/** From the object service down to the ORM method call. */
function executeFrames(version: OdooVersion): Frame[] {
  if (version === 18) {
    return [
      [`${ODOO}/service/model.py`, 58, 'dispatch', 'res = execute_kw(db, uid, *params[3:])'],
      [`${ODOO}/service/model.py`, 81, 'execute_kw', 'return execute(db, uid, obj, method, *args, **kw or {})'],
      [`${ODOO}/service/model.py`, 87, 'execute', 'res = execute_cr(cr, uid, obj, method, *args, **kw)'],
    ]
  }
  return [[`${ODOO}/service/model.py`, 133, 'dispatch', 'res = execute_cr(cr, uid, model, method_, args, kw)']]
}

function callKwFrames(version: OdooVersion, protocol: Protocol): Frame[] {
  if (protocol === 'json2')
    return [[`${ADDONS}/rpc/controllers/json2.py`, 86, 'web_json_2_rpc', 'result = func(records, **kwargs)']]
  if (version === 18) {
    return [
      ...executeFrames(18),
      [
        `${ODOO}/service/model.py`,
        72,
        'execute_cr',
        'result = retrying(partial(odoo.api.call_kw, recs, method, args, kw), env)',
      ],
      [`${ODOO}/service/model.py`, 156, 'retrying', 'result = func()'],
      [`${ODOO}/api.py`, 533, 'call_kw', 'result = getattr(recs, name)(*args, **kwargs)'],
    ]
  }
  return [
    ...executeFrames(19),
    [`${ODOO}/service/model.py`, 150, 'execute_cr', 'result = retrying(partial(call_kw, recs, method, args, kw), env)'],
    [`${ODOO}/service/model.py`, 188, 'retrying', 'result = func()'],
    [`${ODOO}/service/model.py`, 97, 'call_kw', 'result = method(recs, *args, **kwargs)'],
  ]
}

const L = {
  18: {
    searchRead: 6121,
    searchReadFields: 6120,
    searchFetch: 1773,
    searchFetchFields: 1779,
    search: 1694,
    searchCount: 1726,
    searchAcl: 5790,
    whereCalc: 5796,
    searchOrder: 5800,
    checkAccess: 4422,
    read: 3842,
    readFields: 3841,
    fetch: 4143,
    determine: 4171,
    checkFieldAccess: 3817,
    write: 4790,
    create: 4963,
    unlink: 3985,
    validate: 4813,
  },
  19: {
    searchRead: 5779,
    searchReadFields: 5779,
    searchFetch: 1408,
    searchFetchFields: 1416,
    search: 1370,
    searchCount: 1387,
    searchAcl: 5356,
    whereCalc: 5358,
    searchOrder: 5375,
    checkAccess: 4120,
    read: 3494,
    readFields: 3494,
    fetch: 3823,
    determine: 3858,
    checkFieldAccess: 3400,
    write: 4471,
    create: 4714,
    unlink: 3620,
    validate: 4496,
  },
} as const

function searchFrames(version: OdooVersion, method: string, site: TraceSite): Frame[] {
  const m = models(version)
  const l = L[version]
  const head: Frame[] =
    method === 'search_count'
      ? [[m, l.searchCount, 'search_count', 'query = self._search(domain, limit=limit)']]
      : [
          method === 'search'
            ? [m, l.search, 'search', 'return self.search_fetch(domain, [], offset=offset, limit=limit, order=order)']
            : [
                m,
                l.searchRead,
                'search_read',
                'records = self.search_fetch(domain or [], fields, offset=offset, limit=limit, order=order)',
              ],
          [
            m,
            l.searchFetch,
            'search_fetch',
            'query = self._search(domain, offset=offset, limit=limit, order=order or self._order)',
          ],
        ]
  switch (site) {
    case 'acl':
      return [
        ...head,
        [m, l.searchAcl, '_search', "self.browse().check_access('read')"],
        [m, l.checkAccess, 'check_access', 'raise result[1]()'],
      ]
    case 'order':
      return [
        ...head,
        [m, l.searchOrder, '_search', 'query.order = self._order_to_sql(order, query)'],
        [
          m,
          version === 18 ? 5609 : 5199,
          '_order_to_sql',
          'term = self._order_field_to_sql(alias, field_name, sql_direction, sql_nulls, query)',
        ],
        [
          m,
          version === 18 ? 5628 : 5218,
          '_order_field_to_sql',
          'raise ValueError(f"Invalid field {fname!r} on model {self._name!r}")',
        ],
      ]
    case 'domain-field':
      return version === 18
        ? [
            ...head,
            [m, l.whereCalc, '_search', 'query = self._where_calc(domain)'],
            [m, 5547, '_where_calc', 'return expression.expression(domain, self).query'],
            [`${ODOO}/osv/expression.py`, 781, '__init__', 'self.expression = domain_combine_anies(domain, model)'],
            [`${ODOO}/osv/expression.py`, 599, 'domain_combine_anies', 'domain_any = _anyfy_leaves(domain, model)'],
            [
              `${ODOO}/osv/expression.py`,
              374,
              '_anyfy_leaves',
              'raise ValueError(f"Invalid field {model._name}.{path[0]} in leaf {item}")',
            ],
          ]
        : [
            ...head,
            [m, 5369, '_search', 'domain = domain.optimize_full(self)'],
            [`${ODOO}/orm/domains.py`, 445, 'optimize_full', 'return self._optimize(model, OptimizationLevel.FULL)'],
            [
              `${ODOO}/orm/domains.py`,
              459,
              '_optimize',
              'previous, domain = domain, domain._optimize_step(model, next_level)',
            ],
            [`${ODOO}/orm/domains.py`, 938, '_optimize_step', 'field, property_name = self.__get_field(model)'],
            [
              `${ODOO}/orm/domains.py`,
              916,
              '__get_field',
              'self._raise("Invalid field %s.%s", model._name, field_name)',
            ],
            [
              `${ODOO}/orm/domains.py`,
              901,
              '_raise',
              'raise error(message % (*args, self.field_expr, self.operator, self.value))',
            ],
          ]
    case 'domain':
      return version === 18
        ? [
            ...head,
            [m, l.whereCalc, '_search', 'query = self._where_calc(domain)'],
            [m, 5547, '_where_calc', 'return expression.expression(domain, self).query'],
            [`${ODOO}/osv/expression.py`, 787, '__init__', 'self.parse()'],
            [`${ODOO}/osv/expression.py`, 952, 'parse', 'push(leaf, self.root_model, self.root_alias)'],
            [`${ODOO}/osv/expression.py`, 939, 'push', 'check_leaf(leaf)'],
            [`${ODOO}/osv/expression.py`, 739, 'check_leaf', 'raise ValueError("Invalid leaf %s" % str(element))'],
          ]
        : [
            ...head,
            [m, l.whereCalc, '_search', 'domain = Domain(domain)'],
            [`${ODOO}/orm/domains.py`, 259, '__new__', 'stack.append(Domain(*item))'],
            [`${ODOO}/orm/domains.py`, 225, '__new__', 'return DomainCondition(*args).checked()'],
            [`${ODOO}/orm/domains.py`, 822, 'checked', 'self._raise("Invalid operator")'],
            [
              `${ODOO}/orm/domains.py`,
              901,
              '_raise',
              'raise error(message % (*args, self.field_expr, self.operator, self.value))',
            ],
          ]
    case 'fields':
      return [
        [
          m,
          l.searchRead,
          'search_read',
          'records = self.search_fetch(domain or [], fields, offset=offset, limit=limit, order=order)',
        ],
        [m, l.searchFetchFields, 'search_fetch', 'fields_to_fetch = self._determine_fields_to_fetch(field_names)'],
        [m, l.determine, '_determine_fields_to_fetch', determineRaise(version)],
      ]
    default:
      return head
  }
}

function determineRaise(version: OdooVersion): string {
  return version === 18
    ? 'raise ValueError(f"Invalid field {field_name!r} on model {self._name!r}")'
    : 'raise ValueError(f"Invalid field {field_name!r} on {self._name!r}") from e'
}

function fieldAccessFrames(version: OdooVersion, method: string, model: string): Frame[] {
  const m = models(version)
  const l = L[version]
  const hr: Frame[] =
    model === 'hr.employee'
      ? [
          [
            `${ADDONS}/hr/models/hr_employee.py`,
            195,
            'check_field_access_rights',
            'result = super().check_field_access_rights(operation, field_names)',
          ],
        ]
      : []
  if (version === 18) {
    const entry: Frame =
      method === 'read'
        ? [m, l.readFields, 'read', "fields = self.check_field_access_rights('read', fields)"]
        : [m, l.searchReadFields, 'search_read', "fields = self.check_field_access_rights('read', fields)"]
    return [entry, ...hr, [m, l.checkFieldAccess, 'check_field_access_rights', 'raise AccessError(error_msg)']]
  }
  const entry: Frame[] =
    method === 'read'
      ? [
          [m, l.read, 'read', 'self._origin.fetch(fields)'],
          [
            m,
            3795,
            'fetch',
            'fields_to_fetch = self._determine_fields_to_fetch(field_names, ignore_when_in_cache=True)',
          ],
        ]
      : [
          [
            m,
            l.searchRead,
            'search_read',
            'records = self.search_fetch(domain or [], fields, offset=offset, limit=limit, order=order)',
          ],
          [m, l.searchFetchFields, 'search_fetch', 'fields_to_fetch = self._determine_fields_to_fetch(field_names)'],
        ]
  return [
    ...entry,
    [m, 3860, '_determine_fields_to_fetch', "self.check_field_access(field, 'read')"],
    [m, l.checkFieldAccess, 'check_field_access', 'raise AccessError(error_msg)'],
  ]
}

function ormFrames(error: OdooError, version: OdooVersion): Frame[] {
  const m = models(version)
  const l = L[version]
  const method = error.extra.method ?? ''
  const model = error.extra.model ?? ''
  const site = error.site
  if (site === 'field-access') return fieldAccessFrames(version, method, model)
  if (site === 'hr-private') {
    const entry: Frame =
      method === 'read'
        ? [m, l.read, 'read', 'self._origin.fetch(fields)']
        : [
            m,
            l.searchRead,
            'search_read',
            'records = self.search_fetch(domain or [], fields, offset=offset, limit=limit, order=order)',
          ]
    return [
      entry,
      [
        `${ADDONS}/hr/models/hr_employee.py`,
        method === 'read' ? 1128 : 1111,
        method === 'read' ? 'fetch' : 'search_fetch',
        'self._check_private_fields(field_names)',
      ],
      [
        `${ADDONS}/hr/models/hr_employee.py`,
        1156,
        '_check_private_fields',
        "raise AccessError(_('The fields “%s”, which you are trying to read, are not available for employee public profiles.', ','.join(private_fields)))",
      ],
    ]
  }
  if (site === 'hr-search') {
    return [
      method === 'search_count'
        ? [m, l.searchCount, 'search_count', 'query = self._search(domain, limit=limit)']
        : [m, l.search, 'search', 'return self.search_fetch(domain, [], offset=offset, limit=limit, order=order)'],
      [
        `${ADDONS}/hr/models/hr_employee.py`,
        version === 18 ? 395 : 1207,
        '_search',
        "raise AccessError(_('You do not have access to this document.'))",
      ],
    ]
  }
  if (method === 'read' || method === 'read_group' || method === 'formatted_read_group') {
    if (site === 'rule') {
      return [
        [m, l.read, 'read', 'self._origin.fetch(fields)'],
        [m, l.fetch, 'fetch', "raise self.env['ir.rule']._make_access_error('read', forbidden)"],
      ]
    }
    if (site === 'fields') {
      return [
        [m, l.read, 'read', 'self._origin.fetch(fields)'],
        [m, 3795, 'fetch', 'fields_to_fetch = self._determine_fields_to_fetch(field_names, ignore_when_in_cache=True)'],
        [m, l.determine, '_determine_fields_to_fetch', determineRaise(version)],
      ]
    }
    if (site === 'acl') {
      return [
        [m, l.read, 'read', 'self._origin.fetch(fields)'],
        [m, 3803, 'fetch', "queries.append(self._search([('id', 'in', ids)], active_test=False))"],
        [m, l.searchAcl, '_search', "self.browse().check_access('read')"],
        [m, l.checkAccess, 'check_access', 'raise result[1]()'],
      ]
    }
  }
  if (['search_read', 'search', 'search_count', 'name_search', 'search_fetch'].includes(method)) {
    const viaPublic = model === 'hr.employee' && (site === 'order' || site === 'domain-field')
    const frames = searchFrames(
      version,
      method === 'name_search' || method === 'search_fetch' ? 'search' : method,
      site,
    )
    if (viaPublic && frames.length > 1) {
      frames.splice(1, 0, [
        `${ADDONS}/hr/models/hr_employee.py`,
        version === 18 ? 310 : 1114,
        'search_fetch',
        "public = self.env['hr.employee.public'].search_fetch(domain, field_names, offset, limit, order)",
      ])
    }
    return frames
  }
  const mailThread = ['res.partner', 'sale.order', 'hr.employee'].includes(model)
  switch (site) {
    case 'acl':
    case 'rule': {
      const op = method === 'create' ? 'create' : method === 'unlink' ? 'unlink' : 'write'
      const line = method === 'create' ? l.create : method === 'unlink' ? l.unlink : l.write
      return [
        [m, line, method === 'create' || method === 'unlink' ? method : 'write', `self.check_access('${op}')`],
        [
          m,
          l.checkAccess,
          'check_access',
          site === 'acl' ? 'raise result[1]()' : 'raise inaccessible._make_access_error_message(operation, domain)',
        ],
      ]
    }
    case 'missing':
      return [
        ...(mailThread
          ? ([
              [
                `${ADDONS}/mail/models/mail_thread.py`,
                version === 18 ? 338 : 388,
                'write',
                'self._track_prepare(self._fields)',
              ],
              [
                `${ADDONS}/mail/models/mail_thread.py`,
                version === 18 ? 505 : 566,
                '_track_prepare',
                'values.setdefault(fname, record[fname])',
              ],
            ] satisfies Frame[])
          : ([[m, l.write, method || 'write', "self.check_access('write')"]] satisfies Frame[])),
        [m, version === 18 ? 7061 : 6688, '__getitem__', 'return self._fields[key].__get__(self)'],
        [
          `${ODOO}/${version === 18 ? 'fields.py' : 'orm/fields.py'}`,
          version === 18 ? 1272 : 1712,
          '__get__',
          'raise MissingError("\\n".join([',
        ],
      ]
    case 'constraint':
      return [
        [m, l.validate, 'write', 'real_recs._validate_fields(vals, inverse_fields)'],
        [m, version === 18 ? 1631 : 1268, '_validate_fields', version === 18 ? 'check(self)' : 'check(records)'],
        [
          `${ODOO}/addons/base/models/res_partner.py`,
          version === 18 ? 477 : 544,
          '_check_parent_id',
          "raise ValidationError(_('You cannot create recursive Partner hierarchies.'))",
        ],
      ]
    case 'write-field':
      return [
        [
          m,
          method === 'create' ? l.create - 40 : l.write - 37,
          method || 'write',
          'raise ValueError("Invalid field %r on model %r" % (fname, self._name))',
        ],
      ]
    case 'user-error':
      return [
        [m, l.unlink - 6, method || 'unlink', 'func(self)'],
        [
          `${ADDONS}/sale/models/sale_order.py`,
          version === 18 ? 727 : 812,
          '_unlink_except_draft_or_cancel',
          'raise UserError(_(',
        ],
      ]
    case 'signature':
      return []
    default:
      return [[m, 1000, method || 'call', `return self._${method || 'call'}()`]]
  }
}

/** The traceback a PostgreSQL error leaves before Odoo turns it into a ValidationError. */
function sqlTraceback(error: OdooError, version: OdooVersion, protocol: Protocol): string {
  const m = models(version)
  const l = L[version]
  const sql = error.extra.sql
  const method = error.extra.method === 'unlink' ? 'unlink' : 'create'
  const inner: Frame[] = [
    ...httpPrefix(version, protocol).slice(2),
    ...(protocol === 'jsonrpc' ? rpcPrefix(version) : []),
    ...callKwFrames(version, protocol),
    method === 'create'
      ? [m, l.create, 'create', 'records = self._create(data_list)']
      : [
          m,
          l.unlink,
          'unlink',
          'cr.execute(SQL("DELETE FROM %s WHERE id IN %s", SQL.identifier(self._table), sub_ids))',
        ],
    ...(method === 'create'
      ? ([[m, version === 18 ? 5088 : 4890, '_create', 'cr.execute(SQL(']] satisfies Frame[])
      : []),
    [`${ODOO}/sql_db.py`, version === 18 ? 357 : 440, 'execute', 'self._obj.execute(query, params)'],
  ]
  const outer: Frame[] = [
    httpPrefix(version, protocol)[0] as Frame,
    [`${ODOO}/service/model.py`, version === 18 ? 182 : 214, 'retrying', 'raise ValidationError(message) from exc'],
  ]
  return (
    `${render(inner)}${sql?.pgError ?? 'psycopg2.IntegrityError'}: ${sql?.pgMessage ?? ''}\n\n` +
    `The above exception was the direct cause of the following exception:\n\n` +
    `${render(outer)}${finalLine(error)}\n`
  )
}

function finalLine(error: OdooError): string {
  const name = error.exceptionName
  if (error.extra.httpStatus !== undefined) {
    const reason = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 422: 'Unprocessable Entity' }[
      error.extra.httpStatus
    ]
    return `${name}: ${error.extra.httpStatus} ${reason ?? ''}: ${error.message}`
  }
  const shortName = name.startsWith('builtins.') ? name.slice('builtins.'.length) : name
  return `${shortName}: ${error.message}`
}

function json2Frames(error: OdooError): Frame[] {
  const json2 = `${ADDONS}/rpc/controllers/json2.py`
  switch (error.site) {
    case 'json2-auth':
      return [
        [`${ODOO}/http.py`, 2302, '_serve_db', 'return service_model.retrying(serve_func, env=self.env)'],
        [`${ODOO}/service/model.py`, 188, 'retrying', 'result = func()'],
        [`${ODOO}/http.py`, 2355, '_serve_ir_http', "self.registry['ir.http']._authenticate(rule.endpoint)"],
        [`${ODOO}/addons/base/models/ir_http.py`, 275, '_authenticate', 'cls._authenticate_explicit(auth)'],
        [
          `${ODOO}/addons/base/models/ir_http.py`,
          284,
          '_authenticate_explicit',
          "getattr(cls, f'_auth_method_{auth}')()",
        ],
        [
          `${ODOO}/addons/base/models/ir_http.py`,
          error.message.startsWith('User not authenticated') ? 250 : 242,
          '_auth_method_bearer',
          "raise Unauthorized(e, www_authenticate=WWWAuthenticate('bearer'))",
        ],
      ]
    case 'json2-route':
      return [...httpPrefix(19, 'json2'), [json2, 47, 'web_json_2_404', 'raise request.not_found(e)']]
    case 'json2-unknown-model':
      return [...httpPrefix(19, 'json2'), [json2, 69, 'web_json_2_rpc', 'raise NotFound(e) from exc']]
    case 'json2-unknown-method':
      return [...httpPrefix(19, 'json2'), [json2, 74, 'web_json_2_rpc', 'raise NotFound(e) from exc']]
    case 'private-method':
      return [
        ...httpPrefix(19, 'json2'),
        [json2, 72, 'web_json_2_rpc', 'func = get_public_method(Model, __method__)'],
        [`${ODOO}/service/model.py`, 55, 'get_public_method', 'raise AccessError(e)'],
      ]
    case 'json2-ids':
      return [...httpPrefix(19, 'json2'), [json2, 77, 'web_json_2_rpc', 'raise UnprocessableEntity(e)']]
    case 'json2-bind':
      return [
        ...httpPrefix(19, 'json2'),
        [json2, 84, 'web_json_2_rpc', 'raise UnprocessableEntity(exc.args[0]) from exc'],
      ]
    case 'json2-bad-json':
      return [
        ...httpPrefix(19, 'json2').slice(0, 3),
        [`${ODOO}/http.py`, 2630, 'dispatch', 'raise werkzeug.exceptions.BadRequest(e) from exc'],
      ]
    default:
      return [...httpPrefix(19, 'json2'), ...callKwFrames(19, 'json2'), ...ormFrames(error, 19)]
  }
}

/** Frames of a call over /jsonrpc, from the HTTP layer to the raise. */
function jsonrpcFrames(error: OdooError, version: OdooVersion): Frame[] {
  const prefix = [...httpPrefix(version, 'jsonrpc'), ...rpcPrefix(version)]
  const model = `${ODOO}/service/model.py`
  switch (error.site) {
    case 'auth':
      return [
        ...prefix,
        [model, version === 18 ? 49 : 121, 'dispatch', 'security.check(db, uid, passwd)'],
        [`${ODOO}/service/security.py`, 11, 'check', 'return res_users.check(db, uid, passwd)'],
        [
          `${ODOO}/addons/base/models/res_users.py`,
          version === 18 ? 995 : 1064,
          'check',
          "self._check_credentials(credential, {'interactive': False})",
        ],
        [
          `${ODOO}/addons/base/models/res_users.py`,
          version === 18 ? 2309 : 2412,
          '_check_credentials',
          'raise AccessDenied()',
        ],
      ]
    case 'db':
      return [
        ...prefix,
        [model, version === 18 ? 49 : 121, 'dispatch', 'security.check(db, uid, passwd)'],
        [`${ODOO}/service/security.py`, 10, 'check', "res_users = Registry(db)['res.users']"],
        [`${ODOO}/modules/registry.py`, 89, '__new__', 'return cls.new(db_name)'],
        [`${ODOO}/sql_db.py`, 692, 'borrow', 'result = psycopg2.connect('],
      ]
    case 'rpc-service':
      return [...prefix.slice(0, -1), [`${ODOO}/http.py`, version === 18 ? 404 : 442, 'dispatch_rpc', 'dispatch = {']]
    case 'unknown-model':
      return [
        ...prefix,
        ...executeFrames(version),
        [model, version === 18 ? 70 : 146, 'execute_cr', 'raise UserError(env._("Object %s doesn\'t exist", obj))'],
      ]
    case 'unknown-method':
    case 'private-method':
      return [
        ...prefix,
        ...executeFrames(version),
        [
          model,
          version === 18 ? 71 : 147,
          'execute_cr',
          "get_public_method(recs, method)  # Don't use the result, call_kw will redo the getattr",
        ],
        [
          model,
          error.site === 'private-method' ? 34 : 38,
          'get_public_method',
          error.site === 'private-method'
            ? 'raise AccessError(f"Private methods (such as \'{model._name}.{name}\') cannot be called remotely.")'
            : 'raise AttributeError(f"The method \'{model._name}.{name}\' does not exist")  # noqa: TRY004',
        ],
      ]
    default:
      return [...prefix, ...callKwFrames(version, 'jsonrpc'), ...ormFrames(error, version)]
  }
}

export function buildTraceback(error: OdooError, version: OdooVersion, protocol: Protocol): string {
  // Odoo 19 strips the traceback of AccessDenied (only the exception line is left): see transcript 34.
  if (version === 19 && error.exceptionName === 'odoo.exceptions.AccessDenied') return `${finalLine(error)}\n`
  if (error.extra.sql) return sqlTraceback(error, version, protocol)
  const frames = protocol === 'json2' ? json2Frames(error) : jsonrpcFrames(error, version)
  return `${render(frames)}${finalLine(error)}\n`
}
