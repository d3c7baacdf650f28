import { describe, expect, it } from 'vitest'
import { CSV_COLUMNS, csvCell, exportFileName, exportRecords, toCsv, toJson } from '../src/lib/export'
import type { Card } from '../src/lib/store'

const bits = '0'.repeat(64)
const card = (id: number, label: string, overrides: Partial<Card> = {}): Card => ({
  id, kind: 'file', label, status: 'done', loaded: 0, total: 0, startedAt: 0, fileName: label, mediaIds: [], embedding: false,
  result: { iscc: `ISCC:K${id}`, name: label, mediatype: 'image/jpeg', filesize: 10, media_id: `m${id}`, thumbnail: 'data:image/webp;base64,AA' },
  detail: {
    iscc: `ISCC:K${id}`, readable: '', multiformat: '', decomposed: '',
    units: [
      { iscc_unit: 'ISCC:AAA1', readable: 'META-NONE-V0-64-00', hash_hex: '00', hash_uint: '0', hash_bits: bits },
      { iscc_unit: 'ISCC:IAA1', readable: 'INSTANCE-NONE-V0-64-00', hash_hex: '00', hash_uint: '0', hash_bits: bits },
    ],
  },
  ...overrides,
})

describe('export', () => {
  const cards = [card(2, 'second.jpg'), card(1, 'first.jpg'), card(3, 'bad.bin', { status: 'failed', result: undefined, detail: undefined, error: 'Too large, "really"' })]

  it('exports every result as JSON, oldest first, without thumbnails', () => {
    const records = JSON.parse(toJson(cards))
    expect(records.map((r: { label: string }) => r.label)).toEqual(['bad.bin', 'first.jpg', 'second.jpg'])
    expect(records[1]).toMatchObject({ iscc: 'ISCC:K1', units: { META: 'ISCC:AAA1', INSTANCE: 'ISCC:IAA1' } })
    expect(records[1].result.thumbnail).toBeUndefined()
    expect(exportRecords(cards)[0].error).toBe('Too large, "really"')
  })

  it('exports CSV with a header, quoting and no formula injection', () => {
    const csv = toCsv([card(4, '=HYPERLINK("http://x")'), ...cards])
    const lines = csv.trimEnd().split('\r\n')
    expect(lines[0]).toBe(CSV_COLUMNS.join(','))
    expect(lines).toHaveLength(5)
    expect(lines[1]).toContain('"Too large, ""really"""')
    expect(lines[4].startsWith(`"'=HYPERLINK(""http://x"")"`)).toBe(true)
    expect(csvCell('-1+2')).toBe("'-1+2")
    expect(csvCell(undefined)).toBe('')
    expect(csvCell('plain')).toBe('plain')
  })

  it('names the file by date', () => {
    expect(exportFileName('csv', new Date(2026, 11, 1, 9, 5))).toBe('iscc-results-2026-12-01-0905.csv')
  })
})
