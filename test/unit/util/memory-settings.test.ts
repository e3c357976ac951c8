import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { daemonEnv, DAEMON_NODE_FLAGS, missingMemorySettings, MMAP_THRESHOLD_BYTES, MMAP_THRESHOLD_ENV } from '../../../src/util/memory-settings.js'

const glibc = process.platform === 'linux' && typeof (process.report?.getReport() as any)?.header?.glibcVersionRuntime === 'string'

describe('memory settings of a daemon process', () => {
  it('gives a daemon a fixed mmap threshold unless one is set already', () => {
    assert.deepEqual(daemonEnv({}), { [MMAP_THRESHOLD_ENV]: String(MMAP_THRESHOLD_BYTES) })
    assert.deepEqual(daemonEnv({ [MMAP_THRESHOLD_ENV]: '65536' }), {}, 'the operator\'s own value wins')
    assert.deepEqual(daemonEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=32768' }), {})
    assert.deepEqual(daemonEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }), { [MMAP_THRESHOLD_ENV]: String(MMAP_THRESHOLD_BYTES) })
  })

  it('names what a process started without: the threshold on glibc, the young generation flag anywhere', () => {
    assert.deepEqual(missingMemorySettings({ [MMAP_THRESHOLD_ENV]: '16384' }, DAEMON_NODE_FLAGS), [])
    assert.deepEqual(missingMemorySettings({ GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=16384', NODE_OPTIONS: '--max-semi-space-size=2' }, ['--heap-growing-percent=20']), [], 'the operator\'s own values count')
    assert.deepEqual(missingMemorySettings({ [MMAP_THRESHOLD_ENV]: '16384' }, []), [`node ${DAEMON_NODE_FLAGS.join(' ')}`])
    assert.deepEqual(missingMemorySettings({ [MMAP_THRESHOLD_ENV]: '16384' }, ['--max_semi_space_size=4']), [`node ${DAEMON_NODE_FLAGS.slice(1).join(' ')}`], 'only what is missing')
    // this machine's libc decides the rest: glibc (libc.so.6 mapped) misses the threshold without the variable
    assert.deepEqual(missingMemorySettings({}, DAEMON_NODE_FLAGS), glibc ? [`${MMAP_THRESHOLD_ENV}=${MMAP_THRESHOLD_BYTES} in the environment`] : [])
  })
})
