/**
 * The rollout as the repository and the nodes record it: the signed
 * document, the coordinator's state file, the governed mark in a node's
 * install root; and the steps around a timed run (publish, every node
 * holding the version, the rollout settled before the next one starts).
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { readCoordinatorState } from '../../src/rollout/coordinator.js'
import { GOVERNED_MARK } from '../../src/rollout/node-rollouts.js'
import { readRollout } from '../../src/rollout/repo-rollouts.js'
import { Repository } from '../../src/trust/repository.js'
import { releaseSource } from '../../test/helpers/install-fixture.js'
import { seconds } from '../report.js'
import { PACKAGE } from './options.js'
import { umeshOk, wallNow } from './processes.js'
import { holds, pollUntil } from './status.js'
import type { Watched } from './status.js'
import type { StatusResponse } from '../../protocols/status/index.js'
import type { RolloutDocument } from '../../src/rollout/types.js'
import type { Libp2p } from '@libp2p/interface'

export function readDoc (repo: string): RolloutDocument | undefined {
  try { return readRollout(Repository.open(repo), PACKAGE) } catch { return undefined }
}

/** the node has verified a rollout document of the package at some time: plain autoUpdate stays out (src/rollout/node-rollouts.ts) */
export function governed (n: Watched): boolean {
  return existsSync(join(n.p.dataDir, 'installs', PACKAGE, GOVERNED_MARK))
}

export async function publish (root: string, repo: string, version: string, index: number): Promise<number> {
  const src = releaseSource(join(root, 'sources'), { version }, index)
  const r = await umeshOk(['release', 'add', src, '--repo', repo, '--package', PACKAGE, '--version', version], 60_000)
  return r.ms
}

export async function waitHeld (client: Libp2p, nodes: Watched[], version: string, timeoutMs: number): Promise<void> {
  const last = new Map<string, StatusResponse | undefined>()
  const missing = await pollUntil(client, nodes, wallNow() + timeoutMs, (n, s) => { last.set(n.name, s); return holds(s, version) })
  if (missing.length > 0) throw new Error(`after ${seconds(timeoutMs)}, ${missing.length} node(s) do not hold ${PACKAGE} ${version}: ${missing.map(n => n.name).join(', ')}`)
}

/** waits for the rollout to leave "running"; halts it (no rollback) after timeoutMs so that the next one may start */
export async function settle (repo: string, id: string, timeoutMs: number): Promise<{ state: string, halted: boolean }> {
  const deadline = wallNow() + timeoutMs
  for (;;) {
    const doc = readDoc(repo)
    if (doc != null && (doc.id !== id || doc.state === 'completed' || doc.state === 'halted')) return { state: doc.state, halted: false }
    if (wallNow() > deadline) break
    await sleep(100)
  }
  await umeshOk(['rollout', 'halt', '--repo', repo, '--package', PACKAGE])
  return { state: 'halted', halted: true }
}

/** the coordinator's events of one rollout, as wall ms, from its state file */
export function coordinatorEvents (repo: string, id: string): Array<{ at: number, event: string, detail: string }> {
  try {
    return (readCoordinatorState(repo)?.rollouts[id]?.events ?? []).map(e => ({ at: Date.parse(e.at), event: e.event, detail: e.detail }))
  } catch {
    return []
  }
}
