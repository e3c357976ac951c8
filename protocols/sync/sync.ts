import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface SyncRequest {
  kind: SyncRequest.Kind
  path: string
  maxLength: bigint
}

export namespace SyncRequest {
  export enum Kind {
    UNKNOWN = 'UNKNOWN',
    FILE = 'FILE',
    SUMMARY = 'SUMMARY'
  }

  enum __KindValues {
    UNKNOWN = 0,
    FILE = 1,
    SUMMARY = 2
  }

  export namespace Kind {
    export const codec = (): Codec<Kind> => {
      return enumeration<Kind>(__KindValues)
    }
  }

  let _codec: Codec<SyncRequest>

  export const codec = (): Codec<SyncRequest> => {
    if (_codec == null) {
      _codec = message<SyncRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.kind != null && __KindValues[obj.kind] !== 0) {
          w.uint32(8)
          SyncRequest.Kind.codec().encode(obj.kind, w)
        }

        if ((obj.path != null && obj.path !== '')) {
          w.uint32(18)
          w.string(obj.path)
        }

        if ((obj.maxLength != null && obj.maxLength !== 0n)) {
          w.uint32(24)
          w.uint64(obj.maxLength)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          kind: Kind.UNKNOWN,
          path: '',
          maxLength: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.kind = SyncRequest.Kind.codec().decode(reader)
              break
            }
            case 2: {
              obj.path = reader.string()
              break
            }
            case 3: {
              obj.maxLength = reader.uint64()
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
                field: `${prefix}.kind`,
                value: SyncRequest.Kind.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.path`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.maxLength`,
                value: reader.uint64()
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

  export interface SyncRequestKindFieldEvent {
    field: '$.kind'
    value: SyncRequest.Kind
  }

  export interface SyncRequestPathFieldEvent {
    field: '$.path'
    value: string
  }

  export interface SyncRequestMaxLengthFieldEvent {
    field: '$.maxLength'
    value: bigint
  }

  export function encode (obj: Partial<SyncRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SyncRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SyncRequest>): SyncRequest {
    return decodeMessage(buf, SyncRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SyncRequest>): Generator<SyncRequestKindFieldEvent | SyncRequestPathFieldEvent | SyncRequestMaxLengthFieldEvent> {
    return streamMessage(buf, SyncRequest.codec(), opts)
  }
}

export interface SyncResponse {
  code: SyncResponse.Code
  error: string
  data: Uint8Array<ArrayBuffer>
  timestampVersion: number
  releases: string[]
}

export namespace SyncResponse {
  export enum Code {
    OK = 'OK',
    BAD_REQUEST = 'BAD_REQUEST',
    NOT_FOUND = 'NOT_FOUND',
    TOO_LARGE = 'TOO_LARGE',
    BUSY = 'BUSY',
    INTERNAL_ERROR = 'INTERNAL_ERROR'
  }

  enum __CodeValues {
    OK = 0,
    BAD_REQUEST = 1,
    NOT_FOUND = 2,
    TOO_LARGE = 3,
    BUSY = 4,
    INTERNAL_ERROR = 5
  }

  export namespace Code {
    export const codec = (): Codec<Code> => {
      return enumeration<Code>(__CodeValues)
    }
  }

  let _codec: Codec<SyncResponse>

  export const codec = (): Codec<SyncResponse> => {
    if (_codec == null) {
      _codec = message<SyncResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.code != null && __CodeValues[obj.code] !== 0) {
          w.uint32(8)
          SyncResponse.Code.codec().encode(obj.code, w)
        }

        if ((obj.error != null && obj.error !== '')) {
          w.uint32(18)
          w.string(obj.error)
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.data)
        }

        if ((obj.timestampVersion != null && obj.timestampVersion !== 0)) {
          w.uint32(32)
          w.uint32(obj.timestampVersion)
        }

        if (obj.releases != null && obj.releases.length > 0) {
          for (const value of obj.releases) {
            w.uint32(42)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: Code.OK,
          error: '',
          data: uint8ArrayAlloc(0),
          timestampVersion: 0,
          releases: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = SyncResponse.Code.codec().decode(reader)
              break
            }
            case 2: {
              obj.error = reader.string()
              break
            }
            case 3: {
              obj.data = reader.bytes()
              break
            }
            case 4: {
              obj.timestampVersion = reader.uint32()
              break
            }
            case 5: {
              if (opts.limits?.releases != null && obj.releases.length === opts.limits.releases) {
                throw new MaxLengthError('Decode error - repeated field "releases" had too many elements')
              }

              obj.releases.push(reader.string())
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
          releases: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.code`,
                value: SyncResponse.Code.codec().decode(reader)
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
                field: `${prefix}.data`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.timestampVersion`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              if (opts.limits?.releases != null && obj.releases === opts.limits.releases) {
                throw new MaxLengthError('Streaming decode error - repeated field "releases" had too many elements')
              }

              yield {
                field: `${prefix}.releases[]`,
                index: obj.releases,
                value: reader.string()
              }

              obj.releases++

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

  export interface SyncResponseCodeFieldEvent {
    field: '$.code'
    value: SyncResponse.Code
  }

  export interface SyncResponseErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export interface SyncResponseDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SyncResponseTimestampVersionFieldEvent {
    field: '$.timestampVersion'
    value: number
  }

  export interface SyncResponseReleasesFieldEvent {
    field: '$.releases[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<SyncResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SyncResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SyncResponse>): SyncResponse {
    return decodeMessage(buf, SyncResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SyncResponse>): Generator<SyncResponseCodeFieldEvent | SyncResponseErrorFieldEvent | SyncResponseDataFieldEvent | SyncResponseTimestampVersionFieldEvent | SyncResponseReleasesFieldEvent> {
    return streamMessage(buf, SyncResponse.codec(), opts)
  }
}
