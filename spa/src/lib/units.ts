/** Units in words, and which characters of a code string carry which unit's bits. */

import { decodeBase32, decodeHeader } from './iscc'
import type { Layer, UnitInfo } from './compare'

export const LAYER_WORDS: Record<Layer, string> = {
  META: 'Meta',
  SEMANTIC: 'Semantic',
  CONTENT: 'Content',
  DATA: 'Data',
  INSTANCE: 'Instance',
}

const SUBTYPE_WORDS: Record<string, string> = {
  TEXT: 'Text',
  IMAGE: 'Image',
  AUDIO: 'Audio',
  VIDEO: 'Video',
  MIXED: 'Mixed',
}

/** "Content · Image", "Semantic · Text", "Data" (subtypes without meaning are left out). */
export function unitName(unit: Pick<UnitInfo, 'layer' | 'subtype'>): string {
  const sub = SUBTYPE_WORDS[unit.subtype]
  return sub ? `${LAYER_WORDS[unit.layer]} · ${sub}` : LAYER_WORDS[unit.layer]
}

/** A run of characters of a code string: a unit's bits, or the header (`layer` null). */
export interface CodeSegment {
  text: string
  layer: Layer | null
}

function bitString(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(2).padStart(8, '0')).join('')
}

/**
 * Split a canonical code (`ISCC:` + base32) into the runs of characters that carry each unit,
 * `units` in the order the code holds them. Base32 characters hold 5 bits and units 64 or
 * more, so a character on a boundary goes to the unit that owns most of its bits. Returns
 * `null` unless the units' bits are exactly the code's body (then nothing is claimed).
 */
export function segmentCode(iscc: string, units: UnitInfo[]): CodeSegment[] | null {
  const body = iscc.startsWith('ISCC:') ? iscc.slice(5) : iscc
  if (!units.length || !/^[A-Z2-7]+$/.test(body)) return null
  let bits: string
  let headerBits: number
  try {
    const bytes = decodeBase32(body)
    bits = bitString(bytes)
    headerBits = decodeHeader(bytes).headerBytes * 8
  } catch {
    return null
  }
  const unitBits = units.reduce((sum, unit) => sum + unit.bits.length, 0)
  if (headerBits + unitBits !== bits.length) return null
  const owners: Array<Layer | null> = []
  let offset = headerBits
  for (const unit of units) {
    if (bits.slice(offset, offset + unit.bits.length) !== unit.bits) return null
    offset += unit.bits.length
  }
  const ownerOfBit = (bit: number): Layer | null => {
    if (bit < headerBits) return null
    let end = headerBits
    for (const unit of units) {
      end += unit.bits.length
      if (bit < end) return unit.layer
    }
    return units[units.length - 1].layer // padding bits of the last character
  }
  for (let char = 0; char < body.length; char++) {
    const votes = new Map<Layer | null, number>()
    for (let bit = char * 5; bit < char * 5 + 5; bit++) {
      const owner = ownerOfBit(bit)
      votes.set(owner, (votes.get(owner) ?? 0) + 1)
    }
    owners.push([...votes.entries()].sort((x, y) => y[1] - x[1])[0][0])
  }
  const segments: CodeSegment[] = []
  owners.forEach((owner, i) => {
    const last = segments[segments.length - 1]
    if (last && last.layer === owner) last.text += body[i]
    else segments.push({ text: body[i], layer: owner })
  })
  return segments
}
