import { describeModel, listModels } from './meta.tools'
import { aggregateRecords, countRecords, readRecords, searchRecords } from './read.tools'
import { createRecord, deleteRecords, updateRecords } from './write.tools'

/** Every tool the gateway offers, in the order tools/list shows them. */
export const ALL_TOOLS = [
  listModels,
  describeModel,
  searchRecords,
  readRecords,
  countRecords,
  aggregateRecords,
  createRecord,
  updateRecords,
  deleteRecords,
]
