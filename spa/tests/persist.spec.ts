import { describe, expect, it } from 'vitest'
import { INTERRUPTED, STORAGE_KEY, loadCards, saveCards } from '../src/lib/persist'
import type { Card } from '../src/lib/store'
import { createStore } from '../src/lib/store'
import type { Api } from '../src/lib/api'

class MemoryStorage {
  items = new Map<string, string>()
  limit = Infinity
  getItem(key: string) { return this.items.get(key) ?? null }
  setItem(key: string, value: string) {
    if (value.length > this.limit) throw new DOMException('full', 'QuotaExceededError')
    this.items.set(key, value)
  }
  removeItem(key: string) { this.items.delete(key) }
}

function card(id: number, overrides: Partial<Card> = {}): Card {
  return {
    id, kind: 'file', label: `f${id}.jpg`, status: 'done', loaded: 0, total: 0, startedAt: 1, finishedAt: 2,
    fileName: `f${id}.jpg`, mediaIds: [`m${id}`], embedding: false,
    result: { iscc: `ISCC:X${id}`, media_id: `m${id}`, thumbnail: 'data:image/webp;base64,' + 'A'.repeat(2000) },
    detail: { iscc: `ISCC:X${id}`, readable: '', multiformat: '', decomposed: '', units: [] },
    body: new Blob(['secret bytes']), previewUrl: 'blob:x',
    ...overrides,
  }
}

describe('results across reloads', () => {
  it('round-trips finished cards without file bodies or object URLs', () => {
    const storage = new MemoryStorage()
    expect(saveCards(storage, [card(2), card(1, { collapsed: true })])).toBe(2)
    const back = loadCards(storage)
    expect(back.map((c) => c.id)).toEqual([2, 1])
    expect(back[0].result?.iscc).toBe('ISCC:X2')
    expect(back[1].collapsed).toBe(true)
    expect(back[0].body).toBeUndefined()
    expect(back[0].previewUrl).toBeUndefined()
    expect(storage.getItem(STORAGE_KEY)).not.toContain('secret bytes')
  })

  it('brings back unfinished uploads as failed cards that say what to do', () => {
    const storage = new MemoryStorage()
    saveCards(storage, [card(1, { status: 'uploading', result: undefined, detail: undefined })])
    const [back] = loadCards(storage)
    expect(back.status).toBe('failed')
    expect(back.error).toBe(INTERRUPTED)
  })

  it('drops thumbnails, then the oldest cards, when the storage is full', () => {
    const storage = new MemoryStorage()
    const cards = [card(3), card(2), card(1)]
    storage.limit = 600
    const kept = saveCards(storage, cards)
    expect(kept).toBeGreaterThan(0)
    expect(kept).toBeLessThan(3)
    const back = loadCards(storage)
    expect(back[0].id).toBe(3)
    expect(back[0].result?.thumbnail).toBeUndefined()
  })

  it('ignores malformed or foreign data', () => {
    const storage = new MemoryStorage()
    storage.setItem(STORAGE_KEY, '{not json')
    expect(loadCards(storage)).toEqual([])
    storage.setItem(STORAGE_KEY, JSON.stringify([{ id: 'x' }, { id: 1, kind: 'file', label: 'a', status: 'done', mediaIds: [5] }]))
    expect(loadCards(storage)).toEqual([])
  })

  it('restored cards keep their ids unique for new ones', () => {
    const storage = new MemoryStorage()
    saveCards(storage, [card(7)])
    const store = createStore({} as Api, () => 0, { initial: loadCards(storage) })
    const added = store.addCode('ISCC:AAAXNDSZVTTX2LDQ')
    return added.catch(() => undefined).then(() => {
      expect(store.state.cards.map((c) => c.id)).toEqual([8, 7])
    })
  })
})
