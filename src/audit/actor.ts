/**
 * Who is acting: `--actor NAME`, else the environment's UMESH_ACTOR, else
 * the OS user. A name, not a proof: the proof is the repository key that
 * signs the entry (whoever can run the CLI on the publisher holds it).
 */
import { userInfo } from 'node:os'
import { UsageError } from '../errors.js'

const MAX_ACTOR = 128
const BAD = /[\p{Cc}\p{Zl}\p{Zp}\u200e\u200f\u202a-\u202e\u2066-\u2069]/u

export function checkActor (name: string, from: string): string {
  const trimmed = name.trim()
  if (trimmed === '' || trimmed.length > MAX_ACTOR || BAD.test(trimmed)) {
    throw new UsageError(`${from}: expected a name of 1 to ${MAX_ACTOR} printable characters, found ${JSON.stringify(name.slice(0, 40))}`)
  }
  return trimmed
}

export function resolveActor (flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag != null) return checkActor(flag, '--actor')
  if (env.UMESH_ACTOR != null && env.UMESH_ACTOR !== '') return checkActor(env.UMESH_ACTOR, 'UMESH_ACTOR')
  try {
    return checkActor(userInfo().username, 'the OS user name')
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`
  }
}
