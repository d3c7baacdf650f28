/** What the server can do, from GET /api/v1/-/status (unknown = assume yes, let it answer). */

export interface Capabilities {
  /** Semantic code per mode; `null` when the status did not say. */
  semantic: { text: boolean; image: boolean } | null
  /** Enabled endpoint groups; `null` when unknown. */
  plugins: string[] | null
  /** Media modes the server can process (audio/video need external tools); `null` when unknown. */
  modes: Record<string, boolean> | null
}

export const UNKNOWN: Capabilities = { semantic: null, plugins: null, modes: null }

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
  let modes: Capabilities['modes'] = null
  const reportedModes = iscc?.modes
  if (reportedModes && typeof reportedModes === 'object') {
    modes = Object.fromEntries(Object.entries(reportedModes).map(([mode, on]) => [mode, on === true]))
  }
  return { semantic, plugins, modes }
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

/**
 * Media types iscc-sdk 0.9 can write metadata into, by mode (its EMBEDDERS): images through
 * exiv2 (which cannot write GIF, BMP, AVIF or HEIC) and its own SVG writer; text only for PDF,
 * EPUB and DOCX (plain text and other documents answer 422); audio through TagLib for every
 * audio type it reads; video through ffmpeg.
 */
const EMBEDDABLE: Record<string, ReadonlySet<string> | 'all'> = {
  image: new Set(['image/jpeg', 'image/png', 'image/tiff', 'image/vnd.adobe.photoshop', 'application/postscript', 'image/svg+xml']),
  text: new Set([
    'application/pdf',
    'application/epub+zip',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  ]),
  audio: 'all',
  video: 'all',
}

/**
 * Whether the server can embed a title and description into a stored result: the metadata
 * group is on, the file's mode and type have a writer, and the mode's tools are installed
 * (the embedded copy is processed again).
 */
export function embedOffered(caps: Capabilities, result: { media_id?: string; mode?: string; mediatype?: string } | undefined): boolean {
  if (!result?.media_id || !result.mode || !hasPlugin(caps, 'metadata')) return false
  const writable = EMBEDDABLE[result.mode]
  if (!writable) return false
  if (caps.modes && caps.modes[result.mode] === false) return false
  if (writable === 'all') return true
  return writable.has((result.mediatype ?? '').split(';')[0].trim().toLowerCase())
}
