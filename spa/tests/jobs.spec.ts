import { describe, expect, it } from 'vitest'
import { ApiError } from '../src/lib/api'
import { describeJob, followJob, isAccepted, jobEventsUrl, requestFromUrl, urlLabel, type JobState } from '../src/lib/jobs'

const base: JobState = { job_id: 'a'.repeat(26), media_id: 'a'.repeat(13), status: 'queued', phase: 'waiting for a worker', queued_ahead: 2, elapsed_s: 3.4 }

class FakeSource {
  static last: FakeSource
  url: string
  closed = false
  onmessage: ((event: MessageEvent) => void) | null = null
  onerror: ((event: Event) => void) | null = null
  constructor(url: string) {
    this.url = url
    FakeSource.last = this
  }
  emit(job: JobState) {
    this.onmessage?.({ data: JSON.stringify(job) } as MessageEvent)
  }
  close() {
    this.closed = true
  }
}

describe('jobs', () => {
  it('describes queue position, phase and elapsed time', () => {
    expect(describeJob(base)).toBe('Queued, 2 ahead · 3 s')
    expect(describeJob({ ...base, queued_ahead: 0 })).toBe('Queued · 3 s')
    expect(describeJob({ ...base, status: 'processing', phase: 'computing the ISCC', elapsed_s: 61.6 }))
      .toBe('Computing the ISCC… · 62 s')
  })

  it('tells a 202 body from a result', () => {
    expect(isAccepted({ job_id: 'x', status: 'queued', media_id: 'm' })).toBe(true)
    expect(isAccepted({ iscc: 'ISCC:KEC', media_id: 'm' })).toBe(false)
  })

  it('follows events until done and reports each state', async () => {
    const seen: string[] = []
    const done = followJob('j'.repeat(26), (job) => seen.push(job.status), FakeSource)
    const source = FakeSource.last
    expect(source.url).toBe(jobEventsUrl('j'.repeat(26)))
    source.emit(base)
    source.emit({ ...base, status: 'processing', phase: 'computing the ISCC' })
    source.emit({ ...base, status: 'done', phase: 'done', result: { iscc: 'ISCC:KEC' } })
    await expect(done).resolves.toEqual({ iscc: 'ISCC:KEC' })
    expect(seen).toEqual(['queued', 'processing', 'done'])
    expect(source.closed).toBe(true)
  })

  it('rejects with the job problem when it failed', async () => {
    const failed = followJob('f'.repeat(26), () => {}, FakeSource)
    FakeSource.last.emit({ ...base, status: 'failed', error: { status: 422, title: 'Unprocessable Entity', detail: 'ISCC processing timed out.' } })
    await expect(failed).rejects.toEqual(new ApiError(422, 'Unprocessable Entity', 'ISCC processing timed out.'))
  })

  it('asks the server to fetch a URL asynchronously', async () => {
    let sent: RequestInit | undefined
    const fetchFn = (async (_url: string, init: RequestInit) => {
      sent = init
      return new Response(JSON.stringify({ job_id: 'x', status: 'queued', media_id: 'm' }), { status: 202 })
    }) as unknown as typeof fetch
    const answer = await requestFromUrl('https://example.com/a.png', { semantic: false, granular: false }, fetchFn)
    expect(isAccepted(answer)).toBe(true)
    expect(sent?.body).toBe(JSON.stringify({ url: 'https://example.com/a.png' }))
    expect((sent?.headers as Record<string, string>).Prefer).toBe('respond-async')
    const refused = (async () => new Response(JSON.stringify({ type: 'about:blank', title: 'Unprocessable Entity', status: 422, detail: 'The URL answered 404; nothing was fetched.' }), { status: 422, headers: { 'Content-Type': 'application/problem+json' } })) as unknown as typeof fetch
    await expect(requestFromUrl('https://example.com/x', { semantic: false, granular: false }, refused)).rejects.toMatchObject({ status: 422 })
  })

  it('labels a URL by its last path segment', () => {
    expect(urlLabel('https://example.com/dir/caf%C3%A9.png?x=1')).toBe('café.png')
    expect(urlLabel('https://example.com/')).toBe('example.com')
  })
})
