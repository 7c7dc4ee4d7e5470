/**
 * `npm run bench -- --oauth`: what OAuth sign-in (docs/OAUTH.md) costs, on the runtime bench/run.ts uses (wrangler's
 * startWorker without the DevTools inspector, local D1, Durable Objects and KV, the simulated Odoo 18 on loopback).
 *
 *   1. The same `search_records` call as bench/run.ts, once with an API key and once with an OAuth access token, both
 *      with the same policy, at concurrency 1 and 16 in alternating rounds (so a noisy neighbour hurts both alike):
 *      what a request pays for presenting a token instead of a key. The key is found in a per-isolate map; the token
 *      is validated by the library on every request (hashed lookup in KV, unwrap of the grant's key, AES-GCM decrypt
 *      of its props), and the connection's object then decides the rest as a key's does.
 *   2. Signing in, as an MCP client and its user's browser do it: POST /register → GET /authorize (the page) →
 *      POST /authorize (the Odoo login and secret checked against Odoo) → POST /token. Each sign-in is a new client
 *      and a new connection (its own object).
 *   3. Refreshing: POST /token with grant_type=refresh_token, rotating (each call presents the token the last issued).
 *
 * PUBLIC_URL fixes the issuer and the tokens' audience only; it need not be where the gateway listens. The library
 * serves /register, /authorize and /token only at the issuer's origin, though, so those requests carry its host in
 * the Host header (fetch would not let us set Host; node:http does). /mcp checks the token's audience, not the Host.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { Agent, request, type IncomingHttpHeaders } from 'node:http'
import { cpus, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { executeFile, executeSql, type D1Target } from '../cli/d1'
import { createKey } from '../cli/keys-store'
import { sql } from '../cli/sql'
import { generateCredentialsKey, importCredentialsKey } from '../src/lib/crypto'
import { startOdooSimulator } from '../test/odoo-sim/server'
import { startWorkerWithoutDevTools, type LocalWorker } from '../test/support/worker-without-devtools'
import { DOMAIN, FIELDS, LIMIT, load, searchViaGateway } from './http-load'
import { processTreeCpuMs } from './process-cpu'
import { round, summarize, type Summary } from './stats'

const PROJECT = resolve(dirname(new URL(import.meta.url).pathname), '..')
/** Any loopback http origin will do (see above); not a port anything listens on. */
const PUBLIC_URL = 'http://localhost:8799'
const RESOURCE = `${PUBLIC_URL}/mcp`
/** A native app's loopback callback; nothing needs to listen there, the bench reads the code from the redirect. */
const CALLBACK = 'http://127.0.0.1:33418/callback'
const PROFILE = 'bench'
/** Both credentials get this policy: what the bench measures is how the request is authenticated, nothing else. */
const POLICY = { version: 1, models: { 'res.partner': { operations: ['read'], fields: '*' } }, rateLimit: { perMinute: 1_000_000 } }
const LEVELS = [1, 16]
/** Rounds per level; each round runs both sides, the order alternating from round to round. */
const ROUNDS = 4
const SIGN_INS = 20
const REFRESHES = 50
const WARM_UP_SIGN_INS = 2
const WARM_UP_REFRESHES = 5

interface Answer {
  status: number
  headers: IncomingHttpHeaders
  text: string
}

/** Keep-alive, as fetch's own pool, so the OAuth steps do not pay a TCP handshake each that /mcp calls do not. */
const agent = new Agent({ keepAlive: true })

/** One request to the gateway as if at PUBLIC_URL's origin (Host header); redirects are returned, not followed. */
function oauthRequest(gatewayUrl: string, path: string, init: { method: string; headers?: Record<string, string>; body?: string }): Promise<Answer> {
  const target = new URL(gatewayUrl)
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { agent, hostname: target.hostname, port: target.port, path, method: init.method, headers: { host: new URL(PUBLIC_URL).host, ...init.headers } },
      (response) => {
        let text = ''
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text }))
        response.on('error', reject)
      },
    )
    outgoing.on('error', reject)
    outgoing.end(init.body)
  })
}

function expectStatus(step: string, answer: Answer, status: number): void {
  if (answer.status !== status) throw new Error(`${step} answered ${answer.status} (expected ${status}): ${answer.text.slice(0, 300)}`)
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

/** RFC 7636 S256: a random verifier and its 43-character challenge. */
async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const verifier = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
  const challenge = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))).toString('base64url')
  return { verifier, challenge }
}

interface Tokens {
  access_token: string
  refresh_token: string
}

interface SignIn {
  clientId: string
  tokens: Tokens
  /** Milliseconds per step, and in all. */
  ms: { register: number; page: number; submit: number; token: number; total: number }
}

/** One whole sign-in: a new client registers, its user signs in as admin and allows, the client redeems the code. */
async function signIn(gatewayUrl: string, index: number): Promise<SignIn> {
  const times: number[] = [performance.now()]
  const lap = () => times.push(performance.now())

  const registered = await oauthRequest(gatewayUrl, '/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: `OAuth bench client ${index}`,
      redirect_uris: [CALLBACK],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    }),
  })
  expectStatus('POST /register', registered, 201)
  const clientId = (JSON.parse(registered.text) as { client_id: string }).client_id
  lap()

  const { verifier, challenge } = await pkce()
  const state = `bench-${index}`
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: CALLBACK,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: RESOURCE,
    scope: 'odoo',
  })
  const authorizePath = `/authorize?${query}`
  const page = await oauthRequest(gatewayUrl, authorizePath, { method: 'GET' })
  expectStatus('GET /authorize', page, 200)
  const handle = /name="handle" value="([^"]*)"/.exec(page.text)?.[1]
  if (!handle) throw new Error('GET /authorize: no consent handle in the page')
  // The consent cookie (`__Host-…`) binds the handle to this "browser"; sent back as it came.
  const cookie = (page.headers['set-cookie'] ?? []).map((line) => line.split(';')[0]!).join('; ')
  lap()

  const submitted = await oauthRequest(gatewayUrl, authorizePath, {
    method: 'POST',
    headers: { ...FORM, cookie, origin: PUBLIC_URL, 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ handle, decision: 'approve', login: 'admin', secret: 'admin' }).toString(),
  })
  expectStatus('POST /authorize', submitted, 302)
  const redirect = new URL(submitted.headers.location ?? '')
  const code = redirect.searchParams.get('code')
  if (!code || redirect.searchParams.get('state') !== state) throw new Error(`POST /authorize: unexpected redirect ${redirect.origin}${redirect.pathname}`)
  lap()

  const redeemed = await oauthRequest(gatewayUrl, '/token', {
    method: 'POST',
    headers: FORM,
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK, client_id: clientId, code_verifier: verifier, resource: RESOURCE }).toString(),
  })
  expectStatus('POST /token (authorization_code)', redeemed, 200)
  const tokens = JSON.parse(redeemed.text) as Tokens
  lap()

  const step = (i: number) => times[i + 1]! - times[i]!
  return { clientId, tokens, ms: { register: step(0), page: step(1), submit: step(2), token: step(3), total: times[4]! - times[0]! } }
}

/** One rotating refresh: returns the new tokens (the old refresh token is spent). */
async function refresh(gatewayUrl: string, clientId: string, refreshToken: string): Promise<Tokens> {
  const answer = await oauthRequest(gatewayUrl, '/token', {
    method: 'POST',
    headers: FORM,
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, resource: RESOURCE }).toString(),
  })
  expectStatus('POST /token (refresh_token)', answer, 200)
  return JSON.parse(answer.text) as Tokens
}

/** The profile every OAuth connection of the bench gets, inserted as `odoo-mcp connectors add` would. */
function addProfile(target: D1Target): Promise<unknown> {
  return executeSql(
    target,
    sql`INSERT INTO connector_profiles (name, policy, logins, client_name, redirect_uris, token_ttl_seconds, connection_ttl_seconds, created_at)
        VALUES (${PROFILE}, ${JSON.stringify(POLICY)}, NULL, NULL, ${JSON.stringify([CALLBACK])}, 3600, ${30 * 86_400}, ${Date.now()})`,
  )
}

interface Side {
  summary: Summary
  rps: number
  /** The runtime's CPU per request (workerd and its launcher, all threads; Linux only). */
  runtimeCpuMs: number | null
}

interface LevelResult {
  concurrency: number
  apiKey: Side
  oauth: Side
  overheadP50Ms: number
  ratioP50: number
  ratioP95: number
}

/** Both sides at one concurrency, in ROUNDS alternating rounds of requests / ROUNDS calls each. */
async function compareAtLevel(sides: Record<'apiKey' | 'oauth', () => Promise<unknown>>, requests: number, concurrency: number, gateway: LocalWorker): Promise<LevelResult> {
  const perRound = Math.ceil(requests / ROUNDS)
  const acc = {
    apiKey: { samples: [] as number[], elapsed: 0, cpu: 0 as number | null },
    oauth: { samples: [] as number[], elapsed: 0, cpu: 0 as number | null },
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const side of r % 2 === 0 ? (['apiKey', 'oauth'] as const) : (['oauth', 'apiKey'] as const)) {
      const cpuBefore = processTreeCpuMs(gateway.pid)
      const t0 = performance.now()
      acc[side].samples.push(...(await load(sides[side], perRound, concurrency)))
      acc[side].elapsed += performance.now() - t0
      const cpuAfter = processTreeCpuMs(gateway.pid)
      acc[side].cpu = cpuBefore === null || cpuAfter === null || acc[side].cpu === null ? null : acc[side].cpu + cpuAfter - cpuBefore
    }
  }
  const side = (name: 'apiKey' | 'oauth'): Side => ({
    summary: summarize(acc[name].samples),
    rps: round((acc[name].samples.length / acc[name].elapsed) * 1000, 0),
    runtimeCpuMs: acc[name].cpu === null ? null : round(acc[name].cpu / acc[name].samples.length, 2),
  })
  const apiKey = side('apiKey')
  const oauth = side('oauth')
  return {
    concurrency,
    apiKey,
    oauth,
    overheadP50Ms: round(oauth.summary.p50 - apiKey.summary.p50),
    ratioP50: round(oauth.summary.p50 / apiKey.summary.p50, 3),
    ratioP95: round(oauth.summary.p95 / apiKey.summary.p95, 3),
  }
}

const median = (xs: number[]) => round(summarize(xs).p50, 1)
const rounded = (summary: Summary) => Object.fromEntries(Object.entries(summary).map(([k, v]) => [k, round(v)]))

export async function runOAuthBench(options: { latencyMs: number; requests: number; log: (text: string) => void }): Promise<void> {
  const { latencyMs, requests, log } = options
  log(`odoo-mcp-edge OAuth bench: simulated Odoo latency ${latencyMs} ms, ${requests} requests per side and level, ` +
    `${SIGN_INS} sign-ins, ${REFRESHES} refreshes`)
  const odoo = await startOdooSimulator({ version: 18, latencyMs })
  const work = await mkdtemp(join(tmpdir(), 'odoo-mcp-oauth-bench-'))
  const credentialsKey = generateCredentialsKey()
  const target: D1Target = { remote: false, configPath: join(PROJECT, 'wrangler.toml'), persistTo: join(work, 'state') }
  let gateway: LocalWorker | undefined
  try {
    await executeFile(target, join(PROJECT, 'schema.sql'))
    await addProfile(target)
    const key = await createKey(target, await importCredentialsKey(credentialsKey), {
      name: 'oauth bench',
      odooLogin: 'admin',
      odooSecret: 'admin',
      policy: JSON.stringify(POLICY),
      expiresAt: null,
      now: Date.now(),
    })
    gateway = await startWorkerWithoutDevTools(target.configPath, target.persistTo!, {
      ODOO_URL: odoo.url,
      ODOO_DB: 'mcp_demo',
      ODOO_PROTOCOL: 'jsonrpc',
      CREDENTIALS_KEY: credentialsKey,
      PUBLIC_URL,
    }, '/healthz')
    const gatewayUrl = gateway.url

    // The connection the comparison uses, then warm-up: isolate start, JIT, the key directory, both objects, the
    // Odoo sessions' caches (server version, uid, fields_get).
    const connection = await signIn(gatewayUrl, 0)
    const sides = {
      apiKey: () => searchViaGateway(gatewayUrl, key.key),
      oauth: () => searchViaGateway(gatewayUrl, connection.tokens.access_token),
    }
    await load(sides.apiKey, 50, 4)
    await load(sides.oauth, 50, 4)

    const levels: LevelResult[] = []
    for (const concurrency of LEVELS) {
      levels.push(await compareAtLevel(sides, requests, concurrency, gateway))
      log(`  search_records at concurrency ${concurrency}: done`)
    }

    // Sign-ins, one after another; the simulator counts the Odoo calls each makes.
    for (let i = 0; i < WARM_UP_SIGN_INS; i++) await signIn(gatewayUrl, 1 + i)
    const signIns: SignIn[] = []
    const odooCallsBefore = odoo.callCount()
    for (let i = 0; i < SIGN_INS; i++) signIns.push(await signIn(gatewayUrl, 1 + WARM_UP_SIGN_INS + i))
    const odooCallsPerSignIn = round((odoo.callCount() - odooCallsBefore) / SIGN_INS, 1)
    const stepMedians = Object.fromEntries(
      (['register', 'page', 'submit', 'token', 'total'] as const).map((step) => [step, median(signIns.map((s) => s.ms[step]))]),
    ) as SignIn['ms']
    log(`  sign-ins: done`)

    // Refreshes of the last sign-in's connection (not the one measured above), each with the token the last issued.
    const last = signIns[signIns.length - 1]!
    let refreshToken = last.tokens.refresh_token
    for (let i = 0; i < WARM_UP_REFRESHES; i++) refreshToken = (await refresh(gatewayUrl, last.clientId, refreshToken)).refresh_token
    const refreshMs: number[] = []
    for (let i = 0; i < REFRESHES; i++) {
      const t0 = performance.now()
      refreshToken = (await refresh(gatewayUrl, last.clientId, refreshToken)).refresh_token
      refreshMs.push(performance.now() - t0)
    }
    const refreshSummary = summarize(refreshMs)
    log(`  refreshes: done`)

    log('')
    log('search_records with an API key (a) vs an OAuth access token (b), latency in ms; CPU = the runtime\'s ms per request')
    log('(at concurrency 1 the CPU figures include the runtime\'s idle work over a longer wall time: compare a with b, not levels)')
    log('conc | a p50 | a p95 | b p50 | b p95 | b-a p50 | b/a p50 | b/a p95 | a req/s | b req/s | a CPU | b CPU')
    for (const r of levels) {
      log([r.concurrency, r.apiKey.summary.p50, r.apiKey.summary.p95, r.oauth.summary.p50, r.oauth.summary.p95]
        .map((x) => String(round(x, 1)).padStart(5)).join(' | ') +
        ` | ${String(r.overheadP50Ms).padStart(7)} | ${String(r.ratioP50).padStart(7)} | ${String(r.ratioP95).padStart(7)} | ` +
        `${String(r.apiKey.rps).padStart(7)} | ${String(r.oauth.rps).padStart(7)} | ` +
        `${String(r.apiKey.runtimeCpuMs ?? '-').padStart(5)} | ${String(r.oauth.runtimeCpuMs ?? '-').padStart(5)}`)
    }
    log('')
    log(`sign-in (register → authorize page → allow, Odoo check included → token), median of ${SIGN_INS}: ${stepMedians.total} ms ` +
      `(register ${stepMedians.register}, page ${stepMedians.page}, allow ${stepMedians.submit}, token ${stepMedians.token}; ` +
      `${odooCallsPerSignIn} Odoo calls per sign-in at ${latencyMs} ms each)`)
    log(`refresh (POST /token grant_type=refresh_token, rotating), ${REFRESHES} in a row: p50 ${round(refreshSummary.p50, 1)} ms, ` +
      `p95 ${round(refreshSummary.p95, 1)} ms`)

    const report = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
      runtime: "wrangler's startWorker, no DevTools inspector; D1, Durable Objects and KV emulated locally",
      settings: {
        simulatedOdooLatencyMs: latencyMs,
        requestsPerSideAndLevel: requests,
        rounds: ROUNDS,
        publicUrl: PUBLIC_URL,
        policy: POLICY,
        workload: { tool: 'search_records', model: 'res.partner', domain: DOMAIN, fields: FIELDS, limit: LIMIT },
      },
      searchRecords: levels.map((r) => ({
        ...r,
        apiKey: { ...r.apiKey, summary: rounded(r.apiKey.summary) },
        oauth: { ...r.oauth, summary: rounded(r.oauth.summary) },
      })),
      signIn: { count: SIGN_INS, warmUp: WARM_UP_SIGN_INS, medianMs: stepMedians, odooCallsPerSignIn },
      refresh: { count: REFRESHES, warmUp: WARM_UP_REFRESHES, ms: rounded(refreshSummary) },
    }
    const out = join(PROJECT, 'bench-results', 'oauth.json')
    await mkdir(dirname(out), { recursive: true })
    await writeFile(out, JSON.stringify(report, null, 2) + '\n')
    log(`\nwritten to ${out}`)
  } finally {
    gateway?.stop()
    agent.destroy()
    await odoo.close()
    await rm(work, { recursive: true, force: true })
  }
}
