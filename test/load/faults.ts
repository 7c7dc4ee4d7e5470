/**
 * Odoo faults as an agent meets them: each fault mode of the proxy (test/load/odoo-faults.ts), plus a refused
 * connection, behind an ordinary `count_records` call. Each must come back as a tool error that says what happened,
 * within ODOO_TIMEOUT_MS (plus a margin), and leave an audit record with an error outcome.
 */
import { FAULT_MARKER, type FaultProxy, type OdooFault } from './odoo-faults'
import { callTool, type CallRecord, type McpTarget, type ToolCall } from './traffic'

export type FaultMode = OdooFault | 'refused'

export const FAULT_MODES: FaultMode[] = ['refused', 'http_500', 'html_page', 'invalid_json', 'stall', 'trickle']

export interface FaultExpectation {
  /** The tool error text. */
  text: RegExp
  /** The audit record's code (outcome `error`). */
  auditCode: string
  /** The call waits for ODOO_TIMEOUT_MS by design. */
  timesOut: boolean
}

/** What the gateway is expected to say (src/odoo/http.ts, src/odoo/errors.ts, src/mcp/tool.ts). */
export function faultExpectation(mode: FaultMode, timeoutMs: number): FaultExpectation {
  switch (mode) {
    case 'refused':
      return { text: /^Odoo unavailable: Odoo is unreachable \(connection failed\)/, auditCode: 'odoo_unavailable', timesOut: false }
    case 'http_500':
      // A JSON-RPC error body: Odoo's exception and message, never its traceback.
      return { text: /^Odoo OperationalError: server closed the connection unexpectedly$/, auditCode: 'odoo_operational_error', timesOut: false }
    case 'html_page':
      return { text: /^Odoo unavailable: Odoo answered HTTP 500 with an HTML page instead of JSON$/, auditCode: 'odoo_unavailable', timesOut: false }
    case 'invalid_json':
      return { text: /^Odoo unavailable: Odoo answered HTTP 200 with invalid JSON$/, auditCode: 'odoo_unavailable', timesOut: false }
    case 'stall':
    case 'trickle':
      return { text: new RegExp(`^Odoo unavailable: Odoo did not answer within ${timeoutMs} ms$`), auditCode: 'odoo_unavailable', timesOut: true }
  }
}

/** Text the proxy's fault bodies carry that must never reach the agent. */
export const LEAK_MARKERS = ['Traceback', 'LOAD_TEST_SECRET_PATH', '<title>', '/opt/odoo']

/** The call whose Odoo request gets the fault (the marker travels in the search domain). */
export function faultCall(mode: FaultMode): ToolCall {
  return {
    tool: 'count_records',
    arguments: { model: 'res.partner', domain: [['name', '=', `${FAULT_MARKER}${mode}`]] },
    expect: 'tool_error',
  }
}

export interface FaultResult extends CallRecord {
  mode: FaultMode
  underLoad: boolean
}

/** `count` calls of one fault mode at once, each a fault; a refused connection is a window around them. */
export async function runFault(
  target: McpTarget,
  key: { label: string; key: string },
  proxy: FaultProxy,
  mode: FaultMode,
  count: number,
  underLoad: boolean,
): Promise<FaultResult[]> {
  if (mode === 'refused') await proxy.refuseConnections()
  try {
    return await Promise.all(
      Array.from({ length: count }, async () => {
        const call = faultCall(mode)
        const answer = await callTool(target, key.key, call)
        return { ...answer, key: key.label, call, mode, underLoad }
      }),
    )
  } finally {
    if (mode === 'refused') await proxy.acceptConnections()
  }
}
