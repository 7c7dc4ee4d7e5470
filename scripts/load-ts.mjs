// Loads a TypeScript module of this project from plain Node (20 cannot run TypeScript).
//
// The CLI and `npm start` must use the very same code as the Worker for key format, hashing and encryption
// (src/keys, src/lib) and the very same Odoo simulator as the tests, so instead of keeping JavaScript copies we
// bundle the TypeScript entry with esbuild into node_modules/.cache/odoo-mcp/<name>.mjs and import that.
// Building takes 50-450 ms (more on a busy machine), a large part of a CLI command's time, so the bundle is reused
// while none of its source files changed: a manifest next to it lists each input with its size and mtime, and any
// difference (or a new esbuild, a different entry) rebuilds. Checking is a stat per input, a few milliseconds.
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
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
  const outDir = join(projectDir, 'node_modules', '.cache', 'odoo-mcp')
  const outFile = join(outDir, `${name}.mjs`)
  const manifestFile = join(outDir, `${name}.inputs.json`)
  if (await isFresh(manifestFile, entry)) return import(pathToFileURL(outFile).href)
  const esbuild = await loadEsbuild()
  const result = await esbuild.build({
    entryPoints: [join(projectDir, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Dependencies (hono, zod...) stay imports; node_modules/.cache/odoo-mcp resolves them from node_modules.
    packages: 'external',
    write: false,
    metafile: true,
    // Metafile paths are relative to this directory.
    absWorkingDir: projectDir,
    logLevel: 'silent',
    plugins: [sourceUrlPlugin],
  })
  const code = result.outputFiles[0].contents
  await mkdir(outDir, { recursive: true })
  await writeAtomically(outFile, code)
  const inputs = {}
  for (const input of Object.keys(result.metafile.inputs)) {
    const path = resolve(projectDir, input)
    const info = await stat(path)
    inputs[path] = `${info.size}:${info.mtimeMs}`
  }
  await writeAtomically(manifestFile, JSON.stringify({ entry, esbuild: esbuild.version, inputs }))
  return import(pathToFileURL(outFile).href)
}

/** Several processes (parallel tests) may build at once: write a private file, then rename it into place atomically. */
async function writeAtomically(file, contents) {
  const tmpFile = `${file}.${process.pid}.${Date.now()}.tmp`
  try {
    await writeFile(tmpFile, contents)
    await rename(tmpFile, file)
  } finally {
    await rm(tmpFile, { force: true })
  }
}

/** The bundle's manifest matches the sources on disk (same entry, same esbuild, every input unchanged). */
async function isFresh(manifestFile, entry) {
  try {
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'))
    if (manifest.entry !== entry) return false
    const { version } = JSON.parse(await readFile(join(projectDir, 'node_modules', 'esbuild', 'package.json'), 'utf8'))
    if (manifest.esbuild !== version) return false
    const checks = await Promise.all(
      Object.entries(manifest.inputs).map(async ([path, signature]) => {
        const info = await stat(path)
        return `${info.size}:${info.mtimeMs}` === signature
      }),
    )
    return checks.length > 0 && checks.every(Boolean)
  } catch {
    return false
  }
}
