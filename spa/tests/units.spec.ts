import { describe, expect, it } from 'vitest'
import type { ExplainUnit } from '../src/lib/api'
import { unitInfo, type UnitInfo } from '../src/lib/compare'
import { segmentCode, unitName } from '../src/lib/units'

// The reference image vector and its units as GET /explain returns them (iscc-core 1.5).
const CODE = 'ISCC:KECXNDSZVTTX2LDQYNBTBHR4T2HGOYBAGBNWZ767PKO3JQGZ42GFEAY'
const RAW: Array<[string, string, string]> = [
  ['ISCC:AAAXNDSZVTTX2LDQ', 'META-NONE-V0-64-768e59ace77d2c70', '0111011010001110010110011010110011100111011111010010110001110000'],
  ['ISCC:EEA4GQZQTY6J5DTH', 'CONTENT-IMAGE-V0-64-c343309e3c9e8e67', '1100001101000011001100001001111000111100100111101000111001100111'],
  ['ISCC:GAAWAIBQLNWP7X32', 'DATA-NONE-V0-64-6020305b6cffdf7a', '0110000000100000001100000101101101101100111111111101111101111010'],
  ['ISCC:IAAZ3NGA3HTIYUQD', 'INSTANCE-NONE-V0-64-9db4c0d9e68c5203', '1001110110110100110000001101100111100110100011000101001000000011'],
]
const units: UnitInfo[] = RAW.map(([code, readable, bits]) =>
  unitInfo({ iscc_unit: code, readable, hash_hex: readable.split('-').pop()!, hash_uint: '0', hash_bits: bits } as ExplainUnit)!,
)

describe('unit names', () => {
  it('names a unit by its type and subtype in words', () => {
    expect(units.map(unitName)).toEqual(['Meta', 'Content · Image', 'Data', 'Instance'])
    expect(unitName({ layer: 'SEMANTIC', subtype: 'TEXT' })).toBe('Semantic · Text')
  })
})

describe('code segments', () => {
  it('splits a composite code into its header and the characters of each unit', () => {
    const segments = segmentCode(CODE, units)!
    expect(segments.map((s) => s.text).join('')).toBe(CODE.slice(5))
    expect(segments.map((s) => s.layer)).toEqual([null, 'META', 'CONTENT', 'DATA', 'INSTANCE'])
    // 16 header bits: three characters hold only header bits, the fourth mostly unit bits.
    expect(segments[0].text).toBe('KEC')
    // 64 bits are 12.8 characters: every unit gets 12 or 13 of them.
    for (const seg of segments.slice(1)) expect([12, 13, 14]).toContain(seg.text.length)
  })

  it('splits a single unit into header and body', () => {
    const segments = segmentCode('ISCC:AAAXNDSZVTTX2LDQ', units.slice(0, 1))!
    expect(segments).toEqual([{ text: 'AAA', layer: null }, { text: 'XNDSZVTTX2LDQ', layer: 'META' }])
  })

  it('claims nothing when the bits do not match the code', () => {
    expect(segmentCode(CODE, [...units].reverse())).toBeNull()
    expect(segmentCode(CODE, units.slice(1))).toBeNull()
    expect(segmentCode('ISCC:KEC-X', units)).toBeNull()
    expect(segmentCode(CODE, [])).toBeNull()
  })
})
