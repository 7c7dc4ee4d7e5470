/**
 * Hostile corpus, tool layer: hidden fields and forbidden models reached by every path, domain and order injection,
 * Odoo methods smuggled through tool names, JSON-RPC methods, arguments and context (entries in corpus/*.json; what
 * each is held to: corpus.ts).
 */
import { runCorpus } from './corpus'

runCorpus('hostile requests: tools and the policy', ['field_leak', 'model_leak', 'domain_injection', 'method_smuggling'])
