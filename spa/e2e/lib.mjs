// Shared helpers of the browser steps: step bookkeeping, assertions, screen sizes and axe-core.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const require = createRequire(import.meta.url)
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')

export const DESKTOP = { name: 'desktop', width: 1440, height: 900 }
export const PHONE = { name: 'phone', width: 390, height: 844 }
export const SIZES = [DESKTOP, PHONE]

export function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`)
}

/** Run named steps, record each result, screenshot failures. */
export function stepper(page, shots) {
  const results = []
  async function step(name, fn) {
    const started = Date.now()
    try {
      const detail = await fn()
      results.push({ name, ok: true, ms: Date.now() - started, ...(detail ? { info: detail } : {}) })
    } catch (error) {
      results.push({ name, ok: false, ms: Date.now() - started, error: String(error?.stack ?? error) })
      await page.screenshot({ path: join(shots, `FAILED-${name.replace(/[^\w.-]+/g, '_')}.png`), fullPage: true }).catch(() => {})
    }
  }
  return { results, step }
}

/**
 * Switch one page between the two sizes. The phone also gets touch emulation, so that
 * `(pointer: coarse)` applies as on a real phone (tap targets, no "drop files anywhere").
 */
export async function setSize(page, cdp, size) {
  await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: size === PHONE, maxTouchPoints: size === PHONE ? 5 : 1 })
  await page.setViewportSize({ width: size.width, height: size.height })
}

/** axe-core on the whole page; throws with every violation (rule, impact, elements). */
export async function axeCheck(page, label) {
  // evaluated through the devtools protocol: the page's CSP (no inline scripts) rightly
  // refuses an injected <script> element
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE)
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] })
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')} – ${n.failureSummary?.split('\n').slice(1, 2).join('').trim()}`),
    }))
  })
  if (violations.length) {
    const text = violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.join('\n    ')}`).join('\n  ')
    throw new Error(`axe violations ${label}:\n  ${text}`)
  }
}

/**
 * Check a state at 1440×900 and 390×844: `check(size)` (optional) then axe, at each size; the
 * page ends at the desktop size. Screenshots `<shot>-desktop.png` / `<shot>-phone.png`.
 */
export async function atBothSizes(page, cdp, shots, shot, check) {
  const seen = {}
  try {
    for (const size of SIZES) {
      await setSize(page, cdp, size)
      seen[size.name] = check ? await check(size) : true
      await axeCheck(page, `(${shot}, ${size.width}×${size.height})`)
      await page.screenshot({ path: join(shots, `${shot}-${size.name}.png`) })
    }
  } finally {
    await setSize(page, cdp, DESKTOP)
  }
  return seen
}
