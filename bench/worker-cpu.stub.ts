/**
 * Stand-in for the `cloudflare:workers` module when the gateway is bundled for Node (bench/worker-cpu.ts): the
 * Durable Object classes only need a base class to extend; the benchmark never instantiates them.
 */
export class DurableObject<Env = unknown> {
  constructor(
    readonly ctx: unknown,
    readonly env: Env,
  ) {}
}
export class WorkerEntrypoint {}
export const env = {}
