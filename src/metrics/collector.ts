/**
 * A gauge or counter whose samples are computed on scrape from the sources,
 * registered in the private prom-client registry beside its ordinary
 * metrics (the histogram). prom-client's own Gauge and Counter keep values
 * set earlier; these read the truth at scrape time instead, so a part that
 * is not built yet (or went away) has no series rather than a stale or
 * zero one, and a counter is the part's own count, never reset and
 * incremented again.
 *
 * Samples with the same labels are summed, so a collector cannot write a
 * duplicate series. A collector that throws is left out of that scrape (its
 * partial samples dropped) and reported to `onError`.
 */
import type { Metric, Registry } from 'prom-client'

export type Labels = Record<string, string>
export type Emit = (labels: Labels, value: number) => void

export interface CollectedInit {
  name: string
  help: string
  type: 'gauge' | 'counter'
  labelNames?: readonly string[]
  collect: (emit: Emit) => void
}

interface Value { labels: Labels, value: number }

export class Collected {
  readonly name: string
  readonly help: string
  readonly type: 'gauge' | 'counter'
  readonly labelNames: readonly string[]
  readonly aggregator = 'sum'
  private readonly collectFn: (emit: Emit) => void

  constructor (init: CollectedInit, private readonly onError: (metric: string, err: unknown) => void) {
    if (init.type === 'counter' && !init.name.endsWith('_total')) throw new Error(`counter ${init.name} must end in _total`)
    this.name = init.name
    this.help = init.help
    this.type = init.type
    this.labelNames = init.labelNames ?? []
    this.collectFn = init.collect
  }

  /** what prom-client's registry asks every metric for */
  async get (): Promise<{ name: string, help: string, type: string, aggregator: string, values: Value[] }> {
    const values = new Map<string, Value>()
    try {
      this.collectFn((labels, value) => {
        if (!Number.isFinite(value)) return
        // only the declared labels, in their order
        const ordered: Labels = {}
        for (const n of this.labelNames) {
          const v = labels[n]
          if (typeof v !== 'string') throw new Error(`${this.name}: label ${n} missing`)
          ordered[n] = v
        }
        const key = this.labelNames.map(n => ordered[n]).join('\0')
        const known = values.get(key)
        if (known != null) known.value += value
        else values.set(key, { labels: ordered, value })
      })
    } catch (err) {
      this.onError(this.name, err)
      values.clear()
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...values.values()] }
  }

  register (registry: Registry): this {
    // the registry calls get() and reads name and type: all a Metric needs here
    registry.registerMetric(this as unknown as Metric)
    return this
  }
}

/** a label value from a bounded set, else `other` */
export function bounded (value: string, known: ReadonlySet<string>): string {
  return known.has(value) ? value : 'other'
}

/** state names as label values: lowercase snake_case (`rolled-back` is `rolled_back`) */
export function stateLabel (state: string): string {
  return state.toLowerCase().replace(/[^a-z0-9]+/g, '_')
}
