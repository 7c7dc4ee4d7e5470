// Where key objects and limiter shards are created (src/keys/placement.ts): ODOO_REGION read like every setting
// (trimmed, any case), refused with the accepted values when unknown, and the objects reached with the hint work.
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { ConfigError, LOCATION_HINTS, loadConfig } from '../../../src/config'
import { keyObject, limiterShard, locationHintOf } from '../../../src/keys/placement'

describe('ODOO_REGION', () => {
  it('is a Cloudflare location hint, or nothing', () => {
    expect(locationHintOf({})).toBeUndefined()
    expect(locationHintOf({ ODOO_REGION: '  ' })).toBeUndefined()
    expect(locationHintOf({ ODOO_REGION: 'weur' })).toBe('weur')
    expect(locationHintOf({ ODOO_REGION: ' APAC ' })).toBe('apac')
    for (const hint of LOCATION_HINTS) expect(locationHintOf({ ODOO_REGION: hint })).toBe(hint)
  })

  it('refuses anything else, naming what is accepted, in the gateway config too', () => {
    for (const wrong of ['europe', 'eu', 'weur,apac', 'fra']) {
      expect(() => locationHintOf({ ODOO_REGION: wrong })).toThrow(ConfigError)
      expect(() => locationHintOf({ ODOO_REGION: wrong })).toThrow(/wnam, enam, sam, weur, eeur, apac, oc, afr, me/)
      expect(() => loadConfig({ ...env, ODOO_REGION: wrong })).toThrow(/ODOO_REGION must be one of/)
    }
    expect(() => loadConfig({ ...env, ODOO_REGION: 'oc' })).not.toThrow()
  })

  it('places key objects and limiter shards with the hint, and they answer', async () => {
    const placed = { ...env, ODOO_REGION: 'weur' }
    const head = await keyObject(placed, 'key_00000000000000aa').auditHead()
    expect(head).toMatchObject({ seq: expect.any(Number) })
    // The same object with or without the hint (a hint only matters when an object is first created).
    expect(await keyObject(env, 'key_00000000000000aa').auditHead()).toEqual(head)
    const lease = await limiterShard(placed, 7).lease({ want: 3, spec: { perMinute: 600, burst: 10 } })
    expect(lease).toMatchObject({ granted: 3 })
  })
})
