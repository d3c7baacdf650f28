/** Export of all results as JSON or CSV (the file is made in the browser; nothing is sent). */

import { LAYERS, unitsByLayer } from './compare'
import type { Card } from './store'

export interface ExportedResult {
  label: string
  kind: Card['kind']
  status: Card['status']
  iscc?: string
  units: Partial<Record<(typeof LAYERS)[number], string>>
  result?: Card['result']
  error?: string
}

/** One record per card, oldest first (the order they were added in). */
export function exportRecords(cards: Card[]): ExportedResult[] {
  return [...cards].reverse().map((card) => {
    const byLayer = unitsByLayer(card.detail?.units ?? [])
    const units: ExportedResult['units'] = {}
    for (const layer of LAYERS) if (byLayer[layer]) units[layer] = byLayer[layer]?.code
    const result = card.result ? { ...card.result } : undefined
    if (result) delete result.thumbnail // a data URL; the API gives it again on request
    return {
      label: card.label,
      kind: card.kind,
      status: card.status,
      iscc: card.result?.iscc,
      units,
      result,
      error: card.error,
    }
  })
}

export function toJson(cards: Card[]): string {
  return `${JSON.stringify(exportRecords(cards), null, 2)}\n`
}

export const CSV_COLUMNS = [
  'label', 'kind', 'status', 'iscc', 'name', 'filename', 'mediatype', 'filesize', 'media_id',
  'meta', 'semantic', 'content', 'data', 'instance', 'error',
] as const

/**
 * One CSV cell (RFC 4180 quoting). A cell a spreadsheet would run as a formula (leading = + - @,
 * tab or carriage return) gets a leading apostrophe, so a file name cannot become a formula.
 */
export function csvCell(value: unknown): string {
  let text = value === undefined || value === null ? '' : String(value)
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export function toCsv(cards: Card[]): string {
  const rows = exportRecords(cards).map((record) => {
    const r = record.result ?? { iscc: '' }
    const values: Record<(typeof CSV_COLUMNS)[number], unknown> = {
      label: record.label,
      kind: record.kind,
      status: record.status,
      iscc: record.iscc,
      name: r.name,
      filename: r.filename,
      mediatype: r.mediatype,
      filesize: r.filesize,
      media_id: r.media_id,
      meta: record.units.META,
      semantic: record.units.SEMANTIC,
      content: record.units.CONTENT,
      data: record.units.DATA,
      instance: record.units.INSTANCE,
      error: record.error,
    }
    return CSV_COLUMNS.map((column) => csvCell(values[column])).join(',')
  })
  return `${[CSV_COLUMNS.join(','), ...rows].join('\r\n')}\r\n`
}

/** A file name like `iscc-results-2026-12-01-2315.csv` (local time). */
export function exportFileName(extension: 'json' | 'csv', date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  const stamp = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}`
  return `iscc-results-${stamp}.${extension}`
}

/** Let the browser save `text` as a file. */
export function download(text: string, fileName: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const link = document.createElement('a')
  link.href = url
  link.download = fileName
  document.body.appendChild(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
