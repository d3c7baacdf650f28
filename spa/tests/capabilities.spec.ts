import { describe, expect, it } from 'vitest'
import { UNKNOWN, capabilitiesFromStatus, effectiveSemantic, embedOffered, hasPlugin, semanticOffered } from '../src/lib/capabilities'

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
      modes: { image: true },
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

  it('offers embedding only for modes and formats the SDK can write, where the tools exist', () => {
    const caps = capabilitiesFromStatus({
      plugins: [{ name: 'metadata' }],
      iscc: { modes: { image: true, text: true, audio: true, video: false } },
    })
    const stored = (mode: string | undefined, mediatype: string) => ({ media_id: 'abc', mode, mediatype })
    expect(embedOffered(caps, stored('image', 'image/jpeg'))).toBe(true)
    expect(embedOffered(caps, stored('image', 'image/png'))).toBe(true)
    expect(embedOffered(caps, stored('image', 'image/svg+xml'))).toBe(true)
    // exiv2 cannot write these: the server would answer 422.
    for (const type of ['image/gif', 'image/bmp', 'image/avif', 'image/heic']) expect(embedOffered(caps, stored('image', type))).toBe(false)
    // Text: only PDF, EPUB and DOCX have writers (pasted text is text/plain).
    expect(embedOffered(caps, stored('text', 'text/plain'))).toBe(false)
    expect(embedOffered(caps, stored('text', 'application/pdf'))).toBe(true)
    expect(embedOffered(caps, stored('text', 'application/epub+zip'))).toBe(true)
    expect(embedOffered(caps, stored('text', 'application/msword'))).toBe(false)
    expect(embedOffered(caps, stored('audio', 'audio/mpeg'))).toBe(true)
    // Video needs ffmpeg, which this status says is missing.
    expect(embedOffered(caps, stored('video', 'video/mp4'))).toBe(false)
    // No mode (ISCC-SUM of an unsupported type), no stored file, or the group off: no embedding.
    expect(embedOffered(caps, stored(undefined, 'chemical/x-xyz'))).toBe(false)
    expect(embedOffered(caps, { mode: 'image', mediatype: 'image/jpeg' })).toBe(false)
    const off = capabilitiesFromStatus({ plugins: [{ name: 'iscc' }], iscc: { modes: { image: true } } })
    expect(embedOffered(off, stored('image', 'image/jpeg'))).toBe(false)
    // Unknown capabilities: decided by the format alone.
    expect(embedOffered(UNKNOWN, stored('video', 'video/mp4'))).toBe(true)
  })
})
