// Loads a TypeScript module of this project from plain Node (20 cannot run TypeScript).
//
// The CLI and `npm start` must use the very same code as the Worker for key format, hashing and encryption
// (src/keys, src/lib) and the very same Odoo simulator as the tests, so instead of keeping JavaScript copies we
// bundle the TypeScript entry with esbuild into node_modules/.cache/odoo-mcp/<name>.mjs and import that.
// Building takes ~50 ms, so it is done on every run: no stale cache to reason about.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join, resolve, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** The project root: this file lives in <root>/scripts. */
export const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** An expected setup problem (old Node, dependencies not installed): callers print one line, not a stack trace. */
export class SetupError extends Error {}

function checkNodeVersion() {
  const major = Number(process.versions.node.split('.')[0])
  if (major < 20) throw new SetupError(`Node.js 20 or newer is needed; this is ${process.version}.`)
}

async function loadEsbuild() {
  try {
    return await import('esbuild')
  } catch {
    throw new SetupError(`dependencies are not installed: run \`npm install\` in ${projectDir} first.`)
  }
}

/**
 * The bundle lives in node_modules/.cache, so `import.meta.url` would point there instead of at the source file.
 * Rewriting it per file keeps code that reads files next to itself (fixtures, schema.sql) working when bundled.
 */
const sourceUrlPlugin = {
  name: 'source-import-meta',
  setup(build) {
    build.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
      if (args.path.includes(`${sep}node_modules${sep}`)) return undefined
      const url = pathToFileURL(args.path).href
      const contents = (await readFile(args.path, 'utf8'))
        .replaceAll('import.meta.url', JSON.stringify(url))
        .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
        .replaceAll('import.meta.filename', JSON.stringify(args.path))
      return { contents, loader: 'ts' }
    })
  },
}

/**
 * Bundles `entry` (a path relative to the project root) and imports it.
 * @param {string} entry e.g. 'cli/index.ts'
 * @param {string} name file name of the bundle in node_modules/.cache/odoo-mcp
 * @returns {Promise<Record<string, unknown>>} the module's exports
 */
export async function loadTs(entry, name) {
  checkNodeVersion()
  const esbuild = await loadEsbuild()
  const outDir = join(projectDir, 'node_modules', '.cache', 'odoo-mcp')
  const outFile = join(outDir, `${name}.mjs`)
  const result = await esbuild.build({
    entryPoints: [join(projectDir, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Dependencies (hono, zod...) stay imports; node_modules/.cache/odoo-mcp resolves them from node_modules.
    packages: 'external',
    write: false,
    logLevel: 'silent',
    plugins: [sourceUrlPlugin],
  })
  const code = result.outputFiles[0].contents
  await mkdir(outDir, { recursive: true })
  // Several processes (parallel tests) may build at once: write a private file, then rename it into place atomically.
  const tmpFile = `${outFile}.${process.pid}.${Date.now()}.tmp`
  try {
    await writeFile(tmpFile, code)
    await rename(tmpFile, outFile)
  } finally {
    await rm(tmpFile, { force: true })
  }
  return import(pathToFileURL(outFile).href)
}
