import { describe, expect, it } from 'vitest'
import { ApiError } from '../src/lib/api'
import {
  SIMILAR_OFF,
  SimilarApi,
  chunkViews,
  matchViews,
  queryFor,
  safeRef,
  similarFromStatus,
  unitLabel,
  type SimilarMatches,
} from '../src/lib/similar'

const FOUND: SimilarMatches = {
  matches: [
    {
      iscc_id: 'ISCC:MAIGMGNQQHUMBKXC',
      score: 0.9731,
      types: { INSTANCE_NONE_V0: 0, DATA_NONE_V0: 0.5117, CONTENT_IMAGE_V0: 1 },
      metadata: { name: 'Concentrated Cat', ref: 'https://example.org/cat' },
    },
    { iscc_id: 'ISCC:MAIGMGNQQIATGQKT', score: 0.8, types: { CONTENT_TEXT_V0: 0.8 }, metadata: { ref: 'javascript:alert(1)' } },
  ],
  chunk_matches: [
    {
      iscc_id: 'ISCC:MAIGMGNQQKQWKEV4',
      score: 0.95,
      metadata: { name: 'Spec' },
      types: {
        CONTENT_TEXT_V0: {
          score: 0.95, matches: 3, queried: 4,
          chunks: [
            { query: 'a', match: 'a', score: 1, freq: 1, offset: 900, size: 300 },
            { query: 'b', match: 'b', score: 0.9, freq: 2, offset: 0, size: 450 },
            { query: 'c', match: 'c', score: 1, freq: 1, offset: 900, size: 300 },
          ],
        },
      },
    },
  ],
}

function fakeFetch(responses: Record<string, { status: number; body: unknown; headers?: Record<string, string> }>) {
  const calls: { url: string; init: RequestInit }[] = []
  const fn = (async (url: string, init: RequestInit) => {
    calls.push({ url, init })
    const key = Object.keys(responses).find((k) => url.startsWith(k))
    const r = key ? responses[key] : { status: 404, body: { title: 'Not Found', detail: 'nope' } }
    const ok = r.status < 400
    return new Response(JSON.stringify(r.body), {
      status: r.status,
      headers: { 'Content-Type': ok ? 'application/json' : 'application/problem+json', ...(r.headers ?? {}) },
    })
  }) as unknown as typeof fetch
  return { fn, calls }
}

describe('similar', () => {
  it('reads the group from the status report', () => {
    expect(similarFromStatus({ similar: { available: true, writable: true, entries: 3 } }))
      .toEqual({ enabled: true, available: true, writable: true })
    expect(similarFromStatus({ similar: { available: true, writable: false } }).writable).toBe(false)
    expect(similarFromStatus({ plugins: [] })).toEqual(SIMILAR_OFF)
    expect(similarFromStatus(null)).toEqual(SIMILAR_OFF)
  })

  it('builds a query from a result: code, units and simprints by type', () => {
    expect(queryFor({
      iscc: 'ISCC:KAC',
      units: ['ISCC:AAD', 'ISCC:EAD'],
      features: [
        { maintype: 'content', subtype: 'text', version: 0, simprints: ['s1', 's2'], offsets: [0, 5] },
        { maintype: 'semantic', subtype: 'text', simprints: [] },
      ],
    })).toEqual({ iscc_code: 'ISCC:KAC', units: ['ISCC:AAD', 'ISCC:EAD'], simprints: { CONTENT_TEXT_V0: ['s1', 's2'] } })
    expect(queryFor({ iscc: '' })).toBeNull()
  })

  it('shows matches with a name, a score and per-unit bars in layer order', () => {
    const [first, second] = matchViews(FOUND)
    expect(first).toMatchObject({ name: 'Concentrated Cat', percent: 97, ref: 'https://example.org/cat' })
    expect(first.bars.map((b) => [b.label, b.layer, b.percent])).toEqual([
      ['Content · image', 'content', 100], ['Data', 'data', 51], ['Instance', 'instance', 0],
    ])
    expect(second.name).toBe('Untitled MAIGMGNQQIATGQKT')
    expect(second.ref).toBeUndefined()
    expect(safeRef('http://x.org')).toBe('http://x.org')
    expect(unitLabel('META_NONE_V0')).toBe('Meta')
  })

  it('shows chunk matches for text: how many passages, where, deduplicated and in order', () => {
    expect(chunkViews(FOUND)).toEqual([{
      id: 'ISCC:MAIGMGNQQKQWKEV4', name: 'Spec', percent: 95, matched: 3, queried: 4,
      ranges: [{ offset: 0, size: 450, percent: 90 }, { offset: 900, size: 300, percent: 100 }],
    }])
  })

  it('queries and adds through the API, publishing only the name', async () => {
    const { fn, calls } = fakeFetch({
      '/api/v1/similar/query': { status: 200, body: FOUND },
      '/api/v1/index': { status: 201, body: { iscc_id: 'ISCC:MAIGMGNQQHUMBKXC' } },
    })
    const api = new SimilarApi(fn)
    expect(await api.query({ units: ['ISCC:EAD'] }, 3)).toEqual(FOUND)
    expect(calls[0].url).toBe('/api/v1/similar/query?limit=3')
    expect(await api.add('061knt35ejv6o', '  My cat  ')).toEqual({ iscc_id: 'ISCC:MAIGMGNQQHUMBKXC' })
    expect(JSON.parse(String(calls[1].init.body))).toEqual({ media_id: '061knt35ejv6o', metadata: { name: 'My cat' } })
    await api.add('061knt35ejv6o')
    expect(JSON.parse(String(calls[2].init.body))).toEqual({ media_id: '061knt35ejv6o' })
  })

  it('turns a busy index into an ApiError with Retry-After, and a failed status into "off"', async () => {
    const { fn } = fakeFetch({
      '/api/v1/similar/query': { status: 503, body: { title: 'Service Unavailable', detail: 'later' }, headers: { 'Retry-After': '5' } },
      '/api/v1/-/status': { status: 500, body: {} },
    })
    const api = new SimilarApi(fn)
    const error = await api.query({ units: ['x'] }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).status).toBe(503)
    expect((error as ApiError).retryAfter).toBe(5)
    expect(await api.status()).toEqual(SIMILAR_OFF)
  })
})
