/**
 * A progress line on stderr for commands that can take more than a second (audit verify, long searches): only when
 * stderr is a terminal, so scripts and --json output never see it. Redrawn at most 10 times a second; cleared at
 * the end so the command's own output starts on a clean line.
 */
import type { CommandContext } from './command'

export interface Progress {
  update(done: number, total?: number): void
  finish(): void
}

const WIDTH = 24
const SILENT: Progress = { update() {}, finish() {} }

export function progress(context: CommandContext, label: string): Progress {
  const stream = context.io.stderr
  if (!stream.isTTY) return SILENT
  let last = 0
  let shown = false
  return {
    update(done, total) {
      const now = Date.now()
      if (now - last < 100) return
      last = now
      shown = true
      const bar =
        total && total > 0
          ? (() => {
              const ratio = Math.min(1, done / total)
              const filled = Math.round(ratio * WIDTH)
              return `[${'#'.repeat(filled)}${' '.repeat(WIDTH - filled)}] ${Math.floor(ratio * 100)}% ${done.toLocaleString('en')}/${total.toLocaleString('en')}`
            })()
          : `${done.toLocaleString('en')}`
      stream.write(`\r\u001b[2K${label} ${bar}`)
    },
    finish() {
      if (shown) stream.write('\r\u001b[2K')
    },
  }
}
