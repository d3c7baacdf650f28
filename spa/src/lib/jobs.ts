/**
 * Asynchronous jobs (`Prefer: respond-async`): large files and URLs are answered with 202 and a
 * job, whose state arrives as server-sent events from `/api/v1/jobs/{id}/events`.
 */

import { API_BASE, ApiError, errorFromResponse, isccUrl, type IsccMetadata, type IsccOptions } from './api'

/** Files at least this large are processed asynchronously (the answer would take long). */
export const ASYNC_THRESHOLD = 16 * 1024 * 1024

export interface JobProblem {
  status: number
  title: string
  detail: string
}

/** `Job` from GET /jobs/{id} and each of its events. */
export interface JobState {
  job_id: string
  media_id: string
  status: 'queued' | 'processing' | 'done' | 'failed'
  phase: string
  queued_ahead: number
  elapsed_s: number
  result?: IsccMetadata
  error?: JobProblem
}

/** The 202 body. */
export interface JobAccepted {
  job_id: string
  status: string
  media_id: string
}

export function isAccepted(body: unknown): body is JobAccepted {
  return typeof body === 'object' && body !== null && typeof (body as JobAccepted).job_id === 'string' &&
    !('iscc' in body)
}

export function jobEventsUrl(jobId: string): string {
  return `${API_BASE}/jobs/${encodeURIComponent(jobId)}/events`
}

/** One line for the status pill: phase, position in the queue, elapsed time. */
export function describeJob(job: JobState): string {
  const seconds = `${Math.round(job.elapsed_s)} s`
  if (job.status === 'queued') {
    return job.queued_ahead > 0 ? `Queued, ${job.queued_ahead} ahead · ${seconds}` : `Queued · ${seconds}`
  }
  const phase = job.phase ? job.phase.charAt(0).toUpperCase() + job.phase.slice(1) : 'Processing'
  return `${phase}… · ${seconds}`
}

type EventSourceLike = {
  onmessage: ((event: MessageEvent) => void) | null
  onerror: ((event: Event) => void) | null
  close(): void
}

/**
 * Follow a job's events until it is done (resolves with its result) or failed (rejects with
 * its problem). The browser's EventSource reconnects by itself and sends `Last-Event-ID`.
 */
export function followJob(
  jobId: string,
  onState: (job: JobState) => void,
  Source: new (url: string) => EventSourceLike = globalThis.EventSource as never,
): Promise<IsccMetadata> {
  return new Promise((resolve, reject) => {
    const source = new Source(jobEventsUrl(jobId))
    source.onmessage = (event) => {
      const job = JSON.parse(String(event.data)) as JobState
      onState(job)
      if (job.status === 'done' && job.result) {
        source.close()
        resolve(job.result)
      } else if (job.status === 'failed') {
        source.close()
        const problem = job.error ?? { status: 500, title: 'Internal Server Error', detail: '' }
        reject(new ApiError(problem.status, problem.title, problem.detail))
      }
    }
    source.onerror = () => {
      // The stream ends after done/failed (handled above); otherwise EventSource retries.
    }
  })
}

/** POST /iscc with `{"url": ...}` and `Prefer: respond-async`: the 202's job (or a 201 result). */
export async function requestFromUrl(
  url: string,
  options: IsccOptions,
  fetchFn: typeof fetch = (...args) => fetch(...args),
): Promise<JobAccepted | IsccMetadata> {
  let response: Response
  try {
    response = await fetchFn(isccUrl(options), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', Prefer: 'respond-async' },
      body: JSON.stringify({ url }),
    })
  } catch {
    throw new ApiError(0, 'Network error', '')
  }
  const text = await response.text().catch(() => '')
  if (!response.ok) {
    throw errorFromResponse(response.status, response.statusText, text,
      response.headers.get('Content-Type'), response.headers.get('Retry-After'))
  }
  return JSON.parse(text) as JobAccepted | IsccMetadata
}

/** The file name a URL most likely stands for (the card's label until the result names it). */
export function urlLabel(url: string): string {
  try {
    const parsed = new URL(url)
    const last = decodeURIComponent(parsed.pathname.split('/').filter(Boolean).pop() ?? '')
    return last || parsed.host
  } catch {
    return url
  }
}
