/**
 * The HTTP listener of a daemon (--http-listen, off by default): /healthz,
 * /readyz and /metrics on every role; /api/v1/status and /api/v1/whoami;
 * on a coordinator the management API (releases, rollouts, fleet, events,
 * each with an OpenAPI description) behind bearer tokens with roles; the
 * dashboard's static files at /. The routes call the same functions as
 * the CLI (src/release, src/rollout operations and views).
 *
 * Imports: src (errors, version), src/audit (the log's routes), src/release, src/rollout, src/trust,
 * src/util, src/view, protocols/status (types).
 */
export { startHttp, isLoopback, splitHostPort } from './server.js'
export type { HttpServer } from './server.js'
export type { HttpComponents, HttpInit, Management, Readiness } from './context.js'
export { TokenStore, ROLES } from './tokens.js'
export type { Role as TokenRole, TokenInfo } from './tokens.js'
