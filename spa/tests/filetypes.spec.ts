import { describe, expect, it } from 'vitest'
import { ApiError } from '../src/lib/api'
import { explainProcessingError, extensionOf, nameFromFileName, typeName } from '../src/lib/filetypes'

describe('file types in words', () => {
  it('names known types briefly and long ones without overflowing words', () => {
    expect(typeName('image/jpeg', 'a.jpg')).toBe('JPEG image')
    expect(typeName('application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'a.docx')).toBe('Word document (DOCX)')
    expect(typeName('text/plain;charset=utf-8', 'pasted-text.txt')).toBe('Plain text')
  })

  it('does not repeat a type guessed from the extension for a file the server could not read', () => {
    expect(typeName('chemical/x-xyz', 'unknown.xyz', false)).toBe('XYZ file')
    expect(typeName(undefined, 'README', false)).toBe('Unknown file type')
    expect(typeName('application/x-weird', 'data.weird')).toBe('WEIRD file')
    expect(extensionOf('archive.tar.gz')).toBe('GZ')
  })

  it('knows the title iscc-sdk derives from a file name', () => {
    expect(nameFromFileName('test-image.jpg')).toBe('test image')
    expect(nameFromFileName('my_holiday_photo.final.png')).toBe('my holiday photo.final')
  })
})

describe('processing errors in plain words', () => {
  const unprocessable = (detail: string) => new ApiError(422, 'Unprocessable Entity', detail)

  it('explains a file the server could not read, naming the type', () => {
    const text = explainProcessingError(unprocessable('ISCC processing error.'), 'broken.jpg', 'image/jpeg')!
    expect(text).toContain('could not read this file (JPEG image)')
    expect(text).toContain('damaged or incomplete')
    expect(text).not.toMatch(/^ISCC processing error/)
  })

  it('explains missing tools, timeouts and semantic models', () => {
    expect(explainProcessingError(unprocessable('ffmpeg is not installed on this server; this media type cannot be processed.'), 'a.mp4', 'video/mp4'))
      .toMatch(/^This server cannot process this kind of file/)
    expect(explainProcessingError(unprocessable('ISCC processing timed out.'), 'a.pdf', 'application/pdf')).toMatch(/took too long/)
    expect(explainProcessingError(unprocessable('Semantic codes are not available on this server.'), 'a.txt', 'text/plain'))
      .toMatch(/Switch off “Semantic code”/)
  })

  it('leaves other errors to the generic description', () => {
    expect(explainProcessingError(new ApiError(413, 'Payload Too Large', 'x'), 'a', '')).toBeUndefined()
    expect(explainProcessingError(new Error('x'), 'a', '')).toBeUndefined()
  })
})
