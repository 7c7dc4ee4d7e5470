/**
 * The sign-in and consent page of /authorize, and the page that says an authorization cannot go on. Plain HTML: no
 * script at all (the CSP forbids it), one form, labels on every field, errors announced (`role="alert"`) and focus
 * order = reading order, so it works with a keyboard and a screen reader. Pure.
 *
 * Everything that comes from the client (its name, domain, redirect host) or the user (the login typed) is escaped.
 */
import type { ConsentDescription } from '@cloudflare/workers-oauth-provider'
import type { PolicyWords } from './policy-words'

export const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)

const STYLE = `
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.45; }
  body { max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
  h1 { font-size: 1.5rem; }
  h2 { font-size: 1.1rem; margin-top: 1.5rem; }
  fieldset { border: 1px solid #8886; border-radius: .5rem; padding: 1rem; margin: 1rem 0; }
  legend { font-weight: 600; padding: 0 .25rem; }
  label { display: block; font-weight: 600; margin-top: .75rem; }
  input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: .5rem; font: inherit; margin-top: .25rem; }
  .hint { font-size: .9rem; opacity: .85; margin: .25rem 0 0; }
  .warning { border-left: 4px solid #c80; padding: .5rem .75rem; background: #c801; }
  .error { border-left: 4px solid #c00; padding: .5rem .75rem; background: #c001; }
  table { border-collapse: collapse; width: 100%; font-size: .95rem; }
  th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #8884; vertical-align: top; }
  .profile label { display: inline; font-weight: 400; }
  .actions { display: flex; gap: .75rem; margin-top: 1.5rem; }
  button { font: inherit; padding: .6rem 1.2rem; border-radius: .4rem; border: 1px solid #8888; cursor: pointer; }
  button[value=approve] { background: #1d4ed8; color: #fff; border-color: #1d4ed8; }
  :focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
`

/**
 * The Content-Security-Policy of both pages: nothing may load or run, the form may post only here and, after the
 * redirect that follows, to the client's redirect origin (browsers apply form-action to the redirect too); no framing.
 */
export function pageSecurityPolicy(redirectOrigin?: string): string {
  // Only an origin of plain URL characters goes into the header (a host may legally hold ';' or ',', which would end
  // the directive); anything else leaves the redirect to 'self' only, which at worst blocks the final redirect.
  const safe = redirectOrigin !== undefined && /^https?:\/\/[A-Za-z0-9.\-[\]:]+$/.test(redirectOrigin)
  const formAction = safe ? `'self' ${redirectOrigin}` : "'self'"
  return `default-src 'none'; style-src 'unsafe-inline'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`
}

export interface ProfileChoice {
  name: string
  words: PolicyWords
}

export interface ConsentPageInput {
  details: ConsentDescription
  handle: string
  profiles: ProfileChoice[]
  /** The profile to show selected (after a failed attempt). */
  selectedProfile?: string
  login?: string
  /** Shown above the form, announced to screen readers. */
  error?: string
  /** Whether Odoo takes a password here (JSON-RPC) or only an API key (JSON-2). */
  passwordAccepted: boolean
}

function profileSection(profile: ProfileChoice, index: number, count: number, selected: boolean): string {
  const id = `profile-${index}`
  const heading =
    count > 1
      ? `<input type="radio" name="profile" id="${id}" value="${escapeHtml(profile.name)}"${selected ? ' checked' : ''} required> <label for="${id}">Connector <strong>${escapeHtml(profile.name)}</strong></label>`
      : `<input type="hidden" name="profile" value="${escapeHtml(profile.name)}">Connector <strong>${escapeHtml(profile.name)}</strong>`
  const rows = profile.words.models.length
    ? `<table><caption class="hint">Odoo data this connection may use</caption><thead><tr><th scope="col">Model</th><th scope="col">May</th><th scope="col">Fields</th></tr></thead><tbody>${profile.words.models
        .map((row) => `<tr><td><code>${escapeHtml(row.model)}</code></td><td>${escapeHtml(row.operations)}</td><td>${escapeHtml(row.fields)}</td></tr>`)
        .join('')}</tbody></table>`
    : '<p>No Odoo data at all (the administrator listed no model).</p>'
  return `<div class="profile"><p>${heading}</p>${rows}<ul>${profile.words.limits.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul></div>`
}

export function consentPage(input: ConsentPageInput): string {
  const { details } = input
  const name = escapeHtml(details.clientName)
  const origin = details.clientDomain
    ? `Published by <strong>${escapeHtml(details.clientDomain)}</strong>.`
    : 'This app registered itself with this gateway; its name is not verified.'
  const loopback = details.redirectIsLoopback
    ? '<p class="warning"><strong>Access goes to an app on your own computer.</strong> Continue only if you just started connecting from it: any program on your computer could be listening.</p>'
    : ''
  const error = input.error ? `<p class="error" role="alert" id="error">${escapeHtml(input.error)}</p>` : ''
  const secretLabel = input.passwordAccepted ? 'Odoo API key (or password)' : 'Odoo API key'
  const secretHint = input.passwordAccepted
    ? 'An API key is safer than your password: create one in Odoo under your profile → Account Security → New API Key.'
    : 'Create one in Odoo under your profile → Account Security → New API Key (this Odoo does not accept passwords here).'
  const profiles = input.profiles
    .map((profile, index) => profileSection(profile, index, input.profiles.length, profile.name === (input.selectedProfile ?? input.profiles[0]!.name)))
    .join('')
  return layout(
    `Connect ${details.clientName} to Odoo`,
    `<h1>Connect ${name} to Odoo</h1>
<p>${origin} After you allow it, access is sent to <strong>${escapeHtml(details.redirectHost)}</strong>.</p>
${loopback}
${error}
<form method="post">
<input type="hidden" name="handle" value="${escapeHtml(input.handle)}">
<fieldset>
<legend>Sign in with your Odoo account</legend>
<label for="login">Odoo login</label>
<input type="text" id="login" name="login" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="255" value="${escapeHtml(input.login ?? '')}"${input.error ? ' aria-describedby="error"' : ''}>
<label for="secret">${secretLabel}</label>
<input type="password" id="secret" name="secret" autocomplete="current-password" required maxlength="4096" aria-describedby="secret-hint">
<p class="hint" id="secret-hint">${secretHint} It is checked with Odoo and stored encrypted in the gateway; ${name} never sees it.</p>
</fieldset>
<h2>What ${name} will be allowed to do, as you</h2>
${profiles}
<div class="actions">
<button type="submit" name="decision" value="approve">Allow access</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</div>
</form>`,
  )
}

/** An authorization that cannot go on (bad request, no profile for this client, expired page). Never a redirect. */
export function problemPage(title: string, message: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1>\n<p role="alert">${escapeHtml(message)}</p>`)
}
