/** Small display helpers. */

/** Human-readable byte size with binary-free SI units (kB = 1000 bytes), as file managers show. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–'
  if (bytes < 1000) return `${bytes} B`
  const units = ['kB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 'B'
  for (const next of units) {
    if (value < 1000) break
    value /= 1000
    unit = next
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${unit}`
}

/** Percent (0–100, whole number) of `loaded` in `total`. */
export function percent(loaded: number, total: number): number {
  if (!(total > 0)) return 0
  return Math.max(0, Math.min(100, Math.floor((loaded / total) * 100)))
}

/** Seconds as "12 s", "3:05 min" or "1:02:03 h" for media durations. */
export function formatMediaDuration(seconds: number): string {
  const s = Math.round(seconds)
  if (s < 60) return `${s} s`
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = String(s % 60).padStart(2, '0')
  if (h) return `${h}:${String(m).padStart(2, '0')}:${sec} h`
  return `${m}:${sec} min`
}

/** Base64 (standard alphabet) of the UTF-8 bytes of `text`: the X-Upload-Filename value. */
export function base64Utf8(text: string): string {
  const bytes = new TextEncoder().encode(text)
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}
