/** Application state: the result cards and everything that changes them. */

import { reactive } from 'vue'
import { capabilitiesFromStatus, effectiveSemantic, UNKNOWN, type Capabilities } from './capabilities'
import { api, ApiError, describeError, isRetryable, type Api, type InlineMetadata, type IsccDetail, type IsccMetadata, type IsccOptions } from './api'
import { explainProcessingError } from './filetypes'
import { ASYNC_THRESHOLD, followJob, isAccepted, requestFromUrl, urlLabel, type JobAccepted, type JobState } from './jobs'

export type CardKind = 'file' | 'text' | 'code'
export type CardStatus = 'queued' | 'uploading' | 'processing' | 'done' | 'decoded' | 'failed'

export interface Card {
  id: number
  kind: CardKind
  label: string
  status: CardStatus
  /** Upload progress in bytes. */
  loaded: number
  total: number
  startedAt: number
  finishedAt?: number
  /** Local object URL of an image file, shown before the server's thumbnail exists. */
  previewUrl?: string
  /** First characters of pasted text. */
  snippet?: string
  /** What was sent, kept so that a failed upload can be retried. */
  body?: Blob
  fileName: string
  options?: IsccOptions
  result?: IsccMetadata
  detail?: IsccDetail
  error?: string
  /** Whether sending the same thing again may succeed (offers "Try again"). */
  retryable?: boolean
  /** Why the unit breakdown is missing although the ISCC exists. */
  explainError?: string
  /** Every package on the server this card created (removed with the card). */
  mediaIds: string[]
  /** The ISCC before metadata was embedded (set once an embed succeeded). */
  previousIscc?: string
  embedding: boolean
  embedError?: string
  /** Card whose result is docked into this one for comparison. */
  compareWith?: number
  /** The media type the browser gave the file (names the type in error messages). */
  fileType?: string
  /** The URL the server fetches the file from (instead of an upload). */
  sourceUrl?: string
  /** The asynchronous job's latest state (large files and URLs). */
  job?: JobState
  /** Shown as one line (head only). */
  collapsed?: boolean
  /** The user opened or closed this card, so it is never collapsed automatically. */
  userToggled?: boolean
}

const MAX_PARALLEL_UPLOADS = 2
/** Finished cards beyond the newest few collapse to one line, so a long feed stays short. */
export const KEEP_OPEN = 3

export interface StoreOptions {
  /** Cards to start with (restored from sessionStorage). */
  initial?: Card[]
}

export function createStore(client: Api = api, now: () => number = () => Date.now(), options: StoreOptions = {}) {
  const state = reactive({
    cards: [...(options.initial ?? [])] as Card[],
    caps: UNKNOWN as Capabilities,
    /** The one polite live-region message (results, verdicts, removals). */
    announcement: '',
    /** Ids of the cards the user added last (the page brings them into view). */
    added: [] as number[],
  })
  const controllers = new Map<number, AbortController>()
  const queue: number[] = []
  let active = 0
  let nextId = Math.max(0, ...state.cards.map((card) => card.id)) + 1

  /** Say something in the live region (the same text twice is still announced). */
  function announce(text: string): void {
    state.announcement = state.announcement === text ? `${text}\u00a0` : text
  }

  const settled = (card: Card) => card.status === 'done' || card.status === 'decoded' || card.status === 'failed'

  function autoCollapse(): void {
    state.cards.forEach((card, index) => {
      if (index >= KEEP_OPEN && !card.userToggled && settled(card) && card.compareWith === undefined &&
          !state.cards.some((other) => other.compareWith === card.id)) {
        card.collapsed = true
      }
    })
  }

  function find(id: number): Card | undefined {
    return state.cards.find((card) => card.id === id)
  }

  function add(card: Omit<Card, 'id' | 'startedAt' | 'mediaIds' | 'embedding' | 'loaded' | 'total'>): Card {
    state.cards.unshift({ id: nextId++, startedAt: now(), mediaIds: [], embedding: false, loaded: 0, total: 0, ...card })
    autoCollapse()
    return state.cards[0] // the reactive proxy
  }

  function finished(card: Card): void {
    card.finishedAt = now()
    autoCollapse()
    if (card.status === 'failed') announce(`${card.label}: failed. ${card.error ?? ''}`.trim())
    else announce(`${card.label}: ${card.status === 'decoded' ? 'decoded' : 'ISCC ready'}.`)
  }

  async function explainInto(card: Card, iscc: string): Promise<void> {
    try {
      card.detail = await client.explain(iscc)
      card.explainError = undefined
    } catch (error) {
      card.detail = undefined
      card.explainError = describeError(error)
    }
  }

  async function run(id: number): Promise<void> {
    const card = find(id)
    if (!card || (!card.body && !card.sourceUrl) || !card.options) return
    const controller = new AbortController()
    controllers.set(id, controller)
    card.status = 'uploading'
    card.error = undefined
    card.startedAt = now()
    card.loaded = 0
    card.total = card.body?.size ?? 0
    try {
      let answer: IsccMetadata | JobAccepted = card.body
        ? await client.generate(card.body, card.fileName, card.options, {
          signal: controller.signal,
          prefer: card.body.size >= ASYNC_THRESHOLD ? 'respond-async' : undefined,
          onProgress: (loaded, total) => {
            card.loaded = loaded
            card.total = total
          },
          onProcessing: () => {
            card.status = 'processing'
          },
        })
        : await requestFromUrl(card.sourceUrl as string, card.options)
      if (isAccepted(answer)) {
        card.status = 'processing'
        card.mediaIds.push(answer.media_id)
        answer = await followJob(answer.job_id, (job) => {
          card.job = job
        })
      }
      const result = answer as IsccMetadata
      if (!find(id)) return
      if (result.media_id && !card.mediaIds.includes(result.media_id)) card.mediaIds.push(result.media_id)
      card.result = result
      card.status = 'processing'
      await explainInto(card, result.iscc)
      card.status = 'done'
      finished(card)
    } catch (error) {
      if (!find(id)) return
      card.status = 'failed'
      card.error = explainProcessingError(error, card.fileName, card.fileType ?? '') ?? describeError(error)
      card.retryable = isRetryable(error)
      finished(card)
    } finally {
      controllers.delete(id)
    }
  }

  function pump(): void {
    while (active < MAX_PARALLEL_UPLOADS && queue.length) {
      const id = queue.shift() as number
      active++
      void run(id).finally(() => {
        active--
        pump()
      })
    }
  }

  function enqueue(card: Card): void {
    queue.push(card.id)
    pump()
  }

  /** Ask the server what it can do (semantic models, enabled groups); unknown on failure. */
  async function loadCapabilities(): Promise<void> {
    try {
      state.caps = capabilitiesFromStatus(await client.status())
    } catch {
      state.caps = UNKNOWN
    }
  }

  function optionsFor(options: IsccOptions, mimeType: string): IsccOptions {
    return { granular: options.granular, semantic: effectiveSemantic(options.semantic, mimeType, state.caps) }
  }

  /** Start one upload per file; images get an instant local preview. */
  function addFiles(files: Iterable<File>, options: IsccOptions): Card[] {
    const added: Card[] = []
    for (const file of files) {
      const previewable = /^image\/(png|jpeg|gif|webp|bmp|avif|svg\+xml)$/.test(file.type)
      const card = add({
        kind: 'file',
        label: file.name || 'unnamed file',
        status: 'queued',
        fileName: file.name || 'unnamed file',
        body: file,
        fileType: file.type,
        options: optionsFor(options, file.type),
        previewUrl: previewable && typeof URL.createObjectURL === 'function' ? URL.createObjectURL(file) : undefined,
      })
      added.push(card)
      enqueue(card)
    }
    state.added = added.map((card) => card.id)
    return added
  }

  /** Let the server fetch a URL and generate its ISCC (an asynchronous job). */
  function addUrl(url: string, options: IsccOptions): Card {
    const label = urlLabel(url)
    const card = add({ kind: 'file', label, status: 'queued', fileName: label, sourceUrl: url,
      options: optionsFor(options, '') })
    enqueue(card)
    state.added = [card.id]
    return card
  }

  /** Generate an ISCC for pasted text. */
  function addText(text: string, options: IsccOptions): Card {
    const body = new Blob([text], { type: 'text/plain;charset=UTF-8' })
    const oneLine = text.replace(/\s+/g, ' ').trim()
    const card = add({
      kind: 'text',
      label: oneLine.length > 48 ? `${oneLine.slice(0, 47)}…` : oneLine || 'Pasted text',
      status: 'queued',
      fileName: 'pasted-text.txt',
      body,
      snippet: text.slice(0, 600),
      fileType: 'text/plain',
      options: optionsFor(options, 'text/plain'),
    })
    enqueue(card)
    state.added = [card.id]
    return card
  }

  /** Decode an (already validated) ISCC with the explain endpoint. */
  async function addCode(code: string): Promise<Card> {
    const card = add({ kind: 'code', label: code, status: 'processing', fileName: '' })
    state.added = [card.id]
    try {
      card.detail = await client.explain(code)
      card.result = { iscc: card.detail.iscc }
      card.label = card.detail.iscc
      card.status = 'decoded'
    } catch (error) {
      card.status = 'failed'
      card.error = describeError(error)
    }
    finished(card)
    return card
  }

  /** Upload again after a failure (for example after a 503). */
  function retry(id: number): void {
    const card = find(id)
    if (!card || card.status !== 'failed' || (!card.body && !card.sourceUrl) || !card.retryable) return
    card.status = 'queued'
    card.error = undefined
    enqueue(card)
  }

  /** Remove a card, cancel its upload and delete what it stored on the server (best effort). */
  async function remove(id: number): Promise<void> {
    const card = find(id)
    if (!card) return
    controllers.get(id)?.abort()
    const queued = queue.indexOf(id)
    if (queued >= 0) queue.splice(queued, 1)
    state.cards.splice(state.cards.indexOf(card), 1)
    for (const other of state.cards) if (other.compareWith === id) other.compareWith = undefined
    if (card.previewUrl && typeof URL.revokeObjectURL === 'function') URL.revokeObjectURL(card.previewUrl)
    await Promise.all(
      card.mediaIds.map((mediaId) =>
        client.deleteMedia(mediaId).catch((error: unknown) => {
          if (!(error instanceof ApiError)) throw error
        }),
      ),
    )
  }

  /** Remove every card (and its uploads on the server). */
  async function clearAll(): Promise<void> {
    const ids = state.cards.map((card) => card.id)
    await Promise.all(ids.map((id) => remove(id)))
    announce(ids.length === 1 ? 'One result removed.' : `All ${ids.length} results removed.`)
  }

  /** Open or close one card (the user's choice sticks). */
  function setCollapsed(id: number, collapsed: boolean): void {
    const card = find(id)
    if (!card) return
    card.collapsed = collapsed
    card.userToggled = true
  }

  /** Open or close all cards. */
  function setAllCollapsed(collapsed: boolean): void {
    for (const card of state.cards) {
      card.collapsed = collapsed
      card.userToggled = true
    }
  }

  /** Embed a title/description into a new file; the card switches to the new result. */
  async function embed(id: number, metadata: InlineMetadata): Promise<boolean> {
    const card = find(id)
    const mediaId = card?.result?.media_id
    if (!card || !mediaId) return false
    card.embedding = true
    card.embedError = undefined
    try {
      const result = await client.embedMetadata(mediaId, metadata)
      if (result.media_id) card.mediaIds.push(result.media_id)
      card.previousIscc = card.previousIscc ?? card.result?.iscc
      card.result = result
      await explainInto(card, result.iscc)
      announce(`${card.label}: metadata embedded, new ISCC ready.`)
      return true
    } catch (error) {
      card.embedError = describeError(error)
      announce(`${card.label}: embedding failed. ${card.embedError}`)
      return false
    } finally {
      card.embedding = false
    }
  }

  /** Dock card `otherId` into card `id` for comparison (undefined ejects it). */
  function setCompare(id: number, otherId: number | undefined): void {
    const card = find(id)
    if (!card) return
    card.compareWith = otherId
    const other = otherId === undefined ? undefined : find(otherId)
    if (other) other.collapsed = false
  }

  /** Move the comparison into the other card, so A and B trade places. */
  function swapCompare(id: number): void {
    const card = find(id)
    const other = card?.compareWith === undefined ? undefined : find(card.compareWith)
    if (!card || !other) return
    card.compareWith = undefined
    other.compareWith = card.id
  }

  /** Cards that have unit bits and can take part in a comparison. */
  function comparable(): Card[] {
    return state.cards.filter((card) => card.detail && (card.status === 'done' || card.status === 'decoded'))
  }

  return {
    state, find, announce, loadCapabilities, addFiles, addText, addUrl, addCode, retry, remove, clearAll, embed,
    setCompare, swapCompare, comparable, setCollapsed, setAllCollapsed,
  }
}

export type Store = ReturnType<typeof createStore>
