/** the peer broke the have protocol: a malformed or oversized message, a wrong bitfield, a piece out of range */
export class HaveProtocolError extends Error {
  override readonly name = 'HaveProtocolError'
}
