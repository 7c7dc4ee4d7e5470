/**
 * Keeps `npm test`'s output to what a reader must see. Some lines are expected on every run and alarm newcomers;
 * they are left out, counted, and the count is printed at the end (nothing is hidden silently):
 *
 * - workerd's "uncaught exception ... Application called abortAllDurableObjects()": the restart tests kill Durable
 *   Objects mid-work on purpose (an alarm that was running reports the abort). The pool prints these runtime messages
 *   straight to stderr, one write per message, with no option to filter them, so the write itself is filtered.
 * - vite's "Sourcemap for <a dependency> points to missing source files": the MCP SDK ships source maps without
 *   their sources (the pool's own vite server logs this, past any logger set in vitest.config.ts).
 * - workerd's "disconnected: WebSocket peer disconnected" when the pool closes its runtime at the end of a run.
 * - miniflare's "A header value ... contains non-ASCII characters": the hostile corpus sends such headers on purpose.
 * - workerd's "Connection refused" / "Network connection lost" when a test points the gateway at a closed port.
 *
 * The JSON error logs of passing tests that inject faults (D1 down, Odoo down) are left out by vitest itself
 * (`silent: 'passed-only'` in vitest.config.ts): a failing test still shows its logs.
 */

const EXPECTED: { pattern: RegExp; why: string }[] = [
  {
    pattern: /uncaught exception; .*Application called abortAllDurableObjects\(\)/,
    why: 'workerd "uncaught exception ... abortAllDurableObjects()": the restart tests stop Durable Objects on purpose',
  },
  {
    pattern: /^(\x1b\[[0-9;]*m)*Sourcemap for "[^"]*\/node_modules\/[^"]*" points to missing source files/,
    why: 'vite "Sourcemap for <dependency> points to missing source files"',
  },
  {
    // workerd reports a connection to a closed port twice, as its own log lines, even when the Worker handles the
    // failed fetch (the Odoo-down tests point at closed ports and assert the gateway's answer).
    pattern: /^(exception = kj\/async-io-unix\.c\+\+:\d+: disconnected: connect\(\): Connection refused|uncaught exception; (source = Uncaught \(in promise\); stack = Error|exception = workerd\/jsg\/\S+: disconnected: jsg\.Error): Network connection lost\.)/,
    why: 'workerd "Connection refused" / "Network connection lost": the Odoo-down tests connect to closed ports on purpose',
  },
  {
    pattern: /^A header value for "[a-z-]+" contains non-ASCII characters: .*As a quirk to support Unicode/s,
    why: 'miniflare "A header value ... contains non-ASCII characters": the hostile corpus sends such headers on purpose',
  },
  {
    pattern: /^exception = workerd\/api\/web-socket\.c\+\+:\d+: disconnected: WebSocket peer disconnected\s*$/,
    why: 'workerd "WebSocket peer disconnected" as the test runtime shuts down',
  },
]

type Write = (...args: unknown[]) => boolean

/** Replaces the stream's write with one that drops (and counts) expected messages; returns the original write. */
function filterWrites(stream: NodeJS.WriteStream, counts: number[]): Write {
  const write = stream.write.bind(stream) as Write
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : ''
    const expected = EXPECTED.findIndex(({ pattern }) => pattern.test(text))
    if (expected < 0) return write(chunk, ...rest)
    counts[expected]!++
    const callback = rest.find((argument) => typeof argument === 'function') as (() => void) | undefined
    callback?.()
    return true
  }) as typeof stream.write
  return write
}

export function hideExpectedTestNoise(): void {
  const counts = EXPECTED.map(() => 0)
  filterWrites(process.stdout, counts)
  const writeStderr = filterWrites(process.stderr, counts)
  process.on('exit', () => {
    EXPECTED.forEach(({ why }, index) => {
      if (counts[index]! > 0) writeStderr(`(left out ${counts[index]} expected message(s): ${why})\n`)
    })
  })
}
