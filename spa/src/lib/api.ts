/**
 * The only place that talks to the server: relative `/api/v1` URLs, so anything the app does
 * any other HTTP client can do too. Errors are RFC 9457 problem+json and become `ApiError`s.
 */

import { base64Utf8, formatBytes } from './format'

export const API_BASE = '/api/v1'
export const TEXT_FILE_NAME = 'pasted-text.txt'

export interface FeatureSet {
  maintype?: string
  subtype?: string
  version?: number
  byte_offsets?: boolean
  simprints?: string[]
  offsets?: number[]
  sizes?: number[]
}

/** `IsccMetadata` as POST /iscc and POST /metadata return it (all fields optional). */
export interface IsccMetadata {
  '@context'?: string
  '@type'?: string
  $schema?: string
  iscc: string
  media_id?: string
  content?: string
  name?: string
  description?: string
  mode?: string
  filename?: string
  filesize?: number
  mediatype?: string
  duration?: number
  fps?: number
  width?: number
  height?: number
  characters?: number
  language?: string
  thumbnail?: string
  generator?: string
  metahash?: string
  datahash?: string
  units?: string[]
  features?: FeatureSet[]
  [key: string]: unknown
}

export interface ExplainUnit {
  iscc_unit: string
  readable: string
  hash_hex: string
  hash_uint: string
  hash_bits: string
}

/** `IsccDetail` from GET /explain/{iscc}. */
export interface IsccDetail {
  iscc: string
  readable: string
  multiformat: string
  decomposed: string
  units: ExplainUnit[]
}

export interface InlineMetadata {
  name?: string
  description?: string
}

export interface IsccOptions {
  semantic: boolean
  granular: boolean
}

/** A failed request: HTTP status (0 = no response), problem title and detail. */
export class ApiError extends Error {
  readonly status: number
  readonly title: string
  readonly detail: string
  /** Seconds from a `Retry-After` header, if the server sent one. */
  readonly retryAfter?: number

  constructor(status: number, title: string, detail: string, retryAfter?: number) {
    super(`${status}: ${detail || title}`)
    this.name = 'ApiError'
    this.status = status
    this.title = title
    this.detail = detail
    this.retryAfter = retryAfter
  }
}

/** Build an `ApiError` from a status, its body text, content type and Retry-After value. */
export function errorFromResponse(
  status: number,
  statusText: string,
  body: string,
  contentType: string | null,
  retryAfterHeader: string | null,
): ApiError {
  let title = statusText || `HTTP ${status}`
  let detail = ''
  const type = (contentType ?? '').toLowerCase()
  if (type.includes('json')) {
    try {
      const problem = JSON.parse(body) as Record<string, unknown>
      if (typeof problem.title === 'string') title = problem.title
      if (typeof problem.detail === 'string') detail = problem.detail
    } catch {
      detail = body.trim()
    }
  } else if (!type.includes('html')) {
    detail = body.trim().slice(0, 500)
  }
  const seconds = retryAfterHeader === null ? NaN : Number.parseInt(retryAfterHeader, 10)
  return new ApiError(status, title, detail, Number.isFinite(seconds) ? seconds : undefined)
}

function humaniseBytes(detail: string): string {
  return detail.replace(/(\d{4,}) bytes/g, (all, n: string) => `${all} (${formatBytes(Number(n))})`)
}

/** Say in plain words what went wrong, using the server's `detail`. */
export function describeError(error: unknown): string {
  if (!(error instanceof ApiError)) {
    if (error instanceof DOMException && error.name === 'AbortError') return 'Cancelled.'
    return `Something went wrong in the browser: ${String((error as Error)?.message ?? error)}`
  }
  const detail = error.detail ? humaniseBytes(error.detail) : ''
  const withDetail = (lead: string) => (detail ? `${lead} ${detail}` : lead)
  switch (error.status) {
    case 0:
      return 'Could not reach the server. Check your connection and try again.'
    case 400:
      return withDetail('The server rejected the request.')
    case 403:
      return withDetail('Not allowed: only the original uploader can do this.')
    case 404:
      return withDetail('Not found on the server (uploads are deleted after a while).')
    case 408:
      return 'The upload stalled, so the server stopped waiting. Please try again.'
    case 413:
      return withDetail('This file is too large for the server.')
    case 422:
      return withDetail('The server could not process this.')
    case 503: {
      const wait = error.retryAfter ? ` in ${error.retryAfter} second${error.retryAfter === 1 ? '' : 's'}` : ' in a moment'
      return `The server is busy right now. Please try again${wait}.`
    }
    case 507:
      return 'The server has run out of storage space. Please try again later.'
    default:
      if (error.status >= 500) return `The server ran into a problem (${error.status} ${error.title}). Please try again later.`
      return withDetail(`The request failed (${error.status} ${error.title}).`)
  }
}

/** Whether trying the same request again later can succeed (network, timeout, busy, 5xx). */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false
  return error.status === 0 || error.status === 408 || error.status === 429 || error.status >= 500
}

export interface UploadCallbacks {
  /** Bytes of the body sent so far. */
  onProgress?: (loaded: number, total: number) => void
  /** The whole body is sent; the server is now processing it. */
  onProcessing?: () => void
  signal?: AbortSignal
  /** An RFC 7240 `Prefer` header (e.g. `respond-async`: a 202 with a job instead). */
  prefer?: string
}

export interface ApiDeps {
  fetch?: typeof fetch
  XMLHttpRequest?: new () => XMLHttpRequest
}

/** URL of POST /iscc with both toggles always explicit. */
export function isccUrl(options: IsccOptions): string {
  return `${API_BASE}/iscc?semantic=${options.semantic}&granular=${options.granular}`
}

/** URL to download a stored file. */
export function mediaUrl(mediaId: string): string {
  return `${API_BASE}/media/${encodeURIComponent(mediaId)}`
}

export function explainUrl(code: string): string {
  return `${API_BASE}/explain/${encodeURIComponent(code)}`
}

export function metadataUrl(mediaId: string): string {
  return `${API_BASE}/metadata/${encodeURIComponent(mediaId)}`
}

/** The API client; dependencies are injectable for tests. */
export class Api {
  private readonly fetchFn: typeof fetch
  private readonly Xhr: new () => XMLHttpRequest

  constructor(deps: ApiDeps = {}) {
    this.fetchFn = deps.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args))
    this.Xhr = deps.XMLHttpRequest ?? globalThis.XMLHttpRequest
  }

  /**
   * Upload a file (raw body) to POST /iscc and resolve with the result. Progress comes from
   * XMLHttpRequest upload events, which fetch() cannot report.
   */
  generate(body: Blob, fileName: string, options: IsccOptions, callbacks: UploadCallbacks = {}): Promise<IsccMetadata> {
    return new Promise((resolve, reject) => {
      const xhr = new this.Xhr()
      xhr.open('POST', isccUrl(options))
      xhr.responseType = 'text'
      xhr.setRequestHeader('X-Upload-Filename', base64Utf8(fileName))
      if (body.type) xhr.setRequestHeader('Content-Type', body.type)
      if (callbacks.prefer) xhr.setRequestHeader('Prefer', callbacks.prefer)
      xhr.upload.onprogress = (event) => {
        callbacks.onProgress?.(event.loaded, event.lengthComputable ? event.total : body.size)
      }
      xhr.upload.onload = () => {
        callbacks.onProgress?.(body.size, body.size)
        callbacks.onProcessing?.()
      }
      xhr.onload = () => {
        const text = typeof xhr.response === 'string' ? xhr.response : xhr.responseText
        if (xhr.status >= 200 && xhr.status < 300) {
          try {
            resolve(JSON.parse(text) as IsccMetadata)
          } catch {
            reject(new ApiError(xhr.status, 'Invalid response', 'The server sent a response that is not JSON.'))
          }
          return
        }
        reject(
          errorFromResponse(
            xhr.status, xhr.statusText, text ?? '',
            xhr.getResponseHeader('Content-Type'), xhr.getResponseHeader('Retry-After'),
          ),
        )
      }
      xhr.onerror = () => reject(new ApiError(0, 'Network error', ''))
      xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'))
      if (callbacks.signal) {
        if (callbacks.signal.aborted) {
          xhr.abort()
          return
        }
        callbacks.signal.addEventListener('abort', () => xhr.abort(), { once: true })
      }
      xhr.send(body)
    })
  }

  /** Generate an ISCC for pasted text (sent as `pasted-text.txt`, UTF-8). */
  generateFromText(text: string, options: IsccOptions, callbacks: UploadCallbacks = {}): Promise<IsccMetadata> {
    const blob = new Blob([text], { type: 'text/plain;charset=UTF-8' })
    return this.generate(blob, TEXT_FILE_NAME, options, callbacks)
  }

  /** GET /explain/{code}: decompose an ISCC into its units with their bits. */
  explain(code: string): Promise<IsccDetail> {
    return this.json<IsccDetail>(explainUrl(code), { method: 'GET' })
  }

  /** POST /metadata/{id}: embed title/description into a new file; resolves with its ISCC. */
  embedMetadata(mediaId: string, metadata: InlineMetadata): Promise<IsccMetadata> {
    return this.json<IsccMetadata>(metadataUrl(mediaId), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(metadata),
    })
  }

  /** GET /-/status: version, enabled groups and what the processing plugins can do. */
  status(): Promise<unknown> {
    return this.json<unknown>(`${API_BASE}/-/status`, { method: 'GET' })
  }

  /** DELETE /media/{id}: remove an upload and everything stored with it. */
  async deleteMedia(mediaId: string): Promise<void> {
    await this.request(mediaUrl(mediaId), { method: 'DELETE' })
  }

  private async json<T>(url: string, init: RequestInit): Promise<T> {
    const response = await this.request(url, init)
    return (await response.json()) as T
  }

  private async request(url: string, init: RequestInit): Promise<Response> {
    let response: Response
    try {
      response = await this.fetchFn(url, { ...init, headers: { Accept: 'application/json', ...(init.headers ?? {}) } })
    } catch {
      throw new ApiError(0, 'Network error', '')
    }
    if (!response.ok) {
      const body = await response.text().catch(() => '')
      throw errorFromResponse(
        response.status, response.statusText, body,
        response.headers.get('Content-Type'), response.headers.get('Retry-After'),
      )
    }
    return response
  }
}

export const api = new Api()
