/**
 * Hostile corpus, payloads: oversized and deeply nested JSON, and Unicode tricks on names, values and what the audit
 * log stores (entries in corpus/*.json; what each is held to: corpus.ts).
 */
import { runCorpus } from './corpus'

runCorpus('hostile requests: payloads', ['oversized_json', 'unicode'])
