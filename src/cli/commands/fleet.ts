/**
 * umesh fleet --repo DIR [--json]: every node the coordinator has heard of,
 * from their signed reports: versions, state, wave, last report; a node not
 * heard from within 90 s is shown as unreachable.
 */
import { UsageError } from '../../errors.js'
import { fleetRows, readCoordinatorState, ReportBook, UNREACHABLE_MS } from '../../rollout/index.js'
import { parse } from '../args.js'
import { labelsText } from '../../rollout/labels.js'
import { parseSelector } from '../../rollout/selector.js'
import { table } from './install-actions.js'
import type { Command } from '../run.js'

const HELP = `umesh fleet --repo DIR [--select SELECTOR] [--json]
    every node the coordinator (umesh node --repo DIR --coordinator) has heard of, one row per package it
    reports on: version it runs, state, wave, tags, labels, last report; nodes silent for ${UNREACHABLE_MS / 1000} s
    (longer in a fleet of over 1,000 nodes, as its heartbeat grows) are marked unreachable; --select "region=eu-west,hw in (revB,revC)": only nodes whose labels match`

export const command: Command = {
  run: async (argv) => {
    const args = parse('fleet', argv, { repo: { type: 'string' }, select: { type: 'string' }, json: { type: 'boolean' } }, false)
    if (args.own.help === true) {
      process.stdout.write(HELP + '\n')
      return 0
    }
    if (typeof args.own.repo !== 'string') throw new UsageError('--repo DIR is required: the repository of the coordinator')
    const select = typeof args.own.select === 'string' ? parseSelector(args.own.select) : undefined
    const nodes = fleetRows(ReportBook.fromJSON(readCoordinatorState(args.own.repo)?.book), { select })
    if (args.own.json === true) {
      process.stdout.write(JSON.stringify(nodes) + '\n')
      return 0
    }
    if (nodes.length === 0) {
      process.stdout.write(select != null ? `no node's labels match ${args.own.select as string}\n` : 'no node has reported yet (is the coordinator running: umesh node --repo DIR --coordinator?)\n')
      return 0
    }
    process.stdout.write(table(['node', 'package', 'runs', 'state', 'rollout', 'wave', 'tags', 'labels', 'last report'],
      nodes.map(n => [n.peerId, n.package, n.current || '-', n.unreachable ? 'unreachable' : n.outcome, n.rolloutId, n.wave < 0 ? '-' : String(n.wave), n.tags.join(',') || '-', labelsText(n.labels), n.lastReport])))
    return 0
  }
}
