/**
 * Panels shown below a finished result, inside its card (for example "Seen before?" matches).
 * A feature adds itself here with its own component; the card renders every panel whose
 * `show` accepts the card, in this order, with the props `{ card, store }`.
 */

import type { Component } from 'vue'
import type { Card } from './lib/store'

export interface ResultPanel {
  /** Unique, stable name (used as the key and in `data-panel`). */
  id: string
  component: Component
  show: (card: Card) => boolean
}

export const RESULT_PANELS: ResultPanel[] = []
