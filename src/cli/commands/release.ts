/**
 * umesh release add | list | publish: publishing releases into the TUF
 * repository; add and publish are recorded in its audit log as --actor,
 * UMESH_ACTOR or the OS user.
 */
import { resolve } from 'node:path'
import { resolveActor } from '../../audit/index.js'
import { UsageError } from '../../errors.js'
import { addReleaseAs, addedJson, listReleases, publishAgain, releaseAddOptions } from '../../release/index.js'
import { exportMirror } from '../../trust/mirror-export.js'
import { Repository } from '../../trust/repository.js'
import { bytes } from '../../view/index.js'
import { parse } from '../args.js'
import type { Command } from '../run.js'

const HELP = `umesh release add PATH --repo DIR --package NAME --version V [--channel alpha|beta|stable] [--changelog FILE] [--scheme semver|abr]
        [--requires "PKG RANGE"]... [--conflicts "PKG RANGE"]... [--required-step] [--critical] [--json]
    PATH is a directory, a .tar or a .tar.gz; the tree is checked, chunked (FastCDC) into the
    repository's chunk store, and its index signed as a TUF target (targets, snapshot, timestamp)
    --requires "libfoo >=1.2.0 <2.0.0"   needs libfoo installed at a version in the range (repeatable)
    --conflicts "libbar <1.4.0"          may not be installed while libbar is at a version in the range (repeatable)
    --required-step                      upgrades may not skip over this release (unless forced)
    --critical                           may bypass maintenance windows
    ranges: space-separated comparators that all hold (V =V >V >=V <V <=V, semver also ^V ~V, * any),
    alternatives joined by ||; written in this package's scheme (abr: ">=0r1 <1a0")
umesh release list --repo DIR [--package NAME] [--json]
    what is published, oldest first per package
umesh release publish --repo DIR
    re-sign the timestamp, so the publisher node (umesh node --repo DIR) announces again at once
umesh release mirror --repo DIR --to DIR [--json]
    copy what a static web server or CDN must serve (metadata/, targets/, chunks/; never keys/) to
    a folder, new files only, the timestamp last; nodes started with --mirror URL take from it the
    metadata and chunks no peer serves. Run it again after each release add or publish

version schemes: semver (1.2.0 stable, 1.2.0-beta.1 beta, 1.2.0-alpha.1 alpha) or abr
({major}{a|b|r}{minor}: 0a1 < 0b1 < 0r1 < 0a2 < 1a1; a alpha, b beta, r release); a package keeps
the scheme of its first release
add and publish take --actor NAME (default: UMESH_ACTOR, else the OS user), recorded in the audit log (umesh audit)`

export const command: Command = {
  run: async (argv) => {
    const args = parse('release', argv, {
      repo: { type: 'string' },
      package: { type: 'string' },
      version: { type: 'string' },
      channel: { type: 'string' },
      changelog: { type: 'string' },
      scheme: { type: 'string' },
      requires: { type: 'string', multiple: true },
      conflicts: { type: 'string', multiple: true },
      'required-step': { type: 'boolean' },
      critical: { type: 'boolean' },
      json: { type: 'boolean' },
      actor: { type: 'string' },
      to: { type: 'string' }
    }, false)
    if (args.own.help === true) {
      process.stdout.write(HELP + '\n')
      return 0
    }
    const [action, ...rest] = args.positionals
    if (args.own.repo == null) throw new UsageError('--repo DIR is required; see: umesh release --help')
    const repo = Repository.open(resolve(args.own.repo as string))
    const who = (): { actor: string, via: 'cli' } => ({ actor: resolveActor(args.own.actor as string | undefined), via: 'cli' })
    if (action === 'add') {
      if (rest.length !== 1) throw new UsageError('release add takes one PATH (a directory, .tar or .tar.gz)')
      for (const flag of ['package', 'version'] as const) {
        if (args.own[flag] == null) throw new UsageError(`--${flag} is required for release add`)
      }
      const added = await addReleaseAs(repo, resolve(rest[0]), releaseAddOptions({
        package: args.own.package as string,
        version: args.own.version as string,
        channel: args.own.channel as string | undefined,
        changelogFile: args.own.changelog as string | undefined,
        scheme: args.own.scheme as string | undefined,
        requires: args.own.requires as string[] | undefined,
        conflicts: args.own.conflicts as string[] | undefined,
        requiredStep: args.own['required-step'] === true,
        critical: args.own.critical === true
      }), who())
      const i = added.index
      if (args.own.json === true) {
        process.stdout.write(JSON.stringify(addedJson(added)) + '\n')
      } else {
        process.stdout.write(`published ${i.package} ${i.version} (${i.channel}): ${i.files.length} files, ${bytes(i.totalSize)} in ${added.chunks} chunks, ${added.newChunks} new (${bytes(added.newBytes)}); timestamp version ${repo.signedOf('timestamp').version as number}\n`)
      }
      return 0
    }
    if (action === 'list' && rest.length === 0) {
      const releases = listReleases(repo, args.own.package as string | undefined)
      if (args.own.json === true) {
        process.stdout.write(JSON.stringify(releases) + '\n')
        return 0
      }
      if (releases.length === 0) process.stdout.write('no releases published\n')
      for (const r of releases) process.stdout.write(`${r.package.padEnd(16)} ${r.version.padEnd(16)} ${r.channel.padEnd(7)} ${bytes(r.totalSize).padStart(10)}  ${r.created}\n`)
      return 0
    }
    if (action === 'publish' && rest.length === 0) {
      const version = publishAgain(repo, who())
      process.stdout.write(`timestamp version ${version} signed; a publisher node on this repository announces it within a second\n`)
      return 0
    }
    if (action === 'mirror' && rest.length === 0) {
      if (args.own.to == null) throw new UsageError('--to DIR is required for release mirror: the folder a web server serves')
      const copied = await exportMirror(repo.dir, resolve(args.own.to as string))
      if (args.own.json === true) process.stdout.write(JSON.stringify(copied) + '\n')
      else process.stdout.write(`${copied.copied} files copied (${bytes(copied.copiedBytes)}), ${copied.kept} already there; serve ${resolve(args.own.to as string)} over http(s) and give nodes --mirror URL\n`)
      return 0
    }
    throw new UsageError(`expected "release add PATH", "release list", "release publish" or "release mirror", found "release ${args.positionals.join(' ')}"; see: umesh release --help`)
  }
}
