/** The webhooks changes of the admin API as plans (admin/v1/plan.ts); see keys/plans.ts for the pattern. */
export const webhooksPlanners = {} as const
