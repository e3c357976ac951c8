/**
 * A tiny static web server, as an operator would put in front of a copy of
 * the release repository (what `python3 -m http.server` or nginx would do):
 * GET and HEAD of files under ROOT, 404 for anything else, no directory
 * listings, nothing outside ROOT. Run as a process (in a test's network
 * namespace):
 *
 *   node static-mirror.js ROOT HOST PORT
 *
 * It prints `listening on http://HOST:PORT/` once ready, and after every
 * answer `served <status> <path> <bytes>; total <bytes> in <n> files`, so the
 * test counts what the mirror sent.
 */
import { createReadStream, statSync } from 'node:fs'
import { createServer } from 'node:http'
import { join, normalize, sep } from 'node:path'

const [root, host, port] = process.argv.slice(2)
if (root == null || host == null || port == null) {
  console.error('usage: static-mirror.js ROOT HOST PORT')
  process.exit(2)
}
const base = normalize(root) + sep
let total = 0
let files = 0

const server = createServer((req, res) => {
  let path: string
  try {
    path = normalize(join(base, decodeURIComponent(new URL(req.url ?? '/', 'http://mirror').pathname)))
  } catch {
    res.writeHead(400).end()
    return
  }
  const size = path.startsWith(base) && !path.split(sep).some(p => p.startsWith('.')) ? statSync(path, { throwIfNoEntry: false }) : undefined
  if (size?.isFile() !== true || (req.method !== 'GET' && req.method !== 'HEAD')) {
    res.writeHead(404, { 'content-length': 0 }).end()
    console.log(`served 404 ${req.url ?? ''} 0; total ${total} in ${files} files`)
    return
  }
  res.writeHead(200, { 'content-length': size.size, 'content-type': 'application/octet-stream' })
  if (req.method === 'HEAD') {
    res.end()
    return
  }
  const stream = createReadStream(path)
  stream.pipe(res)
  res.on('finish', () => {
    total += size.size
    files++
    console.log(`served 200 ${req.url ?? ''} ${size.size}; total ${total} in ${files} files`)
  })
})
server.listen(Number(port), host, () => { console.log(`listening on http://${host}:${port}/`) })
process.on('SIGTERM', () => { server.closeAllConnections(); server.close(() => process.exit(0)) })
