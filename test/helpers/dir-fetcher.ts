/**
 * A tuf-js Fetcher that reads a repository folder straight from disk, so the
 * tests can run tuf-js's own Updater against what the repository writes:
 * interoperability checked by the reference client, not by our own code.
 */
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DownloadHTTPError, DownloadLengthMismatchError } from 'tuf-js/dist/error.js'
import type { Fetcher } from 'tuf-js'

export class DirectoryFetcher implements Fetcher {
  readonly requests: string[] = []

  constructor (private readonly base: string) {}

  async downloadBytes (url: string, maxLength: number): Promise<Buffer> {
    this.requests.push(url)
    const path = join(this.base, new URL(url).pathname)
    let bytes: Buffer
    try {
      bytes = await readFile(path)
    } catch {
      throw new DownloadHTTPError(`not found: ${url}`, 404)
    }
    if (bytes.length > maxLength) throw new DownloadLengthMismatchError(`${url}: ${bytes.length} bytes, more than ${maxLength}`)
    return bytes
  }

  async downloadFile<T> (url: string, maxLength: number, handler: (file: string) => Promise<T>): Promise<T> {
    const bytes = await this.downloadBytes(url, maxLength)
    const dir = await mkdtemp(join(tmpdir(), 'umesh-fetch-'))
    try {
      const file = join(dir, 'download')
      await writeFile(file, bytes)
      return await handler(file)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }
}
