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

/** install settings every demo node gets: auto-update, the release's own activate hook and health check */
export function demoInstallSettings (): string {
  return JSON.stringify({
    [DEMO_PACKAGE]: {
      autoUpdate: true,
      hooks: { activate: ['/bin/sh', 'bin/activate'], timeoutMs: 10_000 },
      health: { command: ['/bin/sh', 'bin/health'], timeoutMs: 5_000, retries: 2, intervalMs: 500 }
    }
  })
}


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

  /**
   * version n of the sample: the same data with n small insertions; a broken
   * one ships a health check that fails, so every node rolls it back
   */
  async publish (version: string, n: number, broken = false): Promise<AddedRelease> {
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
    // what the install engine runs: activation records the version that runs, the health check reads it back
    writeFileSync(join(src, 'bin', 'activate'), '#!/bin/sh\necho "$UMESH_NEW_VERSION" > "$UMESH_INSTALL_ROOT/running"\n')
    writeFileSync(join(src, 'bin', 'health'), broken
      ? `#!/bin/sh\necho "${DEMO_PACKAGE} ${version} is broken on purpose: its health check fails" >&2\nexit 1\n`
      : '#!/bin/sh\ntest "$(cat "$UMESH_INSTALL_ROOT/running")" = "$UMESH_NEW_VERSION"\n')
    chmodSync(join(src, 'bin', 'activate'), 0o755)
    chmodSync(join(src, 'bin', 'health'), 0o755)
    const changelog = join(this.dir, `changelog-${version}.md`)
    writeFileSync(changelog, `## ${version}\n\n- ${n === 0 ? 'first release' : `${n} small change${n > 1 ? 's' : ''} to data.bin`}${broken ? '\n- a health check that fails (the demo\'s broken release)' : ''}\n`)
    return await addRelease(Repository.open(this.repoDir), src, { package: DEMO_PACKAGE, version, changelogFile: changelog })
  }
}
