/**
 * The node's chunk traffic: the operator's upload and download caps (token
 * buckets, changeable by a config reload), the fair upload slots, and what
 * status shows: bytes moved since start and the rate over the last seconds.
 */
import { TokenBucket } from './token-bucket.js'
import { UploadScheduler } from './upload-scheduler.js'

export interface BandwidthLimits {
  /** bytes per second; 0: no cap */
  upload: number
  download: number
}

export interface BandwidthReport {
  uploadLimit: bigint
  downloadLimit: bigint
  uploadedBytes: bigint
  downloadedBytes: bigint
  uploadRate: bigint
  downloadRate: bigint
  uploadQueue: number
}

/** seconds the reported rate spans */
const RATE_WINDOW = 5

export class Bandwidth {
  readonly upload: TokenBucket
  readonly download: TokenBucket
  readonly scheduler: UploadScheduler
  downloaded = 0
  private readonly samples: Array<{ t: number, up: number, down: number }> = []
  private timer?: NodeJS.Timeout

  /** `rarity`: how many known peers hold a chunk (the swarms' registry), so the upload slots serve rare chunks first */
  constructor (limits: BandwidthLimits, rarity?: { holders: (key: string) => number }) {
    this.upload = new TokenBucket(limits.upload)
    this.download = new TokenBucket(limits.download)
    this.scheduler = new UploadScheduler({ bucket: this.upload, ...(rarity != null ? { holders: key => rarity.holders(key) } : {}) })
  }

  start (): void {
    this.sample()
    this.timer = setInterval(() => { this.sample() }, 1_000)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
  }

  setLimits (limits: BandwidthLimits): void {
    this.upload.setRate(limits.upload)
    this.download.setRate(limits.download)
  }

  report (): BandwidthReport {
    const now = { t: Date.now(), up: this.upload.total, down: this.downloaded }
    const first = this.samples[0] ?? now
    const seconds = Math.max(1, (now.t - first.t) / 1000)
    return {
      uploadLimit: BigInt(this.upload.rate),
      downloadLimit: BigInt(this.download.rate),
      uploadedBytes: BigInt(now.up),
      downloadedBytes: BigInt(now.down),
      uploadRate: BigInt(Math.round((now.up - first.up) / seconds)),
      downloadRate: BigInt(Math.round((now.down - first.down) / seconds)),
      uploadQueue: this.scheduler.queued
    }
  }

  private sample (): void {
    this.samples.push({ t: Date.now(), up: this.upload.total, down: this.downloaded })
    if (this.samples.length > RATE_WINDOW + 1) this.samples.shift()
  }
}
