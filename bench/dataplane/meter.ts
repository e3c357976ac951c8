/**
 * What a child process measures of itself: CPU time (process.cpuUsage(),
 * user + system, every thread of the process: GC helpers and the libuv pool
 * included) over a window, and the reads of its TCP sockets.
 *
 * A read is one 'data' event of a net.Socket connected over TCP: Node emits
 * one per successful read(2) of the libuv loop (up to 64 KiB), whatever sits
 * on top (Noise, Yamux, libp2p all listen to the same event). Counting it by
 * wrapping net.Socket.prototype.emit, in this child only, sees the socket of
 * every layer and every TCP-based variant without touching their code; pipes
 * (the IPC channel, stdio) have no remote port and are not counted.
 */
import { Session } from 'node:inspector/promises'
import { writeFileSync } from 'node:fs'
import { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { CpuWindow } from './messages.js'

export const reads = { count: 0, bytes: 0, writes: 0 }

/** counts the reads, and the writes (socket.write calls: requests, window updates) of this process's TCP sockets */
export function countSocketReads (): void {
  const write = Socket.prototype.write
  Socket.prototype.write = function (this: Socket, ...args: any[]): boolean {
    if (this.remotePort !== undefined) reads.writes++
    return write.apply(this, args as Parameters<typeof write>)
  } as typeof write
  const emit = Socket.prototype.emit
  Socket.prototype.emit = function (this: Socket, event: string | symbol, ...args: any[]): boolean {
    if (event === 'data' && this.remotePort !== undefined) {
      reads.count++
      reads.bytes += (args[0] as Buffer).byteLength
    }
    return emit.apply(this, [event, ...args] as Parameters<typeof emit>)
  } as typeof emit
}

export class CpuMeter {
  private readonly cpu0 = process.cpuUsage()
  private readonly t0 = performance.now()

  window (): CpuWindow {
    const cpu = process.cpuUsage(this.cpu0)
    return { cpuMs: (cpu.user + cpu.system) / 1000, systemMs: cpu.system / 1000, wallMs: performance.now() - this.t0 }
  }
}

/** CPU spent while doing nothing for `ms`: what the process costs at rest (timers, keep-alives) */
export async function idleWindow (ms: number): Promise<CpuWindow> {
  const meter = new CpuMeter()
  await new Promise(resolve => setTimeout(resolve, ms))
  return meter.window()
}

/** the V8 sampling profiler over one window, written as a .cpuprofile (Chrome DevTools, speedscope) */
export class Profiler {
  private readonly session = new Session()

  async start (): Promise<void> {
    this.session.connect()
    await this.session.post('Profiler.enable')
    await this.session.post('Profiler.setSamplingInterval', { interval: 500 })
    await this.session.post('Profiler.start')
  }

  async stop (file: string): Promise<void> {
    const { profile } = await this.session.post('Profiler.stop')
    writeFileSync(file, JSON.stringify(profile))
    this.session.disconnect()
  }
}
