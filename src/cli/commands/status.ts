/**
 * umesh status: asks a node for its status over the status protocol, from a
 * throw-away identity: the daemon on a data dir (found through its
 * daemon.json) or any node by multiaddr.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { fetchStatus } from '../../../protocols/status/index.js'
import { SCHEMA } from '../../config/index.js'
import { readDaemonFile } from '../../daemon/daemon-file.js'
import { UsageError } from '../../errors.js'
import { StatusRequestError } from '../../../protocols/status/index.js'
import { createClientNode } from '../../network/client-node.js'
import { parse } from '../args.js'
import { statusJson, statusText } from '../../view/index.js'
import type { Command } from '../run.js'
import type { Multiaddr } from '@multiformats/multiaddr'

const HELP = `umesh status (--data-dir DIR | --peer MULTIADDR) [--network NAME] [--json] [--timeout MS]

  --data-dir DIR    the daemon running on this data dir (env UMESH_DATA_DIR)
  --peer MA         any node, by a multiaddr ending in /p2p/<peer id>
  --network NAME    the node's network, for --peer [default: env UMESH_NETWORK, else umesh]
  --json            one JSON object: peerId, role, network, version, uptimeMs, phases, connections, listenAddrs, ...
  --timeout MS      give up after this long [default: 5000]`

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
    let network = networkSpec.parse(args.node.network ?? process.env.UMESH_NETWORK ?? networkSpec.default, '--network') as string
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
    const client = await createClientNode()
    try {
      const signal = AbortSignal.timeout(timeout)
      let status
      try {
        status = await fetchStatus(client, targets, network, { signal })
      } catch (err) {
        if (err instanceof StatusRequestError) throw err
        throw new StatusRequestError(`no status from ${targets.map(t => t.toString()).join(' or ')} on network ${network}: ${(err as Error).message}`)
      }
      process.stdout.write((args.own.json === true ? JSON.stringify(statusJson(status)) : statusText(status)) + '\n')
      return 0
    } finally {
      await client.stop()
    }
  }
}
