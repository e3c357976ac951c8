import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface ChunksRequest {
  kind: ChunksRequest.Kind
  cids: Uint8Array<ArrayBuffer>[]
}

export namespace ChunksRequest {
  export enum Kind {
    UNKNOWN = 'UNKNOWN',
    HAVE = 'HAVE',
    GET = 'GET'
  }

  enum __KindValues {
    UNKNOWN = 0,
    HAVE = 1,
    GET = 2
  }

  export namespace Kind {
    export const codec = (): Codec<Kind> => {
      return enumeration<Kind>(__KindValues)
    }
  }

  let _codec: Codec<ChunksRequest>

  export const codec = (): Codec<ChunksRequest> => {
    if (_codec == null) {
      _codec = message<ChunksRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.kind != null && __KindValues[obj.kind] !== 0) {
          w.uint32(8)
          ChunksRequest.Kind.codec().encode(obj.kind, w)
        }

        if (obj.cids != null && obj.cids.length > 0) {
          for (const value of obj.cids) {
            w.uint32(18)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          kind: Kind.UNKNOWN,
          cids: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.kind = ChunksRequest.Kind.codec().decode(reader)
              break
            }
            case 2: {
              if (opts.limits?.cids != null && obj.cids.length === opts.limits.cids) {
                throw new MaxLengthError('Decode error - repeated field "cids" had too many elements')
              }

              obj.cids.push(reader.bytes())
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
          cids: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.kind`,
                value: ChunksRequest.Kind.codec().decode(reader)
              }
              break
            }
            case 2: {
              if (opts.limits?.cids != null && obj.cids === opts.limits.cids) {
                throw new MaxLengthError('Streaming decode error - repeated field "cids" had too many elements')
              }

              yield {
                field: `${prefix}.cids[]`,
                index: obj.cids,
                value: reader.bytes()
              }

              obj.cids++

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

  export interface ChunksRequestKindFieldEvent {
    field: '$.kind'
    value: ChunksRequest.Kind
  }

  export interface ChunksRequestCidsFieldEvent {
    field: '$.cids[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ChunksRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ChunksRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ChunksRequest>): ChunksRequest {
    return decodeMessage(buf, ChunksRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ChunksRequest>): Generator<ChunksRequestKindFieldEvent | ChunksRequestCidsFieldEvent> {
    return streamMessage(buf, ChunksRequest.codec(), opts)
  }
}

export interface ChunksResponse {
  code: ChunksResponse.Code
  error: string
  bitfield: Uint8Array<ArrayBuffer>
  cid: Uint8Array<ArrayBuffer>
  data: Uint8Array<ArrayBuffer>
}

export namespace ChunksResponse {
  export enum Code {
    OK = 'OK',
    BAD_REQUEST = 'BAD_REQUEST',
    NOT_FOUND = 'NOT_FOUND',
    BUSY = 'BUSY',
    INTERNAL_ERROR = 'INTERNAL_ERROR'
  }

  enum __CodeValues {
    OK = 0,
    BAD_REQUEST = 1,
    NOT_FOUND = 2,
    BUSY = 3,
    INTERNAL_ERROR = 4
  }

  export namespace Code {
    export const codec = (): Codec<Code> => {
      return enumeration<Code>(__CodeValues)
    }
  }

  let _codec: Codec<ChunksResponse>

  export const codec = (): Codec<ChunksResponse> => {
    if (_codec == null) {
      _codec = message<ChunksResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.code != null && __CodeValues[obj.code] !== 0) {
          w.uint32(8)
          ChunksResponse.Code.codec().encode(obj.code, w)
        }

        if ((obj.error != null && obj.error !== '')) {
          w.uint32(18)
          w.string(obj.error)
        }

        if ((obj.bitfield != null && obj.bitfield.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.bitfield)
        }

        if ((obj.cid != null && obj.cid.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.cid)
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.data)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: Code.OK,
          error: '',
          bitfield: uint8ArrayAlloc(0),
          cid: uint8ArrayAlloc(0),
          data: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = ChunksResponse.Code.codec().decode(reader)
              break
            }
            case 2: {
              obj.error = reader.string()
              break
            }
            case 3: {
              obj.bitfield = reader.bytes()
              break
            }
            case 4: {
              obj.cid = reader.bytes()
              break
            }
            case 5: {
              obj.data = reader.bytes()
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
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.code`,
                value: ChunksResponse.Code.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.error`,
                value: reader.string()
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
              yield {
                field: `${prefix}.cid`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.data`,
                value: reader.bytes()
              }
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

  export interface ChunksResponseCodeFieldEvent {
    field: '$.code'
    value: ChunksResponse.Code
  }

  export interface ChunksResponseErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export interface ChunksResponseBitfieldFieldEvent {
    field: '$.bitfield'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ChunksResponseCidFieldEvent {
    field: '$.cid'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ChunksResponseDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ChunksResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ChunksResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ChunksResponse>): ChunksResponse {
    return decodeMessage(buf, ChunksResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ChunksResponse>): Generator<ChunksResponseCodeFieldEvent | ChunksResponseErrorFieldEvent | ChunksResponseBitfieldFieldEvent | ChunksResponseCidFieldEvent | ChunksResponseDataFieldEvent> {
    return streamMessage(buf, ChunksResponse.codec(), opts)
  }
}
