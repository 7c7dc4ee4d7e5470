import type { TestProject } from 'vitest/node'
import { startOdooSimulator } from '../odoo-sim/server'
import { startWebhookReceiver } from './webhook-receiver'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of a simulated Odoo 18 (JSON-RPC only). */
    odooUrl: string
    /** Base URL of a simulated Odoo 19 (JSON-2 and JSON-RPC). */
    odooUrlJson2: string
    /** Base URL of a loopback webhook receiver (test/support/webhook-receiver.ts). */
    receiverUrl: string
  }
}

/** Serves two simulated Odoo servers on loopback for the whole run, one per protocol generation. */
export default async function setup(project: TestProject) {
  const odoo18 = await startOdooSimulator({ version: 18, control: true })
  const odoo19 = await startOdooSimulator({ version: 19, control: true })
  project.provide('odooUrl', odoo18.url)
  project.provide('odooUrlJson2', odoo19.url)
  const receiver = await startWebhookReceiver()
  project.provide('receiverUrl', receiver.url)
  return async () => {
    await Promise.all([odoo18.close(), odoo19.close(), receiver.close()])
  }
}
