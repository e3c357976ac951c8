/**
 * Small helpers with no home of their own: file writes that leave the old
 * file or the new one whole (fs.ts), log levels and the libp2p log
 * namespaces they switch (log-level.ts), one log line from a format string
 * (format-line.ts), a lock file for writers in different processes
 * (file-lock.ts), the daemon's log lines as text or JSON (log-line.ts),
 * seeded bytes for tests and benchmarks (pseudo-random.ts), and what a
 * daemon process starts with to give memory back after a transfer
 * (memory-settings.ts).
 *
 * Imports: errors only (src/).
 */
export { writeFileAtomic, fsyncDir } from './fs.js'
export { withFileLock } from './file-lock.js'
export type { FileLockOptions } from './file-lock.js'
export { applyLogLevel, shows, LOG_LEVELS } from './log-level.js'
export type { LogLevel } from './log-level.js'
export { formatLine, lineFields } from './format-line.js'
export { componentLogsAsJson, jsonLine, textLine } from './log-line.js'
export type { LogFields, LogFormat, LogRecord } from './log-line.js'
export { pseudoRandomBytes } from './pseudo-random.js'
export { DAEMON_NODE_FLAGS, daemonEnv, missingMemorySettings, MMAP_THRESHOLD_BYTES, MMAP_THRESHOLD_ENV } from './memory-settings.js'
