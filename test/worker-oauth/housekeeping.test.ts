/** The hourly OAuth housekeeping (oauth/server.ts purgeExpiredOAuthData), as the cron runs it. */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { authorizationServer, oauthSettings, purgeExpiredOAuthData } from '../../src/oauth/server'
import { addProfile, clearProfiles, connectionOf, obtainCode, redeem, type Tokens } from './helpers'

describe('OAuth housekeeping', () => {
  beforeAll(async () => {
    await clearProfiles()
    await addProfile({ name: 'sales' })
  })

  it('drops the grants of a deleted client from KV, sweeping in bounded runs to the end', { timeout: 60_000 }, async () => {
    const grant = await obtainCode()
    const tokens = (await (await redeem(grant)).json()) as Tokens
    const connectionId = connectionOf(tokens.access_token)
    const api = authorizationServer(oauthSettings(env)!).getOAuthApi(env)
    expect((await api.listUserGrants(connectionId)).items).toHaveLength(1)
    // Deleting through the library revokes the client's grants itself; an orphan is what a failed deletion leaves.
    await env.OAUTH_KV.delete(`client:${grant.clientId}`)
    let runs = 0
    for (;;) {
      const result = await purgeExpiredOAuthData(env)
      runs++
      if (result!.done || runs > 50) break
    }
    expect(runs).toBeLessThanOrEqual(50)
    expect((await api.listUserGrants(connectionId)).items).toHaveLength(0)
    expect(await env.OAUTH_KV.get('gateway:purge-cursor')).toBeNull()
  })
})
