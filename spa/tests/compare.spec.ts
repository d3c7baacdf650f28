import { describe, expect, it } from 'vitest'
import type { ExplainUnit } from '../src/lib/api'
import {
  bandOf,
  chanceOfDistance,
  compareLayer,
  compareUnits,
  comparisonReport,
  distanceText,
  hammingDistance,
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

  it('gives the chance that unrelated codes come this close (binomial tail, p = 1/2)', () => {
    expect(chanceOfDistance(64, 64)).toBe(1)
    expect(chanceOfDistance(0, 64)).toBeCloseTo(2 ** -64, 30)
    expect(chanceOfDistance(32, 64)).toBeCloseTo(0.5497, 4) // half the bits: what chance gives
    expect(chanceOfDistance(1, 4)).toBeCloseTo(5 / 16)
    expect(chanceOfDistance(-1, 64)).toBe(0)
    // 256-bit units stay finite (no overflow of 2^256).
    expect(chanceOfDistance(128, 256)).toBeGreaterThan(0.5)
    expect(chanceOfDistance(80, 256)).toBeLessThan(1e-9)
  })
})

describe('bands relative to chance', () => {
  it('calls distances near half the bits unrelated, however high the share of equal bits looks', () => {
    // The review's case: "43.8 % / 46.9 % match" for two unrelated files is 36 / 34 of 64 bits.
    expect(bandOf('CONTENT', 36, 64)).toBe('unrelated')
    expect(bandOf('DATA', 34, 64)).toBe('unrelated')
    // Even 60 % equal bits (26 differ) happens by chance about once in 16 pairs.
    expect(chanceOfDistance(26, 64)).toBeGreaterThan(0.05)
    expect(bandOf('CONTENT', 26, 64)).toBe('unrelated')
  })

  it('draws the lines at a quarter of the chance distance and at odds of one in a thousand', () => {
    expect(bandOf('CONTENT', 0, 64)).toBe('same')
    expect(bandOf('CONTENT', 8, 64)).toBe('same')
    expect(bandOf('CONTENT', 9, 64)).toBe('similar')
    expect(chanceOfDistance(19, 64)).toBeLessThan(1e-3)
    expect(chanceOfDistance(20, 64)).toBeGreaterThan(1e-3)
    expect(bandOf('META', 19, 64)).toBe('similar')
    expect(bandOf('META', 20, 64)).toBe('unrelated')
    // The same rule scales with the unit length.
    expect(bandOf('DATA', 32, 256)).toBe('same')
    expect(bandOf('DATA', 100, 256)).toBe('similar')
    expect(bandOf('DATA', 120, 256)).toBe('unrelated')
  })

  it('treats the Instance unit as a checksum: identical or different, no count', () => {
    expect(bandOf('INSTANCE', 0, 64)).toBe('identical')
    expect(bandOf('INSTANCE', 1, 64)).toBe('different')
    expect(bandOf('INSTANCE', 33, 64)).toBe('different')
    const a = unitInfo(unit('INSTANCE-NONE-V0-64', zero))!
    const b = unitInfo(unit('INSTANCE-NONE-V0-64', flip(3)))!
    const cmp = compareLayer('INSTANCE', a, b)
    expect(cmp.band).toBe('different')
    expect(distanceText(cmp)).toBe('')
  })

  it('shows bit counts with the chance reference, never a percentage', () => {
    const a = unitInfo(unit('CONTENT-IMAGE-V0-64', zero))!
    const b = unitInfo(unit('CONTENT-IMAGE-V0-64', flip(5)))!
    const text = distanceText(compareLayer('CONTENT', a, b))
    expect(text).toBe('5 of 64 bits differ (unrelated codes: about 32)')
    expect(text).not.toContain('%')
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
    expect(cmp.band).toBe('same')
  })

  it('only compares content layers of the same subtype and equal length', () => {
    const image = unitInfo(unit('CONTENT-IMAGE-V0-64', zero))!
    const text = unitInfo(unit('CONTENT-TEXT-V0-64', zero))!
    expect(compareLayer('CONTENT', image, text)).toMatchObject({ state: 'mismatch', note: 'Not comparable: image vs text.' })
    const wide = unitInfo(unit('DATA-NONE-V0-128', bits([], 128)))!
    const narrow = unitInfo(unit('DATA-NONE-V0-64', zero))!
    expect(compareLayer('DATA', wide, narrow).state).toBe('mismatch')
    expect(compareLayer('SEMANTIC', undefined, image)).toMatchObject({ state: 'missing', note: 'Only B has a semantic unit.' })
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

  it('near-duplicate, edited copy and different content by the content band', () => {
    const withContent = (n: number) =>
      result({ 'CONTENT-IMAGE-V0-64': flip(n), 'DATA-NONE-V0-64': flip(20), 'INSTANCE-NONE-V0-64': flip(30) })
    expect(compareUnits(result(), withContent(6)).verdict.kind).toBe('near-duplicate')
    expect(compareUnits(result(), withContent(12)).verdict.kind).toBe('edited-copy')
    expect(compareUnits(result(), withContent(19)).verdict.kind).toBe('edited-copy')
    expect(compareUnits(result(), withContent(30)).verdict.kind).toBe('different')
    // Two unrelated files whose units agree in 44–47 % of bits: different, not "half a match".
    const unrelated = result({
      'META-NONE-V0-64': flip(36), 'CONTENT-IMAGE-V0-64': flip(34), 'DATA-NONE-V0-64': flip(35), 'INSTANCE-NONE-V0-64': flip(31),
    })
    expect(compareUnits(result(), unrelated).verdict.kind).toBe('different')
    expect(compareUnits(result(), unrelated).verdict.explanation).toBe('No unit is closer than unrelated files come by chance.')
    // Two pasted texts share the file name and so the Meta unit: the verdict says so.
    const sameName = result({ 'CONTENT-IMAGE-V0-64': flip(30), 'DATA-NONE-V0-64': flip(31), 'INSTANCE-NONE-V0-64': flip(33) })
    expect(compareUnits(result(), sameName).verdict).toMatchObject({
      kind: 'different',
      explanation: 'The metadata is alike, but content and data are no closer than unrelated files come by chance.',
    })
  })

  it('files the server could not read by content (ISCC-SUM): judged by their data', () => {
    const sum = (data: string) => [unit('DATA-NONE-V0-64', data), unit('INSTANCE-NONE-V0-64', flip(20))]
    expect(compareUnits(sum(zero), sum(flip(4))).verdict.kind).toBe('near-duplicate')
    expect(compareUnits(sum(zero), sum(flip(33))).verdict.kind).toBe('different')
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
    expect(report).toContain('CONTENT: same (4 of 64 bits differ (unrelated codes: about 32))')
    expect(report).toContain('INSTANCE: identical – Bit-for-bit the same file.')
    expect(report).not.toContain('%')
  })
})
