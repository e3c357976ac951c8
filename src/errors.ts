/**
 * Named errors. Each message says what was expected, what was found and what
 * to do; `exitCode` is what the CLI exits with (2: bad usage or config,
 * 1: an operation that failed).
 */
export class UmeshError extends Error {
  readonly exitCode: number = 1
}

export class ConfigError extends UmeshError {
  override readonly name = 'ConfigError'
  override readonly exitCode = 2
  constructor (readonly field: string, message: string) {
    super(`${field}: ${message}`)
  }
}

export class UsageError extends UmeshError {
  override readonly name = 'UsageError'
  override readonly exitCode = 2
}

export class DataDirLockedError extends UmeshError {
  override readonly name = 'DataDirLockedError'
}

export class IdentityError extends UmeshError {
  override readonly name = 'IdentityError'
}

export class CoreCheckError extends UmeshError {
  override readonly name = 'CoreCheckError'
}

/** A start-up phase failed; `cause` is what made it fail. */
export class PhaseError extends UmeshError {
  override readonly name = 'PhaseError'
  override readonly exitCode: number
  constructor (readonly phase: string, override readonly cause: unknown) {
    super(`start-up phase "${phase}" failed: ${cause instanceof Error ? cause.message : String(cause)}`)
    this.exitCode = cause instanceof UmeshError ? cause.exitCode : 1
  }
}

export class DaemonNotRunningError extends UmeshError {
  override readonly name = 'DaemonNotRunningError'
}
