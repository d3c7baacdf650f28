/** What the server can do, from GET /api/v1/-/status (unknown = assume yes, let it answer). */

export interface Capabilities {
  /** Semantic code per mode; `null` when the status did not say. */
  semantic: { text: boolean; image: boolean } | null
  /** Enabled endpoint groups; `null` when unknown. */
  plugins: string[] | null
}

export const UNKNOWN: Capabilities = { semantic: null, plugins: null }

/** Read the parts of a status report the app cares about, tolerating any shape. */
export function capabilitiesFromStatus(status: unknown): Capabilities {
  if (!status || typeof status !== 'object') return UNKNOWN
  const body = status as Record<string, unknown>
  let plugins: string[] | null = null
  if (Array.isArray(body.plugins)) {
    plugins = body.plugins
      .map((p) => (p && typeof p === 'object' ? (p as Record<string, unknown>).name : undefined))
      .filter((name): name is string => typeof name === 'string')
  }
  let semantic: Capabilities['semantic'] = null
  const iscc = body.iscc as Record<string, unknown> | undefined
  const reported = iscc?.semantic as Record<string, unknown> | undefined
  if (reported && typeof reported === 'object') {
    semantic = { text: reported.text === true, image: reported.image === true }
  }
  return { semantic, plugins }
}

/** Whether the Semantic toggle can do anything on this server. */
export function semanticOffered(caps: Capabilities): boolean {
  return caps.semantic === null || caps.semantic.text || caps.semantic.image
}

const TEXT_TYPES = /^(text\/|application\/(pdf|msword|rtf|epub\+zip|vnd\.openxmlformats-officedocument\.wordprocessingml|vnd\.oasis\.opendocument\.text|x-mobipocket))/

/** Guess the ISCC mode that matters for semantic codes from a MIME type. */
export function semanticMode(mimeType: string): 'text' | 'image' | null {
  if (mimeType.startsWith('image/')) return 'image'
  if (TEXT_TYPES.test(mimeType)) return 'text'
  return null
}

/**
 * The `semantic` value to send for one item: the user's choice, unless the server has said it
 * has no model for this item's mode (then asking would only earn a 422).
 */
export function effectiveSemantic(requested: boolean, mimeType: string, caps: Capabilities): boolean {
  if (!requested || caps.semantic === null) return requested
  const mode = semanticMode(mimeType)
  if (mode === null) return caps.semantic.text || caps.semantic.image
  return caps.semantic[mode]
}

/** Whether an endpoint group is enabled (unknown counts as enabled). */
export function hasPlugin(caps: Capabilities, name: string): boolean {
  return caps.plugins === null || caps.plugins.includes(name)
}
