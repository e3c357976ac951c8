/**
 * The local control channel between `umesh update ...` and a running node
 * daemon: a Unix socket in the data dir (`control.sock`, mode 0600, so only
 * the data dir's owner can install software through it; the status protocol
 * over libp2p stays read-only). One request per connection, as one JSON line;
 * the daemon answers with progress lines and then one result line.
 *
 * The same operations run directly on the data dir when no daemon runs
 * (operations.ts); the CLI then holds the data dir lock, so a daemon cannot
 * start and install at the same moment.
 */
import { chmodSync, existsSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { DATA_FILES, dataPaths } from '../data-dir/index.js'
import { UmeshError } from '../errors.js'
import type { Server, Socket } from 'node:net'
import type { Logger } from '@libp2p/interface'

export const CONTROL_SOCKET = DATA_FILES.controlSocket
/** a request is a few flags; anything longer is not a request */
const MAX_REQUEST_BYTES = 64 * 1024
/** one answer line (a history listing is the largest) */
const MAX_LINE_BYTES = 16 * 1024 * 1024

export interface ControlRequest {
  op: string
  args: Record<string, unknown>
}

export type ControlLine =
  | { type: 'say', line: string }
  | { type: 'result', ok: true, value: unknown }
  | { type: 'result', ok: false, error: string, name: string, exitCode: number }

export class ControlError extends UmeshError {
  override readonly name = 'ControlError'
}

/** an error the daemon reported, with its name and exit code */
export class RemoteError extends UmeshError {
  override readonly exitCode: number
  constructor (readonly remoteName: string, message: string, exitCode: number) {
    super(message)
    this.exitCode = exitCode
    this.name = remoteName
  }
}

export function controlSocketPath (dataDir: string): string {
  return dataPaths(dataDir).controlSocket
}

export type ControlHandler = (request: ControlRequest, say: (line: string) => void) => Promise<unknown>

function send (socket: Socket, line: ControlLine): void {
  if (!socket.destroyed) socket.write(JSON.stringify(line) + '\n')
}

/** listens on `<dataDir>/control.sock`; stale sockets from a crashed daemon are replaced (the data dir lock says none is alive) */
export async function startControlServer (dataDir: string, handler: ControlHandler, log: Logger): Promise<{ close: () => Promise<void> }> {
  const path = controlSocketPath(dataDir)
  if (Buffer.byteLength(path) > 100) throw new ControlError(`the control socket path ${path} is longer than a Unix socket allows (about 100 bytes); use a shorter --data-dir`)
  if (existsSync(path)) rmSync(path, { force: true })
  const server: Server = createServer(socket => {
    let buffered = ''
    let handled = false
    socket.setEncoding('utf8')
    socket.setTimeout(10_000, () => { if (!handled) socket.destroy() })
    socket.on('error', () => {})
    socket.on('data', (chunk: string) => {
      if (handled) return
      buffered += chunk
      if (buffered.length > MAX_REQUEST_BYTES) {
        handled = true
        send(socket, { type: 'result', ok: false, error: `a control request may hold at most ${MAX_REQUEST_BYTES} bytes`, name: 'ControlError', exitCode: 2 })
        socket.end()
        return
      }
      const nl = buffered.indexOf('\n')
      if (nl === -1) return
      handled = true
      socket.setTimeout(0)
      let request: ControlRequest
      try {
        request = JSON.parse(buffered.slice(0, nl))
        if (typeof request?.op !== 'string' || typeof request.args !== 'object' || request.args === null) throw new Error('expected {"op": string, "args": object}')
      } catch (err) {
        send(socket, { type: 'result', ok: false, error: `not a control request: ${(err as Error).message}`, name: 'ControlError', exitCode: 2 })
        socket.end()
        return
      }
      log('control: %s', request.op)
      handler(request, line => { send(socket, { type: 'say', line }) }).then(value => {
        send(socket, { type: 'result', ok: true, value })
      }, (err: any) => {
        send(socket, { type: 'result', ok: false, error: err?.message ?? String(err), name: err?.name ?? 'Error', exitCode: typeof err?.exitCode === 'number' ? err.exitCode : 1 })
      }).finally(() => socket.end())
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => { server.off('error', reject); resolve() })
  })
  chmodSync(path, 0o600)
  return {
    close: async () => {
      await new Promise<void>(resolve => server.close(() => { resolve() }))
      rmSync(path, { force: true })
    }
  }
}

/** sends one request to the daemon; progress lines go to `onSay`; the result's value is returned, an error rethrown with its name */
export async function callControl (dataDir: string, request: ControlRequest, onSay: (line: string) => void, timeoutMs: number): Promise<unknown> {
  const path = controlSocketPath(dataDir)
  return await new Promise((resolve, reject) => {
    const socket = createConnection(path)
    let buffered = ''
    let done = false
    const finish = (fn: () => void): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      fn()
    }
    const timer = setTimeout(() => { finish(() => { reject(new ControlError(`the daemon did not answer "${request.op}" within ${Math.round(timeoutMs / 1000)} s; see its log and \`umesh update status\``)) }) }, timeoutMs)
    socket.setEncoding('utf8')
    socket.on('connect', () => { socket.write(JSON.stringify(request) + '\n') })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      finish(() => { reject(new ControlError(`cannot reach the daemon's control socket ${path}: ${err.code ?? err.message}; is the node running on this data dir?`)) })
    })
    socket.on('data', (chunk: string) => {
      buffered += chunk
      if (buffered.length > MAX_LINE_BYTES) {
        finish(() => { reject(new ControlError(`the daemon sent a line longer than ${MAX_LINE_BYTES} bytes`)) })
        return
      }
      let nl
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const text = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        let line: ControlLine
        try {
          line = JSON.parse(text)
        } catch {
          finish(() => { reject(new ControlError('the daemon sent a line that is not JSON')) })
          return
        }
        if (line.type === 'say') onSay(line.line)
        else if (line.ok) finish(() => { resolve(line.value) })
        else finish(() => { reject(new RemoteError(line.name, line.error, line.exitCode)) })
      }
    })
    socket.on('close', () => { finish(() => { reject(new ControlError(`the daemon closed the control connection before answering "${request.op}"`)) }) })
  })
}
