// The ten points of the second design review (issue 16), each checked at 1440×900 and 390×844
// with axe-core failing on any violation. Called from run.mjs with its page and helpers.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { DESKTOP, PHONE, assert, atBothSizes, axeCheck, setSize } from './lib.mjs'

export const REVIEW_STEPS = [
  '1 phone: a new result comes into view, a toast links to one out of sight',
  '2 embed offered only where the server can embed',
  '3 compare: bands relative to chance with bit counts, no percentage for Instance',
  '4 focus after compare, eject and remove; one polite live region',
  '5 extracted title and creator in the Meta row',
  '6 units named in words, code string highlighted with the hovered unit',
  '7 unsupported file types explained',
  '8 no horizontal overflow on phones down to 320 px',
  '10 footer links, tap targets, touch wording, dark mode',
  '9 feed: collapse, export JSON and CSV, kept across a reload, clear all',
]

const TEXT_A = 'Harbour seals rest on sandbanks at low tide and hunt flatfish when the water returns to the estuary.'
const TEXT_B = 'Quarterly invoices must list the VAT number, the delivery address and the agreed payment terms in euros.'

export async function reviewSteps(t) {
  const { page, cdp, base, config, shots, step, cards, cardByLabel, expand, waitStatus, selectTab, ensureToggles } = t
  const samples = dirname(config.embedImage)
  const pick = (files) => page.getByTestId('file-input').setInputFiles(files)
  const inView = async (locator, height) => {
    const box = await locator.boundingBox()
    return Boolean(box) && box.y >= -1 && box.y < height - 40
  }
  const pasteText = async (text) => {
    await selectTab('Plain text')
    await page.getByLabel('Text', { exact: true }).fill(text)
    await page.getByRole('button', { name: 'Generate ISCC' }).click()
    const card = cards.first()
    assert((await waitStatus(card, ['done', 'failed'])) === 'done', 'pasted text done')
    await selectTab('Media file')
    return card
  }
  const activeId = () => page.evaluate(() => document.activeElement?.id ?? '')

  await step(REVIEW_STEPS[0], async () => {
    await ensureToggles({ semantic: false, granular: false })
    // Phone: the intake fills the screen, so the result lands below it and is scrolled to.
    await setSize(page, cdp, PHONE)
    await page.evaluate(() => window.scrollTo(0, 0))
    await pick({ name: 'phone-pick.txt', mimeType: 'text/plain', buffer: Buffer.from('picked on a phone') })
    const card = cardByLabel('phone-pick.txt')
    assert((await waitStatus(card, ['done', 'failed'])) === 'done', 'phone upload done')
    const scrolled = await page.evaluate(() => window.scrollY)
    assert(scrolled > 300 && (await inView(card, PHONE.height)), `new card in view on the phone (scrollY ${scrolled})`)
    await page.screenshot({ path: join(shots, '20-phone-result-in-view.png') })
    await setSize(page, cdp, DESKTOP)
    // A result that finishes while the user looks elsewhere: a toast with a jump link.
    const earlier = page.getByTestId('toast')
    if (await earlier.count()) await earlier.getByRole('button', { name: 'Dismiss' }).click()
    const slow = await context(t).newCDPSession(page)
    await slow.send('Network.enable')
    await slow.send('Network.emulateNetworkConditions', { offline: false, latency: 1500, downloadThroughput: -1, uploadThroughput: -1 })
    let toastSeen
    try {
      await pick({ name: 'late.txt', mimeType: 'text/plain', buffer: Buffer.from('finishes while the user reads the footer') })
      await cardByLabel('late.txt').locator('xpath=self::*[@data-status="processing"]').waitFor({ timeout: 10_000 })
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight))
    } finally {
      await slow.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
    }
    const toast = page.getByTestId('toast').filter({ hasText: 'late.txt is ready' })
    await toast.waitFor()
    toastSeen = await toast.innerText()
    await atBothSizes(page, cdp, shots, '21-toast')
    await toast.getByRole('link', { name: 'Show result' }).click()
    const late = cardByLabel('late.txt')
    assert((await activeId()) === (await late.getByRole('heading').getAttribute('id')), 'the result heading has focus')
    assert(await inView(late, DESKTOP.height), 'the result is in view')
    assert((await toast.count()) === 0, 'toast closed')
    return { scrolled, toast: toastSeen }
  })

  await step(REVIEW_STEPS[1], async () => {
    await pick([
      { name: 'anim.gif', mimeType: 'image/gif', buffer: readFileSync(join(samples, 'demo.gif')) },
      { name: 'picture.png', mimeType: 'image/png', buffer: readFileSync(join(samples, 'demo.png')) },
      { name: 'bitmap.bmp', mimeType: 'image/bmp', buffer: readFileSync(join(samples, 'demo.bmp')) },
    ])
    for (const name of ['anim.gif', 'picture.png', 'bitmap.bmp']) assert((await waitStatus(cardByLabel(name), ['done', 'failed'])) === 'done', `${name} done`)
    const offered = {}
    for (const name of ['bitmap.bmp', 'anim.gif', 'picture.png', 'late.txt']) {
      const card = cardByLabel(name)
      await expand(card)
      offered[name] = (await card.getByText('Embed title & description').count()) > 0
    }
    const pasted = cards.filter({ has: page.locator('.snippet') }).first()
    await expand(pasted)
    offered.pasted = (await pasted.getByText('Embed title & description').count()) > 0
    // BMP, GIF and plain text cannot be written by the server; PNG can.
    assert(JSON.stringify(offered) === JSON.stringify({ 'bitmap.bmp': false, 'anim.gif': false, 'picture.png': true, 'late.txt': false, pasted: false }),
      `embed offered: ${JSON.stringify(offered)}`)
    await cardByLabel('picture.png').scrollIntoViewIfNeeded()
    await atBothSizes(page, cdp, shots, '22-embed-offered')
    return offered
  })

  await step(REVIEW_STEPS[2], async () => {
    await pasteText(TEXT_A)
    const b = await pasteText(TEXT_B)
    const labelA = TEXT_A.slice(0, 47) + '…'
    await b.getByLabel('Compare with').selectOption({ label: labelA })
    await b.getByTestId('compare').click()
    const panel = b.getByTestId('compare-panel')
    await panel.waitFor()
    const text = await panel.innerText()
    assert(!text.includes('%'), `no percentage anywhere in the comparison: ${text}`)
    const verdict = (await panel.getByTestId('verdict').innerText()).split('\n')[0]
    const rows = {}
    for (const row of await panel.getByTestId('compare-layer').all()) {
      const name = (await row.locator('.unit-name').textContent()).trim()
      rows[name] = {
        band: (await row.getByTestId('band').count()) ? (await row.getByTestId('band').innerText()).trim() : null,
        distance: (await row.getByTestId('distance').count()) ? (await row.getByTestId('distance').innerText()).trim() : null,
      }
    }
    const content = rows['Content · Text']
    assert(content && /^(Unrelated|Similar)$/i.test(content.band), `content band of two unrelated texts: ${JSON.stringify(content)}`)
    assert(/^\d+ of 64 bits differ \(unrelated codes: about 32\)$/.test(content.distance), `bit count: ${content.distance}`)
    assert(rows.Instance && /^Different$/i.test(rows.Instance.band) && rows.Instance.distance === null, `instance: ${JSON.stringify(rows.Instance)}`)
    assert(verdict === 'Different content', `verdict: ${verdict}`)
    await atBothSizes(page, cdp, shots, '23-compare-unrelated')
    info(t).unrelated = rows
    return { verdict, rows }
  })

  await step(REVIEW_STEPS[3], async () => {
    const b = cards.first()
    const id = (await b.getAttribute('id')).replace('card-', '')
    // Verdict focused and announced once the panel opened (previous step).
    const live = page.getByTestId('live')
    assert(/^Comparison of .+: Different content\./.test(await live.innerText()), `live region: ${await live.innerText()}`)
    await b.getByTestId('eject').click()
    assert((await activeId()) === `compare-btn-${id}`, `focus back on Compare after Eject (${await activeId()})`)
    await page.keyboard.press('Enter')
    assert((await activeId()) === `verdict-${id}`, `focus on the verdict after Compare (${await activeId()})`)
    await b.getByTestId('eject').click()
    // Remove: focus goes to the card that takes its place.
    const victim = cardByLabel('phone-pick.txt')
    const list = await cards.evaluateAll((els) => els.map((el) => el.id))
    const next = list[list.indexOf(await victim.getAttribute('id')) + 1]
    await victim.getByTestId('remove').click()
    await victim.waitFor({ state: 'detached' })
    assert((await activeId()) === `${next}-title`, `focus on the next card after Remove (${await activeId()})`)
    assert(/Removed phone-pick\.txt/.test(await live.innerText()), 'removal announced')
    // One polite live region; no status pill or alert announces on its own.
    const regions = await page.evaluate(() =>
      Array.from(document.querySelectorAll('[aria-live], [role=status], [role=alert], [role=log], [role=timer]')).map((el) => el.outerHTML.slice(0, 80)))
    assert(regions.length === 1 && /aria-live="polite"/.test(regions[0]), `live regions: ${regions.join(' | ')}`)
    const labels = await page.locator('.bitstrip').evaluateAll((els) => els.map((el) => el.getAttribute('aria-label')))
    assert(labels.length > 0 && labels.every((label) => label && !/[01]{8}/.test(label)), `bit strips read as words: ${labels.slice(0, 3)}`)
    await atBothSizes(page, cdp, shots, '24-focus')
    return { labels: labels.slice(0, 2) }
  })

  await step(REVIEW_STEPS[4], async () => {
    await pick({ name: 'cat.jpg', mimeType: 'image/jpeg', buffer: readFileSync(config.embedImage) })
    const cat = cardByLabel('cat.jpg')
    assert((await waitStatus(cat, ['done', 'failed'])) === 'done', 'cat.jpg done')
    const meta = cat.getByTestId('meta-fields')
    const text = await meta.innerText()
    assert(/Title\s+Concentrated Cat/.test(text) && /Creator\s+Some Cat Lover/.test(text), `meta row of cat.jpg: ${text}`)
    const plain = cardByLabel('test-image.jpg')
    await expand(plain)
    const fallback = await plain.getByTestId('meta-fields').innerText()
    assert(/No title in the file; the Meta unit uses its name: “test image”/.test(fallback), `meta row of test-image.jpg: ${fallback}`)
    await atBothSizes(page, cdp, shots, '25-meta-row', () => meta.scrollIntoViewIfNeeded())
    return { text, fallback }
  })

  await step(REVIEW_STEPS[5], async () => {
    const cat = cardByLabel('cat.jpg')
    const names = await cat.locator('.unit-name').allInnerTexts()
    assert(JSON.stringify(names.map((n) => n.toLowerCase())) === JSON.stringify(['meta', 'content · image', 'data', 'instance']), `unit names: ${names}`)
    const iscc = (await cat.getByTestId('iscc').innerText()).trim()
    const segs = await cat.locator('.seg').evaluateAll((els) => els.map((el) => [el.dataset.layer, el.textContent]))
    assert(`ISCC:${segs.map((s) => s[1]).join('')}` === iscc, 'segments make up the code')
    assert(segs.map((s) => s[0]).join() === 'HEADER,META,CONTENT,DATA,INSTANCE', `segments: ${segs.map((s) => s[0])}`)
    const row = cat.locator('li.unit[data-layer=CONTENT]')
    await row.hover()
    assert(await cat.locator('.seg[data-layer=CONTENT]').evaluate((el) => el.classList.contains('hot')), 'hovered row lights its characters')
    assert(!(await cat.locator('.seg[data-layer=DATA]').evaluate((el) => el.classList.contains('hot'))), 'only that unit')
    await cat.locator('.seg[data-layer=DATA]').hover()
    assert(await cat.locator('li.unit[data-layer=DATA]').evaluate((el) => el.classList.contains('hot')), 'hovered characters light their row')
    const head = row.locator('.unit-head')
    assert((await head.evaluate((el) => getComputedStyle(el).cursor)) === 'pointer', 'rows show a pointer')
    assert((await head.getAttribute('aria-expanded')) === 'false', 'rows are disclosure buttons')
    await row.hover()
    const shot = await atBothSizes(page, cdp, shots, '26-units', async () => {
      await cat.locator('.units').scrollIntoViewIfNeeded()
      return (await head.boundingBox()).height
    })
    assert(shot.phone >= 44, `unit rows are at least 44 px tall on touch screens (${shot.phone})`)
    return { names, segments: segs.length, rowHeight: shot }
  })

  await step(REVIEW_STEPS[6], async () => {
    await pick({ name: 'unknown.xyz', mimeType: 'chemical/x-xyz', buffer: Buffer.from('hello world, this is not chemistry') })
    const card = cardByLabel('unknown.xyz')
    assert((await waitStatus(card, ['done', 'failed'])) === 'done', 'unknown.xyz done')
    const facts = await card.getByRole('list', { name: 'Facts' }).innerText()
    assert(/XYZ file/.test(facts) && !/chemical/.test(facts), `facts: ${facts}`)
    assert(/Data & Instance only/.test(facts), 'marked as bytes only')
    const note = await card.getByTestId('unsupported').innerText()
    assert(/only Data and\s+Instance units/.test(note) && /Images, text documents, audio and video/.test(note), `note: ${note}`)
    assert((await card.getByText('Embed title & description').count()) === 0, 'no embedding for it')
    await atBothSizes(page, cdp, shots, '27-unsupported')
    return { facts }
  })

  await step(REVIEW_STEPS[7], async () => {
    const long = 'a-really-long-file-name-for-the-phone-layout-check-with-no-spaces-at-all.pptx'
    await pick({ name: long, mimeType: 'application/vnd.openxmlformats-officedocument.presentationml.presentation', buffer: Buffer.from('not really a presentation') })
    await waitStatus(cardByLabel(long), ['done', 'failed'])
    const overflow = () => page.evaluate(() => {
      const problems = []
      if (document.documentElement.scrollWidth > window.innerWidth) problems.push(`page ${document.documentElement.scrollWidth}px`)
      for (const card of document.querySelectorAll('[data-testid=result-card], .intake, .site-footer')) {
        const box = card.getBoundingClientRect()
        for (const el of card.querySelectorAll('*')) {
          const r = el.getBoundingClientRect()
          if (r.width && r.right > box.right + 1 && !el.closest('.visually-hidden')) problems.push(`${el.className || el.tagName} ${Math.round(r.right - box.right)}px`)
        }
      }
      return problems.slice(0, 8)
    })
    const seen = await atBothSizes(page, cdp, shots, '28-no-overflow', overflow)
    assert(seen.desktop.length === 0 && seen.phone.length === 0, `overflow: ${JSON.stringify(seen)}`)
    await setSize(page, cdp, PHONE)
    await page.setViewportSize({ width: 320, height: 640 })
    const narrow = await overflow()
    await page.screenshot({ path: join(shots, '28-no-overflow-320.png'), fullPage: true })
    await setSize(page, cdp, DESKTOP)
    assert(narrow.length === 0, `overflow at 320 px: ${narrow}`)
    return { checked: await cards.count() }
  })

  await step(REVIEW_STEPS[8], async () => {
    const footer = page.getByRole('navigation', { name: 'Footer' })
    const hrefs = {}
    for (const name of ['Privacy', 'API Docs', 'Source', 'Imprint']) hrefs[name] = await footer.getByRole('link', { name, exact: true }).getAttribute('href')
    assert(hrefs.Privacy === '#privacy' && hrefs['API Docs'] === '/docs', `links: ${JSON.stringify(hrefs)}`)
    assert(hrefs.Source === config.sourceUrl && hrefs.Imprint === config.imprintUrl, `operator links: ${JSON.stringify(hrefs)}`)
    await footer.getByRole('link', { name: 'Privacy', exact: true }).click()
    const privacy = await page.getByTestId('privacy').innerText()
    assert(/deleted\s+automatically after one hour/.test(privacy) && /Only you can download, delete or embed/.test(privacy), `privacy note: ${privacy}`)
    assert((await page.evaluate(() => location.hash)) === '#privacy', 'jumped to the note')
    // Touch: "Drop files anywhere" is not offered, and every control is at least 44 px.
    const words = {}
    const targets = await atBothSizes(page, cdp, shots, '29-trust', async (size) => {
      await page.evaluate(() => window.scrollTo(0, 0))
      words[size.name] = {
        drop: await page.getByText('Drop files anywhere, or').isVisible(),
        choose: await page.locator('.dropzone .coarse-pointer').isVisible(),
      }
      return page.evaluate(() => {
        const small = []
        const selector = 'button, summary, select, a.icon-btn, .site-header nav a, .site-footer nav a, .switch, .toast-link'
        for (const el of document.querySelectorAll(selector)) {
          const r = el.getBoundingClientRect()
          if (!r.width || el.closest('.visually-hidden')) continue
          if (r.height < 44 || (el.classList.contains('icon-btn') && r.width < 44)) small.push(`${el.textContent.trim().slice(0, 20) || el.getAttribute('aria-label')} ${Math.round(r.width)}×${Math.round(r.height)}`)
        }
        return small
      })
    })
    assert(words.desktop.drop && !words.desktop.choose && !words.phone.drop && words.phone.choose, `drop wording: ${JSON.stringify(words)}`)
    assert(targets.phone.length === 0, `targets under 44 px on the phone: ${targets.phone.slice(0, 10)}`)
    // Dark mode: the page follows the system setting and keeps its contrast.
    await page.emulateMedia({ colorScheme: 'dark' })
    try {
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor || getComputedStyle(document.documentElement).backgroundColor)
      const rootBg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)
      const [r, g, b] = (rootBg.match(/\d+/g) ?? []).map(Number)
      assert(r + g + b < 120, `dark background (${rootBg}, body ${bg})`)
      await atBothSizes(page, cdp, shots, '29b-dark')
    } finally {
      await page.emulateMedia({ colorScheme: 'light' })
    }
    return { hrefs, words, smallOnDesktop: targets.desktop.length }
  })

  await step(REVIEW_STEPS[9], async () => {
    await selectTab('Media file')
    const files = Array.from({ length: 11 }, (_, i) => ({ name: `batch-${String(i + 1).padStart(2, '0')}.txt`, mimeType: 'text/plain', buffer: Buffer.from(`batch file number ${i + 1} for the feed test`) }))
    await pick(files)
    for (const file of files) assert((await waitStatus(cardByLabel(file.name), ['done', 'failed'])) === 'done', `${file.name} done`)
    // Eleven results: the newest few stay open, the rest are one line each.
    const heights = await page.evaluate((names) => names.map((name) => {
      const card = [...document.querySelectorAll('[data-testid=result-card]')].find((el) => el.querySelector('h3')?.textContent === name)
      return Math.round(card.getBoundingClientRect().height)
    }), files.map((f) => f.name))
    const total = heights.reduce((a, b) => a + b, 0)
    assert(total < 2640, `eleven results take ${total} px (before: 11 × 480 px)`)
    const collapsed = heights.filter((h) => h < 100).length
    assert(collapsed >= 8, `older results collapsed: ${heights}`)
    // One card by hand.
    const newest = cardByLabel('batch-11.txt')
    await newest.getByTestId('collapse').click()
    assert((await newest.getByTestId('collapse').getAttribute('aria-expanded')) === 'false', 'collapsed')
    assert(/^ISCC:/.test(await newest.getByTestId('code-line').innerText()), 'a collapsed card still shows its code')
    await newest.getByTestId('collapse').click()
    assert((await newest.getByTestId('iscc').count()) === 1, 'expanded again')
    await atBothSizes(page, cdp, shots, '30-feed')
    // Export.
    const count = await cards.count()
    const saved = {}
    for (const kind of ['json', 'csv']) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`export-${kind}`).click()])
      const path = join(config.downloads, download.suggestedFilename())
      await download.saveAs(path)
      saved[kind] = readFileSync(path, 'utf8')
      assert(download.suggestedFilename().endsWith(`.${kind}`), `file name ${download.suggestedFilename()}`)
    }
    const records = JSON.parse(saved.json)
    assert(records.length === count, `JSON has ${records.length} of ${count} results`)
    const lines = saved.csv.trimEnd().split('\r\n')
    assert(lines.length === count + 1 && lines[0].startsWith('label,kind,status,iscc'), `CSV has ${lines.length} lines`)
    const done = records.filter((r) => r.status === 'done')
    assert(done.every((r) => /^ISCC:/.test(r.iscc)) && lines.some((l) => l.includes(done[0].iscc)), 'codes exported')
    // Reload: the results are still there.
    const before = await cards.evaluateAll((els) => els.map((el) => el.querySelector('h3').textContent))
    await page.reload()
    await cards.first().waitFor()
    const after = await cards.evaluateAll((els) => els.map((el) => el.querySelector('h3').textContent))
    assert(JSON.stringify(after) === JSON.stringify(before), `after reload: ${after.length} of ${before.length} cards`)
    assert((await cardByLabel('batch-10.txt').getByTestId('iscc').innerText()).trim() === records.find((r) => r.label === 'batch-10.txt').iscc, 'same code after reload')
    // Clear all: asks first, then deletes every upload on the server.
    const mediaIds = records.flatMap((r) => (r.result?.media_id ? [r.result.media_id] : []))
    await page.getByTestId('clear-all').click()
    const confirm = page.getByTestId('clear-confirm')
    assert((await activeId()) === 'clear-confirm', 'focus on the confirmation')
    await axeCheck(page, '(clear-all confirmation)')
    const deletes = mediaIds.map((id) =>
      page.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().endsWith(`/media/${id}`)))
    await confirm.click()
    await cards.first().waitFor({ state: 'detached' })
    const answers = await Promise.all(deletes)
    assert(answers.every((r) => r.status() === 204), `DELETE answered ${answers.map((r) => r.status())}`)
    await page.getByRole('heading', { name: 'What an ISCC is made of' }).waitFor()
    await page.waitForFunction(() => document.activeElement?.getAttribute('role') === 'tab', null, { timeout: 5000 })
    const statuses = await Promise.all(mediaIds.map(async (id) => (await fetch(`${base}/api/v1/media/${id}`)).status))
    assert(statuses.every((s) => s === 404), `uploads deleted: ${statuses}`)
    await page.reload()
    await page.getByRole('heading', { name: 'What an ISCC is made of' }).waitFor()
    assert((await cards.count()) === 0, 'nothing comes back after clearing')
    return { heights, total, exported: records.length, deleted: mediaIds.length }
  })
}

function context(t) {
  return t.context
}
function info(t) {
  return t.info
}
