/**
 * CPU time of a process and all its descendants, from /proc (Linux): how the bench reads the runtime's own CPU
 * accounting for workerd, which serves the Worker, its Durable Objects, D1 and the local HTTP hop. Elsewhere it
 * returns null and the bench leaves those figures out.
 */
import { readdirSync, readFileSync } from 'node:fs'

const TICK_MS = 10 // USER_HZ is 100 on Linux

function statFields(pid: number): string[] | null {
  try {
    // Fields after "pid (comm) ": state ppid ... utime(14th overall → index 11 here) stime(index 12).
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  } catch {
    return null
  }
}

function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const fields = statFields(Number(entry))
    if (!fields) continue
    const parent = Number(fields[1])
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)])
  }
  const found: number[] = []
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.push(child)
      walk(child)
    }
  }
  walk(root)
  return found
}

/** Milliseconds of CPU (user + system) used so far by `root` and its descendants, or null off Linux. */
export function processTreeCpuMs(root: number): number | null {
  if (process.platform !== 'linux') return null
  let total = 0
  for (const pid of [root, ...descendantsOf(root)]) {
    const fields = statFields(pid)
    if (fields) total += (Number(fields[11]) + Number(fields[12])) * TICK_MS
  }
  return total
}
