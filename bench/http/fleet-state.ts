/**
 * A coordinator's report book of N nodes without N processes: the
 * coordinator loads `<repo>/coordinator/state.json` at start
 * (ReportBook.fromJSON checks every report field by field with checkReport;
 * signatures are not kept), so the benchmark writes one with real Ed25519
 * peer ids and recent lastSeen times (reachable: within UNREACHABLE_MS).
 *
 * Each node has two reports, as after one finished rollout and at the start
 * of the next: 0.9.0 healthy under an older rollout id, and the rollout
 * under test (the package's current document) with the wave waveOf gives
 * it: `installing` in wave 0 (so the canary gate waits and the rollout
 * stays where it is while the benchmark runs), `waiting` elsewhere, 2 %
 * `deferred`. Tags: one of three regions, `canary` on the first 10.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { COORDINATOR_DIR, coordinatorStateFile } from '../../src/rollout/coordinator.js'
import { REPORT_BOOK_FORMAT } from '../../src/rollout/reports.js'
import { CANARY_TAG, waveOf } from '../../src/rollout/waves.js'
import { writeFileAtomic } from '../../src/util/fs.js'
import type { CoordinatorState } from '../../src/rollout/coordinator.js'
import type { ReportBookJSON } from '../../src/rollout/reports.js'
import type { NodeReport, RolloutDocument } from '../../src/rollout/types.js'

const REGIONS = ['eu-west', 'us-east', 'ap-south']
const CANARIES = 10
const OLD_ROLLOUT = 'bench-previous'

/** writes the state file; returns its size in bytes */
export async function writeFleetState (repoDir: string, doc: RolloutDocument, nodes: number, now = Date.now()): Promise<number> {
  const entries: ReportBookJSON['entries'] = []
  for (let i = 0; i < nodes; i++) {
    const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const tags = [REGIONS[i % REGIONS.length], ...(i < CANARIES ? [CANARY_TAG] : [])]
    // seen within the last 20 s: reachable for the next 70 s
    const lastSeen = now - (i % 20) * 1000 - 500
    const old: NodeReport = { peerId, rolloutId: OLD_ROLLOUT, package: doc.package, version: '0.9.0', outcome: 'healthy', current: '0.9.0', wave: doc.waves.length - 1, reason: '', tags, at: lastSeen - 86_400_000, seq: 1 }
    const wave = waveOf({ peerId, tags, doc })
    const deferred = i % 50 === 7 && wave > 0
    const current: NodeReport = {
      peerId,
      rolloutId: doc.id,
      package: doc.package,
      version: doc.version,
      outcome: wave === 0 ? 'installing' : deferred ? 'deferred' : 'waiting',
      current: '0.9.0',
      wave,
      reason: deferred ? 'outside the maintenance window (next opens 02:00 UTC)' : '',
      tags,
      at: lastSeen,
      seq: 2
    }
    entries.push({ peerId, lastReport: current, lastSeen, reports: [old, current] })
  }
  entries.sort((a, b) => a.lastSeen - b.lastSeen)
  const state: CoordinatorState = { updated: new Date(now).toISOString(), rollouts: {}, book: { format: REPORT_BOOK_FORMAT, entries } }
  mkdirSync(join(repoDir, COORDINATOR_DIR), { recursive: true })
  const text = JSON.stringify(state) + '\n'
  writeFileAtomic(coordinatorStateFile(repoDir), text)
  return Buffer.byteLength(text)
}
