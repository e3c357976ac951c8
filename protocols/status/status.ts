import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface StatusRequest {
  revision: number
}

export namespace StatusRequest {
  let _codec: Codec<StatusRequest>

  export const codec = (): Codec<StatusRequest> => {
    if (_codec == null) {
      _codec = message<StatusRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.revision != null && obj.revision !== 0)) {
          w.uint32(8)
          w.uint32(obj.revision)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          revision: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.revision = reader.uint32()
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
                field: `${prefix}.revision`,
                value: reader.uint32()
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

  export interface StatusRequestRevisionFieldEvent {
    field: '$.revision'
    value: number
  }

  export function encode (obj: Partial<StatusRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, StatusRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<StatusRequest>): StatusRequest {
    return decodeMessage(buf, StatusRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<StatusRequest>): Generator<StatusRequestRevisionFieldEvent> {
    return streamMessage(buf, StatusRequest.codec(), opts)
  }
}

export interface Phase {
  name: string
  state: string
  durationMs: number
  detail: string
}

export namespace Phase {
  let _codec: Codec<Phase>

  export const codec = (): Codec<Phase> => {
    if (_codec == null) {
      _codec = message<Phase>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
        }

        if ((obj.state != null && obj.state !== '')) {
          w.uint32(18)
          w.string(obj.state)
        }

        if ((obj.durationMs != null && obj.durationMs !== 0)) {
          w.uint32(24)
          w.uint32(obj.durationMs)
        }

        if ((obj.detail != null && obj.detail !== '')) {
          w.uint32(34)
          w.string(obj.detail)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          name: '',
          state: '',
          durationMs: 0,
          detail: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
              break
            }
            case 2: {
              obj.state = reader.string()
              break
            }
            case 3: {
              obj.durationMs = reader.uint32()
              break
            }
            case 4: {
              obj.detail = reader.string()
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
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.state`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.durationMs`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.detail`,
                value: reader.string()
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

  export interface PhaseNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface PhaseStateFieldEvent {
    field: '$.state'
    value: string
  }

  export interface PhaseDurationMsFieldEvent {
    field: '$.durationMs'
    value: number
  }

  export interface PhaseDetailFieldEvent {
    field: '$.detail'
    value: string
  }

  export function encode (obj: Partial<Phase>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Phase.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Phase>): Phase {
    return decodeMessage(buf, Phase.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Phase>): Generator<PhaseNameFieldEvent | PhaseStateFieldEvent | PhaseDurationMsFieldEvent | PhaseDetailFieldEvent> {
    return streamMessage(buf, Phase.codec(), opts)
  }
}

export interface PeerInfo {
  peerId: string
  addr: string
  direction: string
  relayed?: boolean
}

export namespace PeerInfo {
  let _codec: Codec<PeerInfo>

  export const codec = (): Codec<PeerInfo> => {
    if (_codec == null) {
      _codec = message<PeerInfo>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.peerId != null && obj.peerId !== '')) {
          w.uint32(10)
          w.string(obj.peerId)
        }

        if ((obj.addr != null && obj.addr !== '')) {
          w.uint32(18)
          w.string(obj.addr)
        }

        if ((obj.direction != null && obj.direction !== '')) {
          w.uint32(26)
          w.string(obj.direction)
        }

        if (obj.relayed != null) {
          w.uint32(32)
          w.bool(obj.relayed)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          peerId: '',
          addr: '',
          direction: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.peerId = reader.string()
              break
            }
            case 2: {
              obj.addr = reader.string()
              break
            }
            case 3: {
              obj.direction = reader.string()
              break
            }
            case 4: {
              obj.relayed = reader.bool()
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
                field: `${prefix}.peerId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.addr`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.direction`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.relayed`,
                value: reader.bool()
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

  export interface PeerInfoPeerIdFieldEvent {
    field: '$.peerId'
    value: string
  }

  export interface PeerInfoAddrFieldEvent {
    field: '$.addr'
    value: string
  }

  export interface PeerInfoDirectionFieldEvent {
    field: '$.direction'
    value: string
  }

  export interface PeerInfoRelayedFieldEvent {
    field: '$.relayed'
    value: boolean
  }

  export function encode (obj: Partial<PeerInfo>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, PeerInfo.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PeerInfo>): PeerInfo {
    return decodeMessage(buf, PeerInfo.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PeerInfo>): Generator<PeerInfoPeerIdFieldEvent | PeerInfoAddrFieldEvent | PeerInfoDirectionFieldEvent | PeerInfoRelayedFieldEvent> {
    return streamMessage(buf, PeerInfo.codec(), opts)
  }
}

export interface Resources {
  rssBytes: bigint
  heapUsedBytes: bigint
  cpuUserUs: bigint
  cpuSystemUs: bigint
  dataDirBytes: bigint
  heapTotalBytes: bigint
  externalBytes: bigint
  arrayBuffersBytes: bigint
}

export namespace Resources {
  let _codec: Codec<Resources>

  export const codec = (): Codec<Resources> => {
    if (_codec == null) {
      _codec = message<Resources>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.rssBytes != null && obj.rssBytes !== 0n)) {
          w.uint32(8)
          w.uint64(obj.rssBytes)
        }

        if ((obj.heapUsedBytes != null && obj.heapUsedBytes !== 0n)) {
          w.uint32(16)
          w.uint64(obj.heapUsedBytes)
        }

        if ((obj.cpuUserUs != null && obj.cpuUserUs !== 0n)) {
          w.uint32(24)
          w.uint64(obj.cpuUserUs)
        }

        if ((obj.cpuSystemUs != null && obj.cpuSystemUs !== 0n)) {
          w.uint32(32)
          w.uint64(obj.cpuSystemUs)
        }

        if ((obj.dataDirBytes != null && obj.dataDirBytes !== 0n)) {
          w.uint32(40)
          w.uint64(obj.dataDirBytes)
        }

        if ((obj.heapTotalBytes != null && obj.heapTotalBytes !== 0n)) {
          w.uint32(48)
          w.uint64(obj.heapTotalBytes)
        }

        if ((obj.externalBytes != null && obj.externalBytes !== 0n)) {
          w.uint32(56)
          w.uint64(obj.externalBytes)
        }

        if ((obj.arrayBuffersBytes != null && obj.arrayBuffersBytes !== 0n)) {
          w.uint32(64)
          w.uint64(obj.arrayBuffersBytes)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          rssBytes: 0n,
          heapUsedBytes: 0n,
          cpuUserUs: 0n,
          cpuSystemUs: 0n,
          dataDirBytes: 0n,
          heapTotalBytes: 0n,
          externalBytes: 0n,
          arrayBuffersBytes: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.rssBytes = reader.uint64()
              break
            }
            case 2: {
              obj.heapUsedBytes = reader.uint64()
              break
            }
            case 3: {
              obj.cpuUserUs = reader.uint64()
              break
            }
            case 4: {
              obj.cpuSystemUs = reader.uint64()
              break
            }
            case 5: {
              obj.dataDirBytes = reader.uint64()
              break
            }
            case 6: {
              obj.heapTotalBytes = reader.uint64()
              break
            }
            case 7: {
              obj.externalBytes = reader.uint64()
              break
            }
            case 8: {
              obj.arrayBuffersBytes = reader.uint64()
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
                field: `${prefix}.rssBytes`,
                value: reader.uint64()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.heapUsedBytes`,
                value: reader.uint64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.cpuUserUs`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.cpuSystemUs`,
                value: reader.uint64()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.dataDirBytes`,
                value: reader.uint64()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.heapTotalBytes`,
                value: reader.uint64()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.externalBytes`,
                value: reader.uint64()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.arrayBuffersBytes`,
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

  export interface ResourcesRssBytesFieldEvent {
    field: '$.rssBytes'
    value: bigint
  }

  export interface ResourcesHeapUsedBytesFieldEvent {
    field: '$.heapUsedBytes'
    value: bigint
  }

  export interface ResourcesCpuUserUsFieldEvent {
    field: '$.cpuUserUs'
    value: bigint
  }

  export interface ResourcesCpuSystemUsFieldEvent {
    field: '$.cpuSystemUs'
    value: bigint
  }

  export interface ResourcesDataDirBytesFieldEvent {
    field: '$.dataDirBytes'
    value: bigint
  }

  export interface ResourcesHeapTotalBytesFieldEvent {
    field: '$.heapTotalBytes'
    value: bigint
  }

  export interface ResourcesExternalBytesFieldEvent {
    field: '$.externalBytes'
    value: bigint
  }

  export interface ResourcesArrayBuffersBytesFieldEvent {
    field: '$.arrayBuffersBytes'
    value: bigint
  }

  export function encode (obj: Partial<Resources>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Resources.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Resources>): Resources {
    return decodeMessage(buf, Resources.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Resources>): Generator<ResourcesRssBytesFieldEvent | ResourcesHeapUsedBytesFieldEvent | ResourcesCpuUserUsFieldEvent | ResourcesCpuSystemUsFieldEvent | ResourcesDataDirBytesFieldEvent | ResourcesHeapTotalBytesFieldEvent | ResourcesExternalBytesFieldEvent | ResourcesArrayBuffersBytesFieldEvent> {
    return streamMessage(buf, Resources.codec(), opts)
  }
}

export interface Traffic {
  bytesIn: bigint
  bytesOut: bigint
}

export namespace Traffic {
  let _codec: Codec<Traffic>

  export const codec = (): Codec<Traffic> => {
    if (_codec == null) {
      _codec = message<Traffic>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.bytesIn != null && obj.bytesIn !== 0n)) {
          w.uint32(8)
          w.uint64(obj.bytesIn)
        }

        if ((obj.bytesOut != null && obj.bytesOut !== 0n)) {
          w.uint32(16)
          w.uint64(obj.bytesOut)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          bytesIn: 0n,
          bytesOut: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.bytesIn = reader.uint64()
              break
            }
            case 2: {
              obj.bytesOut = reader.uint64()
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
                field: `${prefix}.bytesIn`,
                value: reader.uint64()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.bytesOut`,
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

  export interface TrafficBytesInFieldEvent {
    field: '$.bytesIn'
    value: bigint
  }

  export interface TrafficBytesOutFieldEvent {
    field: '$.bytesOut'
    value: bigint
  }

  export function encode (obj: Partial<Traffic>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Traffic.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Traffic>): Traffic {
    return decodeMessage(buf, Traffic.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Traffic>): Generator<TrafficBytesInFieldEvent | TrafficBytesOutFieldEvent> {
    return streamMessage(buf, Traffic.codec(), opts)
  }
}

export interface ReleaseState {
  package: string
  version: string
  channel: string
  state: string
  chunksHeld: number
  chunksTotal: number
  bytesTotal: bigint
  error: string
}

export namespace ReleaseState {
  let _codec: Codec<ReleaseState>

  export const codec = (): Codec<ReleaseState> => {
    if (_codec == null) {
      _codec = message<ReleaseState>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.package != null && obj.package !== '')) {
          w.uint32(10)
          w.string(obj.package)
        }

        if ((obj.version != null && obj.version !== '')) {
          w.uint32(18)
          w.string(obj.version)
        }

        if ((obj.channel != null && obj.channel !== '')) {
          w.uint32(26)
          w.string(obj.channel)
        }

        if ((obj.state != null && obj.state !== '')) {
          w.uint32(34)
          w.string(obj.state)
        }

        if ((obj.chunksHeld != null && obj.chunksHeld !== 0)) {
          w.uint32(40)
          w.uint32(obj.chunksHeld)
        }

        if ((obj.chunksTotal != null && obj.chunksTotal !== 0)) {
          w.uint32(48)
          w.uint32(obj.chunksTotal)
        }

        if ((obj.bytesTotal != null && obj.bytesTotal !== 0n)) {
          w.uint32(56)
          w.uint64(obj.bytesTotal)
        }

        if ((obj.error != null && obj.error !== '')) {
          w.uint32(66)
          w.string(obj.error)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          package: '',
          version: '',
          channel: '',
          state: '',
          chunksHeld: 0,
          chunksTotal: 0,
          bytesTotal: 0n,
          error: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.package = reader.string()
              break
            }
            case 2: {
              obj.version = reader.string()
              break
            }
            case 3: {
              obj.channel = reader.string()
              break
            }
            case 4: {
              obj.state = reader.string()
              break
            }
            case 5: {
              obj.chunksHeld = reader.uint32()
              break
            }
            case 6: {
              obj.chunksTotal = reader.uint32()
              break
            }
            case 7: {
              obj.bytesTotal = reader.uint64()
              break
            }
            case 8: {
              obj.error = reader.string()
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
                field: `${prefix}.package`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.version`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.channel`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.state`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.chunksHeld`,
                value: reader.uint32()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.chunksTotal`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.bytesTotal`,
                value: reader.uint64()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.error`,
                value: reader.string()
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

  export interface ReleaseStatePackageFieldEvent {
    field: '$.package'
    value: string
  }

  export interface ReleaseStateVersionFieldEvent {
    field: '$.version'
    value: string
  }

  export interface ReleaseStateChannelFieldEvent {
    field: '$.channel'
    value: string
  }

  export interface ReleaseStateStateFieldEvent {
    field: '$.state'
    value: string
  }

  export interface ReleaseStateChunksHeldFieldEvent {
    field: '$.chunksHeld'
    value: number
  }

  export interface ReleaseStateChunksTotalFieldEvent {
    field: '$.chunksTotal'
    value: number
  }

  export interface ReleaseStateBytesTotalFieldEvent {
    field: '$.bytesTotal'
    value: bigint
  }

  export interface ReleaseStateErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export function encode (obj: Partial<ReleaseState>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ReleaseState.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReleaseState>): ReleaseState {
    return decodeMessage(buf, ReleaseState.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReleaseState>): Generator<ReleaseStatePackageFieldEvent | ReleaseStateVersionFieldEvent | ReleaseStateChannelFieldEvent | ReleaseStateStateFieldEvent | ReleaseStateChunksHeldFieldEvent | ReleaseStateChunksTotalFieldEvent | ReleaseStateBytesTotalFieldEvent | ReleaseStateErrorFieldEvent> {
    return streamMessage(buf, ReleaseState.codec(), opts)
  }
}

export interface TrustState {
  mode: string
  timestampVersion: number
  stale: boolean
  error: string
  lastRefreshMs: bigint
}

export namespace TrustState {
  let _codec: Codec<TrustState>

  export const codec = (): Codec<TrustState> => {
    if (_codec == null) {
      _codec = message<TrustState>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.mode != null && obj.mode !== '')) {
          w.uint32(10)
          w.string(obj.mode)
        }

        if ((obj.timestampVersion != null && obj.timestampVersion !== 0)) {
          w.uint32(16)
          w.uint32(obj.timestampVersion)
        }

        if ((obj.stale != null && obj.stale !== false)) {
          w.uint32(24)
          w.bool(obj.stale)
        }

        if ((obj.error != null && obj.error !== '')) {
          w.uint32(34)
          w.string(obj.error)
        }

        if ((obj.lastRefreshMs != null && obj.lastRefreshMs !== 0n)) {
          w.uint32(40)
          w.uint64(obj.lastRefreshMs)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          mode: '',
          timestampVersion: 0,
          stale: false,
          error: '',
          lastRefreshMs: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.mode = reader.string()
              break
            }
            case 2: {
              obj.timestampVersion = reader.uint32()
              break
            }
            case 3: {
              obj.stale = reader.bool()
              break
            }
            case 4: {
              obj.error = reader.string()
              break
            }
            case 5: {
              obj.lastRefreshMs = reader.uint64()
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
                field: `${prefix}.mode`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.timestampVersion`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.stale`,
                value: reader.bool()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.error`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.lastRefreshMs`,
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

  export interface TrustStateModeFieldEvent {
    field: '$.mode'
    value: string
  }

  export interface TrustStateTimestampVersionFieldEvent {
    field: '$.timestampVersion'
    value: number
  }

  export interface TrustStateStaleFieldEvent {
    field: '$.stale'
    value: boolean
  }

  export interface TrustStateErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export interface TrustStateLastRefreshMsFieldEvent {
    field: '$.lastRefreshMs'
    value: bigint
  }

  export function encode (obj: Partial<TrustState>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TrustState.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TrustState>): TrustState {
    return decodeMessage(buf, TrustState.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TrustState>): Generator<TrustStateModeFieldEvent | TrustStateTimestampVersionFieldEvent | TrustStateStaleFieldEvent | TrustStateErrorFieldEvent | TrustStateLastRefreshMsFieldEvent> {
    return streamMessage(buf, TrustState.codec(), opts)
  }
}

export interface PackageInstall {
  package: string
  current: string
  pending: string
  state: string
  progressDone: bigint
  progressTotal: bigint
  error: string
  available: string
  rollout: string
}

export namespace PackageInstall {
  let _codec: Codec<PackageInstall>

  export const codec = (): Codec<PackageInstall> => {
    if (_codec == null) {
      _codec = message<PackageInstall>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.package != null && obj.package !== '')) {
          w.uint32(10)
          w.string(obj.package)
        }

        if ((obj.current != null && obj.current !== '')) {
          w.uint32(18)
          w.string(obj.current)
        }

        if ((obj.pending != null && obj.pending !== '')) {
          w.uint32(26)
          w.string(obj.pending)
        }

        if ((obj.state != null && obj.state !== '')) {
          w.uint32(34)
          w.string(obj.state)
        }

        if ((obj.progressDone != null && obj.progressDone !== 0n)) {
          w.uint32(40)
          w.uint64(obj.progressDone)
        }

        if ((obj.progressTotal != null && obj.progressTotal !== 0n)) {
          w.uint32(48)
          w.uint64(obj.progressTotal)
        }

        if ((obj.error != null && obj.error !== '')) {
          w.uint32(58)
          w.string(obj.error)
        }

        if ((obj.available != null && obj.available !== '')) {
          w.uint32(66)
          w.string(obj.available)
        }

        if ((obj.rollout != null && obj.rollout !== '')) {
          w.uint32(74)
          w.string(obj.rollout)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          package: '',
          current: '',
          pending: '',
          state: '',
          progressDone: 0n,
          progressTotal: 0n,
          error: '',
          available: '',
          rollout: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.package = reader.string()
              break
            }
            case 2: {
              obj.current = reader.string()
              break
            }
            case 3: {
              obj.pending = reader.string()
              break
            }
            case 4: {
              obj.state = reader.string()
              break
            }
            case 5: {
              obj.progressDone = reader.uint64()
              break
            }
            case 6: {
              obj.progressTotal = reader.uint64()
              break
            }
            case 7: {
              obj.error = reader.string()
              break
            }
            case 8: {
              obj.available = reader.string()
              break
            }
            case 9: {
              obj.rollout = reader.string()
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
                field: `${prefix}.package`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.current`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.pending`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.state`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.progressDone`,
                value: reader.uint64()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.progressTotal`,
                value: reader.uint64()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.error`,
                value: reader.string()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.available`,
                value: reader.string()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.rollout`,
                value: reader.string()
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

  export interface PackageInstallPackageFieldEvent {
    field: '$.package'
    value: string
  }

  export interface PackageInstallCurrentFieldEvent {
    field: '$.current'
    value: string
  }

  export interface PackageInstallPendingFieldEvent {
    field: '$.pending'
    value: string
  }

  export interface PackageInstallStateFieldEvent {
    field: '$.state'
    value: string
  }

  export interface PackageInstallProgressDoneFieldEvent {
    field: '$.progressDone'
    value: bigint
  }

  export interface PackageInstallProgressTotalFieldEvent {
    field: '$.progressTotal'
    value: bigint
  }

  export interface PackageInstallErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export interface PackageInstallAvailableFieldEvent {
    field: '$.available'
    value: string
  }

  export interface PackageInstallRolloutFieldEvent {
    field: '$.rollout'
    value: string
  }

  export function encode (obj: Partial<PackageInstall>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, PackageInstall.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PackageInstall>): PackageInstall {
    return decodeMessage(buf, PackageInstall.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PackageInstall>): Generator<PackageInstallPackageFieldEvent | PackageInstallCurrentFieldEvent | PackageInstallPendingFieldEvent | PackageInstallStateFieldEvent | PackageInstallProgressDoneFieldEvent | PackageInstallProgressTotalFieldEvent | PackageInstallErrorFieldEvent | PackageInstallAvailableFieldEvent | PackageInstallRolloutFieldEvent> {
    return streamMessage(buf, PackageInstall.codec(), opts)
  }
}

export interface Bandwidth {
  uploadLimit: bigint
  downloadLimit: bigint
  uploadedBytes: bigint
  downloadedBytes: bigint
  uploadRate: bigint
  downloadRate: bigint
  swarmSessions: number
  uploadQueue: number
  sources: ChunkSource[]
}

export namespace Bandwidth {
  let _codec: Codec<Bandwidth>

  export const codec = (): Codec<Bandwidth> => {
    if (_codec == null) {
      _codec = message<Bandwidth>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.uploadLimit != null && obj.uploadLimit !== 0n)) {
          w.uint32(8)
          w.uint64(obj.uploadLimit)
        }

        if ((obj.downloadLimit != null && obj.downloadLimit !== 0n)) {
          w.uint32(16)
          w.uint64(obj.downloadLimit)
        }

        if ((obj.uploadedBytes != null && obj.uploadedBytes !== 0n)) {
          w.uint32(24)
          w.uint64(obj.uploadedBytes)
        }

        if ((obj.downloadedBytes != null && obj.downloadedBytes !== 0n)) {
          w.uint32(32)
          w.uint64(obj.downloadedBytes)
        }

        if ((obj.uploadRate != null && obj.uploadRate !== 0n)) {
          w.uint32(40)
          w.uint64(obj.uploadRate)
        }

        if ((obj.downloadRate != null && obj.downloadRate !== 0n)) {
          w.uint32(48)
          w.uint64(obj.downloadRate)
        }

        if ((obj.swarmSessions != null && obj.swarmSessions !== 0)) {
          w.uint32(56)
          w.uint32(obj.swarmSessions)
        }

        if ((obj.uploadQueue != null && obj.uploadQueue !== 0)) {
          w.uint32(64)
          w.uint32(obj.uploadQueue)
        }

        if (obj.sources != null && obj.sources.length > 0) {
          for (const value of obj.sources) {
            w.uint32(74)
            ChunkSource.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          uploadLimit: 0n,
          downloadLimit: 0n,
          uploadedBytes: 0n,
          downloadedBytes: 0n,
          uploadRate: 0n,
          downloadRate: 0n,
          swarmSessions: 0,
          uploadQueue: 0,
          sources: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.uploadLimit = reader.uint64()
              break
            }
            case 2: {
              obj.downloadLimit = reader.uint64()
              break
            }
            case 3: {
              obj.uploadedBytes = reader.uint64()
              break
            }
            case 4: {
              obj.downloadedBytes = reader.uint64()
              break
            }
            case 5: {
              obj.uploadRate = reader.uint64()
              break
            }
            case 6: {
              obj.downloadRate = reader.uint64()
              break
            }
            case 7: {
              obj.swarmSessions = reader.uint32()
              break
            }
            case 8: {
              obj.uploadQueue = reader.uint32()
              break
            }
            case 9: {
              if (opts.limits?.sources != null && obj.sources.length === opts.limits.sources) {
                throw new MaxLengthError('Decode error - repeated field "sources" had too many elements')
              }

              obj.sources.push(ChunkSource.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.sources$
              }))
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
          sources: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.uploadLimit`,
                value: reader.uint64()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.downloadLimit`,
                value: reader.uint64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.uploadedBytes`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.downloadedBytes`,
                value: reader.uint64()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.uploadRate`,
                value: reader.uint64()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.downloadRate`,
                value: reader.uint64()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.swarmSessions`,
                value: reader.uint32()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.uploadQueue`,
                value: reader.uint32()
              }
              break
            }
            case 9: {
              if (opts.limits?.sources != null && obj.sources === opts.limits.sources) {
                throw new MaxLengthError('Streaming decode error - repeated field "sources" had too many elements')
              }

              for (const evt of ChunkSource.codec().stream(reader, reader.uint32(), `${prefix}.sources[]`, {
                limits: opts.limits?.sources$
              })) {
                yield {
                  ...evt,
                  index: obj.sources
                }
              }

              obj.sources++

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

  export interface BandwidthUploadLimitFieldEvent {
    field: '$.uploadLimit'
    value: bigint
  }

  export interface BandwidthDownloadLimitFieldEvent {
    field: '$.downloadLimit'
    value: bigint
  }

  export interface BandwidthUploadedBytesFieldEvent {
    field: '$.uploadedBytes'
    value: bigint
  }

  export interface BandwidthDownloadedBytesFieldEvent {
    field: '$.downloadedBytes'
    value: bigint
  }

  export interface BandwidthUploadRateFieldEvent {
    field: '$.uploadRate'
    value: bigint
  }

  export interface BandwidthDownloadRateFieldEvent {
    field: '$.downloadRate'
    value: bigint
  }

  export interface BandwidthSwarmSessionsFieldEvent {
    field: '$.swarmSessions'
    value: number
  }

  export interface BandwidthUploadQueueFieldEvent {
    field: '$.uploadQueue'
    value: number
  }

  export interface BandwidthSourcesPeerIdFieldEvent {
    field: '$.sources[].peerId'
    value: string
    index: number
  }

  export interface BandwidthSourcesBytesFieldEvent {
    field: '$.sources[].bytes'
    value: bigint
    index: number
  }

  export interface BandwidthSourcesLinkFieldEvent {
    field: '$.sources[].link'
    value: string
    index: number
  }

  export function encode (obj: Partial<Bandwidth>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Bandwidth.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Bandwidth>): Bandwidth {
    return decodeMessage(buf, Bandwidth.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Bandwidth>): Generator<BandwidthUploadLimitFieldEvent | BandwidthDownloadLimitFieldEvent | BandwidthUploadedBytesFieldEvent | BandwidthDownloadedBytesFieldEvent | BandwidthUploadRateFieldEvent | BandwidthDownloadRateFieldEvent | BandwidthSwarmSessionsFieldEvent | BandwidthUploadQueueFieldEvent | BandwidthSourcesPeerIdFieldEvent | BandwidthSourcesBytesFieldEvent | BandwidthSourcesLinkFieldEvent> {
    return streamMessage(buf, Bandwidth.codec(), opts)
  }
}

export interface NatState {
  reachability: string
  publicAddrs: string[]
  relayAddrs: string[]
  relayReservations: number
  relayedOpened: number
  upgradedDirect: number
  relayService: boolean
}

export namespace NatState {
  let _codec: Codec<NatState>

  export const codec = (): Codec<NatState> => {
    if (_codec == null) {
      _codec = message<NatState>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.reachability != null && obj.reachability !== '')) {
          w.uint32(10)
          w.string(obj.reachability)
        }

        if (obj.publicAddrs != null && obj.publicAddrs.length > 0) {
          for (const value of obj.publicAddrs) {
            w.uint32(18)
            w.string(value)
          }
        }

        if (obj.relayAddrs != null && obj.relayAddrs.length > 0) {
          for (const value of obj.relayAddrs) {
            w.uint32(26)
            w.string(value)
          }
        }

        if ((obj.relayReservations != null && obj.relayReservations !== 0)) {
          w.uint32(32)
          w.uint32(obj.relayReservations)
        }

        if ((obj.relayedOpened != null && obj.relayedOpened !== 0)) {
          w.uint32(40)
          w.uint32(obj.relayedOpened)
        }

        if ((obj.upgradedDirect != null && obj.upgradedDirect !== 0)) {
          w.uint32(48)
          w.uint32(obj.upgradedDirect)
        }

        if ((obj.relayService != null && obj.relayService !== false)) {
          w.uint32(56)
          w.bool(obj.relayService)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          reachability: '',
          publicAddrs: [],
          relayAddrs: [],
          relayReservations: 0,
          relayedOpened: 0,
          upgradedDirect: 0,
          relayService: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.reachability = reader.string()
              break
            }
            case 2: {
              if (opts.limits?.publicAddrs != null && obj.publicAddrs.length === opts.limits.publicAddrs) {
                throw new MaxLengthError('Decode error - repeated field "publicAddrs" had too many elements')
              }

              obj.publicAddrs.push(reader.string())
              break
            }
            case 3: {
              if (opts.limits?.relayAddrs != null && obj.relayAddrs.length === opts.limits.relayAddrs) {
                throw new MaxLengthError('Decode error - repeated field "relayAddrs" had too many elements')
              }

              obj.relayAddrs.push(reader.string())
              break
            }
            case 4: {
              obj.relayReservations = reader.uint32()
              break
            }
            case 5: {
              obj.relayedOpened = reader.uint32()
              break
            }
            case 6: {
              obj.upgradedDirect = reader.uint32()
              break
            }
            case 7: {
              obj.relayService = reader.bool()
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
          publicAddrs: 0,
          relayAddrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.reachability`,
                value: reader.string()
              }
              break
            }
            case 2: {
              if (opts.limits?.publicAddrs != null && obj.publicAddrs === opts.limits.publicAddrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "publicAddrs" had too many elements')
              }

              yield {
                field: `${prefix}.publicAddrs[]`,
                index: obj.publicAddrs,
                value: reader.string()
              }

              obj.publicAddrs++

              break
            }
            case 3: {
              if (opts.limits?.relayAddrs != null && obj.relayAddrs === opts.limits.relayAddrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "relayAddrs" had too many elements')
              }

              yield {
                field: `${prefix}.relayAddrs[]`,
                index: obj.relayAddrs,
                value: reader.string()
              }

              obj.relayAddrs++

              break
            }
            case 4: {
              yield {
                field: `${prefix}.relayReservations`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.relayedOpened`,
                value: reader.uint32()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.upgradedDirect`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.relayService`,
                value: reader.bool()
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

  export interface NatStateReachabilityFieldEvent {
    field: '$.reachability'
    value: string
  }

  export interface NatStatePublicAddrsFieldEvent {
    field: '$.publicAddrs[]'
    index: number
    value: string
  }

  export interface NatStateRelayAddrsFieldEvent {
    field: '$.relayAddrs[]'
    index: number
    value: string
  }

  export interface NatStateRelayReservationsFieldEvent {
    field: '$.relayReservations'
    value: number
  }

  export interface NatStateRelayedOpenedFieldEvent {
    field: '$.relayedOpened'
    value: number
  }

  export interface NatStateUpgradedDirectFieldEvent {
    field: '$.upgradedDirect'
    value: number
  }

  export interface NatStateRelayServiceFieldEvent {
    field: '$.relayService'
    value: boolean
  }

  export function encode (obj: Partial<NatState>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, NatState.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<NatState>): NatState {
    return decodeMessage(buf, NatState.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<NatState>): Generator<NatStateReachabilityFieldEvent | NatStatePublicAddrsFieldEvent | NatStateRelayAddrsFieldEvent | NatStateRelayReservationsFieldEvent | NatStateRelayedOpenedFieldEvent | NatStateUpgradedDirectFieldEvent | NatStateRelayServiceFieldEvent> {
    return streamMessage(buf, NatState.codec(), opts)
  }
}

export interface ChunkSource {
  peerId: string
  bytes: bigint
  link: string
}

export namespace ChunkSource {
  let _codec: Codec<ChunkSource>

  export const codec = (): Codec<ChunkSource> => {
    if (_codec == null) {
      _codec = message<ChunkSource>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.peerId != null && obj.peerId !== '')) {
          w.uint32(10)
          w.string(obj.peerId)
        }

        if ((obj.bytes != null && obj.bytes !== 0n)) {
          w.uint32(16)
          w.uint64(obj.bytes)
        }

        if ((obj.link != null && obj.link !== '')) {
          w.uint32(26)
          w.string(obj.link)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          peerId: '',
          bytes: 0n,
          link: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.peerId = reader.string()
              break
            }
            case 2: {
              obj.bytes = reader.uint64()
              break
            }
            case 3: {
              obj.link = reader.string()
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
                field: `${prefix}.peerId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.bytes`,
                value: reader.uint64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.link`,
                value: reader.string()
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

  export interface ChunkSourcePeerIdFieldEvent {
    field: '$.peerId'
    value: string
  }

  export interface ChunkSourceBytesFieldEvent {
    field: '$.bytes'
    value: bigint
  }

  export interface ChunkSourceLinkFieldEvent {
    field: '$.link'
    value: string
  }

  export function encode (obj: Partial<ChunkSource>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ChunkSource.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ChunkSource>): ChunkSource {
    return decodeMessage(buf, ChunkSource.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ChunkSource>): Generator<ChunkSourcePeerIdFieldEvent | ChunkSourceBytesFieldEvent | ChunkSourceLinkFieldEvent> {
    return streamMessage(buf, ChunkSource.codec(), opts)
  }
}

export interface StatusResponse {
  code: StatusResponse.Code
  error: string
  peerId: string
  role: string
  network: string
  version: string
  uptimeMs: bigint
  phases: Phase[]
  connections: number
  peers: PeerInfo[]
  listenAddrs: string[]
  resources?: Resources
  traffic?: Traffic
  phase: string
  startedAtMs: bigint
  releases: ReleaseState[]
  trust?: TrustState
  installs: PackageInstall[]
  bandwidth?: Bandwidth
  nat?: NatState
  labels: string[]
}

export namespace StatusResponse {
  export enum Code {
    OK = 'OK',
    BAD_REQUEST = 'BAD_REQUEST',
    INTERNAL_ERROR = 'INTERNAL_ERROR',
    BUSY = 'BUSY'
  }

  enum __CodeValues {
    OK = 0,
    BAD_REQUEST = 1,
    INTERNAL_ERROR = 2,
    BUSY = 3
  }

  export namespace Code {
    export const codec = (): Codec<Code> => {
      return enumeration<Code>(__CodeValues)
    }
  }

  let _codec: Codec<StatusResponse>

  export const codec = (): Codec<StatusResponse> => {
    if (_codec == null) {
      _codec = message<StatusResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.code != null && __CodeValues[obj.code] !== 0) {
          w.uint32(8)
          StatusResponse.Code.codec().encode(obj.code, w)
        }

        if ((obj.error != null && obj.error !== '')) {
          w.uint32(18)
          w.string(obj.error)
        }

        if ((obj.peerId != null && obj.peerId !== '')) {
          w.uint32(26)
          w.string(obj.peerId)
        }

        if ((obj.role != null && obj.role !== '')) {
          w.uint32(34)
          w.string(obj.role)
        }

        if ((obj.network != null && obj.network !== '')) {
          w.uint32(42)
          w.string(obj.network)
        }

        if ((obj.version != null && obj.version !== '')) {
          w.uint32(50)
          w.string(obj.version)
        }

        if ((obj.uptimeMs != null && obj.uptimeMs !== 0n)) {
          w.uint32(56)
          w.uint64(obj.uptimeMs)
        }

        if (obj.phases != null && obj.phases.length > 0) {
          for (const value of obj.phases) {
            w.uint32(66)
            Phase.codec().encode(value, w)
          }
        }

        if ((obj.connections != null && obj.connections !== 0)) {
          w.uint32(72)
          w.uint32(obj.connections)
        }

        if (obj.peers != null && obj.peers.length > 0) {
          for (const value of obj.peers) {
            w.uint32(82)
            PeerInfo.codec().encode(value, w)
          }
        }

        if (obj.listenAddrs != null && obj.listenAddrs.length > 0) {
          for (const value of obj.listenAddrs) {
            w.uint32(90)
            w.string(value)
          }
        }

        if (obj.resources != null) {
          w.uint32(98)
          Resources.codec().encode(obj.resources, w)
        }

        if (obj.traffic != null) {
          w.uint32(106)
          Traffic.codec().encode(obj.traffic, w)
        }

        if ((obj.phase != null && obj.phase !== '')) {
          w.uint32(114)
          w.string(obj.phase)
        }

        if ((obj.startedAtMs != null && obj.startedAtMs !== 0n)) {
          w.uint32(120)
          w.uint64(obj.startedAtMs)
        }

        if (obj.releases != null && obj.releases.length > 0) {
          for (const value of obj.releases) {
            w.uint32(130)
            ReleaseState.codec().encode(value, w)
          }
        }

        if (obj.trust != null) {
          w.uint32(138)
          TrustState.codec().encode(obj.trust, w)
        }

        if (obj.installs != null && obj.installs.length > 0) {
          for (const value of obj.installs) {
            w.uint32(146)
            PackageInstall.codec().encode(value, w)
          }
        }

        if (obj.bandwidth != null) {
          w.uint32(154)
          Bandwidth.codec().encode(obj.bandwidth, w)
        }

        if (obj.nat != null) {
          w.uint32(162)
          NatState.codec().encode(obj.nat, w)
        }

        if (obj.labels != null && obj.labels.length > 0) {
          for (const value of obj.labels) {
            w.uint32(170)
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
          peerId: '',
          role: '',
          network: '',
          version: '',
          uptimeMs: 0n,
          phases: [],
          connections: 0,
          peers: [],
          listenAddrs: [],
          phase: '',
          startedAtMs: 0n,
          releases: [],
          installs: [],
          labels: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = StatusResponse.Code.codec().decode(reader)
              break
            }
            case 2: {
              obj.error = reader.string()
              break
            }
            case 3: {
              obj.peerId = reader.string()
              break
            }
            case 4: {
              obj.role = reader.string()
              break
            }
            case 5: {
              obj.network = reader.string()
              break
            }
            case 6: {
              obj.version = reader.string()
              break
            }
            case 7: {
              obj.uptimeMs = reader.uint64()
              break
            }
            case 8: {
              if (opts.limits?.phases != null && obj.phases.length === opts.limits.phases) {
                throw new MaxLengthError('Decode error - repeated field "phases" had too many elements')
              }

              obj.phases.push(Phase.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.phases$
              }))
              break
            }
            case 9: {
              obj.connections = reader.uint32()
              break
            }
            case 10: {
              if (opts.limits?.peers != null && obj.peers.length === opts.limits.peers) {
                throw new MaxLengthError('Decode error - repeated field "peers" had too many elements')
              }

              obj.peers.push(PeerInfo.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.peers$
              }))
              break
            }
            case 11: {
              if (opts.limits?.listenAddrs != null && obj.listenAddrs.length === opts.limits.listenAddrs) {
                throw new MaxLengthError('Decode error - repeated field "listenAddrs" had too many elements')
              }

              obj.listenAddrs.push(reader.string())
              break
            }
            case 12: {
              obj.resources = Resources.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.resources
              })
              break
            }
            case 13: {
              obj.traffic = Traffic.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.traffic
              })
              break
            }
            case 14: {
              obj.phase = reader.string()
              break
            }
            case 15: {
              obj.startedAtMs = reader.uint64()
              break
            }
            case 16: {
              if (opts.limits?.releases != null && obj.releases.length === opts.limits.releases) {
                throw new MaxLengthError('Decode error - repeated field "releases" had too many elements')
              }

              obj.releases.push(ReleaseState.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.releases$
              }))
              break
            }
            case 17: {
              obj.trust = TrustState.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.trust
              })
              break
            }
            case 18: {
              if (opts.limits?.installs != null && obj.installs.length === opts.limits.installs) {
                throw new MaxLengthError('Decode error - repeated field "installs" had too many elements')
              }

              obj.installs.push(PackageInstall.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.installs$
              }))
              break
            }
            case 19: {
              obj.bandwidth = Bandwidth.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.bandwidth
              })
              break
            }
            case 20: {
              obj.nat = NatState.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.nat
              })
              break
            }
            case 21: {
              if (opts.limits?.labels != null && obj.labels.length === opts.limits.labels) {
                throw new MaxLengthError('Decode error - repeated field "labels" had too many elements')
              }

              obj.labels.push(reader.string())
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
          phases: 0,
          peers: 0,
          listenAddrs: 0,
          releases: 0,
          installs: 0,
          labels: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.code`,
                value: StatusResponse.Code.codec().decode(reader)
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
                field: `${prefix}.peerId`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.role`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.network`,
                value: reader.string()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.version`,
                value: reader.string()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.uptimeMs`,
                value: reader.uint64()
              }
              break
            }
            case 8: {
              if (opts.limits?.phases != null && obj.phases === opts.limits.phases) {
                throw new MaxLengthError('Streaming decode error - repeated field "phases" had too many elements')
              }

              for (const evt of Phase.codec().stream(reader, reader.uint32(), `${prefix}.phases[]`, {
                limits: opts.limits?.phases$
              })) {
                yield {
                  ...evt,
                  index: obj.phases
                }
              }

              obj.phases++

              break
            }
            case 9: {
              yield {
                field: `${prefix}.connections`,
                value: reader.uint32()
              }
              break
            }
            case 10: {
              if (opts.limits?.peers != null && obj.peers === opts.limits.peers) {
                throw new MaxLengthError('Streaming decode error - repeated field "peers" had too many elements')
              }

              for (const evt of PeerInfo.codec().stream(reader, reader.uint32(), `${prefix}.peers[]`, {
                limits: opts.limits?.peers$
              })) {
                yield {
                  ...evt,
                  index: obj.peers
                }
              }

              obj.peers++

              break
            }
            case 11: {
              if (opts.limits?.listenAddrs != null && obj.listenAddrs === opts.limits.listenAddrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "listenAddrs" had too many elements')
              }

              yield {
                field: `${prefix}.listenAddrs[]`,
                index: obj.listenAddrs,
                value: reader.string()
              }

              obj.listenAddrs++

              break
            }
            case 12: {
              yield * Resources.codec().stream(reader, reader.uint32(), `${prefix}.resources`, {
                limits: opts.limits?.resources
              })

              break
            }
            case 13: {
              yield * Traffic.codec().stream(reader, reader.uint32(), `${prefix}.traffic`, {
                limits: opts.limits?.traffic
              })

              break
            }
            case 14: {
              yield {
                field: `${prefix}.phase`,
                value: reader.string()
              }
              break
            }
            case 15: {
              yield {
                field: `${prefix}.startedAtMs`,
                value: reader.uint64()
              }
              break
            }
            case 16: {
              if (opts.limits?.releases != null && obj.releases === opts.limits.releases) {
                throw new MaxLengthError('Streaming decode error - repeated field "releases" had too many elements')
              }

              for (const evt of ReleaseState.codec().stream(reader, reader.uint32(), `${prefix}.releases[]`, {
                limits: opts.limits?.releases$
              })) {
                yield {
                  ...evt,
                  index: obj.releases
                }
              }

              obj.releases++

              break
            }
            case 17: {
              yield * TrustState.codec().stream(reader, reader.uint32(), `${prefix}.trust`, {
                limits: opts.limits?.trust
              })

              break
            }
            case 18: {
              if (opts.limits?.installs != null && obj.installs === opts.limits.installs) {
                throw new MaxLengthError('Streaming decode error - repeated field "installs" had too many elements')
              }

              for (const evt of PackageInstall.codec().stream(reader, reader.uint32(), `${prefix}.installs[]`, {
                limits: opts.limits?.installs$
              })) {
                yield {
                  ...evt,
                  index: obj.installs
                }
              }

              obj.installs++

              break
            }
            case 19: {
              yield * Bandwidth.codec().stream(reader, reader.uint32(), `${prefix}.bandwidth`, {
                limits: opts.limits?.bandwidth
              })

              break
            }
            case 20: {
              yield * NatState.codec().stream(reader, reader.uint32(), `${prefix}.nat`, {
                limits: opts.limits?.nat
              })

              break
            }
            case 21: {
              if (opts.limits?.labels != null && obj.labels === opts.limits.labels) {
                throw new MaxLengthError('Streaming decode error - repeated field "labels" had too many elements')
              }

              yield {
                field: `${prefix}.labels[]`,
                index: obj.labels,
                value: reader.string()
              }

              obj.labels++

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

  export interface StatusResponseCodeFieldEvent {
    field: '$.code'
    value: StatusResponse.Code
  }

  export interface StatusResponseErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export interface StatusResponsePeerIdFieldEvent {
    field: '$.peerId'
    value: string
  }

  export interface StatusResponseRoleFieldEvent {
    field: '$.role'
    value: string
  }

  export interface StatusResponseNetworkFieldEvent {
    field: '$.network'
    value: string
  }

  export interface StatusResponseVersionFieldEvent {
    field: '$.version'
    value: string
  }

  export interface StatusResponseUptimeMsFieldEvent {
    field: '$.uptimeMs'
    value: bigint
  }

  export interface StatusResponsePhasesNameFieldEvent {
    field: '$.phases[].name'
    value: string
    index: number
  }

  export interface StatusResponsePhasesStateFieldEvent {
    field: '$.phases[].state'
    value: string
    index: number
  }

  export interface StatusResponsePhasesDurationMsFieldEvent {
    field: '$.phases[].durationMs'
    value: number
    index: number
  }

  export interface StatusResponsePhasesDetailFieldEvent {
    field: '$.phases[].detail'
    value: string
    index: number
  }

  export interface StatusResponseConnectionsFieldEvent {
    field: '$.connections'
    value: number
  }

  export interface StatusResponsePeersPeerIdFieldEvent {
    field: '$.peers[].peerId'
    value: string
    index: number
  }

  export interface StatusResponsePeersAddrFieldEvent {
    field: '$.peers[].addr'
    value: string
    index: number
  }

  export interface StatusResponsePeersDirectionFieldEvent {
    field: '$.peers[].direction'
    value: string
    index: number
  }

  export interface StatusResponsePeersRelayedFieldEvent {
    field: '$.peers[].relayed'
    value: boolean
    index: number
  }

  export interface StatusResponseListenAddrsFieldEvent {
    field: '$.listenAddrs[]'
    index: number
    value: string
  }

  export interface StatusResponseResourcesRssBytesFieldEvent {
    field: '$.resources.rssBytes'
    value: bigint
  }

  export interface StatusResponseResourcesHeapUsedBytesFieldEvent {
    field: '$.resources.heapUsedBytes'
    value: bigint
  }

  export interface StatusResponseResourcesCpuUserUsFieldEvent {
    field: '$.resources.cpuUserUs'
    value: bigint
  }

  export interface StatusResponseResourcesCpuSystemUsFieldEvent {
    field: '$.resources.cpuSystemUs'
    value: bigint
  }

  export interface StatusResponseResourcesDataDirBytesFieldEvent {
    field: '$.resources.dataDirBytes'
    value: bigint
  }

  export interface StatusResponseResourcesHeapTotalBytesFieldEvent {
    field: '$.resources.heapTotalBytes'
    value: bigint
  }

  export interface StatusResponseResourcesExternalBytesFieldEvent {
    field: '$.resources.externalBytes'
    value: bigint
  }

  export interface StatusResponseResourcesArrayBuffersBytesFieldEvent {
    field: '$.resources.arrayBuffersBytes'
    value: bigint
  }

  export interface StatusResponseTrafficBytesInFieldEvent {
    field: '$.traffic.bytesIn'
    value: bigint
  }

  export interface StatusResponseTrafficBytesOutFieldEvent {
    field: '$.traffic.bytesOut'
    value: bigint
  }

  export interface StatusResponsePhaseFieldEvent {
    field: '$.phase'
    value: string
  }

  export interface StatusResponseStartedAtMsFieldEvent {
    field: '$.startedAtMs'
    value: bigint
  }

  export interface StatusResponseReleasesPackageFieldEvent {
    field: '$.releases[].package'
    value: string
    index: number
  }

  export interface StatusResponseReleasesVersionFieldEvent {
    field: '$.releases[].version'
    value: string
    index: number
  }

  export interface StatusResponseReleasesChannelFieldEvent {
    field: '$.releases[].channel'
    value: string
    index: number
  }

  export interface StatusResponseReleasesStateFieldEvent {
    field: '$.releases[].state'
    value: string
    index: number
  }

  export interface StatusResponseReleasesChunksHeldFieldEvent {
    field: '$.releases[].chunksHeld'
    value: number
    index: number
  }

  export interface StatusResponseReleasesChunksTotalFieldEvent {
    field: '$.releases[].chunksTotal'
    value: number
    index: number
  }

  export interface StatusResponseReleasesBytesTotalFieldEvent {
    field: '$.releases[].bytesTotal'
    value: bigint
    index: number
  }

  export interface StatusResponseReleasesErrorFieldEvent {
    field: '$.releases[].error'
    value: string
    index: number
  }

  export interface StatusResponseTrustModeFieldEvent {
    field: '$.trust.mode'
    value: string
  }

  export interface StatusResponseTrustTimestampVersionFieldEvent {
    field: '$.trust.timestampVersion'
    value: number
  }

  export interface StatusResponseTrustStaleFieldEvent {
    field: '$.trust.stale'
    value: boolean
  }

  export interface StatusResponseTrustErrorFieldEvent {
    field: '$.trust.error'
    value: string
  }

  export interface StatusResponseTrustLastRefreshMsFieldEvent {
    field: '$.trust.lastRefreshMs'
    value: bigint
  }

  export interface StatusResponseInstallsPackageFieldEvent {
    field: '$.installs[].package'
    value: string
    index: number
  }

  export interface StatusResponseInstallsCurrentFieldEvent {
    field: '$.installs[].current'
    value: string
    index: number
  }

  export interface StatusResponseInstallsPendingFieldEvent {
    field: '$.installs[].pending'
    value: string
    index: number
  }

  export interface StatusResponseInstallsStateFieldEvent {
    field: '$.installs[].state'
    value: string
    index: number
  }

  export interface StatusResponseInstallsProgressDoneFieldEvent {
    field: '$.installs[].progressDone'
    value: bigint
    index: number
  }

  export interface StatusResponseInstallsProgressTotalFieldEvent {
    field: '$.installs[].progressTotal'
    value: bigint
    index: number
  }

  export interface StatusResponseInstallsErrorFieldEvent {
    field: '$.installs[].error'
    value: string
    index: number
  }

  export interface StatusResponseInstallsAvailableFieldEvent {
    field: '$.installs[].available'
    value: string
    index: number
  }

  export interface StatusResponseInstallsRolloutFieldEvent {
    field: '$.installs[].rollout'
    value: string
    index: number
  }

  export interface StatusResponseBandwidthUploadLimitFieldEvent {
    field: '$.bandwidth.uploadLimit'
    value: bigint
  }

  export interface StatusResponseBandwidthDownloadLimitFieldEvent {
    field: '$.bandwidth.downloadLimit'
    value: bigint
  }

  export interface StatusResponseBandwidthUploadedBytesFieldEvent {
    field: '$.bandwidth.uploadedBytes'
    value: bigint
  }

  export interface StatusResponseBandwidthDownloadedBytesFieldEvent {
    field: '$.bandwidth.downloadedBytes'
    value: bigint
  }

  export interface StatusResponseBandwidthUploadRateFieldEvent {
    field: '$.bandwidth.uploadRate'
    value: bigint
  }

  export interface StatusResponseBandwidthDownloadRateFieldEvent {
    field: '$.bandwidth.downloadRate'
    value: bigint
  }

  export interface StatusResponseBandwidthSwarmSessionsFieldEvent {
    field: '$.bandwidth.swarmSessions'
    value: number
  }

  export interface StatusResponseBandwidthUploadQueueFieldEvent {
    field: '$.bandwidth.uploadQueue'
    value: number
  }

  export interface StatusResponseBandwidthSourcesPeerIdFieldEvent {
    field: '$.bandwidth.sources[].peerId'
    value: string
    index: number
  }

  export interface StatusResponseBandwidthSourcesBytesFieldEvent {
    field: '$.bandwidth.sources[].bytes'
    value: bigint
    index: number
  }

  export interface StatusResponseBandwidthSourcesLinkFieldEvent {
    field: '$.bandwidth.sources[].link'
    value: string
    index: number
  }

  export interface StatusResponseNatReachabilityFieldEvent {
    field: '$.nat.reachability'
    value: string
  }

  export interface StatusResponseNatPublicAddrsFieldEvent {
    field: '$.nat.publicAddrs[]'
    index: number
    value: string
  }

  export interface StatusResponseNatRelayAddrsFieldEvent {
    field: '$.nat.relayAddrs[]'
    index: number
    value: string
  }

  export interface StatusResponseNatRelayReservationsFieldEvent {
    field: '$.nat.relayReservations'
    value: number
  }

  export interface StatusResponseNatRelayedOpenedFieldEvent {
    field: '$.nat.relayedOpened'
    value: number
  }

  export interface StatusResponseNatUpgradedDirectFieldEvent {
    field: '$.nat.upgradedDirect'
    value: number
  }

  export interface StatusResponseNatRelayServiceFieldEvent {
    field: '$.nat.relayService'
    value: boolean
  }

  export interface StatusResponseLabelsFieldEvent {
    field: '$.labels[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<StatusResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, StatusResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<StatusResponse>): StatusResponse {
    return decodeMessage(buf, StatusResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<StatusResponse>): Generator<StatusResponseCodeFieldEvent | StatusResponseErrorFieldEvent | StatusResponsePeerIdFieldEvent | StatusResponseRoleFieldEvent | StatusResponseNetworkFieldEvent | StatusResponseVersionFieldEvent | StatusResponseUptimeMsFieldEvent | StatusResponsePhasesNameFieldEvent | StatusResponsePhasesStateFieldEvent | StatusResponsePhasesDurationMsFieldEvent | StatusResponsePhasesDetailFieldEvent | StatusResponseConnectionsFieldEvent | StatusResponsePeersPeerIdFieldEvent | StatusResponsePeersAddrFieldEvent | StatusResponsePeersDirectionFieldEvent | StatusResponsePeersRelayedFieldEvent | StatusResponseListenAddrsFieldEvent | StatusResponseResourcesRssBytesFieldEvent | StatusResponseResourcesHeapUsedBytesFieldEvent | StatusResponseResourcesCpuUserUsFieldEvent | StatusResponseResourcesCpuSystemUsFieldEvent | StatusResponseResourcesDataDirBytesFieldEvent | StatusResponseResourcesHeapTotalBytesFieldEvent | StatusResponseResourcesExternalBytesFieldEvent | StatusResponseResourcesArrayBuffersBytesFieldEvent | StatusResponseTrafficBytesInFieldEvent | StatusResponseTrafficBytesOutFieldEvent | StatusResponsePhaseFieldEvent | StatusResponseStartedAtMsFieldEvent | StatusResponseReleasesPackageFieldEvent | StatusResponseReleasesVersionFieldEvent | StatusResponseReleasesChannelFieldEvent | StatusResponseReleasesStateFieldEvent | StatusResponseReleasesChunksHeldFieldEvent | StatusResponseReleasesChunksTotalFieldEvent | StatusResponseReleasesBytesTotalFieldEvent | StatusResponseReleasesErrorFieldEvent | StatusResponseTrustModeFieldEvent | StatusResponseTrustTimestampVersionFieldEvent | StatusResponseTrustStaleFieldEvent | StatusResponseTrustErrorFieldEvent | StatusResponseTrustLastRefreshMsFieldEvent | StatusResponseInstallsPackageFieldEvent | StatusResponseInstallsCurrentFieldEvent | StatusResponseInstallsPendingFieldEvent | StatusResponseInstallsStateFieldEvent | StatusResponseInstallsProgressDoneFieldEvent | StatusResponseInstallsProgressTotalFieldEvent | StatusResponseInstallsErrorFieldEvent | StatusResponseInstallsAvailableFieldEvent | StatusResponseInstallsRolloutFieldEvent | StatusResponseBandwidthUploadLimitFieldEvent | StatusResponseBandwidthDownloadLimitFieldEvent | StatusResponseBandwidthUploadedBytesFieldEvent | StatusResponseBandwidthDownloadedBytesFieldEvent | StatusResponseBandwidthUploadRateFieldEvent | StatusResponseBandwidthDownloadRateFieldEvent | StatusResponseBandwidthSwarmSessionsFieldEvent | StatusResponseBandwidthUploadQueueFieldEvent | StatusResponseBandwidthSourcesPeerIdFieldEvent | StatusResponseBandwidthSourcesBytesFieldEvent | StatusResponseBandwidthSourcesLinkFieldEvent | StatusResponseNatReachabilityFieldEvent | StatusResponseNatPublicAddrsFieldEvent | StatusResponseNatRelayAddrsFieldEvent | StatusResponseNatRelayReservationsFieldEvent | StatusResponseNatRelayedOpenedFieldEvent | StatusResponseNatUpgradedDirectFieldEvent | StatusResponseNatRelayServiceFieldEvent | StatusResponseLabelsFieldEvent> {
    return streamMessage(buf, StatusResponse.codec(), opts)
  }
}
