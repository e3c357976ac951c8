/**
 * The rollout benchmark's processes: timed `umesh` runs and a mesh whose
 * coordinator (the publisher) and followers (the nodes) log what explains a
 * run that stalls.
 */
import { trackedMesh } from '../cli-runs.js'
import type { LocalMesh } from '../../src/demo/local-mesh.js'

export { umesh, umeshOk, wallNow } from '../cli-runs.js'
export type { CliRun } from '../cli-runs.js'

export function startMesh (dir: string): LocalMesh {
  return trackedMesh(dir, ['umesh:coordinator', 'umesh:follower'])
}
