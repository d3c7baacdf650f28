import { describe, expect, it } from 'vitest'
import type { ExplainUnit } from '../src/lib/api'
import {
  compareLayer,
  compareUnits,
  comparisonReport,
  hammingDistance,
  similarity,
  unitInfo,
  unitsByLayer,
} from '../src/lib/compare'

function bits(ones: number[], length = 64): string {
  return Array.from({ length }, (_, i) => (ones.includes(i) ? '1' : '0')).join('')
}

function unit(readable: string, hashBits: string): ExplainUnit {
  return { iscc_unit: `ISCC:${readable}`, readable: `${readable}-x`, hash_hex: 'x', hash_uint: '0', hash_bits: hashBits }
}

const zero = bits([])
const flip = (n: number) => bits(Array.from({ length: n }, (_, i) => i))

function result(overrides: Partial<Record<string, string>> = {}): ExplainUnit[] {
  const base: Record<string, string> = {
    'META-NONE-V0-64': zero,
    'CONTENT-IMAGE-V0-64': zero,
    'DATA-NONE-V0-64': zero,
    'INSTANCE-NONE-V0-64': zero,
    ...overrides,
  }
  return Object.entries(base).map(([readable, b]) => unit(readable, b))
}

describe('hamming maths', () => {
  it('counts differing bits', () => {
    expect(hammingDistance('0000', '0000')).toBe(0)
    expect(hammingDistance('1010', '0101')).toBe(4)
    expect(hammingDistance(zero, flip(8))).toBe(8)
  })

  it('refuses strings of different length', () => {
    expect(() => hammingDistance('01', '011')).toThrow(/length/)
  })

  it('gives similarity as the share of equal bits', () => {
    expect(similarity(zero, zero)).toBe(1)
    expect(similarity(zero, flip(8))).toBe(0.875)
    expect(similarity(zero, flip(64))).toBe(0)
    expect(similarity('', '')).toBe(0)
  })
})

describe('layers', () => {
  it('parses explain units and keys them by layer', () => {
    const info = unitInfo(unit('CONTENT-IMAGE-V0-64', zero))
    expect(info).toMatchObject({ layer: 'CONTENT', subtype: 'IMAGE', bits: zero })
    expect(unitInfo(unit('ISCC-IMAGE-V0-MCDI', zero))).toBeNull()
    expect(Object.keys(unitsByLayer(result()))).toEqual(['META', 'CONTENT', 'DATA', 'INSTANCE'])
  })

  it('marks each bit equal or different', () => {
    const a = unitInfo(unit('DATA-NONE-V0-64', bits([0, 1])))!
    const b = unitInfo(unit('DATA-NONE-V0-64', bits([1, 2])))!
    const cmp = compareLayer('DATA', a, b)
    expect(cmp.state).toBe('compared')
    expect(cmp.equal?.slice(0, 4)).toEqual([false, true, false, true])
    expect(cmp.distance).toBe(2)
    expect(cmp.similarity).toBeCloseTo(62 / 64)
  })

  it('only compares content layers of the same subtype and equal length', () => {
    const image = unitInfo(unit('CONTENT-IMAGE-V0-64', zero))!
    const text = unitInfo(unit('CONTENT-TEXT-V0-64', zero))!
    expect(compareLayer('CONTENT', image, text)).toMatchObject({ state: 'mismatch', note: 'Not comparable: image vs text.' })
    const wide = unitInfo(unit('DATA-NONE-V0-128', bits([], 128)))!
    const narrow = unitInfo(unit('DATA-NONE-V0-64', zero))!
    expect(compareLayer('DATA', wide, narrow).state).toBe('mismatch')
    expect(compareLayer('SEMANTIC', undefined, image)).toMatchObject({ state: 'missing', note: 'Only B has a semantic layer.' })
  })
})

describe('verdict', () => {
  it('identical files', () => {
    expect(compareUnits(result(), result()).verdict.kind).toBe('identical')
  })

  it('same content with different metadata (an embedded title)', () => {
    const edited = result({ 'META-NONE-V0-64': flip(30), 'DATA-NONE-V0-64': flip(3), 'INSTANCE-NONE-V0-64': flip(33) })
    expect(compareUnits(result(), edited).verdict.kind).toBe('metadata-edit')
    // A re-encoded copy under another name: same content, different data → near-duplicate.
    const reencoded = result({ 'META-NONE-V0-64': flip(30), 'DATA-NONE-V0-64': flip(30), 'INSTANCE-NONE-V0-64': flip(33) })
    expect(compareUnits(result(), reencoded).verdict.kind).toBe('near-duplicate')
  })

  it('near-duplicate, edited copy and different content by content similarity', () => {
    const withContent = (n: number) =>
      result({ 'CONTENT-IMAGE-V0-64': flip(n), 'DATA-NONE-V0-64': flip(20), 'INSTANCE-NONE-V0-64': flip(30) })
    expect(compareUnits(result(), withContent(6)).verdict.kind).toBe('near-duplicate')
    expect(compareUnits(result(), withContent(12)).verdict.kind).toBe('edited-copy')
    expect(compareUnits(result(), withContent(30)).verdict.kind).toBe('different')
  })

  it('semantically similar when only the semantic layer agrees', () => {
    const a = [...result(), unit('SEMANTIC-IMAGE-V0-64', zero)]
    const b = [
      ...result({ 'CONTENT-IMAGE-V0-64': flip(32), 'INSTANCE-NONE-V0-64': flip(30) }),
      unit('SEMANTIC-IMAGE-V0-64', flip(4)),
    ]
    expect(compareUnits(a, b).verdict.kind).toBe('semantically-similar')
  })

  it('not comparable: an image and a text', () => {
    const text = result({ 'INSTANCE-NONE-V0-64': flip(31), 'DATA-NONE-V0-64': flip(32) })
      .filter((u) => !u.readable.startsWith('CONTENT'))
      .concat(unit('CONTENT-TEXT-V0-64', zero))
    const cmp = compareUnits(result(), text)
    expect(cmp.verdict.kind).toBe('not-comparable')
    expect(cmp.layers.find((l) => l.layer === 'CONTENT')?.state).toBe('mismatch')
  })

  it('writes a plain-text report', () => {
    const report = comparisonReport('a.jpg', 'b.jpg', compareUnits(result(), result({ 'CONTENT-IMAGE-V0-64': flip(4) })))
    expect(report).toContain('A = a.jpg, B = b.jpg')
    expect(report).toContain('CONTENT: 93.8 % match (4 of 64 bits differ)')
  })
})
