/**
 * What a config reload changes: options that differ and can be applied to
 * the running node, and options that differ but only take effect on restart.
 */
import { SCHEMA } from '../config/index.js'
import type { NodeConfig, OptionKey } from '../config/index.js'

export interface ReloadOutcome {
  applied: OptionKey[]
  restartNeeded: OptionKey[]
}

export function diffConfig (current: NodeConfig, next: NodeConfig): ReloadOutcome {
  const outcome: ReloadOutcome = { applied: [], restartNeeded: [] }
  for (const spec of SCHEMA) {
    if (JSON.stringify(current[spec.key]) === JSON.stringify(next[spec.key])) continue
    ;(spec.live ? outcome.applied : outcome.restartNeeded).push(spec.key)
  }
  return outcome
}
