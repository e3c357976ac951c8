/**
 * The `raw` layer, the baseline: a plain net.Socket, no encryption, no
 * muxer; Nagle off as @libp2p/tcp sets it.
 */
import { connect, createServer } from 'node:net'
import { once } from 'node:events'
import { Puller, serve, socketPipe } from '../pull.js'
import type { EndConfig, SenderAddress } from '../messages.js'
import type { Server } from 'node:net'

export async function rawSender (config: EndConfig, onError: (err: Error) => void): Promise<{ address: SenderAddress, server: Server }> {
  const server = createServer({ noDelay: true }, (socket) => {
    socket.on('error', onError)
    serve(socketPipe(socket), config.writeBytes, onError)
  })
  server.listen(0, config.host)
  await once(server, 'listening')
  const address = server.address()
  if (address == null || typeof address === 'string') throw new Error('the raw sender has no TCP port')
  return { address: { port: address.port }, server }
}

export async function rawReceiver (config: EndConfig, onError: (err: Error) => void): Promise<Puller> {
  const socket = connect({ host: config.host, port: config.target?.port ?? 0, noDelay: true })
  socket.on('error', onError)
  await once(socket, 'connect')
  return new Puller(socketPipe(socket), config.segmentBytes)
}
