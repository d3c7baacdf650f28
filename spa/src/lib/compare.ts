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

/** Share of equal bits, 0…1. */
export function similarity(a: string, b: string): number {
  if (!a.length) return 0
  return 1 - hammingDistance(a, b) / a.length
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
  similarity?: number
  note: string
}

/** Similarity at or above which a perceptual layer counts as "the same content". */
export const SAME = 0.97
/** Similarity at or above which a perceptual layer counts as "similar". */
export const SIMILAR = 0.875
/** Below this even edited copies do not reach; between it and SIMILAR the copy is edited. */
export const RELATED = 0.75

function layerNote(layer: Layer, sim: number): string {
  if (sim === 1) {
    return {
      META: 'Same metadata (title, description).',
      SEMANTIC: 'Same meaning.',
      CONTENT: 'Same perceptual content.',
      DATA: 'Same data.',
      INSTANCE: 'Bit-for-bit the same file.',
    }[layer]
  }
  if (layer === 'INSTANCE') return 'Different files (any change of bytes changes this layer).'
  if (layer === 'META') return sim >= SIMILAR ? 'Similar metadata.' : 'Different metadata.'
  if (sim >= SAME) return 'Practically the same.'
  if (sim >= SIMILAR) return 'Very similar.'
  if (sim >= RELATED) return 'Somewhat similar.'
  return 'Different.'
}

/** Compare one layer of two results. */
export function compareLayer(layer: Layer, a?: UnitInfo, b?: UnitInfo): LayerComparison {
  if (!a || !b) {
    const missing = !a && !b ? 'Neither has' : !a ? 'Only B has' : 'Only A has'
    return { layer, state: 'missing', a, b, note: `${missing} a ${layer.toLowerCase()} layer.` }
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
  const sim = 1 - distance / a.bits.length
  return {
    layer, state: 'compared', a, b, equal, distance, bits: a.bits.length, similarity: sim,
    note: layerNote(layer, sim),
  }
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

function sim(layers: LayerComparison[], layer: Layer): number | undefined {
  const found = layers.find((l) => l.layer === layer)
  return found?.state === 'compared' ? found.similarity : undefined
}

/** Decide what two results are to each other from their per-layer similarities. */
export function verdictOf(layers: LayerComparison[]): Verdict {
  const instance = sim(layers, 'INSTANCE')
  const data = sim(layers, 'DATA')
  const content = sim(layers, 'CONTENT')
  const semantic = sim(layers, 'SEMANTIC')
  const meta = sim(layers, 'META')
  if (instance === 1 && (data === undefined || data === 1)) {
    return { kind: 'identical', title: 'Identical files', explanation: 'Every byte is the same.' }
  }
  if (content !== undefined) {
    if (content >= SAME && meta !== undefined && meta < 1 && data !== undefined && data >= SIMILAR) {
      return {
        kind: 'metadata-edit',
        title: 'Same content, different metadata',
        explanation: 'Content and data match; the embedded title or description differs.',
      }
    }
    if (content >= SIMILAR) {
      return {
        kind: 'near-duplicate',
        title: 'Near-duplicate',
        explanation: 'The content is practically the same (re-encoded, resized or lightly changed).',
      }
    }
    if (content >= RELATED) {
      return {
        kind: 'edited-copy',
        title: 'Edited copy',
        explanation: 'The content is recognisably the same work, with visible edits.',
      }
    }
  }
  if (semantic !== undefined && semantic >= SIMILAR) {
    return {
      kind: 'semantically-similar',
      title: 'Semantically similar',
      explanation: 'Different content that means much the same thing.',
    }
  }
  if (content === undefined && semantic === undefined) {
    if (data !== undefined && data >= SIMILAR) {
      return {
        kind: 'near-duplicate',
        title: 'Near-duplicate data',
        explanation: 'No comparable content layer, but the raw data is very similar.',
      }
    }
    return {
      kind: 'not-comparable',
      title: 'Not comparable',
      explanation: 'The two have no content layer of the same kind (for example an image and a text).',
    }
  }
  return { kind: 'different', title: 'Different content', explanation: 'No layer suggests the two are related.' }
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
    if (layer.state === 'compared') {
      const pct = ((layer.similarity ?? 0) * 100).toFixed(1)
      lines.push(`${layer.layer}: ${pct} % match (${layer.distance} of ${layer.bits} bits differ) – ${layer.note}`)
    } else {
      lines.push(`${layer.layer}: ${layer.note}`)
    }
  }
  return lines.join('\n')
}
