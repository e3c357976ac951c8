/**
 * What a config reload changes: options that differ and can be applied to
 * the running node, and options that differ but only take effect on restart;
 * and applying the live ones to the parts they belong to.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { SCHEMA } from '../config/index.js'
import { applyLogLevel } from '../util/log-level.js'
import type { NodeConfig, OptionKey } from '../config/index.js'
import type { BootstrapDialer, PeerKeeper } from '../discovery/index.js'
import type { MeshNodeParts } from '../network/index.js'
import type { Bandwidth } from '../swarm/index.js'
import type { ConnectionManager } from '@libp2p/interface-internal'

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

/** the running parts a live option changes */
export interface LiveParts {
  mesh: Pick<MeshNodeParts<unknown>, 'node' | 'gater'>
  bootstrapDialer?: BootstrapDialer
  keeper?: PeerKeeper
  bandwidth?: Bandwidth
}

/** applies each changed live option of `next` to the part it belongs to */
export async function applyLive (keys: OptionKey[], next: NodeConfig, parts: LiveParts): Promise<void> {
  const { gater, node } = parts.mesh
  for (const key of keys) {
    if (key === 'denyPeers') {
      gater.settings.denyPeers = new Set(next.denyPeers)
      for (const id of next.denyPeers) await node.hangUp(peerIdFromString(id)).catch(() => {})
    } else if (key === 'maxInboundPerIp') {
      gater.settings.maxInboundPerIp = next.maxInboundPerIp
    } else if (key === 'maxConnections') {
      // setMaxConnections is on the connection manager, which libp2p exposes only through its components
      (node as unknown as { components: { connectionManager: ConnectionManager } }).components.connectionManager.setMaxConnections(next.maxConnections)
    } else if (key === 'bootstrap' || key === 'bootstrapFile') {
      parts.bootstrapDialer?.setList(next.bootstrap)
    } else if (key === 'targetPeers') {
      parts.keeper?.setTarget(next.targetPeers)
    } else if (key === 'uploadLimit' || key === 'downloadLimit') {
      parts.bandwidth?.setLimits({ upload: next.uploadLimit, download: next.downloadLimit })
    } else if (key === 'logLevel') {
      applyLogLevel(next.logLevel)
    }
  }
}
