// Shared types of the Odoo simulator. The simulator core is runtime-neutral: nothing here touches node:*.

export type OdooVersion = 18 | 19
export type Protocol = 'jsonrpc' | 'json2'

export type Json = null | boolean | number | string | Json[] | JsonObject
export interface JsonObject {
  [key: string]: Json
}

/** A Python float: serialized with a decimal point (`1740.0`) like Python's json module does. */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** What ORM methods return before serialization: JSON plus Python floats. */
export type Out = null | boolean | number | string | PyFloat | Out[] | OutObject
export interface OutObject {
  [key: string]: Out
}

/** Stored field value. `false` is Odoo's "empty" (NULL) for every type but boolean. */
export type StoredValue = string | number | boolean | number[]

export interface StoredRecord {
  id: number
  [field: string]: StoredValue
}

export type FieldType =
  | 'char'
  | 'text'
  | 'html'
  | 'integer'
  | 'float'
  | 'monetary'
  | 'boolean'
  | 'date'
  | 'datetime'
  | 'selection'
  | 'many2one'
  | 'one2many'
  | 'many2many'

export type Aggregator = 'sum' | 'avg' | 'min' | 'max' | 'count' | 'count_distinct' | 'bool_and' | 'bool_or'

export interface HttpRequest {
  method: string
  /** Path with query string, as received. */
  path: string
  /** Header names in lower case. */
  headers: Record<string, string>
  body: string
}

export interface HttpResponse {
  status: number
  headers: Record<string, string>
  body: string
}
