#!/usr/bin/env node
// `odoo-mcp`: the key CLI. The code is TypeScript in cli/ (sharing src/lib and src/keys with the Worker), bundled on
// the fly by scripts/load-ts.mjs because Node 20 cannot run TypeScript.
import { loadTs, SetupError } from '../scripts/load-ts.mjs'

try {
  const { main } = await loadTs('cli/index.ts', 'cli')
  process.exitCode = await main(process.argv.slice(2))
} catch (error) {
  if (error instanceof SetupError) {
    process.stderr.write(`odoo-mcp: ${error.message}\n`)
  } else {
    // Only a broken build lands here (a syntax error in cli/ or src/): esbuild's message says where.
    process.stderr.write(`odoo-mcp: cannot load the CLI: ${error instanceof Error ? error.message : String(error)}\n`)
  }
  process.exitCode = 1
}
