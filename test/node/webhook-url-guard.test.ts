/** SSRF attempts against the webhook URL guard: each must be refused with a reason. */
import { describe, expect, it } from 'vitest'
import { checkAddress, checkWebhookUrl } from '../../src/webhooks/url-guard'

describe('webhook URL guard', () => {
  it('accepts public https URLs', () => {
    for (const url of ['https://hooks.example.com/odoo', 'https://n8n.example.org:8443/webhook/abc?x=1', 'https://93.184.216.34/hook', 'https://[2606:4700::1111]/hook']) {
      expect(checkWebhookUrl(url, false).ok, url).toBe(true)
    }
  })

  it('refuses internal targets, odd encodings and plain http', () => {
    const refused = [
      'http://hooks.example.com/', // plain http
      'ftp://example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'not a url',
      'https://10.0.0.5/', 'https://172.16.3.4/', 'https://192.168.1.1/', 'https://100.64.0.1/', // private, CGNAT
      'https://169.254.169.254/latest/meta-data/', 'https://[fe80::1]/', 'https://[fd00::1]/', 'https://[::ffff:10.0.0.1]/',
      'https://[::ffff:169.254.169.254]/', 'https://0.0.0.0/', 'https://[::]/', 'https://224.0.0.1/', 'https://255.255.255.255/',
      'https://203.0.113.10/', 'https://[2001:db8::1]/', // documentation ranges
      'https://127.0.0.1/', 'https://localhost/', 'https://api.localhost/', // loopback outside local dev
      'https://2130706433/', 'https://0x7f000001/', 'https://017700000001/', 'https://127.1/', // other spellings of 127.0.0.1
      'https://metadata.google.internal/computeMetadata/v1/', 'https://anything.internal/',
      'https://user:pass@example.com/',
    ]
    for (const url of refused) {
      const verdict = checkWebhookUrl(url, false)
      expect(verdict.ok, url).toBe(false)
      if (!verdict.ok) expect(verdict.reason.length).toBeGreaterThan(10)
    }
  })

  it('allows http and https on loopback only when local development allows it', () => {
    for (const url of ['http://127.0.0.1:9000/hook', 'http://localhost:9000/hook', 'http://[::1]:9000/']) {
      expect(checkWebhookUrl(url, true).ok, url).toBe(true)
      expect(checkWebhookUrl(url, false).ok, url).toBe(false)
    }
    // Loopback allowance does not open private ranges.
    expect(checkWebhookUrl('http://10.0.0.1/', true).ok).toBe(false)
    expect(checkWebhookUrl('https://192.168.0.10/', true).ok).toBe(false)
  })

  it('checks resolved addresses (a public name pointing inside is refused at delivery time)', () => {
    expect(checkAddress('93.184.216.34', false).ok).toBe(true)
    for (const address of ['10.1.2.3', '127.0.0.1', '169.254.169.254', '::1', 'fd12::1', '::ffff:192.168.0.1', 'nonsense']) {
      expect(checkAddress(address, false).ok, address).toBe(false)
    }
  })
})
