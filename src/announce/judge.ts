/**
 * Gossip announcements carry the repository's signed timestamp metadata.
 * Before a message is forwarded, a node checks it against its own trusted
 * root: a validly signed, newer, unexpired timestamp is accepted (and starts
 * a refresh); an old or duplicate one is ignored; one that claims the
 * trusted timestamp keys but fails their signatures is rejected, which makes
 * gossipsub penalise the sender. One signed by keys the trusted root does not
 * know is ignored rather than rejected: after a key rotation the sender may
 * be right and this node behind, so it refreshes (rate-limited) instead.
 */
import { Metadata, MetadataKind } from '@tufjs/models'
import type { Root, Timestamp } from '@tufjs/models'

/** a timestamp file is a few hundred bytes; anything larger is not one */
export const MAX_ANNOUNCEMENT_BYTES = 16 * 1024

export type Verdict =
  | { action: 'accept', version: number, timestamp: Metadata<Timestamp> }
  | { action: 'ignore', reason: string, unknownKeys?: boolean }
  | { action: 'reject', reason: string }

export interface TrustedState {
  root: Metadata<Root>
  timestampVersion: number
}

export function judgeAnnouncement (data: Uint8Array, trusted: TrustedState, now = new Date()): Verdict {
  if (data.length > MAX_ANNOUNCEMENT_BYTES) return { action: 'reject', reason: `announcement of ${data.length} bytes, more than ${MAX_ANNOUNCEMENT_BYTES}` }
  let md: Metadata<Timestamp>
  try {
    md = Metadata.fromJSON(MetadataKind.Timestamp, JSON.parse(Buffer.from(data).toString('utf8')))
  } catch (err) {
    return { action: 'reject', reason: `not timestamp metadata (${(err as Error).message})` }
  }
  const role = trusted.root.signed.roles.timestamp
  const known = Object.keys(md.signatures).some(id => role.keyIDs.includes(id))
  try {
    trusted.root.verifyDelegate('timestamp', md)
  } catch (err) {
    return known
      ? { action: 'reject', reason: `bad timestamp signature (${(err as Error).message})` }
      : { action: 'ignore', reason: 'signed by keys this node does not trust (yet): refreshing in case they were rotated', unknownKeys: true }
  }
  if (md.signed.version <= trusted.timestampVersion) {
    return { action: 'ignore', reason: `timestamp version ${md.signed.version} is not newer than the trusted ${trusted.timestampVersion}` }
  }
  if (md.signed.isExpired(now)) return { action: 'ignore', reason: `timestamp version ${md.signed.version} expired at ${md.signed.expires}` }
  return { action: 'accept', version: md.signed.version, timestamp: md }
}
