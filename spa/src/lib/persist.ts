/**
 * Results kept in `sessionStorage`, so a reload (or a tab restored by the browser) does not lose
 * them; closing the tab does. What was still uploading cannot resume (the file stays in the
 * browser's memory only) and comes back as a failed card that says so.
 */

import type { Card } from './store'

export const STORAGE_KEY = 'iscc-web:results:v1'
export const INTERRUPTED = 'The page was reloaded before this finished. Add the file again to generate its ISCC.'

/** The fields of a card worth keeping (no file bodies, no object URLs, no in-flight flags). */
type Saved = Pick<
  Card,
  'id' | 'kind' | 'label' | 'status' | 'startedAt' | 'finishedAt' | 'snippet' | 'fileName' | 'options' | 'result' |
  'detail' | 'error' | 'explainError' | 'mediaIds' | 'previousIscc' | 'collapsed' | 'userToggled' | 'fileType'
>

function toSaved(card: Card, lean: boolean): Saved {
  const finished = card.status === 'done' || card.status === 'decoded' || card.status === 'failed'
  const result = card.result && lean ? { ...card.result, thumbnail: undefined, features: undefined } : card.result
  return {
    id: card.id,
    kind: card.kind,
    label: card.label,
    status: finished ? card.status : 'failed',
    startedAt: card.startedAt,
    finishedAt: card.finishedAt,
    snippet: card.snippet,
    fileName: card.fileName,
    fileType: card.fileType,
    options: card.options,
    result: finished ? result : undefined,
    detail: finished ? card.detail : undefined,
    error: finished ? card.error : INTERRUPTED,
    explainError: card.explainError,
    mediaIds: [...card.mediaIds],
    previousIscc: card.previousIscc,
    collapsed: card.collapsed,
    userToggled: card.userToggled,
  }
}

/**
 * Write the cards; when the quota is exceeded, drop thumbnails and simprints, then the oldest
 * cards, so the newest results survive. Returns how many cards were kept.
 */
export function saveCards(storage: Pick<Storage, 'setItem' | 'removeItem'>, cards: Card[]): number {
  if (!cards.length) {
    storage.removeItem(STORAGE_KEY)
    return 0
  }
  for (const lean of [false, true]) {
    const saved = cards.map((card) => toSaved(card, lean))
    while (saved.length) {
      try {
        storage.setItem(STORAGE_KEY, JSON.stringify(saved))
        return saved.length
      } catch {
        if (!lean) break
        saved.pop() // cards are newest first: the oldest goes
      }
    }
  }
  storage.removeItem(STORAGE_KEY)
  return 0
}

function isSaved(value: unknown): value is Saved {
  if (!value || typeof value !== 'object') return false
  const card = value as Record<string, unknown>
  return (
    typeof card.id === 'number' &&
    (card.kind === 'file' || card.kind === 'text' || card.kind === 'code') &&
    typeof card.label === 'string' &&
    (card.status === 'done' || card.status === 'decoded' || card.status === 'failed') &&
    Array.isArray(card.mediaIds) && card.mediaIds.every((id) => typeof id === 'string')
  )
}

/** Read saved cards back (anything malformed is ignored, never trusted). */
export function loadCards(storage: Pick<Storage, 'getItem'>): Card[] {
  let raw: unknown
  try {
    raw = JSON.parse(storage.getItem(STORAGE_KEY) ?? '[]')
  } catch {
    return []
  }
  if (!Array.isArray(raw)) return []
  return raw.filter(isSaved).map((saved) => ({
    ...saved,
    fileName: typeof saved.fileName === 'string' ? saved.fileName : '',
    startedAt: typeof saved.startedAt === 'number' ? saved.startedAt : 0,
    loaded: 0,
    total: 0,
    embedding: false,
    retryable: false,
  }))
}
