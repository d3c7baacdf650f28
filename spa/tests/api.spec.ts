import { describe, expect, it, vi } from 'vitest'
import { Api, ApiError, describeError, errorFromResponse, explainUrl, isccUrl, mediaUrl, metadataUrl } from '../src/lib/api'
import { base64Utf8 } from '../src/lib/format'

type Listener = ((event: { loaded: number; total: number; lengthComputable: boolean }) => void) | null

/** A scripted XMLHttpRequest: records what was sent, answers when told to. */
class FakeXhr {
  static last: FakeXhr
  method = ''
  url = ''
  headers: Record<string, string> = {}
  body: unknown
  status = 0
  statusText = ''
  response = ''
  responseText = ''
  responseType = ''
  responseHeaders: Record<string, string> = {}
  aborted = false
  upload: { onprogress: Listener; onload: (() => void) | null } = { onprogress: null, onload: null }
  onload: (() => void) | null = null
  onerror: (() => void) | null = null
  onabort: (() => void) | null = null

  constructor() {
    FakeXhr.last = this
  }
  open(method: string, url: string) {
    this.method = method
    this.url = url
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value
  }
  getResponseHeader(name: string) {
    return this.responseHeaders[name.toLowerCase()] ?? null
  }
  send(body: unknown) {
    this.body = body
  }
  abort() {
    this.aborted = true
    this.onabort?.()
  }
  respond(status: number, body: string, headers: Record<string, string> = {}) {
    this.status = status
    this.response = body
    this.responseHeaders = headers
    this.onload?.()
  }
}

function makeApi(fetchImpl?: typeof fetch) {
  return new Api({ XMLHttpRequest: FakeXhr as unknown as new () => XMLHttpRequest, fetch: fetchImpl })
}

const problem = (status: number, title: string, detail: string) =>
  JSON.stringify({ type: 'about:blank', title, status, detail })

describe('URLs', () => {
  it('always sends both toggles explicitly', () => {
    expect(isccUrl({ semantic: true, granular: false })).toBe('/api/v1/iscc?semantic=true&granular=false')
    expect(isccUrl({ semantic: false, granular: true })).toBe('/api/v1/iscc?semantic=false&granular=true')
  })
  it('builds relative media, explain and metadata URLs', () => {
    expect(mediaUrl('061knt35ejv6o')).toBe('/api/v1/media/061knt35ejv6o')
    expect(metadataUrl('061knt35ejv6o')).toBe('/api/v1/metadata/061knt35ejv6o')
    expect(explainUrl('ISCC:KEC')).toBe('/api/v1/explain/ISCC%3AKEC')
  })
})

describe('generate (XMLHttpRequest upload)', () => {
  it('sends the raw body with the base64 UTF-8 file name and reports progress, then processing', async () => {
    const api = makeApi()
    const file = new Blob(['x'.repeat(100)], { type: 'image/jpeg' })
    const progress: Array<[number, number]> = []
    const processing = vi.fn()
    const promise = api.generate(file, 'Bild ü 🐱.jpg', { semantic: false, granular: true }, {
      onProgress: (loaded, total) => progress.push([loaded, total]),
      onProcessing: processing,
    })
    const xhr = FakeXhr.last
    expect(xhr.method).toBe('POST')
    expect(xhr.url).toBe('/api/v1/iscc?semantic=false&granular=true')
    expect(xhr.headers['X-Upload-Filename']).toBe(base64Utf8('Bild ü 🐱.jpg'))
    expect(atob(xhr.headers['X-Upload-Filename'])).not.toBe('Bild ü 🐱.jpg') // bytes, not chars
    expect(new TextDecoder().decode(Uint8Array.from(atob(xhr.headers['X-Upload-Filename']), (c) => c.charCodeAt(0)))).toBe('Bild ü 🐱.jpg')
    expect(xhr.headers['Content-Type']).toBe('image/jpeg')
    expect(xhr.body).toBe(file)
    xhr.upload.onprogress?.({ loaded: 40, total: 100, lengthComputable: true })
    xhr.upload.onload?.()
    expect(processing).toHaveBeenCalledOnce()
    xhr.respond(201, JSON.stringify({ iscc: 'ISCC:KEC', media_id: '061knt35ejv6o' }))
    await expect(promise).resolves.toEqual({ iscc: 'ISCC:KEC', media_id: '061knt35ejv6o' })
    expect(progress).toEqual([[40, 100], [100, 100]])
  })

  it('sends pasted text as pasted-text.txt, UTF-8 plain text', async () => {
    const api = makeApi()
    const promise = api.generateFromText('Hallo Welt', { semantic: true, granular: false })
    const xhr = FakeXhr.last
    expect(atob(xhr.headers['X-Upload-Filename'])).toBe('pasted-text.txt')
    expect(xhr.headers['Content-Type']).toBe('text/plain;charset=utf-8')
    expect(await (xhr.body as Blob).text()).toBe('Hallo Welt')
    xhr.respond(201, '{"iscc":"ISCC:KAC"}')
    await expect(promise).resolves.toEqual({ iscc: 'ISCC:KAC' })
  })

  it('turns a problem+json 413 into an ApiError with the detail', async () => {
    const api = makeApi()
    const promise = api.generate(new Blob(['x']), 'big.bin', { semantic: false, granular: false })
    FakeXhr.last.respond(413, problem(413, 'Payload Too Large', 'Upload exceeds the maximum size of 100000 bytes.'), {
      'content-type': 'application/problem+json',
    })
    const error = await promise.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ status: 413, title: 'Payload Too Large', detail: 'Upload exceeds the maximum size of 100000 bytes.' })
    expect((error as Error).message).toBe('413: Upload exceeds the maximum size of 100000 bytes.')
  })

  it('reads Retry-After from a 503', async () => {
    const api = makeApi()
    const promise = api.generate(new Blob(['x']), 'a.txt', { semantic: false, granular: false })
    FakeXhr.last.respond(503, problem(503, 'Service Unavailable', 'busy'), {
      'content-type': 'application/problem+json',
      'retry-after': '7',
    })
    await expect(promise).rejects.toMatchObject({ status: 503, retryAfter: 7 })
  })

  it('reports network failures as status 0 and cancels on abort', async () => {
    const api = makeApi()
    const failing = api.generate(new Blob(['x']), 'a.txt', { semantic: false, granular: false })
    FakeXhr.last.onerror?.()
    await expect(failing).rejects.toMatchObject({ status: 0 })

    const controller = new AbortController()
    const cancelled = api.generate(new Blob(['x']), 'a.txt', { semantic: false, granular: false }, { signal: controller.signal })
    controller.abort()
    expect(FakeXhr.last.aborted).toBe(true)
    await expect(cancelled).rejects.toMatchObject({ name: 'AbortError' })
  })
})

describe('fetch-based calls', () => {
  function fetchReturning(status: number, body: string, headers: Record<string, string> = {}) {
    return vi.fn(async () => new Response(status === 204 ? null : body, { status, headers }))
  }

  it('explains a code with GET /explain', async () => {
    const detail = { iscc: 'ISCC:KEC', readable: 'r', multiformat: 'u', decomposed: 'd', units: [] }
    const fetchFn = fetchReturning(200, JSON.stringify(detail), { 'content-type': 'application/json' })
    await expect(makeApi(fetchFn).explain('ISCC:KEC')).resolves.toEqual(detail)
    expect(fetchFn).toHaveBeenCalledWith('/api/v1/explain/ISCC%3AKEC', expect.objectContaining({ method: 'GET' }))
  })

  it('embeds metadata with a JSON POST', async () => {
    const fetchFn = fetchReturning(201, '{"iscc":"ISCC:NEW","media_id":"061knt35ejv6p"}', { 'content-type': 'application/json' })
    const result = await makeApi(fetchFn).embedMetadata('061knt35ejv6o', { name: 'Title' })
    expect(result.media_id).toBe('061knt35ejv6p')
    const [url, init] = fetchFn.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/v1/metadata/061knt35ejv6o')
    expect(init.method).toBe('POST')
    expect(init.body).toBe('{"name":"Title"}')
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/json')
  })

  it('deletes media and raises ApiError on a problem', async () => {
    const ok = fetchReturning(204, '')
    await makeApi(ok).deleteMedia('061knt35ejv6o')
    expect(ok).toHaveBeenCalledWith('/api/v1/media/061knt35ejv6o', expect.objectContaining({ method: 'DELETE' }))
    const missing = fetchReturning(404, problem(404, 'Not Found', 'File metadata not found'), {
      'content-type': 'application/problem+json',
    })
    await expect(makeApi(missing).deleteMedia('061knt35ejv6o')).rejects.toMatchObject({ status: 404, detail: 'File metadata not found' })
  })

  it('maps a failed fetch to a network error', async () => {
    const broken = vi.fn(async () => {
      throw new TypeError('Failed to fetch')
    })
    await expect(makeApi(broken as unknown as typeof fetch).explain('x')).rejects.toMatchObject({ status: 0 })
  })
})

describe('plain-words errors', () => {
  it('uses the problem detail and says what happened', () => {
    const tooLarge = errorFromResponse(413, '', problem(413, 'Payload Too Large', 'Upload exceeds the maximum size of 100000 bytes.'), 'application/problem+json', null)
    expect(describeError(tooLarge)).toBe('This file is too large for the server. Upload exceeds the maximum size of 100000 bytes (100 kB).')
    expect(describeError(new ApiError(503, 'Service Unavailable', 'busy', 3))).toBe('The server is busy right now. Please try again in 3 seconds.')
    expect(describeError(new ApiError(422, 'Unprocessable Entity', 'ISCC processing error.'))).toBe('The server could not process this. ISCC processing error.')
    expect(describeError(new ApiError(0, 'Network error', ''))).toMatch(/Could not reach the server/)
    expect(describeError(new ApiError(500, 'Internal Server Error', ''))).toMatch(/ran into a problem \(500/)
  })

  it('falls back to plain text bodies and ignores HTML error pages', () => {
    expect(errorFromResponse(400, 'Bad Request', 'Missing header', 'text/plain', null).detail).toBe('Missing header')
    expect(errorFromResponse(502, 'Bad Gateway', '<html>nginx</html>', 'text/html', null).detail).toBe('')
  })
})
