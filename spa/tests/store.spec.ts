import { describe, expect, it, vi } from 'vitest'
import { ApiError, type Api, type IsccDetail, type IsccMetadata } from '../src/lib/api'
import { createStore } from '../src/lib/store'

const detail = (iscc: string): IsccDetail => ({ iscc, readable: 'ISCC-IMAGE-V0-MCDI-00', multiformat: 'u', decomposed: '', units: [] })

function fakeApi(overrides: Partial<Record<keyof Api, unknown>> = {}) {
  let n = 0
  const base = {
    generate: vi.fn(async (_body: Blob, _name: string, _opts: unknown, cb: { onProcessing?: () => void } = {}) => {
      cb.onProcessing?.()
      n += 1
      return { iscc: `ISCC:CODE${n}`, media_id: `media${n}` } as IsccMetadata
    }),
    explain: vi.fn(async (code: string) => detail(code)),
    embedMetadata: vi.fn(async () => ({ iscc: 'ISCC:EMBEDDED', media_id: 'media-new' }) as IsccMetadata),
    deleteMedia: vi.fn(async (_mediaId: string) => undefined),
    status: vi.fn(async () => ({})),
  }
  return Object.assign(base, overrides) as typeof base
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('store', () => {
  it('adds cards newest first and finishes them with an explained result', async () => {
    const api = fakeApi()
    const store = createStore(api as unknown as Api)
    store.addFiles([new File(['a'], 'a.txt'), new File(['b'], 'b.txt')], { semantic: true, granular: false })
    store.addText('hello world', { semantic: false, granular: false })
    expect(store.state.cards.map((c) => c.label)).toEqual(['hello world', 'b.txt', 'a.txt'])
    await flush()
    await flush()
    expect(store.state.cards.every((c) => c.status === 'done')).toBe(true)
    expect(api.generate.mock.calls[0][2]).toEqual({ semantic: true, granular: false })
    expect(store.state.cards[0].detail?.iscc).toMatch(/^ISCC:CODE/)
  })

  it('shows server errors in plain words and can retry', async () => {
    let fail = true
    const api = fakeApi({
      generate: vi.fn(async () => {
        if (fail) throw new ApiError(503, 'Service Unavailable', 'busy', 2)
        return { iscc: 'ISCC:OK', media_id: 'm1' }
      }),
    })
    const store = createStore(api as unknown as Api)
    const [card] = store.addFiles([new File(['a'], 'a.txt')], { semantic: false, granular: false })
    await flush()
    expect(store.find(card.id)?.status).toBe('failed')
    expect(store.find(card.id)?.error).toBe('The server is busy right now. Please try again in 2 seconds.')
    fail = false
    store.retry(card.id)
    await flush()
    await flush()
    expect(store.find(card.id)?.status).toBe('done')
  })

  it('embedding switches the card to the new file and remove deletes every package', async () => {
    const api = fakeApi()
    const store = createStore(api as unknown as Api)
    const [card] = store.addFiles([new File(['a'], 'a.jpg')], { semantic: false, granular: false })
    await flush()
    await flush()
    expect(await store.embed(card.id, { name: 'Title' })).toBe(true)
    const updated = store.find(card.id)!
    expect(updated.result?.iscc).toBe('ISCC:EMBEDDED')
    expect(updated.previousIscc).toBe('ISCC:CODE1')
    expect(api.embedMetadata).toHaveBeenCalledWith('media1', { name: 'Title' })
    await store.remove(card.id)
    expect(store.state.cards).toHaveLength(0)
    expect(api.deleteMedia.mock.calls.map((c) => c[0])).toEqual(['media1', 'media-new'])
  })

  it('decodes codes and docks comparisons', async () => {
    const store = createStore(fakeApi() as unknown as Api)
    const a = await store.addCode('ISCC:AAA')
    const b = await store.addCode('ISCC:BBB')
    expect(store.comparable().map((c) => c.id)).toEqual([b.id, a.id])
    store.setCompare(a.id, b.id)
    store.swapCompare(a.id)
    expect(store.find(a.id)?.compareWith).toBeUndefined()
    expect(store.find(b.id)?.compareWith).toBe(a.id)
    await store.remove(a.id)
    expect(store.find(b.id)?.compareWith).toBeUndefined()
  })

  it('keeps the newest results open and collapses older finished ones', async () => {
    const store = createStore(fakeApi() as unknown as Api)
    store.addFiles([1, 2, 3, 4, 5].map((n) => new File([String(n)], `${n}.txt`)), { semantic: false, granular: false })
    for (let i = 0; i < 6; i++) await flush()
    store.addText('six', { semantic: false, granular: false })
    for (let i = 0; i < 3; i++) await flush()
    const open = store.state.cards.filter((c) => !c.collapsed).map((c) => c.label)
    expect(open).toEqual(['six', '5.txt', '4.txt'])
    // What the user opened stays open.
    store.setCollapsed(store.state.cards[4].id, false)
    store.addText('seven', { semantic: false, granular: false })
    expect(store.state.cards[5].collapsed).toBe(false)
    store.setAllCollapsed(true)
    expect(store.state.cards.every((c) => c.collapsed)).toBe(true)
  })

  it('announces results in one live message and clears all cards with their uploads', async () => {
    const api = fakeApi()
    const store = createStore(api as unknown as Api)
    store.addFiles([new File(['a'], 'a.txt')], { semantic: false, granular: false })
    await flush()
    await flush()
    expect(store.state.announcement).toBe('a.txt: ISCC ready.')
    store.announce('a.txt: ISCC ready.')
    expect(store.state.announcement).not.toBe('a.txt: ISCC ready.') // repeated text is still a change
    store.addText('b', { semantic: false, granular: false })
    await flush()
    await flush()
    await store.clearAll()
    expect(store.state.cards).toEqual([])
    expect(api.deleteMedia.mock.calls.map((call) => call[0]).sort()).toEqual(['media1', 'media2'])
    expect(store.state.announcement).toBe('All 2 results removed.')
  })

  it('explains a 422 for a file in plain words, naming its type', async () => {
    const api = fakeApi({
      generate: vi.fn(async () => {
        throw new ApiError(422, 'Unprocessable Entity', 'ISCC processing error.')
      }),
    })
    const store = createStore(api as unknown as Api)
    const [card] = store.addFiles([new File(['x'], 'broken.jpg', { type: 'image/jpeg' })], { semantic: false, granular: false })
    await flush()
    expect(store.find(card.id)?.error).toMatch(/could not read this file \(JPEG image\)/)
    expect(store.find(card.id)?.retryable).toBe(false)
  })
})
