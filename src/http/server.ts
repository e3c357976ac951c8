/**
 * Starts the daemon's one HTTP listener on --http-listen HOST:PORT. Beyond
 * loopback it refuses to start unless at least one API token exists, so a
 * management API is never reachable from the network without one.
 */
import { isIP } from 'node:net'
import { ConfigError } from '../errors.js'
import { buildApp } from './app.js'
import { RouteContext } from './context.js'
import { FleetHistory } from './history.js'
import type { App } from './app.js'
import type { HttpComponents, HttpInit } from './context.js'

export interface HttpServer {
  /** the address bound, HOST:PORT (the port chosen when 0 was asked) */
  address: string
  port: number
  app: App
  close: () => Promise<void>
}

export function splitHostPort (listen: string): { host: string, port: number } {
  const i = listen.lastIndexOf(':')
  return { host: listen.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(listen.slice(i + 1)) }
}

export function isLoopback (host: string): boolean {
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1'
}

export async function startHttp (init: HttpInit, components: HttpComponents): Promise<HttpServer> {
  const { host, port } = splitHostPort(init.listen)
  if (!isLoopback(host) && components.tokens.size === 0) {
    throw new ConfigError('httpListen', `${init.listen} is reachable beyond this machine and no API token exists; create one first (umesh api token create --data-dir DIR --role read --name NAME), or listen on 127.0.0.1`)
  }
  const history = new FleetHistory(init.historyIntervalMs)
  const ctx = new RouteContext(init, components, history)
  const app = await buildApp(ctx)
  try {
    await app.app.listen({ host, port })
  } catch (err) {
    await app.app.close()
    throw new ConfigError('httpListen', `cannot listen on ${init.listen}: ${(err as Error).message}`)
  }
  if (components.management != null) history.start(() => components.management?.()?.coordinator.book)
  const bound = app.app.server.address()
  const actual = typeof bound === 'object' && bound != null ? bound.port : port
  return {
    address: `${host.includes(':') ? `[${host}]` : host}:${actual}`,
    port: actual,
    app,
    close: async () => {
      history.stop()
      ctx.closing.abort()
      await app.app.close()
    }
  }
}
