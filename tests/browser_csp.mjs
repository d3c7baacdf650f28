// Headless Chromium (playwright-core from spa/node_modules) against a live server: the API
// docs and the web app work under their Content-Security-Policy, no policy violation is
// reported, and neither page can be framed. Prints one JSON object on its last line.
// Usage: node tests/browser_csp.mjs BASE_URL CHROMIUM SPA_DIR
import { createRequire } from 'node:module'
import { join } from 'node:path'

const [base, chromiumPath, spaDir] = process.argv.slice(2)
const require = createRequire(join(spaDir, 'package.json'))
const { chromium } = require('playwright-core')

const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})
const result = { violations: [], errors: [] }
try {
  const context = await browser.newContext()
  const page = await context.newPage()
  page.setDefaultTimeout(60_000)
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) result.violations.push(m.text())
  })
  page.on('pageerror', (e) => result.errors.push(e.message))
  // Every violation also fires a DOM event: collect those too (they survive navigation only
  // per page, so each page is read before leaving it).
  await context.addInitScript(() => {
    window.__violations = []
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`)
    })
  })

  await page.goto(`${base}/docs`)
  await page.waitForSelector('.opblock-tag', { timeout: 60_000 })
  result.docsTags = await page.$$eval('.opblock-tag', (els) => els.map((e) => e.textContent.trim().split(/\s/)[0]))
  await page.click('.opblock-summary >> nth=0')  // expand one operation: more React rendering
  await page.waitForSelector('.opblock-body', { timeout: 30_000 })
  result.docsViolations = await page.evaluate(() => window.__violations)

  await page.goto(`${base}/`)
  await page.waitForFunction(() => document.querySelector('#app')?.children.length > 0)
  result.appConfig = await page.evaluate(() => window.__ISCC_WEB__ ?? null)
  result.appText = (await page.textContent('#app')).slice(0, 200)
  result.appViolations = await page.evaluate(() => window.__violations)

  // A page elsewhere framing ours: the browser refuses (frame-ancestors 'none').
  const framed = await context.newPage()
  await framed.goto('about:blank')
  await framed.setContent(`<iframe id="f" src="${base}/"></iframe>`)
  await framed.waitForTimeout(1500)
  const frame = framed.frames().find((f) => f !== framed.mainFrame())
  result.frameUrl = frame ? frame.url() : null
  result.framedLoaded = frame ? await frame.evaluate(() => !!window.__ISCC_WEB__).catch(() => false) : false
} catch (error) {
  result.errors.push(String(error))
} finally {
  await browser.close()
}
console.log(JSON.stringify(result))
