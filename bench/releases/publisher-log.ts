/**
 * How many gossip peers each announcement reached, as the publisher logs it
 * under DEBUG=umesh:publisher: the daemons report no such figure in status.
 */
import { readFileSync } from 'node:fs'

export function gossipRecipients (logFile: string): Map<number, number[]> {
  const map = new Map<number, number[]>()
  let text = ''
  try { text = readFileSync(logFile, 'utf8') } catch {}
  for (const m of text.matchAll(/announced timestamp version (\d+) to (\d+) peers/g)) {
    const list = map.get(Number(m[1])) ?? []
    list.push(Number(m[2]))
    map.set(Number(m[1]), list)
  }
  return map
}
