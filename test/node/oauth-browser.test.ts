/**
 * The /authorize sign-in and consent page in a real browser: Debian's headless Chromium, driven by playwright-core,
 * against `wrangler dev` with PUBLIC_URL=http://localhost:<port> and the simulated Odoo 18 (logins' passwords are the
 * login, API keys `odoo-apikey-<login>`). A loopback HTTP server plays the MCP client's redirect URI and records what
 * reaches it; the client registers and redeems its code with fetch, as an MCP client does.
 *
 * What only a browser shows: the form posts where the page says, Enter submits "Allow access", the tab order and the
 * focus ring, the refusal to be framed, and axe-core's accessibility rules on the rendered page. The protocol itself
 * (tokens, refresh, revocation) is tested headless in test/worker-oauth/.
 *
 * Chromium is /usr/bin/chromium or CHROMIUM_PATH; never downloaded. Without it the tests are skipped with a message,
 * unless REQUIRE_BROWSER_TESTS=1 (.ci/run sets it), where that is a failure. UPDATE_SCREENSHOTS=1 also writes the
 * page's screenshots to docs/images/ (oauth-sign-in.png, oauth-sign-in-failed.png, oauth-no-connector.png).
 */
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AxeResults } from 'axe-core'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { generateCredentialsKey } from '../../src/lib/crypto'
import { freePort } from '../support/ports'
import { applySchema, projectRoot, queryD1, type LocalD1 } from '../support/wrangler'
import { startWranglerDev, type WranglerDev } from '../support/wrangler-dev'

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const HAVE_CHROMIUM = existsSync(CHROMIUM)
/** The flags this machine needs: no sandbox (root), and no background connections the closed network refuses. */
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
]
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? join(projectRoot, 'docs', 'images') : null
const VIEWPORT = { width: 1000, height: 800 }

if (!HAVE_CHROMIUM) {
  const missing = `Chromium not found at ${CHROMIUM} (install Debian's chromium, or set CHROMIUM_PATH)`
  if (process.env.REQUIRE_BROWSER_TESTS === '1') throw new Error(`browser tests cannot run: ${missing}, and REQUIRE_BROWSER_TESTS=1 requires them`)
  // Straight to stderr: vitest's `silent: 'passed-only'` would swallow a console line of a file with no failure.
  process.stderr.write(`browser tests skipped: ${missing}\n`)
}

const READ_PARTNERS = { version: 1, models: { 'res.partner': { operations: ['read'], fields: ['name', 'email'] } } }
const READ_ORDERS = { version: 1, models: { 'sale.order': { operations: ['read'], fields: ['name', 'state'] } } }

/** Client names: one connector admits the first, two the second, none the third. */
const APP = 'Browser test app'
const TWO_CONNECTOR_APP = 'Two connector app'
const APP_WITHOUT_CONNECTOR = 'App without connector'

let work: string
let d1: LocalD1
let gateway: WranglerDev | undefined
/** PUBLIC_URL: the issuer, the origin the browser signs in on. */
let issuer: string
let callback: CallbackServer
let browser: Browser | undefined
/** The browser contexts of the running test (a fresh cookie jar each), closed after it. */
const contexts: BrowserContext[] = []

interface CallbackServer {
  /** http://127.0.0.1:<port>: another origin than the gateway's. */
  origin: string
  /** The query of every request to /callback, in order. */
  received: URLSearchParams[]
  server: Server
}

/**
 * The client's redirect URI (/callback records its query), plus two pages for the framing test: /frame?src=… puts
 * `src` in an iframe, /frameable is a page any origin may frame.
 */
async function startCallbackServer(): Promise<CallbackServer> {
  const received: URLSearchParams[] = []
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    const page = (body: string) => response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>test</title>${body}`)
    if (url.pathname === '/callback') {
      received.push(url.searchParams)
      page('<p id="done">The app received the answer.</p>')
    } else if (url.pathname === '/frame') {
      const src = url.searchParams.get('src') ?? ''
      page(`<iframe id="framed" src="${src.replace(/"/g, '&quot;')}" width="900" height="600"></iframe>`)
    } else if (url.pathname === '/frameable') {
      page('<p id="frameable">Anyone may frame this page.</p>')
    } else {
      response.writeHead(404).end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  return { origin: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, received, server }
}

const redirectUri = () => `${callback.origin}/callback`

/** RFC 7591 registration of a public client, as an MCP client does it. */
async function registerClient(name: string): Promise<string> {
  const response = await fetch(`${issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: name,
      redirect_uris: [redirectUri()],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    }),
  })
  expect(response.status, await response.clone().text()).toBe(201)
  return ((await response.json()) as { client_id: string }).client_id
}

interface Flow {
  url: string
  state: string
  verifier: string
  clientId: string
}

const base64url = (bytes: Buffer) => bytes.toString('base64url')

/** A fresh authorization request (state, PKCE S256) for a registered client. */
function authorizationRequest(clientId: string): Flow {
  const state = base64url(randomBytes(16))
  const verifier = base64url(randomBytes(32))
  const url = new URL(`${issuer}/authorize`)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri(),
    state,
    code_challenge: base64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    resource: `${issuer}/mcp`,
    scope: 'odoo',
  }).toString()
  return { url: url.href, state, verifier, clientId }
}

/** The code the client receives, redeemed at /token as the client does (PKCE verifier, same redirect URI). */
async function redeem(flow: Flow, code: string): Promise<Response> {
  return fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri(),
      client_id: flow.clientId,
      code_verifier: flow.verifier,
      resource: `${issuer}/mcp`,
    }),
  })
}

async function newPage(): Promise<Page> {
  const context = await browser!.newContext({ viewport: VIEWPORT })
  contexts.push(context)
  return context.newPage()
}

async function openPage(url: string): Promise<{ page: Page; status: number }> {
  const page = await newPage()
  const response = await page.goto(url)
  expect(response).not.toBeNull()
  return { page, status: response!.status() }
}

const loginField = (page: Page) => page.getByLabel('Odoo login')
const secretField = (page: Page) => page.getByLabel(/^Odoo API key/)
const allowButton = (page: Page) => page.getByRole('button', { name: 'Allow access' })
const denyButton = (page: Page) => page.getByRole('button', { name: 'Deny' })

/**
 * Runs `act` (a click, a key), waits for the form post's answer (the re-rendered page, or the redirect to the client)
 * and expects its status; a page the gateway answered instead is quoted in the failure.
 */
async function submit(page: Page, act: () => Promise<void>, expected: number): Promise<void> {
  const [response] = await Promise.all([
    page.waitForResponse((candidate) => candidate.request().method() === 'POST' && candidate.url().startsWith(`${issuer}/authorize`)),
    // Either way a new document loads: the page again, or the client's callback.
    page.waitForEvent('load'),
    act(),
  ])
  const answered = response.status() === 302 ? '' : `${await page.title()}: ${await page.locator('[role=alert]').allTextContents()}`
  expect(response.status(), `POST /authorize answered ${response.status()} (${answered})`).toBe(expected)
}

/** Waits until the browser is on the client's callback; returns what the callback server received. */
async function callbackQuery(page: Page, before: number): Promise<URLSearchParams> {
  await page.waitForURL((url) => url.origin === callback.origin && url.pathname === '/callback')
  expect(callback.received).toHaveLength(before + 1)
  return callback.received.at(-1)!
}

async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return
  await mkdir(SCREENSHOTS, { recursive: true })
  // The page down to the end of its content, not the viewport's empty rest.
  const height = await page.evaluate(() => Math.ceil(document.querySelector('main')!.getBoundingClientRect().bottom) + 32)
  await page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true, clip: { x: 0, y: 0, width: VIEWPORT.width, height } })
}

interface Focused {
  id: string
  type: string
  value: string
  checked: boolean
  text: string
  focusVisible: boolean
  outline: string
}

/** What has the focus, and whether it shows it (the page's :focus-visible outline). */
function focused(page: Page): Promise<Focused> {
  return page.evaluate(() => {
    const element = document.activeElement as HTMLInputElement | null
    if (!element || element === document.body) return { id: '(body)', type: '', value: '', checked: false, text: '', focusVisible: false, outline: '' }
    const style = getComputedStyle(element)
    return {
      id: element.id,
      type: element.type ?? '',
      value: element.value ?? '',
      checked: element.checked === true,
      text: element.textContent?.trim() ?? '',
      focusVisible: element.matches(':focus-visible'),
      outline: `${style.outlineStyle} ${style.outlineWidth}`,
    }
  })
}

/** axe-core's violations of impact serious or critical on the page as rendered (its source evaluated in the page). */
async function seriousViolations(page: Page): Promise<string[]> {
  const source = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
  // Evaluated over the DevTools protocol, which the page's CSP (no script at all) does not govern.
  await page.evaluate(source)
  const results = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document): Promise<AxeResults> } }).axe
    const { violations, passes } = await axe.run(document)
    return {
      violations: violations.map((violation) => ({ id: violation.id, impact: violation.impact ?? null, nodes: violation.nodes.map((node) => node.html) })),
      passed: passes.map((rule) => rule.id),
    }
  })
  // axe really ran on this document: the rules every page of this kind passes or fails are among its results.
  expect([...results.passed, ...results.violations.map((violation) => violation.id)]).toEqual(
    expect.arrayContaining(['document-title', 'html-has-lang', 'color-contrast']),
  )
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.nodes.join(' | ')}`)
}

const sqlText = (value: string) => `'${value.replace(/'/g, "''")}'`

/** Connector profiles as `odoo-mcp connectors add` would store them (schema.sql), straight into the local D1. */
async function addProfiles(profiles: { name: string; policy: unknown; clientName: string }[]): Promise<void> {
  const rows = profiles.map(
    (profile) => `(${sqlText(profile.name)}, ${sqlText(JSON.stringify(profile.policy))}, NULL, ${sqlText(profile.clientName)}, '[]', 3600, 2592000, ${Date.now()})`,
  )
  await queryD1(
    d1,
    `INSERT INTO connector_profiles (name, policy, logins, client_name, redirect_uris, token_ttl_seconds, connection_ttl_seconds, created_at) VALUES ${rows.join(', ')}`,
  )
}

describe.skipIf(!HAVE_CHROMIUM)('the /authorize page in headless Chromium', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'odoo-mcp-oauth-browser-'))
    d1 = { configPath: join(projectRoot, 'wrangler.toml'), persistTo: join(work, 'state') }
    await applySchema(d1)
    await addProfiles([
      { name: 'partners', policy: READ_PARTNERS, clientName: APP },
      { name: 'kb-partners', policy: READ_PARTNERS, clientName: TWO_CONNECTOR_APP },
      { name: 'kb-orders', policy: READ_ORDERS, clientName: TWO_CONNECTOR_APP },
    ])
    callback = await startCallbackServer()
    const port = await freePort()
    // localhost, not 127.0.0.1: the issuer is the origin the browser sees, and the library allows http only there.
    issuer = `http://localhost:${port}`
    gateway = await startWranglerDev(
      d1.configPath,
      d1.persistTo,
      {
        ODOO_URL: inject('odooUrl'),
        ODOO_DB: 'mcp_demo',
        ODOO_PROTOCOL: 'jsonrpc',
        CREDENTIALS_KEY: generateCredentialsKey(),
        ALLOWED_ORIGINS: '',
        PUBLIC_URL: issuer,
      },
      '/healthz',
      { port },
    )
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  }, 180_000)

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()))
  })

  afterAll(async () => {
    await browser?.close()
    await gateway?.stop()
    if (callback) await new Promise((resolve) => callback.server.close(resolve))
    if (work) await rm(work, { recursive: true, force: true })
  }, 60_000)

  it('signs in with an Odoo API key, allows, and the client redeems the code it receives', async () => {
    const flow = authorizationRequest(await registerClient(APP))
    const { page, status } = await openPage(flow.url)
    expect(status).toBe(200)
    await expect(page.title()).resolves.toBe(`Connect ${APP} to Odoo`)
    await screenshot(page, 'oauth-sign-in.png')

    await loginField(page).fill('admin')
    await secretField(page).fill('odoo-apikey-admin')
    const before = callback.received.length
    await submit(page, () => allowButton(page).click(), 302)
    const query = await callbackQuery(page, before)
    expect(query.get('state')).toBe(flow.state)
    expect(query.get('iss')).toBe(issuer)
    expect(query.get('error')).toBeNull()
    const code = query.get('code')
    expect(code).toMatch(/^con_[0-9a-f]{16}:/)

    const tokens = await redeem(flow, code!)
    const body = (await tokens.json()) as { access_token?: string; token_type?: string; refresh_token?: string }
    expect(tokens.status, JSON.stringify(body)).toBe(200)
    expect(body.access_token).toMatch(/^con_[0-9a-f]{16}:/)
    expect(body.token_type?.toLowerCase()).toBe('bearer')
    // A code is good once.
    expect((await redeem(flow, code!)).status).toBe(400)
  })

  it('refuses a wrong secret and an unknown login with the same words, keeps the login, then takes the right secret', async () => {
    const flow = authorizationRequest(await registerClient(APP))
    const { page } = await openPage(flow.url)
    const before = callback.received.length

    await loginField(page).fill('admin')
    await secretField(page).fill('not-the-secret')
    await submit(page, () => allowButton(page).click(), 401)
    const wrongSecret = await page.getByRole('alert').textContent()
    expect(wrongSecret).toMatch(/did not accept this login and secret/)
    await expect(loginField(page).inputValue()).resolves.toBe('admin')
    await expect(secretField(page).inputValue()).resolves.toBe('')
    expect(new URL(page.url()).origin).toBe(issuer)
    await screenshot(page, 'oauth-sign-in-failed.png')

    await loginField(page).fill('nobody-at-all')
    await secretField(page).fill('nobody-at-all')
    await submit(page, () => allowButton(page).click(), 401)
    await expect(page.getByRole('alert').textContent()).resolves.toBe(wrongSecret)
    await expect(loginField(page).inputValue()).resolves.toBe('nobody-at-all')
    await expect(secretField(page).inputValue()).resolves.toBe('')
    expect(new URL(page.url()).origin).toBe(issuer)
    expect(callback.received).toHaveLength(before)

    // The same page, now with the right password.
    await loginField(page).fill('admin')
    await secretField(page).fill('admin')
    await submit(page, () => allowButton(page).click(), 302)
    const query = await callbackQuery(page, before)
    expect(query.get('state')).toBe(flow.state)
    expect(query.get('code')).toBeTruthy()
    expect((await redeem(flow, query.get('code')!)).status).toBe(200)
  })

  it('sends access_denied and the state to the client on Deny, with nothing filled in', async () => {
    const flow = authorizationRequest(await registerClient(APP))
    const { page } = await openPage(flow.url)
    const before = callback.received.length
    await submit(page, () => denyButton(page).click(), 302)
    const query = await callbackQuery(page, before)
    expect(query.get('error')).toBe('access_denied')
    expect(query.get('state')).toBe(flow.state)
    expect(query.get('code')).toBeNull()
  })

  it('works with the keyboard alone: tab order, a visible focus, the connector chosen with arrows, Enter allows', async () => {
    const flow = authorizationRequest(await registerClient(TWO_CONNECTOR_APP))
    const { page } = await openPage(flow.url)
    const visible = (state: Focused) => {
      expect(state.focusVisible, state.id).toBe(true)
      expect(state.outline, state.id).toBe('solid 3px')
    }

    await page.keyboard.press('Tab')
    let state = await focused(page)
    expect(state.id).toBe('login')
    visible(state)
    await page.keyboard.type('admin')

    await page.keyboard.press('Tab')
    state = await focused(page)
    expect(state.id).toBe('secret')
    visible(state)
    await page.keyboard.type('odoo-apikey-admin')

    // The connectors are one radio group, one tab stop, the first one checked.
    await page.keyboard.press('Tab')
    state = await focused(page)
    expect(state).toMatchObject({ id: 'profile-0', type: 'radio', value: 'kb-orders', checked: true })
    visible(state)
    await page.keyboard.press('ArrowDown')
    state = await focused(page)
    expect(state).toMatchObject({ id: 'profile-1', value: 'kb-partners', checked: true })

    await page.keyboard.press('Tab')
    state = await focused(page)
    expect(state.text).toBe('Allow access')
    visible(state)
    await page.keyboard.press('Tab')
    state = await focused(page)
    expect(state.text).toBe('Deny')
    visible(state)

    // Back to the secret, and Enter: the form's default button is "Allow access".
    for (let i = 0; i < 3; i++) await page.keyboard.press('Shift+Tab')
    expect((await focused(page)).id).toBe('secret')
    const before = callback.received.length
    await submit(page, () => page.keyboard.press('Enter'), 302)
    const query = await callbackQuery(page, before)
    expect(query.get('state')).toBe(flow.state)
    const code = query.get('code')
    expect(code).toBeTruthy()
    // The connection is of the connector chosen with the arrow key.
    const connectionId = code!.split(':')[0]!
    expect(await queryD1(d1, `SELECT profile, odoo_login FROM connections WHERE id = ${sqlText(connectionId)}`)).toEqual([
      { profile: 'kb-partners', odoo_login: 'admin' },
    ])
  })

  it('cannot be framed by another origin: the headers forbid it and Chromium does not render it', async () => {
    const flow = authorizationRequest(await registerClient(APP))
    const direct = await fetch(flow.url)
    await direct.body?.cancel()
    expect(direct.status).toBe(200)
    expect(direct.headers.get('x-frame-options')).toBe('DENY')
    expect(direct.headers.get('content-security-policy')).toMatch(/(^|;)\s*frame-ancestors 'none'\s*(;|$)/)

    const page = await newPage()
    const framed = async (src: string) => {
      await page.goto(`${callback.origin}/frame?src=${encodeURIComponent(src)}`)
      const frame = await (await page.waitForSelector('#framed')).contentFrame()
      expect(frame).not.toBeNull()
      await frame!.waitForLoadState()
      return frame!
    }
    // The control: a page of a third origin (localhost vs 127.0.0.1) renders in the same frame.
    const control = await framed(`${callback.origin.replace('127.0.0.1', 'localhost')}/frameable`)
    await expect(control.locator('#frameable').count()).resolves.toBe(1)

    const gatewayFrame = await framed(flow.url)
    expect(gatewayFrame.url()).not.toContain('/authorize')
    await expect(gatewayFrame.locator('#login').count()).resolves.toBe(0)
    await expect(gatewayFrame.locator('form').count()).resolves.toBe(0)
  })

  it('has no serious or critical axe-core violations: sign-in, failed sign-in, no connector', async () => {
    const flow = authorizationRequest(await registerClient(TWO_CONNECTOR_APP))
    const { page } = await openPage(flow.url)
    expect(await seriousViolations(page)).toEqual([])

    await loginField(page).fill('admin')
    await secretField(page).fill('not-the-secret')
    await submit(page, () => allowButton(page).click(), 401)
    expect(await seriousViolations(page)).toEqual([])

    const refused = await openPage(authorizationRequest(await registerClient(APP_WITHOUT_CONNECTOR)).url)
    expect(refused.status).toBe(403)
    expect(await seriousViolations(refused.page)).toEqual([])
  })

  it('tells a client no connector admits that it cannot connect, and redirects nowhere', async () => {
    const flow = authorizationRequest(await registerClient(APP_WITHOUT_CONNECTOR))
    const { page, status } = await openPage(flow.url)
    expect(status).toBe(403)
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(`${APP_WITHOUT_CONNECTOR} cannot connect to this Odoo`)
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/^No connector on this gateway admits App without connector/)
    await expect(page.locator('form').count()).resolves.toBe(0)
    expect(new URL(page.url()).origin).toBe(issuer)
    await screenshot(page, 'oauth-no-connector.png')
  })
})
