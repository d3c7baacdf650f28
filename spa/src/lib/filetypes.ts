/** File types in plain words, and what to tell a user when the server cannot read a file. */

import { ApiError, type IsccMetadata } from './api'

/** Short names of the media types iscc-sdk processes (its SUPPORTED_MEDIATYPES), and a few more. */
const TYPE_NAMES: Record<string, string> = {
  'application/rtf': 'RTF document',
  'application/msword': 'Word document (DOC)',
  'application/pdf': 'PDF document',
  'application/epub+zip': 'EPUB e-book',
  'text/xml': 'XML document',
  'application/xml': 'XML document',
  'application/json': 'JSON document',
  'application/xhtml+xml': 'XHTML document',
  'application/vnd.oasis.opendocument.text': 'OpenDocument text (ODT)',
  'text/html': 'HTML page',
  'text/plain': 'Plain text',
  'application/x-ibooks+zip': 'iBooks e-book',
  'text/markdown': 'Markdown text',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'Word document (DOCX)',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'Excel workbook (XLSX)',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'PowerPoint (PPTX)',
  'application/vnd.ms-powerpoint': 'PowerPoint (PPT)',
  'application/vnd.ms-excel': 'Excel workbook (XLS)',
  'image/bmp': 'BMP image',
  'image/gif': 'GIF image',
  'image/jpeg': 'JPEG image',
  'image/png': 'PNG image',
  'image/tiff': 'TIFF image',
  'image/webp': 'WebP image',
  'image/vnd.adobe.photoshop': 'Photoshop image (PSD)',
  'application/postscript': 'PostScript (EPS)',
  'image/avif': 'AVIF image',
  'image/heic': 'HEIC image',
  'image/svg+xml': 'SVG image',
  'audio/mpeg': 'MP3 audio',
  'audio/wav': 'WAV audio',
  'audio/x-wav': 'WAV audio',
  'audio/ogg': 'Ogg audio',
  'audio/aiff': 'AIFF audio',
  'audio/x-aiff': 'AIFF audio',
  'audio/x-flac': 'FLAC audio',
  'audio/flac': 'FLAC audio',
  'audio/opus': 'Opus audio',
  'audio/x-wavpack': 'WavPack audio',
  'audio/mp4': 'M4A audio',
  'video/mp4': 'MP4 video',
  'video/webm': 'WebM video',
  'video/x-matroska': 'Matroska video (MKV)',
  'video/quicktime': 'QuickTime video',
  'video/avi': 'AVI video',
  'video/x-msvideo': 'AVI video',
  'video/mpeg': 'MPEG video',
  'video/ogg': 'Ogg video',
  'video/3gpp': '3GP video',
  'video/x-flv': 'Flash video (FLV)',
  'video/x-ms-wmv': 'WMV video',
  'video/x-m4v': 'M4V video',
  'application/zip': 'ZIP archive',
  'application/octet-stream': 'Binary data',
}

/** The extension of a file name in capitals ("XYZ"), or "" when it has none. */
export function extensionOf(fileName: string): string {
  const match = /\.([A-Za-z0-9]{1,10})$/.exec(fileName)
  return match ? match[1].toUpperCase() : ''
}

/** A short name for a file's type: "JPEG image", or "XYZ file" for one the server cannot read. */
export function typeName(mediatype: string | undefined, fileName: string, supported = true): string {
  const base = (mediatype ?? '').split(';')[0].trim().toLowerCase()
  const ext = extensionOf(fileName)
  // A type guessed from the extension alone (unknown.xyz → chemical/x-xyz) would mislead.
  if (!supported) return ext ? `${ext} file` : 'Unknown file type'
  if (TYPE_NAMES[base]) return TYPE_NAMES[base]
  if (ext) return `${ext} file`
  return base || 'Unknown file type'
}

/** Whether a result was processed by content (it has a mode) or only as bytes (ISCC-SUM). */
export function contentSupported(result: IsccMetadata | undefined): boolean {
  return Boolean(result?.mode)
}

/** What an ISCC without a Content unit means, for a file type iscc-sdk cannot read. */
export const UNSUPPORTED_NOTE =
  'This file type is not one the ISCC reads the content of, so its code has only Data and ' +
  'Instance units: it identifies these exact bytes and finds files that share data, but not ' +
  'similar-looking or similar-sounding content. Images, text documents, audio and video get ' +
  'the full code.'

/** The title iscc-sdk derives from a file name when the file carries none ("my_photo.jpg" → "my photo"). */
export function nameFromFileName(fileName: string): string {
  const base = fileName.split('/').pop() ?? fileName
  const dot = base.lastIndexOf('.')
  const stem = dot > 0 ? base.slice(0, dot) : base
  return stem.replace(/[-_]/g, ' ').replace(/\s+/g, ' ').trim()
}

/**
 * Say in plain words why the server could not make an ISCC of a file (a 422), naming the
 * type the browser believes it is. Other errors are left to `describeError`.
 */
export function explainProcessingError(error: unknown, fileName: string, browserType: string): string | undefined {
  if (!(error instanceof ApiError) || error.status !== 422) return undefined
  const detail = error.detail
  const type = browserType ? typeName(browserType, fileName) : ''
  if (/is not installed on this server/.test(detail)) {
    return `This server cannot process this kind of file: ${detail} Images and text documents still work.`
  }
  if (/^Semantic codes are not available/.test(detail)) {
    return `${detail} Switch off “Semantic code” and try again.`
  }
  if (/timed out/i.test(detail)) {
    return 'Processing this file took too long, so the server stopped. Very large or complex files can do this; try a smaller file.'
  }
  if (/^Unsupported mediatype/i.test(detail)) {
    return `The server does not support this file type (${detail.replace(/^Unsupported mediatype\s*/i, '').replace(/ for .*$/, '')}).`
  }
  return (
    `The server could not read this file${type ? ` (${type})` : ''}. It may be damaged or incomplete, ` +
    'or not the type its name suggests. Check that it opens on your device, then try again' +
    (detail ? ` (server: “${detail}”)` : '') + '.'
  )
}
