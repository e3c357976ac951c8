/**
 * Which pieces of a release a node holds: bit i (byte i >> 3, mask 0x80 >> (i & 7))
 * is set when piece i is held, the layout the chunks protocol's HAVE answer
 * and the have exchange use on the wire.
 */
export class Bitfield {
  readonly bytes: Uint8Array
  private held = 0

  constructor (readonly size: number, bytes?: Uint8Array) {
    this.bytes = new Uint8Array(Math.ceil(size / 8))
    if (bytes != null) {
      this.bytes.set(bytes.subarray(0, this.bytes.length))
      for (let i = 0; i < size; i++) if (this.has(i)) this.held++
    }
  }

  has (i: number): boolean {
    return (this.bytes[i >> 3] & (0x80 >> (i & 7))) !== 0
  }

  /** sets bit i; false when it was set already */
  set (i: number): boolean {
    if (i < 0 || i >= this.size || this.has(i)) return false
    this.bytes[i >> 3] |= 0x80 >> (i & 7)
    this.held++
    return true
  }

  /** clears bit i (a peer turned out not to hold it); false when it was clear */
  unset (i: number): boolean {
    if (i < 0 || i >= this.size || !this.has(i)) return false
    this.bytes[i >> 3] &= ~(0x80 >> (i & 7))
    this.held--
    return true
  }

  get count (): number {
    return this.held
  }

  get complete (): boolean {
    return this.held === this.size
  }

  /** the wire form checked: exactly ceil(size / 8) bytes with the unused bits zero */
  static valid (size: number, bytes: Uint8Array): boolean {
    if (bytes.length !== Math.ceil(size / 8)) return false
    const spare = bytes.length * 8 - size
    return spare === 0 || (bytes[bytes.length - 1] & ((1 << spare) - 1)) === 0
  }
}
