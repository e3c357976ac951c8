/**
 * Status for people and for scripts, from one status response: the JSON
 * object of `umesh status --json`, the plain summary, and the short texts
 * (bytes, durations, a release, an install) that the CLI and the demo's
 * live table share.
 *
 * Imports: protocols/status (the response type) only.
 */
export { statusJson, statusText, installText, releaseText, bytes, duration } from './status-view.js'
