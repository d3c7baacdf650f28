/**
 * Panels shown below a finished result, inside its card (for example "Seen before?" matches).
 * A feature adds itself here with its own component; the card renders every panel whose
 * `show` accepts the card, in this order, with the props `{ card, store }`.
 */

import type { Component } from 'vue'
import SimilarPanel from './components/SimilarPanel.vue'
import type { Card } from './lib/store'

export interface ResultPanel {
  /** Unique, stable name (used as the key and in `data-panel`). */
  id: string
  component: Component
  show: (card: Card) => boolean
}

export const RESULT_PANELS: ResultPanel[] = [
  // "Seen before?": matches in the similarity index (shown only where the group is on)
  { id: 'similar', component: SimilarPanel, show: (card) => card.status === 'done' && Boolean(card.result?.iscc) },
]
