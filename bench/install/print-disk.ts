/**
 * Section 5 of the install benchmark's output: versions/ with hard links
 * against three full copies and three times the package size.
 */
import { section, table, wrap } from '../report.js'
import { CHANGED, FILES, VERSIONS } from './options.js'
import { mib, out } from './output.js'
import type { InstalledDisk } from './disk.js'

export function printDisk (d: InstalledDisk, pkgSize: number): void {
  const copies = d.copies.reduce((n, c) => n + c.real, 0)
  out(section(`5. Disk: three versions installed (${VERSIONS.join(', ')}; keepVersions 3), round 1`))
  out(wrap(`Real bytes = st.blocks x 512 summed over unique inodes (files and folders) under versions/; unchanged files are hard links to one inode. Three full copies: each version's tree copied file by file with read + write (no links, no reflinks), measured the same way, one at a time. du -s -B1 (counts each inode once) as a cross-check.`))
  out()
  out(table(['what', 'bytes', 'MiB', 'vs hard links'], [
    ['versions/ with hard links (real)', String(d.versions.real), mib(d.versions.real), '1.00x'],
    ['  du -s -B1 versions/', String(d.du), mib(d.du), `${(d.du / d.versions.real).toFixed(2)}x`],
    ['  apparent (file sizes, each path counted)', String(d.versions.apparent), mib(d.versions.apparent), `${(d.versions.apparent / d.versions.real).toFixed(2)}x`],
    ['baseline: three full copies (real)', String(copies), mib(copies), `${(copies / d.versions.real).toFixed(2)}x`],
    ['baseline: 3 x package size', String(3 * pkgSize), mib(3 * pkgSize), `${(3 * pkgSize / d.versions.real).toFixed(2)}x`]
  ]))
  out()
  out(wrap(`versions/: ${d.versions.paths} paths, ${d.versions.inodes} inodes (3 x ${FILES} files + folders; ${2 * CHANGED} files rewritten since ${VERSIONS[0]}). Saving: ${mib(copies - d.versions.real)} (${((1 - d.versions.real / copies) * 100).toFixed(1)}% of three full copies). Not counted above: backups/ (the rollback point of ${VERSIONS[2]}'s install) ${mib(d.backups?.real)}; the node's chunk store, which holds every version's chunks once, ${mib(d.store.real)}.`))
}
