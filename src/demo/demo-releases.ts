/**
 * The demo's release repository: created fresh in the demo folder, with a
 * sample package (a few MiB of generated data, a script, a README) whose
 * versions differ a little from each other, as real releases do.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { addRelease } from '../release/index.js'
import { Repository } from '../trust/repository.js'
import { pseudoRandomBytes as generated } from '../util/pseudo-random.js'
import type { AddedRelease } from '../release/index.js'

export const DEMO_PACKAGE = 'demo-app'


export class DemoReleases {
  readonly repoDir: string
  private readonly base = generated(4 * 1024 * 1024, 42)

  constructor (readonly dir: string) {
    this.repoDir = join(dir, 'repo')
  }

  init (): void {
    Repository.init(this.repoDir)
  }

  get trustedRoot (): string {
    return join(this.repoDir, 'metadata', '1.root.json')
  }

  /** version n of the sample: the same data with n small insertions */
  async publish (version: string, n: number): Promise<AddedRelease> {
    const src = join(this.dir, `source-${version}`)
    mkdirSync(join(src, 'bin'), { recursive: true })
    const parts: Buffer[] = []
    const step = Math.floor(this.base.length / (n + 1))
    for (let i = 0; i <= n; i++) {
      parts.push(this.base.subarray(i * step, i === n ? this.base.length : (i + 1) * step))
      if (i < n) parts.push(generated(20_000, 1000 + i))
    }
    writeFileSync(join(src, 'data.bin'), Buffer.concat(parts))
    writeFileSync(join(src, 'README'), `${DEMO_PACKAGE} ${version}\n`)
    writeFileSync(join(src, 'bin', DEMO_PACKAGE), `#!/bin/sh\necho "${DEMO_PACKAGE} ${version}"\n`)
    chmodSync(join(src, 'bin', DEMO_PACKAGE), 0o755)
    const changelog = join(this.dir, `changelog-${version}.md`)
    writeFileSync(changelog, `## ${version}\n\n- ${n === 0 ? 'first release' : `${n} small change${n > 1 ? 's' : ''} to data.bin`}\n`)
    return await addRelease(Repository.open(this.repoDir), src, { package: DEMO_PACKAGE, version, changelogFile: changelog })
  }
}
