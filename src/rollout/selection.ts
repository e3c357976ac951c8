/**
 * Before a rollout with a selector is signed: does it select any node the
 * coordinator has heard of? A selector with a typo (`region=eu-wset`)
 * would otherwise sign a rollout that no node takes part in, and its waves
 * would pass empty. The fleet is what the coordinator wrote in
 * `<repo>/coordinator/state.json`: each node's newest report of the package,
 * with the labels it carried.
 */
import { UmeshError } from '../errors.js'
import { readCoordinatorState } from './coordinator.js'
import { labelsText } from './labels.js'
import { ReportBook } from './reports.js'
import { matches, selectorText } from './selector.js'
import type { Selector } from './selector.js'

/** a selector that selects no known node, without --allow-empty */
export class EmptySelectionError extends UmeshError {
  override readonly name = 'EmptySelectionError'
  override readonly exitCode = 2
}

const SHOWN_LABEL_SETS = 5

/** the nodes reporting on `pkg` that the selector selects, of how many; throws EmptySelectionError when none unless allowEmpty */
export function checkSelection (repoDir: string, pkg: string, selector: Selector, allowEmpty: boolean): { selected: number, known: number } {
  const book = ReportBook.fromJSON(readCoordinatorState(repoDir)?.book)
  const rows = book.rows().filter(r => r.package === pkg)
  const selected = rows.filter(r => matches(selector, r.report.labels ?? {})).length
  if (selected > 0 || allowEmpty) return { selected, known: rows.length }
  const sets = new Map<string, number>()
  for (const r of rows) {
    const text = labelsText(r.report.labels ?? {})
    sets.set(text, (sets.get(text) ?? 0) + 1)
  }
  const seen = [...sets].sort((a, b) => b[1] - a[1]).slice(0, SHOWN_LABEL_SETS).map(([text, n]) => `${text === '-' ? '(no labels)' : text} x${n}`)
  const what = rows.length === 0
    ? `the coordinator has heard of no node of ${pkg} (is it running: umesh node --repo DIR --coordinator?)`
    : `it matches none of the ${rows.length} nodes of ${pkg} the coordinator has heard of (their labels: ${seen.join('; ')}${sets.size > SHOWN_LABEL_SETS ? '; ...' : ''})`
  throw new EmptySelectionError(`--select "${selectorText(selector)}": ${what}; correct the selector, or give --allow-empty to sign it anyway (nodes that match when it reaches them take part)`)
}
