/**
 * A minimal libp2p Metrics implementation that counts bytes in and out on
 * every connection (for status) and per protocol (for later bandwidth
 * accounting). Every other metric is accepted and dropped: the daemon does
 * not pay for histograms nobody reads.
 */
import type { Metrics, MultiaddrConnection, Stream } from '@libp2p/interface'

export interface TrafficTotals {
  bytesIn: number
  bytesOut: number
  byProtocol: Map<string, { bytesIn: number, bytesOut: number }>
}

type Countable = Pick<MultiaddrConnection, 'send' | 'dispatchEvent'>

const noop = (): void => {}
const NULL_METRIC: any = new Proxy(noop, {
  get: (_target, prop) => prop === 'timer' ? () => noop : NULL_METRIC,
  apply: () => undefined
})

export class TrafficMeter {
  readonly totals: TrafficTotals = { bytesIn: 0, bytesOut: 0, byProtocol: new Map() }

  private count (target: Countable, onIn: (n: number) => void, onOut: (n: number) => void): void {
    // wrap dispatchEvent rather than adding a 'message' listener: an extra
    // listener would make the stream release buffered data before its reader is attached
    const dispatch = target.dispatchEvent.bind(target)
    target.dispatchEvent = (evt: Event): boolean => {
      if (evt.type === 'message') onIn((evt as unknown as { data: { byteLength: number } }).data.byteLength)
      return dispatch(evt)
    }
    const send = target.send.bind(target)
    target.send = (buf) => {
      onOut(buf.byteLength)
      return send(buf)
    }
  }

  metrics (): Metrics {
    const self = this
    const register = (_name: string, options?: { calculate?: unknown }): any => options?.calculate != null ? undefined : NULL_METRIC
    return {
      trackMultiaddrConnection (maConn: MultiaddrConnection): void {
        self.count(maConn, n => { self.totals.bytesIn += n }, n => { self.totals.bytesOut += n })
      },
      trackProtocolStream (stream: Stream): void {
        const protocol = stream.protocol
        if (protocol == null) return
        const entry = self.totals.byProtocol.get(protocol) ?? { bytesIn: 0, bytesOut: 0 }
        self.totals.byProtocol.set(protocol, entry)
        self.count(stream, n => { entry.bytesIn += n }, n => { entry.bytesOut += n })
      },
      registerMetric: register,
      registerMetricGroup: register,
      registerCounter: register,
      registerCounterGroup: register,
      registerHistogram: register,
      registerHistogramGroup: register,
      registerSummary: register,
      registerSummaryGroup: register,
      traceFunction: (_name: string, fn: any) => fn,
      createTrace: () => undefined
    } as unknown as Metrics
  }
}
