/**
 * The base of every protocol error. Protocols import nothing from `src/`, so
 * this stands beside the engine's `UmeshError` rather than under it: both
 * carry a message that says what was wrong and what to do, and the exit code
 * the CLI ends with when one reaches it (1: an operation failed).
 */
export class ProtocolError extends Error {
  readonly exitCode: number = 1
}
