import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { SCHEMA, loadConfig, optionsHelp, optionsMarkdown, resolveDataDir } from '../../../src/config/index.js'
import { ConfigError } from '../../../src/errors.js'
import { tempDir } from '../../helpers/cli.js'

const PEER = '12D3KooWECDtH8SELx8Ztv9sSnjarqgNvdkRaAZR8kSc58FwqWZu'
const BOOT = `/ip4/127.0.0.1/tcp/4090/p2p/${PEER}`

describe('config', () => {
  const tmp = tempDir()
  after(() => { tmp.remove() })
  let n = 0
  const dir = (files: Record<string, unknown> = {}): string => {
    const d = join(tmp.path, `case-${n++}`)
    mkdirSync(d, { recursive: true })
    for (const [name, content] of Object.entries(files)) writeFileSync(join(d, name), typeof content === 'string' ? content : JSON.stringify(content))
    return d
  }
  const configError = (fn: () => unknown, field: RegExp): void => {
    assert.throws(fn, (err: any) => {
      assert.equal(err.name, 'ConfigError')
      assert.ok(err instanceof ConfigError)
      assert.equal(err.exitCode, 2)
      assert.match(err.message, field)
      return true
    })
  }

  it('uses the schema defaults when nothing is given', () => {
    const d = dir()
    const { config, origin } = loadConfig({ flags: { dataDir: d }, env: {} })
    assert.equal(config.network, 'umesh')
    assert.deepEqual(config.listen, ['/ip4/0.0.0.0/tcp/4090'])
    assert.equal(config.mdns, true)
    assert.equal(config.maxConnections, 100)
    assert.equal(config.dataDir, d)
    assert.equal(origin.network, 'default')
  })

  it('merges bootstrap.json < config file < environment < flags', () => {
    const d = dir({
      'bootstrap.json': { network: 'from-bootstrap', bootstrap: [BOOT] },
      'node.json': { network: 'from-file', maxConnections: 50, targetPeers: 3, logLevel: 'warn' }
    })
    const { config, origin, bootstrapFile } = loadConfig({
      flags: { dataDir: d, maxConnections: '70', bootstrapFile: join(d, 'bootstrap.json') },
      env: { UMESH_MAX_CONNECTIONS: '60', UMESH_TARGET_PEERS: '4', UMESH_NETWORK: '' },
      configFile: join(d, 'node.json')
    })
    assert.equal(bootstrapFile, join(d, 'bootstrap.json'))
    assert.deepEqual(config.bootstrap, [BOOT], 'the bootstrap list comes from bootstrap.json')
    assert.equal(config.network, 'from-file', 'the config file beats bootstrap.json; an empty env var is unset')
    assert.equal(config.targetPeers, 4, 'the environment beats the config file')
    assert.equal(config.maxConnections, 70, 'flags beat the environment')
    assert.equal(config.logLevel, 'warn')
    assert.match(origin.maxConnections, /flags/)
    assert.match(origin.targetPeers, /environment/)
  })

  it('reads <dataDir>/config.json and <dataDir>/bootstrap.json when present', () => {
    const d = dir({ 'config.json': { network: 'lab' }, 'bootstrap.json': { bootstrap: [BOOT] } })
    const loaded = loadConfig({ flags: {}, env: { UMESH_DATA_DIR: d } })
    assert.equal(loaded.config.network, 'lab')
    assert.deepEqual(loaded.config.bootstrap, [BOOT])
    assert.equal(loaded.configFile, join(d, 'config.json'))
  })

  it('splits comma-separated lists from the environment', () => {
    const d = dir()
    const { config } = loadConfig({ flags: { dataDir: d }, env: { UMESH_LISTEN: '/ip4/127.0.0.1/tcp/1, /ip4/127.0.0.1/tcp/2', UMESH_MDNS: 'false' } })
    assert.deepEqual(config.listen, ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2'])
    assert.equal(config.mdns, false)
  })

  it('rejects an unknown key, naming the file and the key', () => {
    const d = dir({ 'c.json': { maxConections: 5 } })
    configError(() => loadConfig({ flags: { dataDir: d }, env: {}, configFile: join(d, 'c.json') }), /c\.json: maxConections: unknown key/)
  })

  it('rejects a wrong type, naming the field and what was expected', () => {
    const d = dir({ 'c.json': { maxConnections: 'many' } })
    configError(() => loadConfig({ flags: { dataDir: d }, env: {}, configFile: join(d, 'c.json') }), /maxConnections: expected an integer from 1 to 10000, found "many"/)
    configError(() => loadConfig({ flags: { dataDir: d, mdns: 'yes' }, env: {} }), /--mdns: expected true or false/)
    configError(() => loadConfig({ flags: { dataDir: d }, env: { UMESH_LOG_LEVEL: 'loud' } }), /UMESH_LOG_LEVEL: expected one of error, warn, info, debug, trace/)
  })

  it('rejects a multiaddr that does not parse, and a bootstrap address without /p2p/', () => {
    const d = dir()
    configError(() => loadConfig({ flags: { dataDir: d, listen: ['/ip4/999.1.1.1/tcp/1'] }, env: {} }), /--listen\[0\]: expected a multiaddr/)
    configError(() => loadConfig({ flags: { dataDir: d, bootstrap: ['/ip4/127.0.0.1/tcp/4090'] }, env: {} }), /--bootstrap-peer\[0\]: expected a multiaddr ending in \/p2p\/<peer id>/)
    configError(() => loadConfig({ flags: { dataDir: d, denyPeers: ['not-a-peer'] }, env: {} }), /--deny-peer\[0\]: expected a peer id/)
  })

  it('rejects a missing file, bad JSON, a non-object and dataDir inside the file', () => {
    const d = dir({ 'bad.json': '{"network": ', 'arr.json': '[1]', 'dd.json': { dataDir: '/elsewhere' } })
    configError(() => loadConfig({ flags: { dataDir: d }, env: {}, configFile: join(d, 'missing.json') }), /missing\.json: file not found/)
    configError(() => loadConfig({ flags: { dataDir: d }, env: {}, configFile: join(d, 'bad.json') }), /bad\.json: not valid JSON/)
    configError(() => loadConfig({ flags: { dataDir: d }, env: {}, configFile: join(d, 'arr.json') }), /expected a JSON object/)
    configError(() => loadConfig({ flags: { dataDir: d }, env: {}, configFile: join(d, 'dd.json') }), /dataDir: the data dir cannot be set in the config file/)
    configError(() => loadConfig({ flags: { dataDir: d, bootstrapFile: join(d, 'nope.json') }, env: {} }), /nope\.json: file not found/)
  })

  it('allows only network and bootstrap in bootstrap.json', () => {
    const d = dir({ 'bootstrap.json': { network: 'x', listen: ['/ip4/127.0.0.1/tcp/1'] } })
    configError(() => loadConfig({ flags: { dataDir: d }, env: {} }), /bootstrap\.json: listen: unknown key; a bootstrap file holds only/)
  })

  it('does not modify the files it reads', () => {
    const content = JSON.stringify({ network: 'lab', maxConnections: 'x' })
    const d = dir({ 'c.json': content })
    assert.throws(() => loadConfig({ flags: { dataDir: d }, env: {}, configFile: join(d, 'c.json') }))
    assert.equal(readFileSync(join(d, 'c.json'), 'utf8'), content)
  })

  it('resolves the data dir from flags, then environment, then default', () => {
    assert.equal(resolveDataDir({ flags: { dataDir: '/a' }, env: { UMESH_DATA_DIR: '/b' } }), '/a')
    assert.equal(resolveDataDir({ flags: {}, env: { UMESH_DATA_DIR: '/b' } }), '/b')
    assert.match(resolveDataDir({ flags: {}, env: {} }), /\.umesh$/)
  })

  it('accepts the shipped example configs and bootstrap.json', () => {
    const root = (f: string): string => new URL(`../../../../${f}`, import.meta.url).pathname
    for (const file of ['node/config.example.json', 'bootstrap/config.example.json']) {
      const { config } = loadConfig({ flags: { dataDir: dir(), bootstrapFile: root('bootstrap.json') }, env: {}, configFile: root(file) })
      assert.equal(config.network, 'umesh', file)
    }
  })

  it('the README options table is the one the schema renders', () => {
    const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8')
    const table = /<!-- options-table:start -->\n([\s\S]*?)\n<!-- options-table:end -->/.exec(readme)?.[1]
    assert.equal(table, optionsMarkdown(), 'README is stale: paste the output of optionsMarkdown() between the options-table markers')
  })

  it('documents every option in --help and the README table', () => {
    const help = optionsHelp()
    const md = optionsMarkdown()
    for (const spec of SCHEMA) {
      assert.ok(help.includes(`--${spec.flag}`), `help lists --${spec.flag}`)
      assert.ok(help.includes(spec.env), `help names ${spec.env}`)
      assert.ok(md.includes(spec.env), `markdown names ${spec.env}`)
    }
  })
})
