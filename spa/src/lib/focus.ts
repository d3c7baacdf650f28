/** Move keyboard focus once Vue has rendered the change that made the target appear. */

import { nextTick } from 'vue'

/** Focus the element with `id` after the next render (false if it is not there). */
export async function focusById(id: string): Promise<boolean> {
  await nextTick()
  const element = document.getElementById(id)
  if (!element) return false
  element.focus()
  return document.activeElement === element
}

/** Focus the selected tab of the intake card (where to go when no result is left). */
export async function focusIntake(): Promise<void> {
  await nextTick()
  document.querySelector<HTMLElement>('#intake [role=tab][aria-selected=true]')?.focus()
}

/** Whether the user asked for less motion (then scrolling jumps instead of gliding). */
export function reducedMotion(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches
}
