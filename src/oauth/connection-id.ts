/**
 * Connection id format: `con_` + 16 hex characters (8 random bytes). A connection's OAuth tokens start with its id,
 * and the key object of a connection is named by it, so the prefix alone tells a connection from an API key.
 *
 * Pure (no I/O, no Worker types), like keys/key-format.ts, so the CLI checks ids with the very same rule as the
 * gateway: connection-store.ts, which needs Env and D1, cannot be part of the Node build.
 */
import { bytesToHex } from '../lib/encoding'

export const CONNECTION_ID_PREFIX = 'con_'
export const CONNECTION_ID = /^con_[0-9a-f]{16}$/

export function generateConnectionId(): string {
  return CONNECTION_ID_PREFIX + bytesToHex(crypto.getRandomValues(new Uint8Array(8)))
}

export function isConnectionId(id: string): boolean {
  return id.startsWith(CONNECTION_ID_PREFIX)
}

/** The display prefix of a connection in audit records and alerts (`con_` + 8 hex), like a key's `omk_…`. */
export function connectionPrefix(connectionId: string): string {
  return connectionId.slice(0, 12)
}
