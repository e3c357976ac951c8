/**
 * The release benchmark's processes: timed `umesh` runs and a mesh whose
 * publisher logs the gossip recipients of each announcement under
 * DEBUG=umesh:publisher (the benchmark reads them back).
 */
import { trackedMesh } from '../cli-runs.js'
import type { LocalMesh } from '../../src/demo/local-mesh.js'

export { umesh, umeshOk, wallNow } from '../cli-runs.js'
export type { CliRun } from '../cli-runs.js'

export function startMesh (dir: string): LocalMesh {
  return trackedMesh(dir, ['umesh:publisher'])
}
