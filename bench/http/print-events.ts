/**
 * Part 3's report: from a change to the event-stream client hearing of it.
 */
import { section, table, wrap } from '../report.js'
import { percentile } from './client.js'
import { SSE_TARGET_MS, STEERED_PACKAGE } from './options.js'
import { out } from './output.js'
import { msd, verdict } from './print-latency.js'
import type { Change, SteeringResult } from './steering.js'

function row (label: string, xs: number[], target?: number): string[] {
  const max = xs.length > 0 ? Math.max(...xs) : NaN
  return [label, String(xs.length), msd(percentile(xs, 50)), msd(max), target != null ? `<= ${target} ms` : '', verdict(max, target)]
}

export function printEvents (s: SteeringResult | undefined): void {
  out(section('3. The event stream: a change to the client hearing of it'))
  out(wrap(`A client on GET /api/v1/events (fetch() with the Authorization header, the stream parsed here) on the coordinator of part 1. A rollout of ${STEERED_PACKAGE} 1.0.0 (a package no node follows) is started with POST /api/v1/rollouts, then paused and resumed in turn with POST /api/v1/rollouts/${STEERED_PACKAGE}/pause|resume, each after the previous change was heard and a wait spread over 0-1 s. Each POST gives a \`changed\` event from the route at once, and a \`rollout\` event (started, paused, resumed) at the coordinator's next one-second pass; its \`at\` is the coordinator's Date.now(), compared with Date.now() here on arrival (same machine clock, ms resolution). The event is written during the pass, and Node's HTTP response holds (corks) the socket until the synchronous work in progress ends: the figure includes the rest of the pass, the other rollouts' steps and the rewrite of the state file with the whole report book.`))
  out()
  if (s == null) { out('  not measured: the coordinator did not run'); return }
  const steered = s.changes.filter(c => c.action !== 'start')
  const all = (f: (c: Change) => number): number[] => steered.map(f)
  out(table(['', 'changes', 'p50', 'max', 'target', 'verdict'], [
    row('`rollout` event: its `at` -> read by the client', all(c => c.atToArrivalMs), SSE_TARGET_MS),
    row('POST sent -> its `changed` event read', all(c => c.changedMs), SSE_TARGET_MS),
    row('POST round trip (the answer)', all(c => c.postMs)),
    row('POST sent -> the `rollout` event read (includes the wait for the next pass)', all(c => c.postToRolloutMs))
  ]))
  const start = s.changes.find(c => c.action === 'start')
  if (start != null) out(`\n  the start (POST /api/v1/rollouts, 201): round trip ${msd(start.postMs)}, \`changed\` after ${msd(start.changedMs)}, \`rollout\` started: at -> read ${msd(start.atToArrivalMs)}, POST -> read ${msd(start.postToRolloutMs)}`)
  out(`  events of other packages on the stream meanwhile (not counted): ${s.otherEvents}`)
  if (s.error != null) out(`  stopped early: ${s.error}`)
}
