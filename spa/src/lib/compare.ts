/** Comparing two ISCCs layer by layer: Hamming distance of unit bits and a plain verdict. */

import type { ExplainUnit } from './api'

export const LAYERS = ['META', 'SEMANTIC', 'CONTENT', 'DATA', 'INSTANCE'] as const
export type Layer = (typeof LAYERS)[number]

export interface UnitInfo {
  layer: Layer
  /** Subtype from the readable form, e.g. IMAGE, TEXT, NONE. */
  subtype: string
  bits: string
  hex: string
  readable: string
  code: string
}

/** Parse an explain unit (`readable` is e.g. `CONTENT-IMAGE-V0-64-4cc3…`). */
export function unitInfo(unit: ExplainUnit): UnitInfo | null {
  const [main, subtype = 'NONE'] = unit.readable.split('-')
  if (!(LAYERS as readonly string[]).includes(main)) return null
  return {
    layer: main as Layer,
    subtype,
    bits: unit.hash_bits,
    hex: unit.hash_hex,
    readable: unit.readable,
    code: unit.iscc_unit,
  }
}

/** The units of an explain result keyed by layer (first unit of each layer wins). */
export function unitsByLayer(units: ExplainUnit[]): Partial<Record<Layer, UnitInfo>> {
  const result: Partial<Record<Layer, UnitInfo>> = {}
  for (const unit of units) {
    const info = unitInfo(unit)
    if (info && !result[info.layer]) result[info.layer] = info
  }
  return result
}

/** Number of positions at which two equally long bit strings differ. */
export function hammingDistance(a: string, b: string): number {
  if (a.length !== b.length) throw new Error('bit strings differ in length')
  let distance = 0
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) distance++
  return distance
}

/**
 * Probability that two unrelated codes (independent random bits) differ in at most `distance`
 * of `bits` positions: the binomial tail with p = 1/2, summed in logs so 256 bits stay finite.
 */
export function chanceOfDistance(distance: number, bits: number): number {
  if (bits <= 0) return 1
  const top = Math.min(Math.floor(distance), bits)
  if (top < 0) return 0
  const log2n = bits * Math.LN2
  let logChoose = 0 // log C(bits, 0)
  let sum = 0
  for (let k = 0; k <= top; k++) {
    if (k > 0) logChoose += Math.log((bits - k + 1) / k)
    sum += Math.exp(logChoose - log2n)
  }
  return Math.min(1, sum)
}

/**
 * How alike one unit of two results is. Unrelated codes differ in about half their bits
 * (32 of 64), so a share of equal bits ("47 % match") says nothing by itself; the bands say how
 * far a distance is from what chance gives. The Instance unit is a checksum: identical or not.
 */
export type Band = 'same' | 'similar' | 'unrelated' | 'identical' | 'different'

/** "Same": at most a quarter of the distance chance gives (8 of 64 bits, 32 of 256). */
export const SAME_SHARE = 0.25
/** "Similar": unrelated codes come this close less than once in a thousand (≤ 19 of 64 bits). */
export const SIMILAR_CHANCE = 1e-3

export const BAND_LABEL: Record<Band, string> = {
  same: 'Same',
  similar: 'Similar',
  unrelated: 'Unrelated',
  identical: 'Identical',
  different: 'Different',
}

/** The band of a Hamming distance for one unit (layer) of `bits` bits. */
export function bandOf(layer: Layer, distance: number, bits: number): Band {
  if (layer === 'INSTANCE') return distance === 0 ? 'identical' : 'different'
  if (distance <= (bits / 2) * SAME_SHARE) return 'same'
  if (chanceOfDistance(distance, bits) < SIMILAR_CHANCE) return 'similar'
  return 'unrelated'
}

export type LayerState = 'compared' | 'missing' | 'mismatch'

export interface LayerComparison {
  layer: Layer
  state: LayerState
  a?: UnitInfo
  b?: UnitInfo
  /** Per bit: true where A and B agree (only when compared). */
  equal?: boolean[]
  distance?: number
  bits?: number
  band?: Band
  note: string
}

const WHAT: Record<Exclude<Layer, 'INSTANCE'>, string> = {
  META: 'metadata (title, description)',
  SEMANTIC: 'meaning',
  CONTENT: 'perceptual content',
  DATA: 'data',
}

function layerNote(layer: Layer, band: Band, distance: number): string {
  if (layer === 'INSTANCE') {
    return band === 'identical'
      ? 'Bit-for-bit the same file.'
      : 'Different files: any changed byte changes this checksum completely.'
  }
  const what = WHAT[layer]
  if (band === 'same') return distance === 0 ? `The same ${what}.` : `Practically the same ${what}.`
  if (band === 'similar') return `Similar ${what}: far closer than unrelated files come by chance.`
  return `Unrelated ${what}: about as far apart as two random codes.`
}

/** Compare one layer of two results. */
export function compareLayer(layer: Layer, a?: UnitInfo, b?: UnitInfo): LayerComparison {
  if (!a || !b) {
    const missing = !a && !b ? 'Neither has' : !a ? 'Only B has' : 'Only A has'
    return { layer, state: 'missing', a, b, note: `${missing} a ${layer.toLowerCase()} unit.` }
  }
  if (a.bits.length !== b.bits.length) {
    return { layer, state: 'mismatch', a, b, note: `Not comparable: ${a.bits.length} vs ${b.bits.length} bits.` }
  }
  if ((layer === 'CONTENT' || layer === 'SEMANTIC') && a.subtype !== b.subtype) {
    return {
      layer, state: 'mismatch', a, b,
      note: `Not comparable: ${a.subtype.toLowerCase()} vs ${b.subtype.toLowerCase()}.`,
    }
  }
  const equal = Array.from(a.bits, (bit, i) => bit === b.bits[i])
  const distance = equal.filter((same) => !same).length
  const band = bandOf(layer, distance, a.bits.length)
  return {
    layer, state: 'compared', a, b, equal, distance, bits: a.bits.length, band,
    note: layerNote(layer, band, distance),
  }
}

/** "4 of 64 bits differ (unrelated codes: about 32)"; the Instance checksum gets no count. */
export function distanceText(layer: LayerComparison): string {
  if (layer.state !== 'compared' || layer.layer === 'INSTANCE' || layer.bits === undefined) return ''
  return `${layer.distance} of ${layer.bits} bits differ (unrelated codes: about ${layer.bits / 2})`
}

export type VerdictKind =
  | 'identical'
  | 'metadata-edit'
  | 'near-duplicate'
  | 'edited-copy'
  | 'semantically-similar'
  | 'different'
  | 'not-comparable'

export interface Verdict {
  kind: VerdictKind
  title: string
  explanation: string
}

export interface Comparison {
  layers: LayerComparison[]
  verdict: Verdict
}

function compared(layers: LayerComparison[], layer: Layer): LayerComparison | undefined {
  const found = layers.find((l) => l.layer === layer)
  return found?.state === 'compared' ? found : undefined
}

const alike = (band?: Band) => band === 'same' || band === 'similar'

/** Decide what two results are to each other from the bands of their units. */
export function verdictOf(layers: LayerComparison[]): Verdict {
  const instance = compared(layers, 'INSTANCE')
  const data = compared(layers, 'DATA')
  const content = compared(layers, 'CONTENT')
  const semantic = compared(layers, 'SEMANTIC')
  const meta = compared(layers, 'META')
  if (instance?.band === 'identical' && (data === undefined || data.distance === 0)) {
    return { kind: 'identical', title: 'Identical files', explanation: 'Every byte is the same.' }
  }
  if (content) {
    if (content.band === 'same' && meta && (meta.distance ?? 0) > 0 && alike(data?.band)) {
      return {
        kind: 'metadata-edit',
        title: 'Same content, different metadata',
        explanation: 'Content and data match; the embedded title or description differs.',
      }
    }
    if (content.band === 'same') {
      return {
        kind: 'near-duplicate',
        title: 'Near-duplicate',
        explanation: 'The content is practically the same (re-encoded, resized or lightly changed).',
      }
    }
    if (content.band === 'similar') {
      return {
        kind: 'edited-copy',
        title: 'Edited copy',
        explanation: 'The content is recognisably the same work, with visible edits.',
      }
    }
  }
  if (alike(semantic?.band)) {
    return {
      kind: 'semantically-similar',
      title: 'Semantically similar',
      explanation: 'Different content that means much the same thing.',
    }
  }
  if (!content && !semantic) {
    if (alike(data?.band)) {
      return {
        kind: 'near-duplicate',
        title: 'Near-duplicate data',
        explanation: 'No comparable content unit, but the raw data is much closer than chance.',
      }
    }
    const mismatch = layers.some((l) => (l.layer === 'CONTENT' || l.layer === 'SEMANTIC') && l.state === 'mismatch')
    if (mismatch || !data) {
      return {
        kind: 'not-comparable',
        title: 'Not comparable',
        explanation: 'The two have no content unit of the same kind (for example an image and a text).',
      }
    }
  }
  return {
    kind: 'different',
    title: 'Different content',
    explanation: alike(meta?.band)
      ? 'The metadata is alike, but content and data are no closer than unrelated files come by chance.'
      : 'No unit is closer than unrelated files come by chance.',
  }
}

/** Compare two explained ISCCs layer by layer. */
export function compareUnits(a: ExplainUnit[], b: ExplainUnit[]): Comparison {
  const left = unitsByLayer(a)
  const right = unitsByLayer(b)
  const layers = LAYERS.filter((layer) => left[layer] || right[layer]).map((layer) =>
    compareLayer(layer, left[layer], right[layer]),
  )
  return { layers, verdict: verdictOf(layers) }
}

/** A plain-text report of a comparison (for "Copy report"). */
export function comparisonReport(labelA: string, labelB: string, comparison: Comparison): string {
  const lines = [`ISCC comparison: A = ${labelA}, B = ${labelB}`, `Verdict: ${comparison.verdict.title}`]
  for (const layer of comparison.layers) {
    if (layer.state === 'compared' && layer.band) {
      const count = distanceText(layer)
      lines.push(`${layer.layer}: ${BAND_LABEL[layer.band].toLowerCase()}${count ? ` (${count})` : ''} – ${layer.note}`)
    } else {
      lines.push(`${layer.layer}: ${layer.note}`)
    }
  }
  return lines.join('\n')
}
