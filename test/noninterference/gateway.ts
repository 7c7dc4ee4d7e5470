/**
 * The gateway's request path for one tool call, run in-process against a simulated Odoo: the tool's argument
 * schema (as the MCP SDK applies it), `runTool` (plan → guard → Odoo operations → output filters → MCP result),
 * the Odoo client speaking JSON-RPC or JSON-2, and the simulator answering those bytes. Only the HTTP hop is
 * replaced: `fetch` hands the request to the simulator's runtime-neutral handler, so thousands of calls a second fit
 * in a property run.
 */
import { z } from 'zod'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { createGuardedOdoo } from '../../src/guard/guarded-odoo'
import { createPolicyGuard } from '../../src/guard/policy-guard'
import { runTool, type ToolDefinition } from '../../src/mcp/tool'
import { ALL_TOOLS } from '../../src/mcp/tools'
import { createOdooClient } from '../../src/odoo/client'
import type { FetchLike } from '../../src/odoo/http'
import { createMetadataSource } from '../../src/odoo/metadata'
import { createOdooOperations } from '../../src/odoo/operations'
import { createMaskHasher, type MaskHasher } from '../../src/policy/masks'
import type { Policy } from '../../src/policy/schema'
import { handleOdooRequest, type SimState } from '../odoo-sim/handler'
import { KEY_UID, TODAY } from './world'

const TOOLS = new Map((ALL_TOOLS as unknown as ToolDefinition[]).map((tool) => [tool.name, { tool, input: z.object(tool.inputSchema) }]))

/** The simulated Odoo servers reachable by URL (`http://<name>.odoo.test`). */
const servers = new Map<string, SimState>()

const simFetch: FetchLike = async (input, init) => {
  const url = new URL(input)
  const state = servers.get(url.host)
  if (!state) throw new TypeError(`fetch failed: no simulated Odoo at ${url.host}`)
  const headers: Record<string, string> = {}
  new Headers(init.headers).forEach((value, name) => (headers[name] = value))
  const answer = handleOdooRequest(state, {
    method: init.method ?? 'GET',
    path: url.pathname + url.search,
    headers,
    body: typeof init.body === 'string' ? init.body : '',
  })
  return new Response(answer.status === 204 || answer.status === 304 ? null : answer.body, { status: answer.status, headers: answer.headers })
}

/** The suite's keys' hasher for `hash` masks (one fixed HMAC key: both databases must hash alike). */
let hasher: Promise<MaskHasher> | undefined
const maskHasher: MaskHasher = async (text) =>
  (await (hasher ??= crypto.subtle
    .importKey('raw', new TextEncoder().encode('noninterference-mask-key'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
    .then(createMaskHasher)))(text)

/** Puts `state` behind `http://<name>.odoo.test` (replacing whatever was there) and returns that URL. */
export function serve(name: string, state: SimState): string {
  servers.set(`${name}.odoo.test`, state)
  return `http://${name}.odoo.test`
}

export interface Caller {
  /** Calls a tool as the gateway would and returns the MCP result exactly as the client would receive it. */
  call(tool: string, args: unknown): Promise<CallToolResult>
}

/**
 * A key bound to the demo `admin` (every Odoo right: only the gateway stands between the key and the data) with
 * `policy`, talking to the Odoo at `url`. JSON-2 for a 19 server, JSON-RPC for 18.
 */
export function keyCaller(url: string, version: 18 | 19, policy: Policy | null): Caller {
  const odoo = createOdooClient({
    baseUrl: url,
    db: 'mcp_demo',
    protocol: version === 19 ? 'json2' : 'jsonrpc',
    timeoutMs: 5000,
    credentials: { login: 'admin', secret: 'odoo-apikey-admin' },
    uidCacheKey: `noninterference:${url}`,
    knownUid: 2,
    fetch: simFetch,
  })
  // Version 2 services as the session gives them (src/gateway/session.ts): placeholder values and the mask hasher.
  const guard = createPolicyGuard(policy, createMetadataSource(odoo, `${url}|admin`), {
    placeholders: async () => ({ uid: KEY_UID, companyIds: policy?.companies ?? [], today: TODAY }),
    maskHasher,
  })
  const context = {
    requestId: 'req_noninterference',
    guard,
    odoo: createGuardedOdoo(createOdooOperations(odoo), guard),
    logError(error: unknown): void {
      // Our own faults are answered generically; a property run must see them, not compare two identical 500s.
      throw error
    },
  }
  return {
    async call(name, args) {
      const entry = TOOLS.get(name)
      if (!entry) throw new Error(`unknown tool ${name}`)
      const parsed = entry.input.safeParse(args)
      // The SDK answers invalid arguments with a tool error naming the problem; the text is the same on both sides.
      if (!parsed.success) return { content: [{ type: 'text', text: `Invalid arguments: ${parsed.error.message}` }], isError: true }
      return runTool(entry.tool, parsed.data, context)
    },
  }
}
