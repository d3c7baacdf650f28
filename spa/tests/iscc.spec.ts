import { describe, expect, it } from 'vitest'
import { decodeBase32, decodeHeader, normalizeIscc } from '../src/lib/iscc'

// Expected answers cross-checked with iscc-core 1.5 (iscc_normalize + iscc_validate).
const VALID: Array<[string, string, number]> = [
  ['ISCC:KECXNDSZVTTX2LDQYNBTBHR4T2HGOYBAGBNWZ767PKO3JQGZ42GFEAY', 'ISCC:KECXNDSZVTTX2LDQYNBTBHR4T2HGOYBAGBNWZ767PKO3JQGZ42GFEAY', 4],
  ['ISCC:KEDWRY3VY6R5SNV4BRNG6VVB7TGVZQ2DGCPDZHUOM7WOVKK57HRI7UCVKKN7VZN5WPKQ', 'ISCC:KEDWRY3VY6R5SNV4BRNG6VVB7TGVZQ2DGCPDZHUOM7WOVKK57HRI7UCVKKN7VZN5WPKQ', 5],
  ['KMDMRJYGHHVRCZ5TM6U4G6D4MXA6LAXC4ZRPOKFU7JBEQXR2BJOS6NA', 'ISCC:KMDMRJYGHHVRCZ5TM6U4G6D4MXA6LAXC4ZRPOKFU7JBEQXR2BJOS6NA', 4],
  ['ISCC:AADXNDSZVTTX2LDQWWLJUWUK3DGIQV27EFWEUI2AEXNONCRDWUSE2OY', 'ISCC:AADXNDSZVTTX2LDQWWLJUWUK3DGIQV27EFWEUI2AEXNONCRDWUSE2OY', 1],
  ['ISCC:KUAG2PRCRS5LNVZVJKAFAVOJXLZZM', 'ISCC:KUAG2PRCRS5LNVZVJKAFAVOJXLZZM', 2],
  ['ISCC:K4AGQ46YX3C6AJGR32QA4FNF3NDAFA4BC3FI6M773SIW7UTGI623GQQ', 'ISCC:K4AGQ46YX3C6AJGR32QA4FNF3NDAFA4BC3FI6M773SIW7UTGI623GQQ', 2],
  ['MEACB7X7777574L6', 'ISCC:MEACB7X7777574L6', 1],
  ['ISCC:EAASKDNZNYGUUF5A', 'ISCC:EAASKDNZNYGUUF5A', 1],
  ['ISCC:GAA2XTPPAERUKZ4J', 'ISCC:GAA2XTPPAERUKZ4J', 1],
  ['ISCC:IAA26E2JXH27TING', 'ISCC:IAA26E2JXH27TING', 1],
]

describe('normalizeIscc', () => {
  it.each(VALID)('accepts %s', (input, code, units) => {
    expect(normalizeIscc(input)).toEqual({ ok: true, code, units })
  })

  it('trims, uppercases and accepts any case of the prefix and embedded whitespace', () => {
    const result = normalizeIscc('  iscc:keCXNDSZVTTX2LDQYNBTBHR4T2HG\nOYBAGBNWZ767PKO3JQGZ42GFEAY \t')
    expect(result).toEqual({ ok: true, code: 'ISCC:KECXNDSZVTTX2LDQYNBTBHR4T2HGOYBAGBNWZ767PKO3JQGZ42GFEAY', units: 4 })
  })

  it('accepts a dash-joined sequence of units, validating each', () => {
    expect(normalizeIscc('GAAW2PRCRS5LNVZV-IAAUVACQKXE3V44W')).toEqual({
      ok: true,
      code: 'GAAW2PRCRS5LNVZV-IAAUVACQKXE3V44W',
      units: 2,
    })
    const bad = normalizeIscc('GAAW2PRCRS5LNVZV-IAAUVACQKXE3V44')
    expect(bad.ok).toBe(false)
    if (!bad.ok) expect(bad.error).toMatch(/part 2/)
  })

  it.each([
    ['', /Enter an ISCC/],
    ['   ', /Enter an ISCC/],
    ['ISCC:KMUIV3NRGY', /version 2 is not defined/],
    ['ISCC:AAAAAAAAAA2', /stray bits|announces/],
    ['ISCC:KECXNDSZVTTX2LDQYNBTBHR4T2HGOYBAGBNWZ767PKO3JQGZ42GFEA', /announces|stray bits/],
    ['ISCC:EEAQZZZ', /too short/],
    ['ISCC:ZZAQZZZZZZZZ', /no ISCC starts with "ZZ"/],
    ['ISCC:KEC0NDSZVTTX2LDQYNBT', /"0" is not allowed/],
    ['ISCC:KEC1NDSZVTTX2LDQYNBT', /"1" is not allowed/],
    ['ISCC:ISCC:KECXNDSZVTTX2LDQ', /one "ISCC:" prefix/],
    [`ISCC:KE${'A'.repeat(70)}`, /too long/],
    ['ISCC:EAASKDNZNYGUUF5AAA', /announces/],
  ])('rejects %j', (input, message) => {
    const result = normalizeIscc(input)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.error).toMatch(message)
  })
})

describe('header codec', () => {
  it('decodes base32 without padding', () => {
    expect(Array.from(decodeBase32('MZXW6YQ'))).toEqual([0x66, 0x6f, 0x6f, 0x62])
    expect(() => decodeBase32('MZXW8')).toThrow(/not a base32 character/)
  })

  it('reads main type, subtype, version and length', () => {
    // KEC…: ISCC (5), IMAGE (1), V0, units Meta + Content (length 5) → 4 units
    const header = decodeHeader(decodeBase32('KECXNDSZVTTX2LDQYNBTBHR4T2HGOYBAGBNWZ767PKO3JQGZ42GFEAY'))
    expect(header).toEqual({ mainType: 5, subType: 1, version: 0, length: 5, headerBytes: 2 })
    // AAD…: META, NONE, V0, length 7 → 256 bits
    expect(decodeHeader(decodeBase32('AADXNDSZVTTX2LDQWWLJUWUK3DGIQV27EFWEUI2AEXNONCRDWUSE2OY'))).toMatchObject({
      mainType: 0, subType: 0, version: 0, length: 7,
    })
  })
})
