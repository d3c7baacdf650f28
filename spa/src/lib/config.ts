/** Runtime configuration the server injects as `window.__ISCC_WEB__`. */

export interface RuntimeConfig {
  /** Initial state of the "Semantic code" toggle. */
  semanticDefault: boolean
  /** Seconds after which the server deletes uploads. */
  storageExpiry: number
  /** Whether only the uploader may download, delete or embed into an upload. */
  privateFiles: boolean
  /** Footer links of the operator ("" = no link). */
  sourceUrl: string
  imprintUrl: string
}

export const DEFAULT_CONFIG: Readonly<RuntimeConfig> = Object.freeze({
  semanticDefault: true,
  storageExpiry: 3600,
  privateFiles: true,
  sourceUrl: '',
  imprintUrl: '',
})

function webUrl(value: unknown): string {
  if (typeof value !== 'string') return ''
  try {
    const url = new URL(value)
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : ''
  } catch {
    return ''
  }
}

/** Merge whatever the page provides over the defaults, ignoring values of the wrong type. */
export function readRuntimeConfig(raw: unknown): RuntimeConfig {
  const config: RuntimeConfig = { ...DEFAULT_CONFIG }
  if (raw === null || typeof raw !== 'object') return config
  const source = raw as Record<string, unknown>
  if (typeof source.semanticDefault === 'boolean') config.semanticDefault = source.semanticDefault
  if (
    typeof source.storageExpiry === 'number' &&
    Number.isFinite(source.storageExpiry) &&
    source.storageExpiry >= 0
  ) {
    config.storageExpiry = Math.round(source.storageExpiry)
  }
  if (typeof source.privateFiles === 'boolean') config.privateFiles = source.privateFiles
  config.sourceUrl = webUrl(source.sourceUrl)
  config.imprintUrl = webUrl(source.imprintUrl)
  return config
}

const UNITS: Array<[number, string]> = [
  [86400, 'day'],
  [3600, 'hour'],
  [60, 'minute'],
  [1, 'second'],
]

const WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten']

function count(n: number, unit: string): string {
  const word = n <= 10 ? WORDS[n] : String(n)
  return `${word} ${unit}${n === 1 ? '' : 's'}`
}

/**
 * Say a number of seconds in words, e.g. 3600 → "one hour", 5400 → "one hour 30 minutes".
 * At most the two largest units are used; zero or less reads "immediately".
 */
export function formatDuration(seconds: number): string {
  let rest = Math.round(seconds)
  if (!(rest > 0)) return 'immediately'
  const parts: string[] = []
  for (const [size, unit] of UNITS) {
    if (rest >= size && parts.length < 2) {
      const n = Math.floor(rest / size)
      rest -= n * size
      parts.push(count(n, unit))
    } else if (parts.length) {
      break
    }
  }
  return parts.join(' ')
}
