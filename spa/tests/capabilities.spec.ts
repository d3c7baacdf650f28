import { describe, expect, it } from 'vitest'
import { UNKNOWN, capabilitiesFromStatus, effectiveSemantic, hasPlugin, semanticOffered } from '../src/lib/capabilities'

const status = (semantic: { text: boolean; image: boolean }) => ({
  version: '0.1.0',
  plugins: [{ name: 'media' }, { name: 'iscc' }],
  iscc: { semantic, modes: { image: true } },
})

describe('capabilities', () => {
  it('reads plugins and semantic models from the status report', () => {
    expect(capabilitiesFromStatus(status({ text: true, image: false }))).toEqual({
      plugins: ['media', 'iscc'],
      semantic: { text: true, image: false },
    })
    expect(capabilitiesFromStatus(null)).toEqual(UNKNOWN)
    expect(capabilitiesFromStatus({ plugins: 'x' })).toEqual(UNKNOWN)
  })

  it('sends semantic only where the server has a model', () => {
    const none = capabilitiesFromStatus(status({ text: false, image: false }))
    const textOnly = capabilitiesFromStatus(status({ text: true, image: false }))
    expect(semanticOffered(none)).toBe(false)
    expect(semanticOffered(textOnly)).toBe(true)
    expect(semanticOffered(UNKNOWN)).toBe(true)
    expect(effectiveSemantic(true, 'image/jpeg', none)).toBe(false)
    expect(effectiveSemantic(true, 'image/jpeg', textOnly)).toBe(false)
    expect(effectiveSemantic(true, 'text/plain;charset=utf-8', textOnly)).toBe(true)
    expect(effectiveSemantic(true, 'application/pdf', textOnly)).toBe(true)
    expect(effectiveSemantic(true, 'audio/mpeg', none)).toBe(false)
    expect(effectiveSemantic(true, 'image/png', UNKNOWN)).toBe(true)
    expect(effectiveSemantic(false, 'text/plain', textOnly)).toBe(false)
  })

  it('knows which endpoint groups are on', () => {
    const caps = capabilitiesFromStatus(status({ text: false, image: false }))
    expect(hasPlugin(caps, 'iscc')).toBe(true)
    expect(hasPlugin(caps, 'metadata')).toBe(false)
    expect(hasPlugin(UNKNOWN, 'metadata')).toBe(true)
  })
})
