/** The connectors changes of the admin API as plans (admin/v1/plan.ts); see keys/plans.ts for the pattern. */
export const connectorsPlanners = {} as const
