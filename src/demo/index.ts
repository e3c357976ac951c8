/**
 * `umesh demo` and the harness behind it: a local mesh of real daemon
 * processes on loopback, each with its own data dir (local-mesh.ts; the
 * integration tests and benchmarks use it too), the demo's releases and
 * their story (demo-releases.ts), and the live table of what each process
 * says over the status protocol (table.ts).
 *
 * Imports: identity/, release/, trust/, util/, view/, protocols/status.
 */
export { LocalMesh, MeshProcess, freePort, CLI_PATH } from './local-mesh.js'
export type { LocalMeshInit } from './local-mesh.js'
export { DemoReleases, DEMO_PACKAGE, demoInstallSettings } from './demo-releases.js'
export { renderTable, shortId } from './table.js'
export type { Row } from './table.js'
