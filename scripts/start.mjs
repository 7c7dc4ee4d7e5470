// `npm start`: the gateway locally, with a demo Odoo when none is configured. The work is done in TypeScript
// (cli/start/main.ts, sharing key and crypto code with the Worker), bundled on the fly by load-ts.mjs.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { loadTs, projectDir, SetupError } from './load-ts.mjs'

if (!existsSync(join(projectDir, 'node_modules'))) {
  process.stderr.write('npm start: dependencies are not installed: run `npm install` first.\n')
  process.exit(1)
}

let code
try {
  const { main } = await loadTs('cli/start/main.ts', 'start')
  code = await main({ projectDir, argv: process.argv.slice(2) })
} catch (error) {
  if (error instanceof SetupError) process.stderr.write(`npm start: ${error.message}\n`)
  else process.stderr.write(`npm start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  code = 1
}
// Exit explicitly: the demo Odoo's sockets (keep-alive from workerd) must not keep the process alive.
process.exit(code)
