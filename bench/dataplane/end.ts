/**
 * One end of a data-plane measurement, a child process of main.ts (inside a
 * network namespace for the shaped links): the sender or the receiver of one
 * layer and variant, set up from DPB_CONFIG and driven over IPC
 * (messages.ts). It measures only itself: CPU over each window it is asked
 * for, and at the receiver the reads of its TCP sockets. Any error is
 * reported and ends the process; so does the parent's going away. Only the
 * layer's own modules are loaded: a raw end holds no libp2p code.
 */
import '../../src/polyfill.js'
import { CpuMeter, Profiler, countSocketReads, idleWindow, reads } from './meter.js'
import type { Receiver } from './layers/libp2p.js'
import type { ChildMessage, EndConfig, ParentMessage, SenderAddress } from './messages.js'

const config = JSON.parse(process.env.DPB_CONFIG ?? '{}') as EndConfig

function send (message: ChildMessage): void {
  process.send?.(message)
}

function fail (err: unknown): never {
  send({ type: 'error', message: `${config.role} (${config.layer}/${config.variant}): ${(err as Error).stack ?? String(err)}` })
  setTimeout(() => process.exit(1), 100)
  throw err
}

const onError = (err: Error): void => { fail(err) }
process.on('uncaughtException', fail)
process.on('unhandledRejection', fail)
// the parent holds the other end of the IPC channel: without it, nothing is left to do
process.on('disconnect', () => process.exit(0))

async function startSender (): Promise<{ address: SenderAddress, close: () => Promise<void> }> {
  switch (config.layer) {
    case 'raw': {
      const { rawSender } = await import('./layers/raw.js')
      const { address, server } = await rawSender(config, onError)
      return { address, close: async () => { server.close() } }
    }
    case 'noise': {
      const { noiseSender } = await import('./layers/noise.js')
      const { address, listener } = await noiseSender(config, onError)
      return { address, close: async () => { await listener.close() } }
    }
    default: {
      const { libp2pSender } = await import('./layers/libp2p.js')
      const { address, node } = await libp2pSender(config, onError)
      return { address, close: async () => { await node.stop() } }
    }
  }
}

async function startReceiver (): Promise<Receiver> {
  switch (config.layer) {
    case 'raw': {
      const { rawReceiver } = await import('./layers/raw.js')
      const puller = await rawReceiver(config, onError)
      return { run: async (total, maxMs) => await puller.run(total, maxMs) }
    }
    case 'noise': {
      const { noiseReceiver } = await import('./layers/noise.js')
      const puller = await noiseReceiver(config, onError)
      return { run: async (total, maxMs) => await puller.run(total, maxMs) }
    }
    default: {
      const { libp2pReceiver } = await import('./layers/libp2p.js')
      return await libp2pReceiver(config)
    }
  }
}

async function main (): Promise<void> {
  let sender: Awaited<ReturnType<typeof startSender>> | undefined
  let receiver: Receiver | undefined
  if (config.role === 'sender') {
    sender = await startSender()
  } else {
    countSocketReads()
    receiver = await startReceiver()
    if (config.warmBytes > 0) await receiver.run(config.warmBytes, 30_000)
  }
  send({ type: 'ready', address: sender?.address })

  let window: CpuMeter | undefined
  let profiling: { profiler: Profiler, file: string } | undefined
  process.on('message', (message: ParentMessage) => {
    (async () => {
      switch (message.type) {
        case 'idle':
          send({ type: 'idle', window: await idleWindow(message.ms) })
          break
        case 'start':
          if (message.profile != null) {
            profiling = { profiler: new Profiler(), file: message.profile }
            await profiling.profiler.start()
          }
          window = new CpuMeter()
          send({ type: 'started' })
          break
        case 'stop': {
          const cpu = window?.window() ?? { cpuMs: 0, systemMs: 0, wallMs: 0 }
          await profiling?.profiler.stop(profiling.file)
          profiling = undefined
          send({ type: 'stopped', window: cpu })
          break
        }
        case 'run': {
          if (receiver == null) throw new Error('only the receiver runs transfers')
          const profiler = message.profile != null ? new Profiler() : undefined
          await profiler?.start()
          const reads0 = { ...reads }
          const meter = new CpuMeter()
          const bytes = await receiver.run(message.bytes, message.maxMs)
          const cpu = meter.window()
          const result = { ...cpu, bytes, reads: reads.count - reads0.count, readBytes: reads.bytes - reads0.bytes, writes: reads.writes - reads0.writes }
          if (profiler != null && message.profile != null) await profiler.stop(message.profile)
          send({ type: 'ran', result })
          break
        }
        case 'exit':
          await sender?.close()
          await receiver?.node?.stop()
          process.exit(0)
      }
    })().catch(fail)
  })
}

main().catch(fail)
