/**
 * How often a node repeats its report, and when the coordinator gives up on
 * a silent node, by the size of the fleet.
 *
 * Reports travel on one gossipsub topic that every node subscribes to (each
 * node counts the others' installing reports for its install slot), so every
 * node receives and forwards every report. A change of outcome is reported
 * at once; the heartbeat only repeats what is known, for liveness and for
 * nodes that joined late. At a fixed 20 s, 10,000 nodes would send 500
 * heartbeats a second that each node forwards (about 1.5 MB/s per node in
 * the fleet model); here the whole fleet sends at most
 * FLEET_HEARTBEATS_PER_SECOND, each node's interval growing with the number
 * of nodes its report book holds: 20 s up to 1,000 nodes, 200 s at 10,000.
 * A node is unreachable after 4.5 heartbeats without a report, never under
 * 90 s. Nodes and the coordinator hold about the same book, so they derive
 * the same interval without saying it on the wire.
 */

/** heartbeats the whole fleet sends per second, at most */
export const FLEET_HEARTBEATS_PER_SECOND = 50
/** the heartbeat of a small fleet */
export const BASE_HEARTBEAT_MS = 20_000
/** a node not heard from for this long is unreachable, in any fleet */
export const MIN_UNREACHABLE_MS = 90_000
/** heartbeats missed before a node is unreachable */
const MISSED_HEARTBEATS = 4.5

/** a node's heartbeat in a fleet of `fleetSize` nodes; `baseMs` is its configured floor */
export function heartbeatMs (fleetSize: number, baseMs = BASE_HEARTBEAT_MS): number {
  return Math.max(baseMs, Math.ceil(Math.max(0, fleetSize) / FLEET_HEARTBEATS_PER_SECOND) * 1000)
}

/** how long the coordinator waits for a report before it shows a node as unreachable */
export function unreachableAfterMs (fleetSize: number): number {
  return Math.max(MIN_UNREACHABLE_MS, Math.round(MISSED_HEARTBEATS * heartbeatMs(fleetSize)))
}

/** the next heartbeat, spread by ±10 % so a fleet started together does not report together */
export function nextHeartbeatMs (fleetSize: number, baseMs = BASE_HEARTBEAT_MS, random = Math.random): number {
  return Math.round(heartbeatMs(fleetSize, baseMs) * (0.9 + 0.2 * random()))
}
