/**
 * Client-side ISCC checks (ISO 24138): enough of the header codec to tell a user *why* a code
 * is not valid before asking the server to explain it.
 */

export const MAIN_TYPES = ['META', 'SEMANTIC', 'CONTENT', 'DATA', 'INSTANCE', 'ISCC', 'ID', 'FLAKE']
const MT = { META: 0, SEMANTIC: 1, CONTENT: 2, DATA: 3, INSTANCE: 4, ISCC: 5, ID: 6, FLAKE: 7 }
const ST_ISCC_SUM = 5
const ST_ISCC_WIDE = 7

/** Valid first two characters of a canonical ISCC (from the header codec). */
export const PREFIXES = new Set([
  'AA', 'CA', 'CE', 'CI', 'CM', 'CQ', 'EA', 'EE', 'EI', 'EM', 'EQ', 'GA', 'IA',
  'K4', 'KA', 'KE', 'KI', 'KM', 'KQ', 'KU', 'KY', 'MA', 'ME', 'MI', 'MM', 'OA',
])

/** Highest subtype value per main type (version 0; ID v1 realms are 0–1). */
const MAX_SUBTYPE: Record<number, number> = { 0: 0, 1: 4, 2: 4, 3: 0, 4: 0, 5: 7, 6: 3, 7: 0 }

export interface IsccHeader {
  mainType: number
  subType: number
  version: number
  length: number
  /** Number of header bytes (including padding). */
  headerBytes: number
}

export type ValidationResult =
  | { ok: true; code: string; units: number }
  | { ok: false; error: string }

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** Decode unpadded RFC 4648 base32 (upper case). Throws on a character outside the alphabet. */
export function decodeBase32(text: string): Uint8Array {
  const out: number[] = []
  let buffer = 0
  let bits = 0
  for (const char of text) {
    const value = BASE32.indexOf(char)
    if (value < 0) throw new Error(`"${char}" is not a base32 character (A–Z, 2–7)`)
    buffer = (buffer << 5) | value
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out.push((buffer >> bits) & 0xff)
    }
  }
  // Leftover bits must be zero padding, as in canonical base32 without "=".
  if (bits > 0 && (buffer & ((1 << bits) - 1)) !== 0) {
    throw new Error('the last character has stray bits (not canonical base32)')
  }
  return new Uint8Array(out)
}

function bitsOf(bytes: Uint8Array): number[] {
  const bits: number[] = []
  for (const byte of bytes) for (let i = 7; i >= 0; i--) bits.push((byte >> i) & 1)
  return bits
}

function readInt(bits: number[], start: number, count: number): number {
  let value = 0
  for (let i = 0; i < count; i++) value = value * 2 + bits[start + i]
  return value
}

/** Decode the four variable-length nibbles (main type, subtype, version, length). */
export function decodeHeader(bytes: Uint8Array): IsccHeader {
  const bits = bitsOf(bytes)
  let pos = 0
  const values: number[] = []
  for (let field = 0; field < 4; field++) {
    const left = bits.length - pos
    if (left >= 4 && bits[pos] === 0) {
      values.push(readInt(bits, pos, 4))
      pos += 4
    } else if (left >= 8 && bits[pos] === 1 && bits[pos + 1] === 0) {
      values.push(readInt(bits, pos + 2, 6) + 8)
      pos += 8
    } else if (left >= 12 && bits[pos] === 1 && bits[pos + 1] === 1 && bits[pos + 2] === 0) {
      values.push(readInt(bits, pos + 3, 9) + 72)
      pos += 12
    } else if (left >= 16 && readInt(bits, pos, 4) === 0b1110) {
      values.push(readInt(bits, pos + 4, 12) + 584)
      pos += 16
    } else {
      throw new Error('the header is truncated or malformed')
    }
  }
  if (pos % 8) pos += 4 // 4-bit padding to a whole byte
  const [mainType, subType, version, length] = values
  return { mainType, subType, version, length, headerBytes: pos / 8 }
}

/** Optional units of a composite ISCC (length field of MT.ISCC): [meta, semantic, content]. */
export function compositeUnits(length: number): { meta: boolean; semantic: boolean; content: boolean } {
  return { content: Boolean(length & 1), semantic: Boolean(length & 2), meta: Boolean(length & 4) }
}

/** Body length in bits that a header announces. */
export function bodyBits(header: IsccHeader): number {
  const { mainType, subType, length } = header
  if (mainType === MT.ISCC) {
    if (subType === ST_ISCC_WIDE) return 256
    const optional = compositeUnits(length)
    const count = Number(optional.meta) + Number(optional.semantic) + Number(optional.content)
    return count * 64 + 128
  }
  if (mainType === MT.ID) return length * 8 + 64
  return (length + 1) * 32
}

/** Number of 64-bit (or wide) units a code decomposes into. */
function unitCount(header: IsccHeader): number {
  if (header.mainType !== MT.ISCC) return 1
  if (header.subType === ST_ISCC_WIDE) return 2
  const optional = compositeUnits(header.length)
  return 2 + Number(optional.meta) + Number(optional.semantic) + Number(optional.content)
}

/** Check one canonical body (no "ISCC:" prefix, no dashes, upper case). */
function checkBody(body: string): { units: number; header: IsccHeader } {
  if (!/^[A-Z2-7]+$/.test(body)) {
    const bad = body.match(/[^A-Z2-7]/)?.[0] ?? '?'
    throw new Error(`"${bad}" is not allowed; an ISCC uses only the letters A–Z and digits 2–7`)
  }
  if (body.length < 10) throw new Error(`too short (${body.length} characters, at least 10)`)
  if (body.length > 68) throw new Error(`too long (${body.length} characters, at most 68)`)
  const prefix = body.slice(0, 2)
  if (!PREFIXES.has(prefix)) throw new Error(`no ISCC starts with "${prefix}"`)
  const bytes = decodeBase32(body)
  const header = decodeHeader(bytes)
  const { mainType, subType, version } = header
  const versionOk = version === 0 || (mainType === MT.ID && version === 1)
  if (!versionOk) throw new Error(`version ${version} is not defined for ${MAIN_TYPES[mainType]}`)
  if (subType > (MAX_SUBTYPE[mainType] ?? 0)) {
    throw new Error(`subtype ${subType} is not defined for ${MAIN_TYPES[mainType]}`)
  }
  if (mainType === MT.ISCC && header.length > 7) {
    throw new Error(`length value ${header.length} names no combination of units`)
  }
  if (mainType === MT.ISCC && subType === ST_ISCC_SUM && header.length !== 0) {
    throw new Error('an ISCC-SUM has only Data and Instance units')
  }
  const expected = bodyBits(header) / 8
  const actual = bytes.length - header.headerBytes
  if (expected !== actual) {
    throw new Error(`the header announces ${expected} bytes of hash but ${actual} follow`)
  }
  return { units: unitCount(header), header }
}

/**
 * Normalise what a user typed or pasted and validate it.
 *
 * Accepts an optional `ISCC:` prefix (any case), surrounding or embedded whitespace, lower case,
 * and a dash-joined sequence of units (each unit validated; the server recomposes them).
 */
export function normalizeIscc(input: string): ValidationResult {
  let text = input.replace(/\s+/g, '')
  if (!text) return { ok: false, error: 'Enter an ISCC code.' }
  text = text.toUpperCase()
  if (text.startsWith('ISCC:')) text = text.slice(5)
  if (text.includes(':')) return { ok: false, error: 'Only one "ISCC:" prefix is allowed.' }
  const parts = text.split('-')
  try {
    if (parts.length === 1) {
      const { units } = checkBody(text)
      return { ok: true, code: `ISCC:${text}`, units }
    }
    let units = 0
    parts.forEach((part, index) => {
      try {
        const checked = checkBody(part)
        if (checked.header.mainType > MT.INSTANCE) {
          throw new Error('only units (Meta, Semantic, Content, Data, Instance) can be joined by dashes')
        }
        units += checked.units
      } catch (error) {
        throw new Error(`part ${index + 1}: ${(error as Error).message}`)
      }
    })
    return { ok: true, code: parts.join('-'), units }
  } catch (error) {
    return { ok: false, error: `Not a valid ISCC: ${(error as Error).message}.` }
  }
}

/** Cheap syntactic check for a canonical code, as the API schema describes it. */
export function looksLikeIscc(code: string): boolean {
  return /^ISCC:[A-Z2-7]{10,73}$/.test(code)
}
