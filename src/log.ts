/**
 * Logging of our own faults. Goes to the Workers log (wrangler tail / Logpush), never to clients. Messages are
 * one JSON line so log search can filter on request_id.
 */
export function logError(error: unknown, where: string, requestId?: string): void {
  const detail = error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : { value: String(error) }
  console.error(JSON.stringify({ level: 'error', where, request_id: requestId, ...detail }))
}
