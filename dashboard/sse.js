/**
 * A server-sent events parser (the text/event-stream format of the HTML
 * standard) for a stream read with fetch(): EventSource cannot send the
 * Authorization header the API needs.
 *
 * Lines end with LF, CR or CRLF (a CRLF may be split across chunks); a
 * line `field: value` sets a field (one space after the colon is dropped),
 * a line starting with `:` is a comment, a blank line dispatches the event
 * (none when it has no data). `data` lines are joined with LF; `event`
 * defaults to "message"; `id` is kept across events as the last event id.
 * No DOM and no imports: the unit tests run it in node.
 */

export class SseParser {
  /**
   * @param {{ onComment?: (text: string) => void, onRetry?: (ms: number) => void }} [handlers]
   */
  constructor (handlers = {}) {
    this.handlers = handlers
    this.buffer = ''
    this.skipLf = false
    this.started = false
    this.lastEventId = ''
    this.reset()
  }

  reset () {
    this.type = ''
    this.data = []
  }

  /** feed a chunk of text; returns the events it completed, in order: [{ event, data, id }] */
  push (chunk) {
    let text = String(chunk)
    if (!this.started && text.length > 0) {
      this.started = true
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    }
    if (this.skipLf && text.startsWith('\n')) text = text.slice(1)
    this.skipLf = false
    this.buffer += text
    const out = []
    let start = 0
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer[i]
      if (c !== '\n' && c !== '\r') continue
      const line = this.buffer.slice(start, i)
      if (c === '\r') {
        if (i + 1 < this.buffer.length) {
          if (this.buffer[i + 1] === '\n') i++
        } else {
          this.skipLf = true
        }
      }
      start = i + 1
      const ev = this.line(line)
      if (ev != null) out.push(ev)
    }
    this.buffer = this.buffer.slice(start)
    return out
  }

  /** the stream ended: an event without its blank line is dropped, as the standard says */
  end () {
    this.buffer = ''
    this.skipLf = false
    this.reset()
    return []
  }

  line (line) {
    if (line === '') {
      if (this.data.length === 0) { this.reset(); return undefined }
      const ev = { event: this.type === '' ? 'message' : this.type, data: this.data.join('\n'), id: this.lastEventId }
      this.reset()
      return ev
    }
    if (line.startsWith(':')) {
      this.handlers.onComment?.(line.slice(1).replace(/^ /, ''))
      return undefined
    }
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    switch (field) {
      case 'event': this.type = value; break
      case 'data': this.data.push(value); break
      case 'id': if (!value.includes('\u0000')) this.lastEventId = value; break
      case 'retry': if (/^\d+$/.test(value)) this.handlers.onRetry?.(Number(value)); break
      default: break // unknown fields are ignored
    }
    return undefined
  }
}

/**
 * Reads a fetch() response body as an event stream until it ends or the
 * signal aborts; calls onEvent for each event and onComment for each comment.
 * @param {ReadableStream<Uint8Array>} body
 * @param {{ onEvent: (ev: {event: string, data: string, id: string}) => void, onComment?: (text: string) => void, signal?: AbortSignal }} handlers
 */
export async function readEventStream (body, { onEvent, onComment, signal }) {
  const parser = new SseParser({ onComment })
  const decoder = new TextDecoder()
  const reader = body.getReader()
  const cancel = () => { reader.cancel().catch(() => {}) }
  signal?.addEventListener('abort', cancel, { once: true })
  try {
    while (true) {
      const { value, done } = await reader.read()
      if (done) break
      for (const ev of parser.push(decoder.decode(value, { stream: true }))) onEvent(ev)
    }
    for (const ev of parser.push(decoder.decode())) onEvent(ev)
    parser.end()
  } finally {
    signal?.removeEventListener('abort', cancel)
    try { reader.releaseLock() } catch {}
  }
}
