/**
 * "Seen before?": the app's side of the `similar` endpoint group (POST /similar/query,
 * POST /index) and the shapes the panel shows. Pure functions plus a small client whose
 * `fetch` is injectable for tests.
 */

import { API_BASE, errorFromResponse, type FeatureSet, type IsccMetadata } from './api'

/** What `/-/status` says about the group. */
export interface SimilarStatus {
  /** The group is enabled on this server. */
  enabled: boolean
  /** Its index answers. */
  available: boolean
  /** Anyone may add (no write token on this server). */
  writable: boolean
}

export const SIMILAR_OFF: SimilarStatus = { enabled: false, available: false, writable: false }

export function similarFromStatus(status: unknown): SimilarStatus {
  if (!status || typeof status !== 'object') return SIMILAR_OFF
  const section = (status as Record<string, unknown>).similar
  if (!section || typeof section !== 'object') return SIMILAR_OFF
  const s = section as Record<string, unknown>
  return { enabled: true, available: s.available === true, writable: s.writable === true }
}

export interface SimilarQueryBody {
  iscc_code?: string
  units?: string[]
  simprints?: Record<string, string[]>
}

/** The type key iscc-search uses for a feature set, e.g. `CONTENT_TEXT_V0`. */
export function simprintType(feature: FeatureSet): string | null {
  if (!feature.maintype || !feature.subtype) return null
  return `${feature.maintype.toUpperCase()}_${feature.subtype.toUpperCase()}_V${feature.version ?? 0}`
}

/** The query for a result card: its code, its units and its granular simprints. */
export function queryFor(result: IsccMetadata): SimilarQueryBody | null {
  const body: SimilarQueryBody = {}
  if (result.iscc) body.iscc_code = result.iscc
  if (result.units?.length) body.units = [...result.units]
  for (const feature of result.features ?? []) {
    const type = simprintType(feature)
    if (!type || !feature.simprints?.length) continue
    body.simprints = { ...(body.simprints ?? {}), [type]: [...feature.simprints] }
  }
  return Object.keys(body).length ? body : null
}

export interface EntryMetadata {
  name?: string
  description?: string
  ref?: string
}

export interface Match {
  iscc_id: string
  score: number
  types: Record<string, number>
  metadata?: EntryMetadata
}

export interface MatchedChunk {
  query: string
  match: string
  score: number
  freq: number
  offset: number
  size: number
}

export interface ChunkMatch {
  iscc_id: string
  score: number
  types: Record<string, { score: number; matches: number; queried: number; chunks?: MatchedChunk[] }>
  metadata?: EntryMetadata
}

export interface SimilarMatches {
  matches: Match[]
  chunk_matches: ChunkMatch[]
}

/** `CONTENT_IMAGE_V0` -> `Content · image` (the layer words of the result card). */
export function unitLabel(type: string): string {
  const [main, sub] = type.toLowerCase().split('_')
  const word = main ? main[0].toUpperCase() + main.slice(1) : type
  return sub && sub !== 'none' ? `${word} · ${sub}` : word
}

/** The layer colour class of a unit type (`content`, `data`, …). */
export function unitLayer(type: string): string {
  return type.split('_')[0].toLowerCase()
}

export interface UnitBar {
  type: string
  label: string
  layer: string
  percent: number
}

export interface MatchView {
  id: string
  name: string
  percent: number
  bars: UnitBar[]
  ref?: string
}

export interface ChunkView {
  id: string
  name: string
  percent: number
  matched: number
  queried: number
  /** Matched chunks of the indexed work, in reading order. */
  ranges: { offset: number; size: number; percent: number }[]
}

const pct = (share: number) => Math.round(Math.max(0, Math.min(1, share)) * 100)
const ORDER = ['META', 'SEMANTIC', 'CONTENT', 'DATA', 'INSTANCE']

function nameOf(id: string, metadata?: EntryMetadata): string {
  return metadata?.name?.trim() || `Untitled ${id.replace(/^ISCC:/, '')}`
}

/** Safe to link: only http(s) references become links. */
export function safeRef(ref: string | undefined): string | undefined {
  return ref && /^https?:\/\//i.test(ref) ? ref : undefined
}

export function matchViews(found: SimilarMatches): MatchView[] {
  return found.matches.map((m) => ({
    id: m.iscc_id,
    name: nameOf(m.iscc_id, m.metadata),
    percent: pct(m.score),
    ref: safeRef(m.metadata?.ref),
    bars: Object.entries(m.types)
      .sort(([a], [b]) => ORDER.indexOf(a.split('_')[0]) - ORDER.indexOf(b.split('_')[0]))
      .map(([type, score]) => ({ type, label: unitLabel(type), layer: unitLayer(type), percent: pct(score) })),
  }))
}

export function chunkViews(found: SimilarMatches): ChunkView[] {
  return found.chunk_matches.map((m) => {
    const stats = Object.values(m.types)
    const chunks = stats.flatMap((t) => t.chunks ?? [])
    const seen = new Set<string>()
    const ranges = chunks
      .filter((c) => !seen.has(`${c.offset}:${c.size}`) && seen.add(`${c.offset}:${c.size}`))
      .sort((a, b) => a.offset - b.offset)
      .map((c) => ({ offset: c.offset, size: c.size, percent: pct(c.score) }))
    return {
      id: m.iscc_id,
      name: nameOf(m.iscc_id, m.metadata),
      percent: pct(m.score),
      matched: stats.reduce((n, t) => n + t.matches, 0),
      queried: stats.reduce((n, t) => n + t.queried, 0),
      ranges,
    }
  })
}

/** Client of the group's routes; errors are the app's `ApiError`s. */
export class SimilarApi {
  private readonly fetchFn: typeof fetch

  constructor(fetchFn: typeof fetch = (...args) => fetch(...args)) {
    this.fetchFn = fetchFn
  }

  private async json<T>(path: string, init: RequestInit): Promise<T> {
    const response = await this.fetchFn(`${API_BASE}${path}`, init)
    const text = await response.text()
    if (!response.ok) {
      throw errorFromResponse(response.status, response.statusText, text,
        response.headers.get('Content-Type'), response.headers.get('Retry-After'))
    }
    return JSON.parse(text) as T
  }

  async status(): Promise<SimilarStatus> {
    try {
      return similarFromStatus(await this.json<unknown>('/-/status', { method: 'GET' }))
    } catch {
      return SIMILAR_OFF
    }
  }

  query(body: SimilarQueryBody, limit = 5): Promise<SimilarMatches> {
    return this.json<SimilarMatches>(`/similar/query?limit=${limit}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    })
  }

  /** Publish a stored upload in the index, with its name (nothing else about the uploader). */
  add(mediaId: string, name?: string): Promise<{ iscc_id: string }> {
    const metadata = name?.trim() ? { name: name.trim().slice(0, 128) } : undefined
    return this.json<{ iscc_id: string }>('/index', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(metadata ? { media_id: mediaId, metadata } : { media_id: mediaId }),
    })
  }
}

let shared: Promise<SimilarStatus> | undefined

/** The group's status, asked once per page load. */
export function similarStatus(api: SimilarApi = new SimilarApi()): Promise<SimilarStatus> {
  shared ??= api.status()
  return shared
}
