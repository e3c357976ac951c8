import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface HaveMessage {
  release: Uint8Array<ArrayBuffer>
  count: number
  bitfield: Uint8Array<ArrayBuffer>
  added: number[]
  unknown: boolean
  fetching: number[]
}

export namespace HaveMessage {
  let _codec: Codec<HaveMessage>

  export const codec = (): Codec<HaveMessage> => {
    if (_codec == null) {
      _codec = message<HaveMessage>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.release != null && obj.release.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.release)
        }

        if ((obj.count != null && obj.count !== 0)) {
          w.uint32(16)
          w.uint32(obj.count)
        }

        if ((obj.bitfield != null && obj.bitfield.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.bitfield)
        }

        if (obj.added != null && obj.added.length > 0) {
          for (const value of obj.added) {
            w.uint32(32)
            w.uint32(value)
          }
        }

        if ((obj.unknown != null && obj.unknown !== false)) {
          w.uint32(40)
          w.bool(obj.unknown)
        }

        if (obj.fetching != null && obj.fetching.length > 0) {
          for (const value of obj.fetching) {
            w.uint32(48)
            w.uint32(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          release: uint8ArrayAlloc(0),
          count: 0,
          bitfield: uint8ArrayAlloc(0),
          added: [],
          unknown: false,
          fetching: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.release = reader.bytes()
              break
            }
            case 2: {
              obj.count = reader.uint32()
              break
            }
            case 3: {
              obj.bitfield = reader.bytes()
              break
            }
            case 4: {
              if (opts.limits?.added != null && obj.added.length === opts.limits.added) {
                throw new MaxLengthError('Decode error - repeated field "added" had too many elements')
              }

              obj.added.push(reader.uint32())
              break
            }
            case 5: {
              obj.unknown = reader.bool()
              break
            }
            case 6: {
              if (opts.limits?.fetching != null && obj.fetching.length === opts.limits.fetching) {
                throw new MaxLengthError('Decode error - repeated field "fetching" had too many elements')
              }

              obj.fetching.push(reader.uint32())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          added: 0,
          fetching: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.release`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.count`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.bitfield`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              if (opts.limits?.added != null && obj.added === opts.limits.added) {
                throw new MaxLengthError('Streaming decode error - repeated field "added" had too many elements')
              }

              yield {
                field: `${prefix}.added[]`,
                index: obj.added,
                value: reader.uint32()
              }

              obj.added++

              break
            }
            case 5: {
              yield {
                field: `${prefix}.unknown`,
                value: reader.bool()
              }
              break
            }
            case 6: {
              if (opts.limits?.fetching != null && obj.fetching === opts.limits.fetching) {
                throw new MaxLengthError('Streaming decode error - repeated field "fetching" had too many elements')
              }

              yield {
                field: `${prefix}.fetching[]`,
                index: obj.fetching,
                value: reader.uint32()
              }

              obj.fetching++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface HaveMessageReleaseFieldEvent {
    field: '$.release'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HaveMessageCountFieldEvent {
    field: '$.count'
    value: number
  }

  export interface HaveMessageBitfieldFieldEvent {
    field: '$.bitfield'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HaveMessageAddedFieldEvent {
    field: '$.added[]'
    index: number
    value: number
  }

  export interface HaveMessageUnknownFieldEvent {
    field: '$.unknown'
    value: boolean
  }

  export interface HaveMessageFetchingFieldEvent {
    field: '$.fetching[]'
    index: number
    value: number
  }

  export function encode (obj: Partial<HaveMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, HaveMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HaveMessage>): HaveMessage {
    return decodeMessage(buf, HaveMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HaveMessage>): Generator<HaveMessageReleaseFieldEvent | HaveMessageCountFieldEvent | HaveMessageBitfieldFieldEvent | HaveMessageAddedFieldEvent | HaveMessageUnknownFieldEvent | HaveMessageFetchingFieldEvent> {
    return streamMessage(buf, HaveMessage.codec(), opts)
  }
}
