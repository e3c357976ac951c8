/**
 * umesh status: asks a node for its status over the status protocol, from a
 * throw-away identity: the daemon on a data dir (found through its
 * daemon.json) or any node by multiaddr. A node asked by multiaddr without
 * --network is first asked which protocols it handles; the network is the
 * one whose status protocol it speaks.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { fetchStatus } from '../../../protocols/status/index.js'
import { statusNetworks } from '../../../protocols/status/client.js'
import { SCHEMA } from '../../config/index.js'
import { readDaemonFile } from '../../daemon/daemon-file.js'
import { UsageError } from '../../errors.js'
import { StatusRequestError } from '../../../protocols/status/index.js'
import { createClientNode, listProtocols } from '../../network/client-node.js'
import { parse } from '../args.js'
import { statusJson, statusText } from '../../view/index.js'
import type { Command } from '../run.js'
import type { Multiaddr } from '@multiformats/multiaddr'

const HELP = `umesh status (--data-dir DIR | --peer MULTIADDR) [--network NAME] [--json] [--timeout MS]

  --data-dir DIR    the daemon running on this data dir (env UMESH_DATA_DIR)
  --peer MA         any node, by a multiaddr ending in /p2p/<peer id>
  --network NAME    the node's network, for --peer (env UMESH_NETWORK) [default: asked of
                    the node: the network whose status protocol it speaks]
  --json            one JSON object: peerId, role, network, version, uptimeMs, phases, connections, listenAddrs, ...
  --timeout MS      give up after this long [default: 5000]`

/** protocol ids named in an error, at most */
const LISTED_PROTOCOLS = 8

/**
 * The network to ask `peer` about, from the protocols it handles: the one
 * network whose status protocol it speaks; none or several is a usage error
 * that names what it speaks and asks for --network.
 */
export function chooseNetwork (peer: string, protocols: string[]): string {
  const networks = statusNetworks(protocols)
  if (networks.length === 1) return networks[0]
  if (networks.length > 1) {
    throw new UsageError(`${peer} answers status on ${networks.length} networks (${networks.join(', ')}); pick one with --network NAME`)
  }
  const spoken = protocols.length === 0
    ? 'it lists no protocols'
    : `it speaks ${protocols.slice(0, LISTED_PROTOCOLS).join(', ')}${protocols.length > LISTED_PROTOCOLS ? ` and ${protocols.length - LISTED_PROTOCOLS} more` : ''}`
  throw new UsageError(`${peer} speaks no umesh status protocol (/umesh/<network>/status/1.0.0): ${spoken}; if it is an update-mesh node, give its network with --network NAME`)
}

/** loopback first: the daemon is on this machine */
function localFirst (addrs: string[]): Multiaddr[] {
  const score = (a: string): number => a.includes('/127.0.0.1/') || a.includes('/ip6/::1/') ? 0 : 1
  return [...addrs].sort((a, b) => score(a) - score(b)).map(a => multiaddr(a))
}

export const command: Command = {
  run: async (argv) => {
    const args = parse('status', argv, {
      peer: { type: 'string' },
      json: { type: 'boolean' },
      timeout: { type: 'string' }
    }, ['dataDir', 'network'])
    if (args.own.help === true) {
      process.stdout.write(HELP + '\n')
      return 0
    }
    const dataDir = (args.node.dataDir as string | undefined) ?? (args.own.peer == null ? process.env.UMESH_DATA_DIR : undefined)
    if ((dataDir == null) === (args.own.peer == null)) {
      throw new UsageError('give exactly one of --data-dir DIR or --peer MULTIADDR')
    }
    const timeout = Number(args.own.timeout ?? 5000)
    if (!Number.isInteger(timeout) || timeout <= 0) throw new UsageError(`--timeout: expected milliseconds, found "${String(args.own.timeout)}"`)
    const networkSpec = SCHEMA.find(s => s.key === 'network')!
    const given = args.node.network ?? (process.env[networkSpec.env] !== '' ? process.env[networkSpec.env] : undefined)
    let network = given != null ? networkSpec.parse(given, args.node.network != null ? '--network' : networkSpec.env) as string : undefined
    let targets: Multiaddr[]
    if (dataDir != null) {
      const info = readDaemonFile(dataDir)
      network = info.network
      targets = localFirst(info.addrs)
    } else {
      try {
        targets = [multiaddr(args.own.peer as string)]
      } catch (err) {
        throw new UsageError(`--peer: expected a multiaddr such as /ip4/127.0.0.1/tcp/4090/p2p/12D3Koo…, found "${String(args.own.peer)}" (${(err as Error).message})`)
      }
    }
    // a relayed address (a node behind NAT, through its relay) needs the circuit relay transport
    const client = await createClientNode({ relay: targets.some(t => t.toString().includes('/p2p-circuit')) })
    try {
      const signal = AbortSignal.timeout(timeout)
      const why = (err: unknown): string => signal.aborted ? `no answer within ${timeout} ms` : (err as Error).message
      if (network == null) {
        let protocols: string[]
        try {
          ({ protocols } = await listProtocols(client, targets[0], { signal }))
        } catch (err) {
          throw new StatusRequestError(`cannot ask ${targets[0].toString()} which networks it speaks: ${why(err)}; give its network with --network NAME`)
        }
        network = chooseNetwork(targets[0].toString(), protocols)
      }
      let status
      try {
        status = await fetchStatus(client, targets, network, { signal })
      } catch (err) {
        if (err instanceof StatusRequestError) throw err
        throw new StatusRequestError(`no status from ${targets.map(t => t.toString()).join(' or ')} on network ${network}: ${why(err)}`)
      }
      process.stdout.write((args.own.json === true ? JSON.stringify(statusJson(status)) : statusText(status)) + '\n')
      return 0
    } finally {
      await client.stop()
    }
  }
}
