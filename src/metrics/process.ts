/**
 * The daemon process: memory (RSS, V8's heap, and what lives outside it:
 * external memory, of which ArrayBuffers), CPU, start time, and the event loop's delay
 * from perf_hooks' monitorEventLoopDelay (enabled while the metrics live;
 * each scrape reads the delays since the scrape before, then starts a new
 * window). The monitor records the time between runs of a timer of
 * LOOP_RESOLUTION_MS; the delay reported is what exceeds that period.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { CollectedInit } from './collector.js'
import type { IntervalHistogram } from 'node:perf_hooks'

/** the loop delay is sampled this often, in ms */
const LOOP_RESOLUTION_MS = 10

export class ProcessMetrics {
  private readonly loop: IntervalHistogram
  private readonly startTime = (Date.now() - performance.now()) / 1000
  /** the window read for this scrape (startScrape), so the four loop metrics of one scrape agree */
  private window?: { mean: number, p50: number, p99: number, max: number }

  constructor () {
    this.loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS })
    this.loop.enable()
  }

  stop (): void {
    this.loop.disable()
    this.window = undefined
  }

  /** called before each scrape: the loop delays since the last one, in seconds (none: no sample yet), and a new window */
  startScrape (): void {
    const h = this.loop
    if (h.count === 0) {
      this.window = undefined
      return
    }
    // the histogram holds the time between the sampling timer's runs: the delay is what exceeds its period
    const ns = (v: number): number => Math.max(0, v / 1e6 - LOOP_RESOLUTION_MS) / 1000
    this.window = { mean: ns(h.mean), p50: ns(h.percentile(50)), p99: ns(h.percentile(99)), max: ns(h.max) }
    h.reset()
  }

  metrics (): CollectedInit[] {
    const loopMetric = (name: string, help: string, pick: (w: { mean: number, p50: number, p99: number, max: number }) => number): CollectedInit => ({
      name,
      help: `${help} since the previous scrape (perf_hooks.monitorEventLoopDelay, beyond its ${LOOP_RESOLUTION_MS} ms sampling period)`,
      type: 'gauge',
      collect: emit => {
        if (this.window != null) emit({}, pick(this.window))
      }
    })
    return [
      {
        name: 'umesh_process_resident_memory_bytes',
        help: 'Resident set size of the daemon process',
        type: 'gauge',
        collect: emit => { emit({}, process.memoryUsage.rss()) }
      },
      {
        name: 'umesh_process_heap_used_bytes',
        help: 'V8 heap in use',
        type: 'gauge',
        collect: emit => { emit({}, process.memoryUsage().heapUsed) }
      },
      {
        name: 'umesh_process_heap_total_bytes',
        help: 'V8 heap reserved, used and free',
        type: 'gauge',
        collect: emit => { emit({}, process.memoryUsage().heapTotal) }
      },
      {
        name: 'umesh_process_external_memory_bytes',
        help: 'Memory outside the V8 heap held by JavaScript objects, ArrayBuffers and Buffers included',
        type: 'gauge',
        collect: emit => { emit({}, process.memoryUsage().external) }
      },
      {
        name: 'umesh_process_array_buffers_bytes',
        help: 'Memory of ArrayBuffers and Buffers (chunk data in flight is here)',
        type: 'gauge',
        collect: emit => { emit({}, process.memoryUsage().arrayBuffers) }
      },
      {
        name: 'umesh_process_cpu_seconds_total',
        help: 'CPU time of the daemon process, user and system',
        type: 'counter',
        labelNames: ['mode'],
        collect: emit => {
          const cpu = process.cpuUsage()
          emit({ mode: 'user' }, cpu.user / 1e6)
          emit({ mode: 'system' }, cpu.system / 1e6)
        }
      },
      {
        name: 'umesh_process_start_time_seconds',
        help: 'When the daemon process started (Unix time)',
        type: 'gauge',
        collect: emit => { emit({}, this.startTime) }
      },
      loopMetric('umesh_event_loop_lag_mean_seconds', 'Mean event loop delay', w => w.mean),
      loopMetric('umesh_event_loop_lag_p50_seconds', 'Median event loop delay', w => w.p50),
      loopMetric('umesh_event_loop_lag_p99_seconds', '99th percentile of the event loop delay', w => w.p99),
      loopMetric('umesh_event_loop_lag_max_seconds', 'Longest event loop delay', w => w.max)
    ]
  }
}
