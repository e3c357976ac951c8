/**
 * A rollout document for unit tests: running, first wave open, the
 * defaults of `umesh rollout start`; `extra` overrides any field.
 */
import { parseWaves } from '../../src/rollout/document.js'
import { ROLLOUT_FORMAT } from '../../src/rollout/types.js'
import type { RolloutDocument } from '../../src/rollout/types.js'

export function rolloutDoc (pkg: string, version: string, waves: string, extra: Partial<RolloutDocument> = {}): RolloutDocument {
  return {
    format: ROLLOUT_FORMAT,
    id: `r-${pkg}`,
    package: pkg,
    version,
    waves: parseWaves(waves),
    open: 0,
    state: 'running',
    rollback: false,
    gate: { success: 0.95, soakMs: 60_000 },
    abort: 0.1,
    maxParallel: 1,
    manual: false,
    downgrade: false,
    critical: false,
    created: '2026-11-24T01:00:00.000Z',
    updated: '2026-11-24T01:00:00.000Z',
    reason: 'started',
    ...extra
  }
}
