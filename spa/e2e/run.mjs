#!/usr/bin/env node
// End-to-end tests of the web app in headless Chromium (playwright-core + Debian's chromium),
// against a live server started by the caller (tests/test_e2e_browser.py).
//
//   node e2e/run.mjs <config.json>
//
// config: { baseUrl, sampleImage, maxUploadSize, screenshots, downloads, chromium? }
// Prints one JSON object {results: [{name, ok, error?, info?}], consoleErrors: [...]} on the
// last line of stdout; exits 0 only if every step passed.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { DESKTOP, assert, atBothSizes, axeCheck, setSize, stepper } from './lib.mjs'
import { reviewSteps } from './review.mjs'

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const base = config.baseUrl.replace(/\/$/, '')
const shots = config.screenshots
mkdirSync(shots, { recursive: true })
// Failure screenshots of an earlier run would mislead; this run writes its own.
for (const name of readdirSync(shots)) if (name.startsWith('FAILED-')) rmSync(join(shots, name))
mkdirSync(config.downloads, { recursive: true })

const browser = await chromium.launch({
  executablePath: config.chromium ?? '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
})
const context = await browser.newContext({
  acceptDownloads: true,
  viewport: { width: DESKTOP.width, height: DESKTOP.height },
  permissions: ['clipboard-read', 'clipboard-write'],
  reducedMotion: 'reduce',
})
const page = await context.newPage()
page.setDefaultTimeout(60_000)
const cdp = await context.newCDPSession(page)
const consoleErrors = []
page.on('pageerror', (error) => consoleErrors.push(`pageerror: ${error.message}`))
page.on('console', (message) => {
  // A failed request (the 413, the 404 of a deleted file) is logged by Chromium itself.
  if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) {
    consoleErrors.push(message.text())
  }
})

const { results, step } = stepper(page, shots)
const info = {}

const b64 = (name) => Buffer.from(name, 'utf8').toString('base64')

/** The API answer for the same bytes and options, straight from the server (no browser). */
async function apiIscc(bytes, name, type, query) {
  const response = await fetch(`${base}/api/v1/iscc?${query}`, {
    method: 'POST',
    headers: { 'X-Upload-Filename': b64(name), 'Content-Type': type },
    body: bytes,
  })
  assert(response.status === 201, `direct API call answered ${response.status}`)
  const body = await response.json()
  await fetch(`${base}/api/v1/media/${body.media_id}`, { method: 'DELETE' })
  return body
}

const cards = page.locator('[data-testid=result-card]')
const cardByLabel = (label) => cards.filter({ has: page.getByRole('heading', { name: label, exact: true }) })

/** Open a card that was collapsed to one line (older results are). */
async function expand(card) {
  const toggle = card.getByTestId('collapse')
  if ((await toggle.count()) && (await toggle.getAttribute('aria-expanded')) === 'false') await toggle.click()
}

async function waitStatus(card, statuses) {
  await card.locator(`xpath=self::*[${statuses.map((s) => `@data-status="${s}"`).join(' or ')}]`).waitFor()
  return card.getAttribute('data-status')
}

async function selectTab(name) {
  await page.getByRole('tab', { name }).click()
}

async function ensureToggles({ semantic, granular }) {
  await selectTab('Media file')
  for (const [label, wanted] of [['Semantic code', semantic], ['Granular simprints', granular]]) {
    const box = page.getByRole('switch', { name: new RegExp(label) })
    if (await box.isDisabled()) continue
    if ((await box.isChecked()) !== wanted) await box.click({ force: true })
  }
}

const sample = readFileSync(config.sampleImage)
const image = { name: 'test-image.jpg', mimeType: 'image/jpeg', buffer: sample }

// ---------------------------------------------------------------------------------------------
await step('load', async () => {
  const response = await page.goto(`${base}/`)
  assert(response.status() === 200, `GET / answered ${response.status()}`)
  assert((await page.title()) === 'ISCC Generator - International Standard Content Code', 'title')
  const injected = await page.evaluate(() => window.__ISCC_WEB__)
  assert(injected && typeof injected.semanticDefault === 'boolean', 'window.__ISCC_WEB__ injected')
  await page.getByRole('heading', { name: 'What an ISCC is made of' }).waitFor()
  await page.getByText(/deleted automatically after/).first().waitFor()
  assert((await page.getByRole('link', { name: 'API Docs' }).first().getAttribute('href')) === '/docs', 'docs link')
  await page.waitForLoadState('networkidle')
  await page.screenshot({ path: join(shots, '01-empty.png'), fullPage: true })
  await atBothSizes(page, cdp, shots, '01-empty')
  return { injected }
})

await step('keyboard tabs', async () => {
  await page.getByRole('tab', { name: 'Media file' }).focus()
  await page.keyboard.press('ArrowRight')
  assert((await page.getByRole('tab', { name: 'Plain text' }).getAttribute('aria-selected')) === 'true', 'ArrowRight selects next tab')
  await page.keyboard.press('End')
  assert((await page.getByRole('tab', { name: 'ISCC code' }).getAttribute('aria-selected')) === 'true', 'End selects last tab')
  await page.keyboard.press('Home')
  assert((await page.getByRole('tab', { name: 'Media file' }).getAttribute('aria-selected')) === 'true', 'Home selects first tab')
  // Tab moves from the tab list into the panel: the file picker is reachable by keyboard.
  await page.keyboard.press('Tab')
  assert(await page.evaluate(() => document.activeElement?.getAttribute('type') === 'file'), 'file picker focused')
  const outline = await page.locator('.dropzone').evaluate((el) => getComputedStyle(el).outlineStyle)
  assert(outline === 'solid', `focused drop zone shows a focus ring (${outline})`)
})

await step('upload image: same ISCC as the API', async () => {
  await ensureToggles({ semantic: false, granular: false })
  await page.getByTestId('file-input').setInputFiles(image)
  const card = cardByLabel('test-image.jpg')
  const status = await waitStatus(card, ['done', 'failed'])
  assert(status === 'done', `card ended ${status}: ${await card.innerText()}`)
  const shown = (await card.getByTestId('iscc').innerText()).trim()
  const direct = await apiIscc(sample, 'test-image.jpg', 'image/jpeg', 'semantic=false&granular=false')
  assert(shown === direct.iscc, `browser shows ${shown}, API returns ${direct.iscc}`)
  // Unit breakdown from explain: four layers with 64-bit strips.
  const units = card.getByRole('list', { name: 'Units' }).locator(':scope > li')
  assert((await units.count()) === 4, 'four units')
  assert((await units.first().locator('.bit').count()) === 64, '64 bits per unit')
  const facts = await card.getByRole('list', { name: 'Facts' }).innerText()
  assert(/200 × 133 px/.test(facts), `facts show dimensions: ${facts}`)
  assert((await card.locator('.thumb img').count()) === 1, 'thumbnail shown')
  await card.getByRole('button', { name: 'Copy ISCC' }).click()
  await card.getByRole('button', { name: 'Copied ISCC' }).waitFor()
  const clip = await page.evaluate(() => navigator.clipboard.readText())
  assert(clip === shown, 'copy button copies the ISCC')
  await card.getByRole('button', { name: /^Content · Image/ }).click()
  await card.locator('.unit-detail').waitFor()
  await page.screenshot({ path: join(shots, '02-image-result.png'), fullPage: true })
  info.imageIscc = shown
  return { iscc: shown, vector: shown === 'ISCC:KECXNDSZVTTX2LDQYNBTBHR4T2HGOYBAGBNWZ767PKO3JQGZ42GFEAY' }
})

await step('upload progress bar with bytes and percent', async () => {
  const cdp = await context.newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 150 * 1024,
  })
  const big = Buffer.alloc(600_000, 7)
  big.write('progress test', 0)
  const card = cardByLabel('slow.bin')
  let text, bar
  try {
    await page.getByTestId('file-input').setInputFiles({ name: 'slow.bin', mimeType: 'application/octet-stream', buffer: big })
    const progress = card.getByTestId('progress')
    await progress.filter({ hasText: /Uploading ([1-9]\d?) % · .+ of 600 kB/ }).waitFor({ timeout: 20_000 })
    text = await progress.innerText()
    bar = Number(await card.getByRole('progressbar').getAttribute('aria-valuenow'))
    await page.screenshot({ path: join(shots, '03-uploading.png') })
  } finally {
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
  }
  const status = await waitStatus(card, ['done', 'failed'])
  assert(status === 'done', `slow upload ended ${status}`)
  assert(bar > 0 && bar < 100, `progressbar value ${bar}`)
  const facts = await card.getByRole('list', { name: 'Facts' }).innerText()
  return { text, bar, facts }
})

await step('processing state after the upload', async () => {
  // Emulated latency delays the answer, not the upload: the body is sent (XHR upload "load"),
  // then the card shows that the server is processing until the answer arrives.
  const cdp = await context.newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 1500, downloadThroughput: -1, uploadThroughput: -1 })
  try {
    await page.getByTestId('file-input').setInputFiles({ name: 'held.txt', mimeType: 'text/plain', buffer: Buffer.from('processing state test') })
    const card = cardByLabel('held.txt')
    await card.locator('xpath=self::*[@data-status="processing"]').waitFor({ timeout: 10_000 })
    const pill = await card.getByTestId('status').innerText()
    const text = await card.locator('.progress-text').innerText()
    await card.screenshot({ path: join(shots, '03b-processing.png') })
    assert(/processing/i.test(pill) && /generating the ISCC/.test(text), `processing shown: ${pill} / ${text}`)
    assert((await waitStatus(card, ['done', 'failed'])) === 'done', 'held upload done')
    return { pill, text }
  } finally {
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
  }
})

await step('paste text', async () => {
  const text = 'The quick brown fox jumps over the lazy dog. ISCC end-to-end test in a real browser.'
  await ensureToggles({ semantic: false, granular: true })
  await selectTab('Plain text')
  await page.getByLabel('Text', { exact: true }).fill(text)
  await page.getByRole('button', { name: 'Generate ISCC' }).click()
  const card = cards.first()
  const status = await waitStatus(card, ['done', 'failed'])
  assert(status === 'done', `text card ended ${status}: ${await card.innerText()}`)
  const shown = (await card.getByTestId('iscc').innerText()).trim()
  const semantic = await page.getByRole('switch', { name: /Semantic code/ }).isChecked()
  const direct = await apiIscc(Buffer.from(text), 'pasted-text.txt', 'text/plain;charset=utf-8', `semantic=${semantic}&granular=true`)
  assert(shown === direct.iscc, `text: browser ${shown} vs API ${direct.iscc}`)
  const facts = await card.getByRole('list', { name: 'Facts' }).innerText()
  assert(/characters/.test(facts), `facts show characters: ${facts}`)
  // Granular on: the content layer lists the text's simprints.
  const simprints = direct.features.reduce((n, f) => n + f.simprints.length, 0)
  await card.getByRole('button', { name: /^Content · Text/ }).click()
  await card.locator('.unit-detail').getByText(`${simprints} granular simprints`).waitFor()
  await ensureToggles({ semantic: false, granular: false })
  return { iscc: shown, simprints }
})

await step('decode an ISCC code (validated first)', async () => {
  await selectTab('ISCC code')
  const input = page.getByRole('textbox', { name: 'ISCC code' })
  const before = await cards.count()
  await input.fill('ISCC:KMUIV3NRGY')
  await page.getByRole('button', { name: 'Decode' }).click()
  await page.locator('#code-help[role=alert]').filter({ hasText: 'Not a valid ISCC' }).waitFor()
  assert((await input.getAttribute('aria-invalid')) === 'true', 'input marked invalid')
  assert((await cards.count()) === before, 'an invalid code adds no card')
  await page.screenshot({ path: join(shots, '04-invalid-code.png') })
  await input.fill('kmdmrjyghhvrcz5tm6u4g6d4mxa6laxc4zrpokfu7jbeqxr2bjos6na')
  await input.press('Enter')
  const card = cardByLabel('ISCC:KMDMRJYGHHVRCZ5TM6U4G6D4MXA6LAXC4ZRPOKFU7JBEQXR2BJOS6NA')
  const status = await waitStatus(card, ['decoded', 'failed'])
  assert(status === 'decoded', `decode ended ${status}`)
  const text = await card.innerText()
  assert(text.includes('ISCC-VIDEO-V0-MSDI-c8a70639eb1167b367a9c3787c65c1e582e2e662f728b4fa42485e3a0a5d2f34'), 'readable')
  assert(text.includes('uzAFTBsinBjnrEWezZ6nDeHxlweWC4uZi9yi0-kJIXjoKXS80'), 'multiformat')
  const units = card.getByRole('list', { name: 'Units' }).locator(':scope > li')
  assert((await units.count()) === 4, 'decoded into four units')
  await page.screenshot({ path: join(shots, '05-decoded.png'), fullPage: true })
})

await step('compare two uploads', async () => {
  await ensureToggles({ semantic: false, granular: false })
  // A re-encoded copy of the sample, made by the browser: same picture, different bytes.
  const reencoded = await page.evaluate(async (bytes) => {
    const bitmap = await createImageBitmap(new Blob([new Uint8Array(bytes)]))
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height)
    canvas.getContext('2d').drawImage(bitmap, 0, 0)
    const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.6 })
    return Array.from(new Uint8Array(await blob.arrayBuffer()))
  }, Array.from(sample))
  await page.getByTestId('file-input').setInputFiles({ name: 'reencoded.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(reencoded) })
  const copy = cardByLabel('reencoded.jpg')
  assert((await waitStatus(copy, ['done', 'failed'])) === 'done', 're-encoded upload done')
  await page.getByTestId('file-input').setInputFiles({ ...image, name: 'same-bytes.jpg' })
  const twin = cardByLabel('same-bytes.jpg')
  assert((await waitStatus(twin, ['done', 'failed'])) === 'done', 'second upload done')

  const original = cardByLabel('test-image.jpg')
  await expand(original)
  await original.getByLabel('Compare with').selectOption({ label: 'reencoded.jpg' })
  await original.getByTestId('compare').click()
  const panel = original.getByTestId('compare-panel')
  await panel.waitFor()
  const verdict = (await panel.getByTestId('verdict').innerText()).split('\n')[0]
  const matches = await panel.getByTestId('band').allInnerTexts()
  const distances = await panel.getByTestId('distance').allInnerTexts()
  assert(['Near-duplicate', 'Edited copy'].includes(verdict), `re-encoded copy verdict: ${verdict}`)
  const contentBand = await panel.locator('[data-testid=compare-layer].layer-content [data-testid=band]').innerText()
  assert(/^(same|similar)$/i.test(contentBand), `re-encoded content band: ${contentBand}`)
  assert(!(await panel.innerText()).includes('%'), 'no percentages')
  assert(matches.length === 4, `four compared units, got ${matches.length}`)
  assert((await panel.locator('.bit.diff').count()) > 0 && (await panel.locator('.bit.same').count()) > 0, 'equal and different bits marked')
  const strip = await panel.locator('.bitstrip').first().boundingBox()
  assert(strip && strip.height < 40 && strip.width > 300, `compare bit strip laid out as one band (${JSON.stringify(strip)})`)
  await original.screenshot({ path: join(shots, '06-compare-near-duplicate.png') })
  await panel.getByRole('button', { name: 'Copy report' }).click()
  const report = await page.evaluate(() => navigator.clipboard.readText())
  assert(report.includes(`Verdict: ${verdict}`), 'report copied')
  await panel.getByTestId('eject').click()

  await original.getByLabel('Compare with').selectOption({ label: 'same-bytes.jpg' })
  await original.getByTestId('compare').click()
  const twinVerdict = (await original.getByTestId('verdict').innerText()).split('\n')[0]
  assert(twinVerdict === 'Identical files', `same bytes verdict: ${twinVerdict}`)
  // Swap docks the comparison into the other card.
  await original.getByRole('button', { name: 'Swap' }).click()
  await twin.getByTestId('compare-panel').waitFor()
  assert((await original.getByTestId('compare-panel').count()) === 0, 'swap moved the panel')
  const focused = await page.evaluate(() => document.activeElement?.id)
  assert(focused === `verdict-${(await twin.getAttribute('id')).replace('card-', '')}`, `focus follows the swapped verdict (${focused})`)
  await twin.getByTestId('eject').click()
  return { verdict, matches, distances, twinVerdict }
})

await step('embed a title and download the updated file', async () => {
  // Exiv2 cannot write BMP (the test vector's format), so embed into the JPEG sample.
  await ensureToggles({ semantic: false, granular: false })
  await page.getByTestId('file-input').setInputFiles({ name: 'photo.jpg', mimeType: 'image/jpeg', buffer: readFileSync(config.embedImage) })
  const card = cardByLabel('photo.jpg')
  assert((await waitStatus(card, ['done', 'failed'])) === 'done', 'photo upload done')
  info.originalId = (await card.getByRole('link', { name: 'Download photo.jpg' }).getAttribute('href')).split('/').pop()
  const before = (await card.getByTestId('iscc').innerText()).trim()
  await card.getByText('Embed title & description').click()
  await card.getByLabel('Title').fill('E2E Title')
  await card.getByLabel('Description').fill('Embedded by the browser test.')
  await card.getByRole('button', { name: 'Embed & generate new ISCC' }).click()
  await card.getByTestId('updated').waitFor()
  const after = (await card.getByTestId('iscc').innerText()).trim()
  assert(after !== before, 'the ISCC changed')
  assert(after.slice(0, 8) === before.slice(0, 8), 'same kind of code')
  const link = card.getByTestId('download-updated')
  const href = await link.getAttribute('href')
  assert(/^\/api\/v1\/media\/[a-v0-9]{13}$/.test(href), `download link ${href}`)
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()])
  const path = join(config.downloads, download.suggestedFilename())
  await download.saveAs(path)
  const bytes = readFileSync(path)
  assert(bytes.length > 1000, `downloaded ${bytes.length} bytes`)
  assert(bytes.includes(Buffer.from('E2E Title')), 'the downloaded file carries the new title')
  await card.screenshot({ path: join(shots, '07-embedded.png') })
  info.updatedHref = href
  return { before, after, file: download.suggestedFilename(), size: bytes.length }
})

await step('remove a card deletes its uploads on the server', async () => {
  const card = cardByLabel('photo.jpg')
  const raw = card.getByText('Raw result JSON')
  await raw.click()
  const json = JSON.parse(await card.getByLabel('Raw result JSON', { exact: true }).innerText())
  // The card owns the original upload and the file with the embedded title.
  const ids = [info.originalId, json.media_id]
  assert(ids[0] && ids[0] !== ids[1], `two packages: ${ids}`)
  for (const id of ids) {
    const before = await fetch(`${base}/api/v1/media/${id}`)
    assert(before.status === 200, `media ${id} present before removal (${before.status})`)
  }
  const deletes = ids.map((id) =>
    page.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().endsWith(`/media/${id}`)))
  await card.getByTestId('remove').click()
  const answers = await Promise.all(deletes)
  assert(answers.every((r) => r.status() === 204), `DELETE answered ${answers.map((r) => r.status())}`)
  await cardByLabel('photo.jpg').waitFor({ state: 'detached' })
  for (const id of ids) {
    const after = await fetch(`${base}/api/v1/media/${id}`)
    assert(after.status === 404, `media ${id} answers ${after.status} after removal`)
  }
  return { deleted: ids }
})

await step('drop files anywhere on the page', async () => {
  const dataTransfer = await page.evaluateHandle(() => {
    const dt = new DataTransfer()
    dt.items.add(new File(['dropped text file for the drop zone test'], 'dropped.txt', { type: 'text/plain' }))
    dt.items.add(new File(['a second dropped file, several at once'], 'dropped-2.txt', { type: 'text/plain' }))
    return dt
  })
  await page.dispatchEvent('main', 'dragenter', { dataTransfer })
  await page.locator('.drop-overlay').waitFor()
  await page.screenshot({ path: join(shots, '08-drop-overlay.png') })
  await page.dispatchEvent('main', 'drop', { dataTransfer })
  for (const name of ['dropped.txt', 'dropped-2.txt']) {
    assert((await waitStatus(cardByLabel(name), ['done', 'failed'])) === 'done', `${name} processed`)
  }
  assert((await page.locator('.drop-overlay').count()) === 0, 'overlay gone')
  await atBothSizes(page, cdp, shots, '08b-after-drop')
})

await step('oversize upload shows the 413 message', async () => {
  const tooBig = Buffer.alloc(config.maxUploadSize + 1, 1)
  await selectTab('Media file')
  await page.getByTestId('file-input').setInputFiles({ name: 'too-big.bin', mimeType: 'application/octet-stream', buffer: tooBig })
  const card = cardByLabel('too-big.bin')
  const status = await waitStatus(card, ['done', 'failed'])
  assert(status === 'failed', `oversize upload ended ${status}`)
  const message = await card.getByTestId('error').innerText()
  assert(message.includes('This file is too large for the server.'), `message: ${message}`)
  assert(message.includes(`maximum size of ${config.maxUploadSize} bytes`), `server detail shown: ${message}`)
  await card.screenshot({ path: join(shots, '09-too-large.png') })
  return { message }
})

await step('422 from the server is shown in plain words', async () => {
  // Random bytes named .jpg: the server cannot read them as an image and answers 422.
  const junk = Buffer.alloc(3000)
  for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919 + 13) % 251
  await selectTab('Media file')
  await page.getByTestId('file-input').setInputFiles({ name: 'broken.jpg', mimeType: 'image/jpeg', buffer: junk })
  const card = cardByLabel('broken.jpg')
  assert((await waitStatus(card, ['done', 'failed'])) === 'failed', 'broken file failed')
  const message = await card.getByTestId('error').innerText()
  assert(/could not read this file \(JPEG image\)/.test(message) && /damaged or incomplete/.test(message), `message: ${message}`)
  assert(!/Try again/.test(await card.innerText()), 'no retry offered for a file that cannot be read')
  // The local preview of bytes that are no image falls back to the type icon.
  await card.locator('.thumb img').waitFor({ state: 'detached' })
  assert((await card.locator('.thumb.glyph').count()) === 1, 'fallback icon instead of a broken image')
  await atBothSizes(page, cdp, shots, '09b-broken-file')
  return { message }
})

await step('503 busy: message with Retry-After, then try again', async () => {
  // The pool is hard to fill on demand, so the browser is given the server's 503 answer.
  await page.route('**/api/v1/iscc?*', (route) =>
    route.fulfill({
      status: 503,
      contentType: 'application/problem+json',
      headers: { 'Retry-After': '3' },
      body: JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'Too many jobs are waiting.' }),
    }))
  const card = cardByLabel('busy.txt')
  let message
  try {
    await selectTab('Media file')
    await page.getByTestId('file-input').setInputFiles({ name: 'busy.txt', mimeType: 'text/plain', buffer: Buffer.from('busy server test') })
    assert((await waitStatus(card, ['done', 'failed'])) === 'failed', 'failed while busy')
    message = await card.getByTestId('error').innerText()
    assert(message.includes('The server is busy right now. Please try again in 3 seconds.'), `message: ${message}`)
    await card.screenshot({ path: join(shots, '13-busy.png') })
  } finally {
    await page.unroute('**/api/v1/iscc?*')
  }
  await card.getByRole('button', { name: 'Try again' }).click()
  assert((await waitStatus(card, ['done', 'failed'])) === 'done', 'retry succeeded')
  return { message }
})

await reviewSteps({ page, context, browser, cdp, base, config, shots, step, cards, cardByLabel, expand, waitStatus, selectTab, ensureToggles, image, sample, info })

await step('from URL: the server fetches it as a job, same ISCC as the API', async () => {
  // The origin is a real HTTP server on another loopback address, allowed for this server
  // by url_allow_networks; the app sends {"url"} with Prefer: respond-async and follows the
  // job's server-sent events to its result.
  await selectTab('Media file')
  await ensureToggles({ semantic: false, granular: false })
  const streams = []
  const onRequest = (request) => {
    if (/\/api\/v1\/jobs\/[a-v0-9]{26}\/events$/.test(request.url())) streams.push(request.url())
  }
  page.on('request', onRequest)
  await page.evaluate(() => {
    window.__pills = []
    new MutationObserver(() => {
      for (const el of document.querySelectorAll('[data-testid=status]')) {
        const text = el.textContent.trim()
        if (window.__pills.at(-1) !== text) window.__pills.push(text)
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true })
  })
  try {
    await page.locator('#url-input').fill(`${config.originUrl}/samples/image/demo.png`)
    await page.getByRole('button', { name: 'Fetch' }).click()
    const card = cardByLabel('demo.png')
    const status = await waitStatus(card, ['done', 'failed'])
    assert(status === 'done', `URL card ended ${status}: ${await card.innerText()}`)
    const shown = (await card.getByTestId('iscc').innerText()).trim()
    const direct = await apiIscc(readFileSync(config.urlSample), 'demo.png', 'image/png', 'semantic=false&granular=false')
    assert(shown === direct.iscc, `browser shows ${shown}, API returns ${direct.iscc}`)
    assert(streams.length === 1, `one event stream followed: ${streams.join(', ')}`)
    await card.screenshot({ path: join(shots, '11b-from-url.png') })
    return { iscc: shown, pills: await page.evaluate(() => window.__pills), stream: streams[0] }
  } finally {
    page.off('request', onRequest)
  }
})

await step('without JavaScript', async () => {
  const plain = await browser.newContext({ javaScriptEnabled: false })
  const noJs = await plain.newPage()
  await noJs.goto(`${base}/`)
  const text = await noJs.locator('body').innerText()
  assert(/generates ISCC codes/.test(text) && /ISO 24138/.test(text), `no-JS text: ${text.slice(0, 200)}`)
  assert((await noJs.getByRole('link', { name: 'API documentation' }).getAttribute('href')) === '/docs', 'docs link without JS')
  await noJs.screenshot({ path: join(shots, '12-no-javascript.png') })
  await plain.close()
})

await step('no console errors', async () => {
  assert(consoleErrors.length === 0, consoleErrors.join('\n'))
})

await browser.close()
const ok = results.every((r) => r.ok)
console.log(JSON.stringify({ ok, results, consoleErrors, info }))
process.exit(ok ? 0 : 1)
