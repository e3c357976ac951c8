/**
 * One row of the data-plane benchmark: a layer and a variant in one
 * environment. A sender and a receiver process are started, connected and
 * warmed up (not measured); then each run: both ends measure their idle CPU
 * for --idle-ms, the sender opens its CPU window, the receiver pulls the
 * transfer and measures its own, the sender closes its window. Each end's
 * CPU less its idle rate over its window, per MiB of payload, is what the
 * row reports; a failed row keeps its error and the benchmark goes on.
 * With a profile file, one more run follows with the receiver under the V8
 * profiler (not counted: the profiler costs CPU of its own).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { End } from './ends.js'
import { BATCH, CHUNK_BYTES, IDLE_MS, INFLIGHT, MAX_MS, MiB, STORE_BYTES, WRITE_BYTES } from './options.js'
import type { CpuWindow, EndConfig, Layer } from './messages.js'

export interface Environment {
  name: string
  /** the sender's address, and the namespaces of both ends (none on loopback) */
  senderIp: string
  senderNs?: string
  receiverNs?: string
  bytes: number
}

export interface Sample {
  mib: number
  wallMs: number
  receiverMsPerMiB: number
  /** the kernel's part of it (not less idle) */
  receiverSystemMsPerMiB: number
  senderMsPerMiB: number
  readsPerMiB: number
  writesPerMiB: number
  bytesPerRead: number
  /** idle CPU, ms per second of wall time */
  receiverIdle: number
  senderIdle: number
}

export interface Row {
  env: string
  layer: Layer
  variant: string
  samples: Sample[]
  error?: string
}

const START_TIMEOUT_MS = 180_000
const STEP_TIMEOUT_MS = 15_000

const idleRate = (w: CpuWindow): number => w.wallMs > 0 ? w.cpuMs / w.wallMs : 0

/** with profile, one more run (not counted) writes `${profile}-receiver.cpuprofile` and `${profile}-sender.cpuprofile` */
export async function measureRow (env: Environment, layer: Layer, variant: string, runs: number, profile?: string): Promise<Row> {
  const row: Row = { env: env.name, layer, variant, samples: [] }
  const storeDir = layer === 'chunks' ? mkdtempSync(join(tmpdir(), 'umesh-dpb-store-')) : undefined
  const segmentBytes = Math.min(4 * MiB, Math.max(256 * 1024, Math.floor(env.bytes / 8)))
  const base: Omit<EndConfig, 'role'> = {
    layer,
    variant,
    host: env.senderIp,
    segmentBytes,
    writeBytes: WRITE_BYTES,
    chunkBytes: CHUNK_BYTES,
    storeBytes: Math.min(STORE_BYTES, env.bytes),
    batch: BATCH,
    inflight: INFLIGHT,
    storeDir,
    warmBytes: Math.min(4 * MiB, Math.max(CHUNK_BYTES * BATCH, Math.floor(env.bytes / 8)))
  }
  const ends: End[] = []
  try {
    const sender = new End({ ...base, role: 'sender' }, env.senderNs)
    ends.push(sender)
    const { address } = await sender.next('ready', START_TIMEOUT_MS)
    const receiver = new End({ ...base, role: 'receiver', target: address }, env.receiverNs)
    ends.push(receiver)
    await receiver.next('ready', START_TIMEOUT_MS)
    const extra = profile != null ? 1 : 0
    for (let run = 0; run < runs + extra; run++) {
      for (const end of ends) end.send({ type: 'idle', ms: IDLE_MS })
      const [recvIdle, sendIdle] = await Promise.all([receiver.next('idle', IDLE_MS + STEP_TIMEOUT_MS), sender.next('idle', IDLE_MS + STEP_TIMEOUT_MS)])
      // the profiled run, when asked for, comes after the measured ones and is not counted
      const profiled = run === runs && profile != null
      sender.send({ type: 'start', profile: profiled ? `${profile}-sender.cpuprofile` : undefined })
      await sender.next('started', STEP_TIMEOUT_MS)
      receiver.send({ type: 'run', bytes: env.bytes, maxMs: MAX_MS, profile: profiled ? `${profile}-receiver.cpuprofile` : undefined })
      const { result } = await receiver.next('ran', MAX_MS + 120_000 + (profiled ? 30_000 : 0))
      sender.send({ type: 'stop' })
      const { window } = await sender.next('stopped', STEP_TIMEOUT_MS + (profiled ? 30_000 : 0))
      if (run === runs) break
      const mib = result.bytes / MiB
      const receiverCpu = result.cpuMs - idleRate(recvIdle.window) * result.wallMs
      const senderCpu = window.cpuMs - idleRate(sendIdle.window) * window.wallMs
      row.samples.push({
        mib,
        wallMs: result.wallMs,
        receiverMsPerMiB: receiverCpu / mib,
        receiverSystemMsPerMiB: result.systemMs / mib,
        senderMsPerMiB: senderCpu / mib,
        readsPerMiB: result.reads / mib,
        writesPerMiB: result.writes / mib,
        bytesPerRead: result.reads > 0 ? result.readBytes / result.reads : NaN,
        receiverIdle: idleRate(recvIdle.window) * 1000,
        senderIdle: idleRate(sendIdle.window) * 1000
      })
    }
  } catch (err) {
    row.error = (err as Error).message.split('\n').slice(0, 6).join('\n')
  } finally {
    await Promise.allSettled(ends.map(async e => await e.stop()))
    if (storeDir != null) rmSync(storeDir, { recursive: true, force: true })
  }
  return row
}
