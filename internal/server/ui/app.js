// Coflux built-in web UI: a dependency-free single page over the server's own APIs and topics
// (http-api.md §11, §12, §15). Everything user-provided is rendered through DOM text nodes.
'use strict'
;(() => {
  const API_VERSION = '0.12'
  const TOKEN_KEY = 'coflux.token'
  const MAX_LOG_LINES = 5000
  const MAX_WORKFLOW_SUBSCRIPTIONS = 40
  const AUTO_LOAD_BLOB_BYTES = 256 * 1024
  const pageQuery = new URLSearchParams(location.search)
  const project = pageQuery.get('project') || ''

  // ------------------------------------------------------------------ DOM helpers

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag)
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value === null || value === undefined || value === false) continue
        if (key === 'class') el.className = value
        else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value)
        else el.setAttribute(key, value === true ? '' : String(value))
      }
    }
    add(el, children)
    return el
  }

  function add(el, ...children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue
      el.append(child instanceof Node ? child : String(child))
    }
    return el
  }

  function clear(el, ...children) {
    el.replaceChildren()
    return add(el, children)
  }

  const $ = (id) => document.getElementById(id)

  function toast(message, ok) {
    const el = h('div', { class: ok ? 'toast ok' : 'toast', role: 'status' }, message)
    document.body.append(el)
    setTimeout(() => el.remove(), 5000)
  }

  // ------------------------------------------------------------------ formatting

  const pad = (n, w = 2) => String(n).padStart(w, '0')

  function fmtDateTime(ms) {
    if (typeof ms !== 'number') return '—'
    const d = new Date(ms)
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  }

  function fmtClock(ms) {
    const d = new Date(ms)
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  }

  function fmtDuration(ms) {
    if (typeof ms !== 'number' || !isFinite(ms)) return '—'
    const neg = ms < 0
    ms = Math.abs(ms)
    let out
    if (ms < 1000) out = `${Math.round(ms)}ms`
    else if (ms < 60_000) out = `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`
    else if (ms < 3_600_000) out = `${Math.floor(ms / 60_000)}m ${Math.floor((ms % 60_000) / 1000)}s`
    else if (ms < 86_400_000) out = `${Math.floor(ms / 3_600_000)}h ${Math.floor((ms % 3_600_000) / 60_000)}m`
    else out = `${Math.floor(ms / 86_400_000)}d ${Math.floor((ms % 86_400_000) / 3_600_000)}h`
    return neg ? `-${out}` : out
  }

  function fmtAgo(ms) {
    if (typeof ms !== 'number') return '—'
    const diff = Date.now() - ms
    if (diff < -1000) return `in ${fmtDuration(-diff)}`
    if (diff < 5000) return 'just now'
    if (diff < 60_000) return `${Math.floor(diff / 1000)}s ago`
    if (diff < 3_600_000) return `${Math.floor(diff / 60_000)}m ago`
    if (diff < 86_400_000) return `${Math.floor(diff / 3_600_000)}h ago`
    return `${Math.floor(diff / 86_400_000)}d ago`
  }

  /** A relative time that refreshes itself (see the ticker below). */
  function ago(ms) {
    if (typeof ms !== 'number') return h('span', { class: 'faint' }, '—')
    return h('time', { 'data-ts': ms, title: fmtDateTime(ms), datetime: new Date(ms).toISOString() }, fmtAgo(ms))
  }
  setInterval(() => {
    for (const el of document.querySelectorAll('time[data-ts]')) el.textContent = fmtAgo(Number(el.dataset.ts))
  }, 10_000)

  function fmtBytes(n) {
    if (typeof n !== 'number') return '?'
    if (n < 1024) return `${n} B`
    const units = ['KB', 'MB', 'GB', 'TB']
    let v = n / 1024
    let i = 0
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
    return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`
  }

  const shortType = (type) => (typeof type === 'string' ? type.replace(/^builtins\./, '') : 'Error')
  const runOf = (id) => String(id).split(/[:/]/)[0]
  const stepOfExecution = (executionId) => String(executionId).split(':').slice(0, 2).join(':')
  const attemptOfExecution = (executionId) => Number(String(executionId).split(':')[2])
  const byNumber = (a, b) => Number(a) - Number(b)
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

  function principal(p) {
    if (!p) return h('span', { class: 'faint' }, '—')
    return h('span', { class: 'chip', title: p.type }, `${p.type}:${p.externalId}`)
  }

  function tagSet(tags) {
    if (!isObject(tags) || Object.keys(tags).length === 0) return h('span', { class: 'faint' }, '—')
    const chips = []
    for (const [k, v] of Object.entries(tags)) {
      const values = Array.isArray(v) ? v : [v]
      chips.push(h('span', { class: 'chip' }, values.length ? `${k}=${values.join('|')}` : k))
    }
    return h('span', { class: 'chips' }, chips)
  }

  // ------------------------------------------------------------------ routing

  function enc(s) {
    return encodeURIComponent(s)
  }
  const hrefWorkspace = (ws) => `#/ws/${enc(ws)}`
  const hrefQueue = (ws) => `#/ws/${enc(ws)}/queue`
  const hrefSessions = (ws) => `#/ws/${enc(ws)}/sessions`
  const hrefWorkflow = (ws, m, t) => `#/ws/${enc(ws)}/workflows/${enc(m)}/${enc(t)}`
  function hrefRun(ws, run, stepId, attempt) {
    const q = new URLSearchParams()
    if (stepId) q.set('step', stepId)
    if (attempt) q.set('attempt', String(attempt))
    const qs = q.toString()
    return `#/ws/${enc(ws)}/runs/${enc(run)}${qs ? `?${qs}` : ''}`
  }
  function hrefExecution(ws, executionId) {
    return hrefRun(ws, runOf(executionId), stepOfExecution(executionId), attemptOfExecution(executionId) || undefined)
  }

  function parseRoute() {
    const raw = location.hash.replace(/^#/, '') || '/'
    const q = raw.indexOf('?')
    const path = q >= 0 ? raw.slice(0, q) : raw
    const query = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '')
    let parts
    try {
      parts = path.split('/').filter(Boolean).map(decodeURIComponent)
    } catch {
      parts = []
    }
    if (location.pathname === '/device') return { name: 'device', key: 'device', parts, query }
    if (parts[0] !== 'ws' || !parts[1]) return { name: 'workspaces', key: 'workspaces', parts, query }
    const ws = parts[1]
    const route = { ws, parts, query }
    if (parts[2] === 'runs' && parts[3]) return { ...route, name: 'run', run: parts[3], key: `ws:${ws}`, inner: `run:${parts[3]}` }
    if (parts[2] === 'workflows' && parts[3] && parts[4]) {
      return { ...route, name: 'workflow', module: parts[3], target: parts[4], key: `ws:${ws}`, inner: `wf:${parts[3]}/${parts[4]}` }
    }
    if (parts[2] === 'queue') return { ...route, name: 'queue', key: `ws:${ws}`, inner: 'queue' }
    if (parts[2] === 'sessions') return { ...route, name: 'sessions', key: `ws:${ws}`, inner: 'sessions' }
    return { ...route, name: 'overview', key: `ws:${ws}`, inner: 'overview' }
  }

  // ------------------------------------------------------------------ auth and HTTP

  let token = readToken()
  let authRequired = false

  function readToken() {
    try {
      return localStorage.getItem(TOKEN_KEY) || ''
    } catch {
      return ''
    }
  }

  function storeToken(value) {
    token = value.trim()
    try {
      if (token) localStorage.setItem(TOKEN_KEY, token)
      else localStorage.removeItem(TOKEN_KEY)
    } catch {
      // storage unavailable (private mode): keep it for this page only
    }
  }

  class HttpError extends Error {
    constructor(status, code, details) {
      super(code || `HTTP ${status}`)
      this.status = status
      this.code = code
      this.details = details
    }
  }

  function headers(extra) {
    const out = { 'X-API-Version': API_VERSION, ...extra }
    if (token) out.Authorization = `Bearer ${token}`
    if (project) out['X-Project'] = project
    return out
  }

  async function request(path, options = {}) {
    const init = { method: options.method || 'GET', headers: headers(options.headers), signal: options.signal }
    if (options.body !== undefined) {
      init.body = JSON.stringify(options.body)
      init.headers['content-type'] = 'application/json'
    }
    const res = await fetch(path, init)
    if (res.status === 401) {
      needAuth(token ? 'The server rejected this token.' : null)
      throw new HttpError(401, 'unauthorized')
    }
    if (!res.ok) {
      let body = null
      try {
        body = await res.json()
      } catch {
        // not JSON
      }
      throw new HttpError(res.status, body && body.error, body && body.details)
    }
    return res
  }

  async function api(name, body) {
    const res = await request(`/api/${name}`, { method: 'POST', body: body || {} })
    if (res.status === 204) return null
    const text = await res.text()
    return text ? JSON.parse(text) : null
  }

  function describeError(err) {
    if (err instanceof HttpError) {
      const details = err.details ? ` ${typeof err.details === 'string' ? err.details : JSON.stringify(err.details)}` : ''
      return `${err.code || 'error'} (HTTP ${err.status})${details}`
    }
    return String((err && err.message) || err)
  }

  async function downloadBlob(key, name) {
    try {
      const res = await request(`/blobs/${key}`)
      const url = URL.createObjectURL(await res.blob())
      const a = h('a', { href: url, download: name || key })
      document.body.append(a)
      a.click()
      a.remove()
      setTimeout(() => URL.revokeObjectURL(url), 10_000)
    } catch (err) {
      toast(`Download failed: ${describeError(err)}`)
    }
  }

  function base64url(text) {
    const bytes = new TextEncoder().encode(text)
    let bin = ''
    for (const b of bytes) bin += String.fromCharCode(b)
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
  }

  /**
   * JSON.parse that keeps integers beyond 2^53 exact (as BigInt) where the browser exposes the
   * source text to revivers; value data may carry Python ints of any size.
   */
  let sourceAccess = false
  try {
    JSON.parse('1', (key, value, context) => {
      sourceAccess = !!(context && context.source === '1')
      return value
    })
  } catch {
    sourceAccess = false
  }
  function parseJson(text) {
    if (!sourceAccess) return JSON.parse(text)
    return JSON.parse(text, (key, value, context) =>
      typeof value === 'number' && !Number.isSafeInteger(value) && context && /^-?\d+$/.test(context.source) ? BigInt(context.source) : value)
  }

  /** JSON text of decoded values, which may hold BigInts. */
  function stringify(value) {
    return JSON.stringify(value, (key, v) => (typeof v === 'bigint' ? v.toString() : v))
  }

  // ------------------------------------------------------------------ topic updates (§11.1)

  function setOwn(obj, key, value) {
    if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true })
    else obj[key] = value
  }

  function applyUpdate(root, update) {
    const [op, path, a, b] = update
    if (!Array.isArray(path)) throw new Error('bad update path')
    if (op === 0 && path.length === 0) return a
    const create = op === 0 || op === 4
    const walk = op === 0 ? path.slice(0, -1) : path
    if (create && !isObject(root) && !Array.isArray(root)) root = {}
    let parent = null
    let parentKey = null
    let cur = root
    for (const key of walk) {
      let next = cur[key]
      if (next === undefined || next === null || typeof next !== 'object') {
        if (!create) throw new Error('update path does not exist')
        next = {}
        setOwn(cur, key, next)
      }
      parent = cur
      parentKey = key
      cur = next
    }
    switch (op) {
      case 0:
        setOwn(cur, path[path.length - 1], a)
        break
      case 1:
        delete cur[a]
        break
      case 2:
        if (!Array.isArray(cur)) throw new Error('insert into a non-array')
        cur.splice(a === null ? cur.length : a, 0, ...b)
        break
      case 3:
        if (!Array.isArray(cur)) throw new Error('delete from a non-array')
        cur.splice(a, b)
        break
      case 4:
        if (!isObject(a)) throw new Error('merge needs an object')
        if (Array.isArray(cur)) {
          const replaced = {}
          if (parent) setOwn(parent, parentKey, replaced)
          else root = replaced
          cur = replaced
        }
        for (const [k, v] of Object.entries(a)) setOwn(cur, k, v)
        break
      default:
        throw new Error(`unknown update op ${op}`)
    }
    return root
  }

  // ------------------------------------------------------------------ topics over one WebSocket

  const topics = {
    ws: null,
    timer: null,
    failures: 0,
    nextChannel: 1,
    subs: new Map(), // key → {path, channel, value, has, error, listeners}
    byChannel: new Map(),

    subscribe(path, listener) {
      const key = JSON.stringify(path)
      let sub = this.subs.get(key)
      if (!sub) {
        sub = { key, path, channel: 0, value: undefined, has: false, error: null, listeners: new Set(), aliasOf: 0 }
        this.subs.set(key, sub)
        if (this.ws && this.ws.readyState === WebSocket.OPEN) this.send(sub)
        else this.ensure()
      }
      sub.listeners.add(listener)
      if (sub.has || sub.error) queueMicrotask(() => sub.listeners.has(listener) && listener(sub.value, sub.error))
      return () => {
        sub.listeners.delete(listener)
        if (sub.listeners.size) return
        this.subs.delete(key)
        if (sub.channel) {
          this.byChannel.delete(sub.channel)
          if (this.ws && this.ws.readyState === WebSocket.OPEN && !sub.error) this.ws.send(JSON.stringify([3, sub.channel]))
        }
      }
    },

    send(sub) {
      sub.channel = this.nextChannel++
      sub.aliasOf = 0
      this.byChannel.set(sub.channel, sub)
      this.ws.send(JSON.stringify([2, sub.channel, sub.path]))
    },

    ensure() {
      if (this.ws || this.timer || authRequired) return
      this.connect()
    },

    connect() {
      const protocols = token ? [`bearer.${base64url(token)}`, 'v1'] : ['v1']
      const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://'
      const url = `${scheme}${location.host}/topics?version=${API_VERSION}${project ? `&project=${enc(project)}` : ''}`
      let ws
      try {
        ws = new WebSocket(url, protocols)
      } catch {
        this.retry()
        return
      }
      this.ws = ws
      let opened = false
      setConnection('connecting')
      ws.onopen = () => {
        opened = true
        this.failures = 0
        setConnection('live')
        this.byChannel.clear()
        for (const sub of this.subs.values()) {
          sub.error = null
          this.send(sub)
        }
      }
      ws.onmessage = (event) => {
        if (this.ws === ws) this.receive(event.data)
      }
      ws.onclose = () => {
        if (this.ws !== ws) return
        this.ws = null
        this.byChannel.clear()
        for (const sub of this.subs.values()) sub.channel = 0
        if (authRequired) return
        setConnection('offline')
        if (opened) this.retry()
        else this.diagnose()
      }
    },

    /** The handshake failed: a WebSocket cannot see the HTTP status, so ask over HTTP. */
    async diagnose() {
      try {
        await request('/api/discover')
      } catch (err) {
        if (err instanceof HttpError && err.status === 401) return // the token dialog takes over
      }
      this.retry()
    },

    retry() {
      if (this.timer || !this.subs.size) return
      const delay = Math.min(10_000, 250 * 2 ** this.failures++) * (0.5 + Math.random() / 2)
      this.timer = setTimeout(() => {
        this.timer = null
        if (!this.ws && this.subs.size && !authRequired) this.connect()
      }, delay)
    },

    /** New credentials: reconnect every subscription. */
    reset() {
      if (this.timer) clearTimeout(this.timer)
      this.timer = null
      this.failures = 0
      const ws = this.ws
      this.ws = null
      if (ws) ws.close()
      this.byChannel.clear()
      for (const sub of this.subs.values()) {
        sub.channel = 0
        sub.error = null
      }
      if (this.subs.size) this.connect()
    },

    receive(text) {
      let frame
      try {
        frame = parseJson(text)
      } catch {
        return
      }
      if (!Array.isArray(frame)) return
      const sub = this.byChannel.get(frame[1])
      if (!sub) return
      switch (frame[0]) {
        case 2:
          sub.value = frame[2]
          sub.has = true
          sub.error = null
          break
        case 3:
          if (!sub.has) return
          try {
            for (const update of frame[2]) sub.value = applyUpdate(sub.value, update)
          } catch {
            // our copy no longer matches: start over with a fresh value
            this.byChannel.delete(sub.channel)
            this.ws.send(JSON.stringify([3, sub.channel]))
            this.send(sub)
            return
          }
          break
        case 0:
          sub.error = String(frame[2])
          this.byChannel.delete(sub.channel)
          break
        case 4: {
          const target = this.byChannel.get(frame[2])
          sub.aliasOf = frame[2]
          if (target && target.has) {
            sub.value = target.value
            sub.has = true
          } else return
          break
        }
        default:
          return
      }
      this.notify(sub)
      for (const other of this.subs.values()) {
        if (other.aliasOf && other.aliasOf === sub.channel && other !== sub) {
          other.value = sub.value
          other.has = sub.has
          other.error = sub.error
          this.notify(other)
        }
      }
    },

    notify(sub) {
      for (const listener of [...sub.listeners]) {
        try {
          listener(sub.value, sub.error)
        } catch (err) {
          console.error(err)
        }
      }
    },
  }

  function setConnection(state) {
    const el = $('conn')
    el.dataset.state = state
    el.textContent = { live: 'live', offline: 'offline', connecting: 'connecting', auth: 'token needed' }[state] || state
  }

  // ------------------------------------------------------------------ token dialog

  function needAuth(message) {
    if (!authRequired) {
      authRequired = true
      setConnection('auth')
    }
    showTokenDialog(message, true)
  }

  function showTokenDialog(message, required) {
    const overlay = $('overlay')
    const input = h('input', {
      class: 'input mono', type: 'password', placeholder: 'cflx_… or the super token', autocomplete: 'off', spellcheck: 'false',
    })
    input.value = token
    const save = () => {
      storeToken(input.value)
      overlay.hidden = true
      authRequired = false
      topics.reset()
      boot()
    }
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') save()
      if (e.key === 'Escape' && !required) overlay.hidden = true
    })
    const dialog = h('form', { class: 'card dialog', onsubmit: (e) => { e.preventDefault(); save() } },
      h('h2', null, required ? 'Authentication required' : 'Access token'),
      h('p', null, required
        ? 'This server requires a token. Paste a service token (cflx_…) or the super token. It is kept in this browser’s local storage.'
        : 'The token is sent as a bearer token with every request and kept in this browser’s local storage.'),
      input,
      message ? h('div', { class: 'err' }, message) : null,
      h('div', { class: 'row' },
        token ? h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => { input.value = ''; save() } }, 'Forget token') : null,
        required ? null : h('button', { type: 'button', class: 'btn', onclick: () => { overlay.hidden = true } }, 'Cancel'),
        h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save')))
    clear(overlay, dialog)
    overlay.hidden = false
    input.focus()
  }

  // ------------------------------------------------------------------ values (cli.md §7.1)

  const SHORT = 72

  function isPrimitive(d) {
    return d === null || typeof d !== 'object'
  }

  /** Compact, Python-like text of encoded data (logs, inline lists, group labels). */
  function dataText(d, refs, depth = 0) {
    if (depth > 6) return '…'
    if (d === null) return 'None'
    if (d === true) return 'True'
    if (d === false) return 'False'
    if (typeof d === 'number' || typeof d === 'bigint') return String(d)
    if (typeof d === 'string') return depth === 0 ? d : JSON.stringify(d)
    if (Array.isArray(d)) return `[${d.map((x) => dataText(x, refs, depth + 1)).join(', ')}]`
    switch (d.type) {
      case 'dict': {
        const parts = []
        const items = d.items || []
        for (let i = 0; i + 1 < items.length; i += 2) parts.push(`${dataText(items[i], refs, depth + 1)}: ${dataText(items[i + 1], refs, depth + 1)}`)
        return `{${parts.join(', ')}}`
      }
      case 'set':
        return (d.items || []).length ? `{${d.items.map((x) => dataText(x, refs, depth + 1)).join(', ')}}` : 'set()'
      case 'tuple':
        return `(${(d.items || []).map((x) => dataText(x, refs, depth + 1)).join(', ')}${(d.items || []).length === 1 ? ',' : ''})`
      case 'datetime':
      case 'date':
      case 'time':
      case 'decimal':
      case 'uuid':
        return String(d.value)
      case 'duration':
        return fmtDuration(Number(d.value) * 1000)
      case 'ref':
        return refText((refs || [])[d.index])
      default:
        return stringify(d)
    }
  }

  function refText(ref) {
    if (!ref) return '<ref ?>'
    switch (ref.type) {
      case 'execution':
        return `<${ref.module || '?'}/${ref.target || '?'} ${ref.executionId}>`
      case 'asset': {
        const asset = ref.asset || ref
        return `<asset ${asset.name || ref.assetId}>`
      }
      case 'fragment':
        return `<${fragmentLabel(ref) === ref.format ? ref.format : `${ref.format} ${fragmentLabel(ref)}`} (${fmtBytes(ref.size)})>`
      case 'input':
        return `<input ${ref.inputId}>`
      default:
        return `<${ref.type}>`
    }
  }

  /** `app.models.MyModel`, `Point`, or the bare format (`bytes`) when there is no metadata. */
  function fragmentLabel(ref) {
    const m = ref.metadata || {}
    return String(m.model || m.type || ref.format)
  }

  /** A rendered value: `{"type":"raw",data,references}` or `{"type":"blob",key,size,references}`. */
  function renderValue(value, ctx) {
    if (!value) return h('span', { class: 'faint' }, '—')
    if (value.type === 'blob') {
      const box = h('span', { class: 'value v-blob' })
      const load = async () => {
        try {
          const res = await request(`/blobs/${value.key}`)
          const text = await res.text()
          let data
          try {
            data = parseJson(text)
          } catch {
            clear(box, h('pre', { class: 'v-long' }, text))
            return
          }
          clear(box, renderData(data, value.references || [], ctx, 0))
        } catch (err) {
          toast(`Could not load the blob: ${describeError(err)}`)
        }
      }
      if (typeof value.size === 'number' && value.size <= AUTO_LOAD_BLOB_BYTES) {
        add(box, h('span', { class: 'faint' }, 'Loading…'))
        load()
        return box
      }
      add(box,
        h('span', { class: 'chip', title: value.key }, `blob · ${fmtBytes(value.size)}`),
        h('button', { type: 'button', class: 'btn btn-small', onclick: load }, 'Load'),
        h('button', { type: 'button', class: 'btn btn-small btn-ghost', onclick: () => downloadBlob(value.key, `${value.key}.json`) }, 'Download'))
      return box
    }
    return h('div', { class: 'value' }, renderData(value.data, value.references || [], ctx, 0))
  }

  function renderData(d, refs, ctx, depth) {
    if (d === null) return h('span', { class: 'v-null' }, 'None')
    if (typeof d === 'boolean') return h('span', { class: 'v-bool' }, d ? 'True' : 'False')
    if (typeof d === 'number' || typeof d === 'bigint') return h('span', { class: 'v-num' }, String(d))
    if (typeof d === 'string') {
      if (d.length > 300 || d.split('\n').length > 4) return h('pre', { class: 'v-long' }, d)
      return h('span', { class: 'v-str' }, JSON.stringify(d))
    }
    if (depth > 40) return h('span', { class: 'faint' }, '…')
    if (Array.isArray(d)) return renderSequence('list', d, refs, ctx, depth)
    switch (d.type) {
      case 'dict':
        return renderDict(d.items || [], refs, ctx, depth)
      case 'set':
        return renderSequence('set', d.items || [], refs, ctx, depth)
      case 'tuple':
        return renderSequence('tuple', d.items || [], refs, ctx, depth)
      case 'datetime':
      case 'date':
      case 'time':
        return h('span', null, h('span', { class: 'v-time' }, String(d.value)), h('span', { class: 'v-tag' }, d.type))
      case 'duration':
        return h('span', { title: `${d.value} seconds` }, h('span', { class: 'v-time' }, fmtDuration(Number(d.value) * 1000)), h('span', { class: 'v-tag' }, 'duration'))
      case 'decimal':
        return h('span', null, h('span', { class: 'v-num' }, String(d.value)), h('span', { class: 'v-tag' }, 'decimal'))
      case 'uuid':
        return h('span', null, h('span', { class: 'v-str' }, String(d.value)), h('span', { class: 'v-tag' }, 'uuid'))
      case 'ref':
        return renderRef(refs[d.index], ctx)
      default: {
        // not a tagged value (should not happen in value data): show it as a plain object
        const rows = Object.entries(d).map(([k, v]) => h('tr', null, h('td', { class: 'k' }, k), h('td', null, renderData(v, refs, ctx, depth + 1))))
        return h('table', { class: 'v-table' }, rows)
      }
    }
  }

  const BRACKETS = { list: ['[', ']'], tuple: ['(', ')'], set: ['{', '}'] }

  function renderSequence(kind, items, refs, ctx, depth) {
    const [open, close] = BRACKETS[kind]
    if (items.length === 0) return h('span', { class: 'v-punct' }, kind === 'set' ? 'set()' : `${open}${close}`)
    if (items.every(isPrimitive)) {
      const text = items.map((x) => dataText(x, refs, 1)).join(', ')
      if (text.length <= SHORT) {
        const parts = [h('span', { class: 'v-punct' }, open)]
        items.forEach((x, i) => {
          if (i) parts.push(h('span', { class: 'v-punct' }, ', '))
          parts.push(renderData(x, refs, ctx, depth + 1))
        })
        parts.push(h('span', { class: 'v-punct' }, close), kind === 'list' ? null : h('span', { class: 'v-tag' }, kind))
        return h('span', null, parts)
      }
    }
    const rows = items.map((x, i) =>
      h('tr', null, kind === 'set' ? null : h('td', { class: 'i' }, String(i)), h('td', null, renderData(x, refs, ctx, depth + 1))))
    return fold(`${kind} · ${items.length} item${items.length === 1 ? '' : 's'}`, h('table', { class: 'v-table' }, rows), depth, items.length)
  }

  function renderDict(items, refs, ctx, depth) {
    const count = Math.floor(items.length / 2)
    if (count === 0) return h('span', { class: 'v-punct' }, '{}')
    const rows = []
    for (let i = 0; i + 1 < items.length; i += 2) {
      const k = items[i]
      const key = typeof k === 'string' ? h('span', null, k) : renderData(k, refs, ctx, depth + 1)
      rows.push(h('tr', null, h('td', { class: 'k' }, key), h('td', null, renderData(items[i + 1], refs, ctx, depth + 1))))
    }
    return fold(`dict · ${count} key${count === 1 ? '' : 's'}`, h('table', { class: 'v-table' }, rows), depth, count)
  }

  function fold(label, content, depth, size) {
    if (depth === 0 && size <= 200) return content
    const details = h('details', { class: 'v-fold' }, h('summary', null, label), content)
    if (depth < 3 && size <= 50) details.open = true
    return details
  }

  function renderRef(ref, ctx) {
    if (!ref) return h('span', { class: 'v-ref' }, 'ref ?')
    switch (ref.type) {
      case 'execution': {
        const label = `↳ ${ref.module || '?'}/${ref.target || '?'} · ${ref.executionId}`
        return h('a', { class: 'v-ref', href: hrefExecution(ctx.ws, ref.executionId), title: 'Execution' }, label)
      }
      case 'asset': {
        const asset = ref.asset || ref
        const entry = ref.asset ? ref.asset.entry : null
        const label = `▣ ${asset.name || ref.assetId} · ${asset.totalCount ?? '?'} file${asset.totalCount === 1 ? '' : 's'} · ${fmtBytes(asset.totalSize)}`
        if (entry && /^[0-9a-f]{64}$/.test(entry.blobKey || '')) {
          return h('button', { type: 'button', class: 'v-ref', title: `Download ${entry.path}`, onclick: () => downloadBlob(entry.blobKey, entry.path.split('/').pop()) }, label)
        }
        return h('span', { class: 'v-ref', title: `Asset ${ref.assetId}` }, label)
      }
      case 'fragment': {
        const kind = fragmentLabel(ref) === ref.format ? ref.format : `${fragmentLabel(ref)} · ${ref.format}`
        const label = `◆ ${kind} · ${fmtBytes(ref.size)}`
        if (/^[0-9a-f]{64}$/.test(ref.blobKey || '')) {
          return h('button', { type: 'button', class: 'v-ref', title: `Download the ${ref.format} fragment`, onclick: () => downloadBlob(ref.blobKey, `${fragmentLabel(ref)}.${ref.format}`) }, label)
        }
        return h('span', { class: 'v-ref' }, label)
      }
      case 'input':
        return h('span', { class: 'v-ref', title: 'Input' }, `✎ input ${ref.inputId}`)
      default:
        return h('span', { class: 'v-ref' }, ref.type || 'ref')
    }
  }

  // ------------------------------------------------------------------ statuses (cli.md §7.5)

  function executionStatus(execution) {
    let result = execution && execution.result
    if (result && result.type === 'spawned') result = result.result
    if (!result) return execution && execution.assignedAt ? 'running' : 'pending'
    return result.type === 'value' ? 'completed' : result.type
  }

  function latestAttempt(step) {
    const keys = Object.keys(step.executions || {}).sort(byNumber)
    return keys.length ? keys[keys.length - 1] : null
  }

  function stepStatus(step) {
    const attempt = latestAttempt(step)
    return attempt ? executionStatus(step.executions[attempt]) : 'pending'
  }

  // worst first; active states first, as the CLI counts group members
  const STATUS_RANK = ['running', 'pending', 'error', 'abandoned', 'timeout', 'cancelled', 'suspended', 'recurred', 'deferred', 'cached', 'completed']
  const rank = (s) => {
    const i = STATUS_RANK.indexOf(s)
    return i < 0 ? STATUS_RANK.length : i
  }

  function statusDot(status, title) {
    return h('span', { class: `dot s-${status}`, title: title || status })
  }

  function statusBadge(status, text) {
    return h('span', { class: `badge s-${status}` }, text || status.replace(/_/g, ' '))
  }

  // ------------------------------------------------------------------ global state

  const state = { workspaces: null, discover: null }
  const globalListeners = new Set()
  topics.subscribe(['workspaces'], (value) => {
    state.workspaces = value || {}
    for (const fn of globalListeners) fn()
  })

  function workspaceName(id) {
    const ws = state.workspaces && state.workspaces[id]
    return ws ? ws.name : id
  }

  function setCrumbs(items) {
    const nav = $('crumbs')
    const parts = []
    items.forEach((item, i) => {
      if (i) parts.push(h('span', { class: 'sep' }, '/'))
      parts.push(item.href && i < items.length - 1 ? h('a', { href: item.href }, item.label) : h('span', { class: i === items.length - 1 ? 'current' : null }, item.label))
    })
    clear(nav, parts)
    document.title = items.length > 1 ? `${items[items.length - 1].label} · Coflux` : 'Coflux'
  }

  /** Subscriptions owned by a view, released together. */
  function scope() {
    const disposers = []
    return {
      sub(path, fn) {
        disposers.push(topics.subscribe(path, fn))
      },
      on(fn) {
        disposers.push(fn)
      },
      dispose() {
        while (disposers.length) {
          try {
            disposers.pop()()
          } catch (err) {
            console.error(err)
          }
        }
      },
    }
  }

  function topicError(error, what) {
    const text = error === 'not_found' ? `${what} not found.` : error === 'forbidden' ? `Your token has no access to this ${what.toLowerCase()}.` : `Could not load ${what.toLowerCase()}: ${error}`
    return h('div', { class: 'empty' }, text)
  }

  // ------------------------------------------------------------------ view: workspaces

  function workspacesView() {
    const s = scope()
    const root = h('div', { class: 'page' })
    let showArchived = false
    setCrumbs([{ label: 'Workspaces' }])
    const render = () => {
      const all = state.workspaces
      if (!all) return clear(root, h('div', { class: 'loading' }, 'Loading workspaces…'))
      const entries = Object.entries(all).sort((a, b) => a[1].name.localeCompare(b[1].name))
      const archived = entries.filter(([, w]) => w.state === 'archived').length
      const shown = entries.filter(([, w]) => showArchived || w.state !== 'archived')
      const toggle = h('input', { type: 'checkbox' })
      toggle.checked = showArchived
      toggle.addEventListener('change', () => {
        showArchived = toggle.checked
        render()
      })
      const body = shown.length
        ? h('table', { class: 'table' },
          h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'State'), h('th', null, 'Base'), h('th', null, 'Id'))),
          h('tbody', null, shown.map(([id, w]) =>
            h('tr', { class: 'row-link', onclick: () => { location.hash = hrefWorkspace(id) } },
              h('td', null, h('a', { href: hrefWorkspace(id) }, w.name)),
              h('td', null, statusBadge(w.state)),
              h('td', null, w.baseId ? h('a', { href: hrefWorkspace(w.baseId), onclick: (e) => e.stopPropagation() }, workspaceName(w.baseId)) : h('span', { class: 'faint' }, '—')),
              h('td', { class: 'mono faint' }, id)))))
        : h('div', { class: 'empty' }, 'No workspaces yet. Create one with ', h('code', null, 'coflux workspaces create <name>'), ' or start a worker.')
      clear(root,
        h('div', { class: 'page-head' }, h('h1', null, 'Workspaces'), h('span', { class: 'count' }, String(entries.length - archived)), h('span', { class: 'spacer' }),
          archived ? h('label', { class: 'check' }, toggle, `Show archived (${archived})`) : null),
        h('div', { class: 'card' }, h('div', { class: 'card-body flush' }, body)))
    }
    globalListeners.add(render)
    s.on(() => globalListeners.delete(render))
    render()
    return { el: root, dispose: () => s.dispose() }
  }

  // ------------------------------------------------------------------ view: workspace shell (sidebar + content)

  function workspaceView(route) {
    const s = scope()
    const ws = route.ws
    const sidebar = h('aside', { class: 'sidebar' })
    const main = h('div', { class: 'ws-main' })
    const root = h('div', { class: 'ws-layout' }, sidebar, main)
    const shared = { modules: null, modulesError: null, queue: null, sessions: null }
    let inner = null
    let innerKey = null
    let current = route

    const renderSidebar = () => {
      const counts = {
        queue: shared.queue ? Object.keys(shared.queue).length : null,
        sessions: shared.sessions ? Object.values(shared.sessions).filter((x) => x.connected).length : null,
      }
      const link = (href, label, active, count, live) =>
        h('a', { class: `side-link${active ? ' active' : ''}`, href }, h('span', { class: 'name' }, label), count === null || count === undefined ? null : h('span', { class: `count${live ? ' live' : ''}` }, String(count)))
      const items = [
        h('h3', null, 'Workspace'),
        link(hrefWorkspace(ws), 'Overview', current.name === 'overview'),
        link(hrefQueue(ws), 'Queue', current.name === 'queue', counts.queue, counts.queue > 0),
        link(hrefSessions(ws), 'Sessions', current.name === 'sessions', counts.sessions, false),
        h('h3', null, 'Workflows'),
      ]
      if (shared.modulesError) items.push(h('div', { class: 'side-module' }, shared.modulesError))
      else if (!shared.modules) items.push(h('div', { class: 'side-module' }, 'Loading…'))
      else if (!Object.keys(shared.modules).length) items.push(h('div', { class: 'side-module' }, 'No workflows registered'))
      for (const [module, m] of Object.entries(shared.modules || {}).sort((a, b) => a[0].localeCompare(b[0]))) {
        items.push(h('div', { class: 'side-module', title: module }, module))
        for (const [name, wf] of Object.entries(m.workflows || {}).sort((a, b) => a[0].localeCompare(b[0]))) {
          const active = (wf.activeRuns || []).length
          const selected = current.name === 'workflow' && current.module === module && current.target === name
          items.push(link(hrefWorkflow(ws, module, name), name, selected, active || null, true))
          items[items.length - 1].classList.add('indent')
        }
      }
      clear(sidebar, items)
    }

    s.sub(['workspaces', ws, 'modules'], (value, error) => {
      shared.modules = value || null
      shared.modulesError = error ? (error === 'not_found' ? 'Workspace not found' : error) : null
      renderSidebar()
      if (inner && inner.shared) inner.shared()
    })
    s.sub(['workspaces', ws, 'queue'], (value) => {
      shared.queue = value || {}
      renderSidebar()
      if (inner && inner.shared) inner.shared()
    })
    s.sub(['workspaces', ws, 'sessions'], (value) => {
      shared.sessions = value || {}
      renderSidebar()
      if (inner && inner.shared) inner.shared()
    })
    globalListeners.add(renderSidebar)
    s.on(() => globalListeners.delete(renderSidebar))

    const show = (r) => {
      current = r
      if (innerKey === r.inner && inner) {
        if (inner.update) inner.update(r)
      } else {
        if (inner) inner.dispose()
        innerKey = r.inner
        const make = { overview: overviewView, queue: queueView, sessions: sessionsView, workflow: workflowView, run: runView }[r.name]
        inner = make(r, shared)
        clear(main, inner.el)
        window.scrollTo(0, 0)
      }
      renderSidebar()
      if (inner.crumbs) inner.crumbs()
    }
    const crumbsListener = () => inner && inner.crumbs && inner.crumbs()
    globalListeners.add(crumbsListener)
    s.on(() => globalListeners.delete(crumbsListener))
    show(route)
    return {
      el: root,
      update: show,
      dispose() {
        if (inner) inner.dispose()
        s.dispose()
      },
    }
  }

  function wsCrumbs(ws, ...rest) {
    setCrumbs([{ label: 'Workspaces', href: '#/' }, { label: workspaceName(ws), href: hrefWorkspace(ws) }, ...rest])
  }

  // ------------------------------------------------------------------ view: workspace overview

  function overviewView(route, shared) {
    const s = scope()
    const ws = route.ws
    const root = h('div', { class: 'page' })
    const workflows = new Map() // "module/target" → {value, error, dispose}

    const syncSubscriptions = () => {
      const wanted = new Set()
      for (const [module, m] of Object.entries(shared.modules || {})) for (const name of Object.keys(m.workflows || {})) wanted.add(`${module}/${name}`)
      for (const [key, entry] of workflows) {
        if (!wanted.has(key)) {
          entry.dispose()
          workflows.delete(key)
        }
      }
      for (const key of [...wanted].sort()) {
        if (workflows.has(key) || workflows.size >= MAX_WORKFLOW_SUBSCRIPTIONS) continue
        const slash = key.lastIndexOf('/')
        const entry = { value: null, error: null, dispose: () => {} }
        entry.dispose = topics.subscribe(['workspaces', ws, 'workflows', key.slice(0, slash), key.slice(slash + 1)], (value, error) => {
          entry.value = value
          entry.error = error
          render()
        })
        workflows.set(key, entry)
      }
    }
    s.on(() => {
      for (const entry of workflows.values()) entry.dispose()
      workflows.clear()
    })

    const render = () => {
      const w = state.workspaces && state.workspaces[ws]
      const queue = shared.queue || {}
      const queued = Object.values(queue)
      const sessions = Object.values(shared.sessions || {})
      const connected = sessions.filter((x) => x.connected)
      const stat = (num, label, href) => h('div', { class: 'card stat' }, h('a', { href }, h('div', { class: 'num' }, String(num)), h('div', { class: 'lbl' }, label)))
      const modules = Object.entries(shared.modules || {}).sort((a, b) => a[0].localeCompare(b[0]))
      let activeRuns = 0
      for (const [, m] of modules) for (const wf of Object.values(m.workflows || {})) activeRuns += (wf.activeRuns || []).length

      const cards = modules.map(([module, m]) =>
        h('div', { class: 'card module-card' },
          h('div', { class: 'card-head' }, module),
          h('div', { class: 'card-body flush' },
            Object.entries(m.workflows || {}).sort((a, b) => a[0].localeCompare(b[0])).map(([name, wf]) => {
              const entry = workflows.get(`${module}/${name}`)
              const active = new Set(wf.activeRuns || [])
              const recent = entry && entry.value ? Object.values(entry.value.runs || {}).sort((a, b) => b.createdAt - a.createdAt).slice(0, 6) : []
              for (const id of active) if (!recent.some((r) => r.id === id)) recent.unshift({ id, createdAt: null })
              return h('div', { class: 'wf-row' },
                h('a', { class: 'wf-name', href: hrefWorkflow(ws, module, name) }, name),
                h('span', { class: 'faint' }, recent.length && recent[0].createdAt ? ['last run ', ago(recent[0].createdAt)] : 'no runs yet'),
                h('div', { class: 'wf-runs' }, recent.slice(0, 6).map((r) =>
                  h('a', { class: `chip${active.has(r.id) ? ' run-active' : ''}`, href: hrefRun(ws, r.id), title: r.createdAt ? fmtDateTime(r.createdAt) : 'active' },
                    statusDot(active.has(r.id) ? 'running' : 'finished', active.has(r.id) ? 'active' : 'finished'), r.id))))
            }))))

      clear(root,
        h('div', { class: 'page-head' },
          h('h1', null, w ? w.name : ws),
          w ? statusBadge(w.state) : null,
          w && w.baseId ? h('span', { class: 'subtle' }, 'based on ', h('a', { href: hrefWorkspace(w.baseId) }, workspaceName(w.baseId))) : null,
          h('span', { class: 'spacer' }),
          w && w.state !== 'archived' ? h('button', {
            type: 'button', class: 'btn', onclick: async () => {
              try {
                await api(w.state === 'paused' ? 'resume_workspace' : 'pause_workspace', { workspaceId: ws })
              } catch (err) {
                toast(describeError(err))
              }
            },
          }, w.state === 'paused' ? 'Resume' : 'Pause') : null),
        h('div', { class: 'stats' },
          stat(activeRuns, 'active runs', hrefWorkspace(ws)),
          stat(queued.length, 'queued executions', hrefQueue(ws)),
          stat(queued.filter((q) => q.status === 'assigned').length, 'running now', hrefQueue(ws)),
          stat(connected.length, `connected session${connected.length === 1 ? '' : 's'}`, hrefSessions(ws))),
        shared.modulesError ? h('div', { class: 'card' }, topicError(shared.modulesError, 'Workspace'))
          : !shared.modules ? h('div', { class: 'loading' }, 'Loading…')
            : cards.length ? h('div', { class: 'grid' }, cards)
              : h('div', { class: 'card' }, h('div', { class: 'empty' }, 'No workflows registered yet. Start a worker with ', h('code', null, 'coflux worker --dev <module>'), ' or run ', h('code', null, 'coflux manifests register'), '.')))
    }

    const refresh = () => {
      syncSubscriptions()
      render()
    }
    refresh()
    return { el: root, shared: refresh, crumbs: () => wsCrumbs(ws), dispose: () => s.dispose() }
  }

  // ------------------------------------------------------------------ view: workflow

  function workflowView(route) {
    const s = scope()
    const { ws, module, target } = route
    const root = h('div', { class: 'page' })
    let value = null
    let error = null
    let activeRuns = new Set()
    s.sub(['workspaces', ws, 'modules'], (modules) => {
      const wf = modules && modules[module] && modules[module].workflows && modules[module].workflows[target]
      activeRuns = new Set((wf && wf.activeRuns) || [])
      render()
    })
    s.sub(['workspaces', ws, 'workflows', module, target], (v, e) => {
      value = v
      error = e
      render()
    })

    const render = () => {
      const head = h('div', { class: 'page-head' }, h('h1', { class: 'mono' }, h('span', { class: 'subtle' }, `${module}/`), target))
      if (error) return clear(root, head, h('div', { class: 'card' }, topicError(error, 'Workflow')))
      if (!value) return clear(root, head, h('div', { class: 'loading' }, 'Loading…'))
      const runs = Object.values(value.runs || {}).sort((a, b) => b.createdAt - a.createdAt)
      const config = value.configuration
      const params = value.parameters || []
      const cfgItems = []
      if (config) {
        if (config.waitFor && config.waitFor.length) cfgItems.push(['Wait for', config.waitFor.join(', ')])
        if (config.cache) cfgItems.push(['Cache', cacheText(config.cache)])
        if (config.defer) cfgItems.push(['Defer', `params: ${JSON.stringify(config.defer.params)}`])
        if (config.delay) cfgItems.push(['Delay', fmtDuration(config.delay)])
        if (config.retries) cfgItems.push(['Retries', retriesText(config.retries)])
        if (config.timeout) cfgItems.push(['Timeout', fmtDuration(config.timeout)])
        if (config.recurrent) cfgItems.push(['Recurrent', 'yes'])
        if (config.memo) cfgItems.push(['Memo', 'yes'])
        if (config.requires && Object.keys(config.requires).length) cfgItems.push(['Requires', tagSet(config.requires)])
      }
      clear(root,
        head,
        value.instruction ? h('div', { class: 'card' }, h('div', { class: 'card-body' }, h('div', { class: 'instruction' }, value.instruction))) : null,
        h('div', { class: 'grid' },
          h('div', { class: 'card' },
            h('div', { class: 'card-head' }, h('h2', null, 'Parameters')),
            h('div', { class: 'card-body flush' }, params.length
              ? h('table', { class: 'table' },
                h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'Annotation'), h('th', null, 'Default'))),
                h('tbody', null, params.map((p) => h('tr', null,
                  h('td', { class: 'mono' }, p.name),
                  h('td', { class: 'mono subtle' }, p.annotation || '—'),
                  h('td', { class: 'mono' }, p.default === null || p.default === undefined ? h('span', { class: 'faint' }, '—') : p.default)))))
              : h('div', { class: 'empty' }, value.parameters ? 'No parameters.' : 'No manifest registered.'))),
          h('div', { class: 'card' },
            h('div', { class: 'card-head' }, h('h2', null, 'Configuration')),
            h('div', { class: 'card-body' }, cfgItems.length ? h('dl', { class: 'kv' }, cfgItems.map(([k, v]) => [h('dt', null, k), h('dd', null, v)])) : h('div', { class: 'subtle' }, config ? 'Defaults.' : 'No manifest registered.')))),
        h('div', { class: 'card' },
          h('div', { class: 'card-head' }, h('h2', null, 'Recent runs'), h('span', { class: 'count' }, String(runs.length))),
          h('div', { class: 'card-body flush' }, runs.length
            ? h('table', { class: 'table' },
              h('thead', null, h('tr', null, h('th', null, 'Run'), h('th', null, 'State'), h('th', null, 'Started'), h('th', null, 'Created by'))),
              h('tbody', null, runs.map((r) => h('tr', { class: 'row-link', onclick: () => { location.hash = hrefRun(ws, r.id) } },
                h('td', null, h('a', { class: 'mono', href: hrefRun(ws, r.id) }, r.id)),
                h('td', null, activeRuns.has(r.id) ? statusBadge('running', 'active') : statusBadge('finished')),
                h('td', { class: 'nowrap' }, ago(r.createdAt), h('span', { class: 'faint' }, ` · ${fmtDateTime(r.createdAt)}`)),
                h('td', null, principal(r.createdBy))))))
            : h('div', { class: 'empty' }, 'No runs yet. Submit one with ', h('code', null, `coflux submit ${module}/${target}`), '.'))))
    }
    render()
    return { el: root, crumbs: () => wsCrumbs(ws, { label: `${module}/${target}` }), dispose: () => s.dispose() }
  }

  function cacheText(cache) {
    const parts = [`params: ${JSON.stringify(cache.params)}`]
    if (cache.maxAge) parts.push(`max age ${fmtDuration(cache.maxAge)}`)
    if (cache.namespace) parts.push(`namespace ${cache.namespace}`)
    if (cache.version) parts.push(`version ${cache.version}`)
    return parts.join(' · ')
  }

  function retriesText(r) {
    const limit = r.limit === null || r.limit === undefined ? 'unlimited' : `${r.limit}`
    const backoff = r.backoffMin || r.backoffMax ? ` · backoff ${fmtDuration(r.backoffMin || 0)}–${fmtDuration(r.backoffMax || 0)}` : ''
    return `${limit}${backoff}`
  }

  // ------------------------------------------------------------------ view: queue (§11.2)

  function queueView(route, shared) {
    const ws = route.ws
    const root = h('div', { class: 'page' })
    const render = () => {
      const queue = shared.queue
      const entries = Object.entries(queue || {}).sort((a, b) => (a[1].createdAt || 0) - (b[1].createdAt || 0))
      const counts = {}
      for (const [, q] of entries) counts[q.status] = (counts[q.status] || 0) + 1
      clear(root,
        h('div', { class: 'page-head' }, h('h1', null, 'Queue'), h('span', { class: 'count' }, String(entries.length)),
          h('span', { class: 'spacer' }), h('span', { class: 'chips' }, Object.entries(counts).map(([st, n]) => statusBadge(st, `${n} ${st.replace(/_/g, ' ')}`)))),
        h('div', { class: 'card' }, h('div', { class: 'card-body flush' },
          !queue ? h('div', { class: 'loading' }, 'Loading…')
            : !entries.length ? h('div', { class: 'empty' }, 'Queue is empty.')
              : h('table', { class: 'table' },
                h('thead', null, h('tr', null, h('th', null, 'Status'), h('th', null, 'Execution'), h('th', null, 'Target'), h('th', null, 'Reason'), h('th', null, 'Requires'), h('th', null, 'Dependencies'), h('th', null, 'Queued'))),
                h('tbody', null, entries.map(([id, q]) => h('tr', null,
                  h('td', { class: 'nowrap' }, statusBadge(q.status || 'pending')),
                  h('td', null, h('a', { class: 'mono', href: hrefExecution(ws, id) }, id)),
                  h('td', { class: 'mono' }, h('span', { class: 'subtle' }, `${q.module}/`), q.target),
                  h('td', null, q.reason || '—', q.executeAfter ? h('div', { class: 'faint' }, 'after ', ago(q.executeAfter)) : null),
                  h('td', null, tagSet(q.requires)),
                  h('td', null, (q.dependencies || []).length ? h('span', { class: 'chips' }, q.dependencies.map((d) =>
                    d.includes('/') ? h('span', { class: 'chip' }, d) : h('a', { class: 'chip', href: hrefExecution(ws, d) }, d))) : h('span', { class: 'faint' }, '—')),
                  h('td', { class: 'nowrap' }, ago(q.createdAt)))))))))
    }
    render()
    return { el: root, shared: render, crumbs: () => wsCrumbs(ws, { label: 'Queue' }), dispose() {} }
  }

  // ------------------------------------------------------------------ view: sessions

  function sessionsView(route, shared) {
    const ws = route.ws
    const root = h('div', { class: 'page' })
    const render = () => {
      const sessions = shared.sessions
      const entries = Object.entries(sessions || {}).sort((a, b) => Number(b[1].connected) - Number(a[1].connected) || a[0].localeCompare(b[0]))
      clear(root,
        h('div', { class: 'page-head' }, h('h1', null, 'Sessions'), h('span', { class: 'count' }, String(entries.length))),
        h('div', { class: 'card' }, h('div', { class: 'card-body flush' },
          !sessions ? h('div', { class: 'loading' }, 'Loading…')
            : !entries.length ? h('div', { class: 'empty' }, 'No sessions. Start a worker with ', h('code', null, 'coflux worker <module>'), '.')
              : h('table', { class: 'table' },
                h('thead', null, h('tr', null, h('th', null, 'Session'), h('th', null, 'State'), h('th', null, 'Pool'), h('th', { class: 'num' }, 'Executing'), h('th', { class: 'num' }, 'Waiting'), h('th', null, 'Targets'), h('th', null, 'Provides'), h('th', null, 'Accepts'))),
                h('tbody', null, entries.map(([id, x]) => {
                  const st = x.connected ? (x.workerState === 'draining' ? 'draining' : 'connected') : 'disconnected'
                  return h('tr', null,
                    h('td', { class: 'mono' }, id),
                    h('td', { class: 'nowrap' }, statusBadge(st), x.workerState && x.workerState !== st && x.workerState !== 'active' ? h('span', { class: 'faint' }, ` ${x.workerState}`) : null),
                    h('td', null, x.poolName || h('span', { class: 'faint' }, '—')),
                    h('td', { class: 'num mono' }, `${x.executing ?? 0} / ${x.concurrency ?? '?'}`),
                    // blocked in result(), select or an input: bounded apart, holds no slot
                    h('td', { class: 'num mono' }, `${x.waiting ?? 0} / ${x.maxWaiting ?? '?'}`),
                    h('td', null, Object.keys(x.targets || {}).length
                      ? Object.entries(x.targets).map(([m, names]) => h('div', { class: 'mono' }, h('span', { class: 'subtle' }, `${m}: `), (names || []).join(', ')))
                      : h('span', { class: 'faint' }, '—')),
                    h('td', null, tagSet(x.provides)),
                    h('td', null, tagSet(x.accepts)))
                }))))))
    }
    render()
    return { el: root, shared: render, crumbs: () => wsCrumbs(ws, { label: 'Sessions' }), dispose() {} }
  }

  // ------------------------------------------------------------------ view: run

  function runView(route, shared) {
    const s = scope()
    const ws = route.ws
    const runId = route.run
    let selection = { step: route.query.get('step'), attempt: route.query.get('attempt') }
    let run = null
    let error = null
    const groupPage = new Map() // "<executionId>:<groupId>" → member index, or -1 for all

    const head = h('div', { class: 'run-head' })
    const treeBody = h('div', { class: 'card-body' })
    const detail = h('div', { class: 'card-body' })
    const detailHead = h('div', { class: 'card-head' })
    const logs = logsPanel(ws, runId, () => run, (execId) => select(stepOfExecution(execId), attemptOfExecution(execId)))
    const root = h('div', { class: 'page' },
      head,
      h('div', { class: 'run-layout' },
        h('div', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', null, 'Steps')), treeBody),
        h('div', { class: 'card' }, detailHead, detail)),
      logs.el)
    let lastDetailKey = null
    let selectedStep = null

    s.sub(['workspaces', ws, 'runs', runId], (value, err) => {
      run = value
      error = err
      render()
    })
    s.on(() => logs.dispose())

    function select(stepId, attempt) {
      location.hash = hrefRun(ws, runId, stepId, attempt)
    }

    function initialStepId() {
      if (!run) return null
      const steps = Object.entries(run.steps || {})
      const root = steps.find(([, st]) => st.parentId === null) || steps.sort((a, b) => a[1].stepNumber - b[1].stepNumber)[0]
      return root ? root[0] : null
    }

    function render() {
      if (error) {
        clear(head, h('div', { class: 'title' }, runId))
        clear(treeBody, topicError(error, 'Run'))
        clear(detail)
        clear(detailHead)
        return
      }
      if (!run) {
        clear(head, h('div', { class: 'title' }, runId), h('span', { class: 'subtle' }, 'Loading…'))
        return
      }
      const steps = run.steps || {}
      const initial = initialStepId()
      const initialStep = initial ? steps[initial] : null
      const statuses = Object.values(steps).map(stepStatus)
      const active = statuses.filter((x) => x === 'running' || x === 'pending').length
      const overall = initialStep ? stepStatus(initialStep) : 'pending'
      selectedStep = selection.step && steps[selection.step] ? selection.step : initial
      clear(head,
        statusDot(overall),
        h('div', { class: 'title' }, initialStep ? h('span', null, h('span', { class: 'subtle' }, `${initialStep.module}/`), initialStep.target) : runId),
        h('span', { class: 'chip' }, runId),
        statusBadge(overall),
        run.parent ? h('span', { class: 'subtle' }, 'spawned by ', h('a', { class: 'mono', href: hrefExecution(ws, run.parent.executionId) }, `${run.parent.module}/${run.parent.target} ${run.parent.executionId}`)) : null,
        h('span', { class: 'spacer' }),
        h('span', { class: 'subtle' }, `${Object.keys(steps).length} step${Object.keys(steps).length === 1 ? '' : 's'}`, active ? ` · ${active} active` : ''),
        h('span', { class: 'subtle' }, 'started ', ago(run.createdAt)),
        initialStep ? h('a', { class: 'btn btn-small', href: hrefWorkflow(ws, initialStep.module, initialStep.target) }, 'Workflow') : null)
      clear(treeBody, renderTree(initial))
      renderDetail()
    }

    // ---- the step tree (cli.md §8.2)

    function childrenOfStep(stepId) {
      const steps = run.steps || {}
      const step = steps[stepId]
      const out = []
      const seen = new Set()
      for (const attempt of Object.keys(step.executions || {}).sort(byNumber)) {
        const execution = step.executions[attempt]
        for (const child of execution.children || []) {
          if (seen.has(child.stepId)) continue
          seen.add(child.stepId)
          out.push({ ...child, executionId: execution.executionId })
        }
      }
      // steps that name one of this step's executions as parent but are not listed (yet)
      const executionIds = new Set(Object.values(step.executions || {}).map((e) => e.executionId))
      for (const [id, st] of Object.entries(steps)) {
        if (!seen.has(id) && st.parentId && executionIds.has(st.parentId)) {
          seen.add(id)
          out.push({ stepId: id, attempt: null, groupId: null, executionId: st.parentId })
        }
      }
      const num = (c) => (steps[c.stepId] ? steps[c.stepId].stepNumber : Number(c.stepId.split(':')[1]) || 0)
      return out.sort((a, b) => (runOf(a.stepId) === runId ? 0 : 1) - (runOf(b.stepId) === runId ? 0 : 1) || num(a) - num(b))
    }

    function branchStatus(stepId, seen = new Set()) {
      const step = (run.steps || {})[stepId]
      if (!step || seen.has(stepId)) return 'completed'
      seen.add(stepId)
      let worst = stepStatus(step)
      for (const child of childrenOfStep(stepId)) {
        const st = branchStatus(child.stepId, seen)
        if (rank(st) < rank(worst)) worst = st
      }
      return worst
    }

    function renderTree(initial) {
      const steps = run.steps || {}
      const rendered = new Set()
      const roots = Object.entries(steps)
        .filter(([id, st]) => id === initial || !st.parentId || !steps[stepOfExecution(st.parentId)])
        .sort((a, b) => a[1].stepNumber - b[1].stepNumber)
        .map(([id]) => id)
      if (!roots.length) return h('div', { class: 'empty' }, 'No steps yet.')
      return h('ul', { class: 'tree' }, roots.map((id) => renderNode(id, id === initial, rendered)))
    }

    function renderNode(stepId, isInitial, rendered) {
      const steps = run.steps || {}
      const step = steps[stepId]
      if (!step) {
        // a step of another run (a spawned workflow): link to it
        return h('li', null, h('div', { class: 'tree-ext' }, h('span', { class: 'faint' }, '↗'), h('a', { class: 'mono', href: hrefRun(ws, runOf(stepId)) }, `run ${runOf(stepId)}`)))
      }
      if (rendered.has(stepId)) return null
      rendered.add(stepId)
      const attempt = latestAttempt(step)
      const execution = attempt ? step.executions[attempt] : null
      const status = stepStatus(step)
      const selected = selectedStep === stepId
      const row = h('div', {
        class: `tree-row${selected ? ' selected' : ''}`,
        onclick: () => select(stepId),
        title: `${step.module}/${step.target} · ${stepId}`,
      },
      statusDot(status),
      h('span', { class: 'num' }, `${step.stepNumber}:${attempt || '-'}`),
      h('span', { class: 'target' }, h('span', { class: 'module' }, `${step.module}/`), step.target),
      isInitial ? h('span', { class: 'runid' }, `[${runId}]`) : null,
      annotation(status, execution))

      const children = childrenOfStep(stepId)
      const items = []
      // groups: children of one execution sharing a group id with ≥ 2 members collapse
      const groups = new Map()
      for (const c of children) {
        if (c.groupId === null || c.groupId === undefined) continue
        const key = `${c.executionId}:${c.groupId}`
        if (!groups.has(key)) groups.set(key, [])
        groups.get(key).push(c)
      }
      const emitted = new Set()
      for (const c of children) {
        const key = c.groupId === null || c.groupId === undefined ? null : `${c.executionId}:${c.groupId}`
        const members = key ? groups.get(key) : null
        if (!members || members.length < 2) {
          items.push(renderNode(c.stepId, false, rendered))
          continue
        }
        if (emitted.has(key)) continue
        emitted.add(key)
        items.push(renderGroup(key, members, rendered))
      }
      const list = items.filter(Boolean)
      return h('li', null, row, list.length ? h('ul', { class: 'tree' }, list) : null)
    }

    function renderGroup(key, members, rendered) {
      const [executionId, groupId] = [key.slice(0, key.lastIndexOf(':')), key.slice(key.lastIndexOf(':') + 1)]
      const parentStep = (run.steps || {})[stepOfExecution(executionId)]
      const parentExecution = parentStep && parentStep.executions[String(attemptOfExecution(executionId))]
      const name = (parentExecution && parentExecution.groups && parentExecution.groups[groupId]) || `group ${groupId}`
      const counts = {}
      for (const m of members) {
        const st = branchStatus(m.stepId)
        counts[st] = (counts[st] || 0) + 1
      }
      const summary = Object.entries(counts).sort((a, b) => rank(a[0]) - rank(b[0])).map(([st, n]) => `${n} ${st}`).join(', ')
      let page = groupPage.has(key) ? groupPage.get(key) : 0
      const selectedIndex = members.findIndex((m) => m.stepId === selection.step)
      if (page !== -1 && selectedIndex >= 0 && !groupPage.has(`${key}#pinned`)) page = selectedIndex
      if (page >= members.length) page = members.length - 1
      const go = (delta) => (e) => {
        e.stopPropagation()
        groupPage.set(key, Math.min(members.length - 1, Math.max(0, (page === -1 ? 0 : page) + delta)))
        groupPage.set(`${key}#pinned`, true)
        render()
      }
      const toggleAll = (e) => {
        e.stopPropagation()
        groupPage.set(key, page === -1 ? 0 : -1)
        groupPage.set(`${key}#pinned`, true)
        render()
      }
      const header = h('div', { class: 'tree-group' },
        h('span', { class: 'gname' }, name),
        page === -1 ? h('span', null, `all ${members.length}`) : [
          h('button', { type: 'button', class: 'btn btn-ghost btn-small', onclick: go(-1), disabled: page <= 0, title: 'Previous' }, '‹'),
          h('span', null, `${page + 1} of ${members.length}`),
          h('button', { type: 'button', class: 'btn btn-ghost btn-small', onclick: go(1), disabled: page >= members.length - 1, title: 'Next' }, '›'),
        ],
        h('span', { class: 'faint' }, `(${summary})`),
        h('button', { type: 'button', class: 'btn btn-ghost btn-small', onclick: toggleAll }, page === -1 ? 'collapse' : 'show all'))
      const shown = page === -1 ? members : [members[page]]
      const nodes = shown.map((m) => renderNode(m.stepId, false, rendered)).filter(Boolean)
      for (const m of members) rendered.add(m.stepId)
      return h('li', null, header, h('ul', { class: 'tree' }, nodes))
    }

    function annotation(status, execution) {
      const result = execution && execution.result
      switch (status) {
        case 'running':
          return h('span', { class: 'note' }, 'Running…')
        case 'pending': {
          const q = shared.queue && execution && shared.queue[execution.executionId]
          return q ? h('span', { class: 'note', title: q.reason }, q.reason || q.status) : null
        }
        case 'error': {
          const e = (result && result.type === 'spawned' ? result.result : result) || {}
          const err = e.error || {}
          return h('span', { class: 'note err', title: err.message || '' }, `${shortType(err.type)}: ${err.message || ''}`)
        }
        case 'completed':
          return null
        default:
          return h('span', { class: 'note' }, `(${status})`)
      }
    }

    // ---- the selected step

    function renderDetail() {
      const steps = run.steps || {}
      const stepId = selectedStep
      const step = stepId ? steps[stepId] : null
      const attempts = step ? Object.keys(step.executions || {}).sort(byNumber) : []
      const attempt = selection.attempt && attempts.includes(String(selection.attempt)) ? String(selection.attempt) : attempts[attempts.length - 1]
      const execution = step && attempt ? step.executions[attempt] : null
      const queueEntry = execution && shared.queue ? shared.queue[execution.executionId] : null
      const key = stringify([stepId, attempt, step, queueEntry && [queueEntry.status, queueEntry.reason], state.workspaces && execution && state.workspaces[execution.workspaceId]])
      logs.setSelected(execution ? execution.executionId : null)
      if (key === lastDetailKey) return
      lastDetailKey = key
      if (!step) {
        clear(detailHead, h('h2', null, 'Step'))
        clear(detail, h('div', { class: 'empty' }, 'No steps yet.'))
        return
      }
      const status = execution ? executionStatus(execution) : 'pending'
      const actions = []
      if (execution && (status === 'running' || status === 'pending')) {
        actions.push(h('button', {
          type: 'button', class: 'btn btn-small btn-danger', onclick: async () => {
            try {
              await api('cancel_execution', { workspaceId: ws, executionId: execution.executionId })
              toast(`Cancelled ${execution.executionId}`, true)
            } catch (err) {
              toast(describeError(err))
            }
          },
        }, 'Cancel'))
      }
      actions.push(h('button', {
        type: 'button', class: 'btn btn-small', onclick: async () => {
          try {
            const res = await api('rerun_step', { workspaceId: ws, stepId })
            select(stepId, res && res.attempt)
          } catch (err) {
            toast(describeError(err))
          }
        },
      }, 'Re-run'))
      clear(detailHead,
        statusDot(status),
        h('h2', { class: 'mono' }, h('span', { class: 'subtle' }, `${step.module}/`), step.target),
        h('span', { class: 'chip' }, stepId),
        h('span', { class: 'spacer' }),
        actions)

      const tabs = h('div', { class: 'attempts' }, attempts.map((a) => {
        const st = executionStatus(step.executions[a])
        return h('a', { class: `attempt-tab${a === attempt ? ' active' : ''}`, href: hrefRun(ws, runId, stepId, a) }, statusDot(st), `#${a}`, h('span', { class: 'faint' }, st))
      }))

      const meta = []
      const row = (k, v) => meta.push(h('dt', null, k), h('dd', null, v))
      if (execution) {
        row('Execution', h('span', { class: 'mono' }, execution.executionId))
        row('Status', [statusBadge(status), queueEntry && queueEntry.reason ? h('span', { class: 'subtle' }, ` ${queueEntry.reason}`) : null])
        if (execution.workspaceId && execution.workspaceId !== ws) row('Workspace', h('a', { href: hrefWorkspace(execution.workspaceId) }, workspaceName(execution.workspaceId)))
        row('Created', [ago(execution.createdAt), h('span', { class: 'faint' }, ` · ${fmtDateTime(execution.createdAt)}`)])
        if (execution.executeAfter) row('Execute after', fmtDateTime(execution.executeAfter))
        if (execution.assignedAt) row('Started', [fmtDateTime(execution.assignedAt), h('span', { class: 'faint' }, ` · waited ${fmtDuration(execution.assignedAt - execution.createdAt)}`)])
        if (execution.completedAt) row('Finished', [fmtDateTime(execution.completedAt), h('span', { class: 'faint' }, ` · took ${fmtDuration(execution.completedAt - (execution.assignedAt || execution.createdAt))}`)])
        else if (execution.assignedAt) row('Running for', h('span', null, fmtDuration(Date.now() - execution.assignedAt)))
        if (execution.createdBy) row('Created by', principal(execution.createdBy))
      }
      if (step.parentId) row('Called by', h('a', { class: 'mono', href: hrefExecution(ws, step.parentId) }, step.parentId))
      if (step.retries) row('Retries', retriesText(step.retries))
      if (step.timeout) row('Timeout', fmtDuration(step.timeout))
      if (step.cacheConfig) row('Cache', [cacheText(step.cacheConfig), step.cacheKey ? h('span', { class: 'faint mono' }, ` · key ${step.cacheKey}`) : null])
      if (step.memoKey) row('Memo key', h('span', { class: 'mono' }, step.memoKey))
      if (step.recurrent) row('Recurrent', 'yes')
      if (step.requires && Object.keys(step.requires).length) row('Requires', tagSet(step.requires))

      const ctx = { ws }
      const args = step.arguments || []
      const sections = [
        tabs,
        h('dl', { class: 'kv' }, meta),
        h('div', { class: 'section' }, h('h3', null, 'Arguments'), args.length
          ? h('div', { class: 'args' }, args.map((a, i) => [h('span', { class: 'aname' }, String(i)), renderValue(a, ctx)]))
          : h('div', { class: 'subtle' }, 'None')),
        h('div', { class: 'section' }, h('h3', null, 'Result'), renderResult(execution, ctx, stepId)),
      ]
      if (execution) {
        const deps = Object.entries(execution.dependencies || {})
        if (deps.length) {
          sections.push(h('div', { class: 'section' }, h('h3', null, 'Dependencies'), h('div', { class: 'chips' }, deps.map(([id, d]) => {
            if (d.type === 'result') return h('a', { class: 'chip', href: hrefExecution(ws, id) }, `${d.execution ? `${d.execution.module}/${d.execution.target} ` : ''}${id}`)
            if (d.type === 'input') return h('span', { class: 'chip' }, `✎ ${d.title || id} · ${d.status || 'pending'}`)
            if (d.type === 'asset') return h('span', { class: 'chip' }, `▣ ${(d.asset && d.asset.name) || id}`)
            return h('span', { class: 'chip' }, id)
          }))))
        }
        const assets = Object.entries(execution.assets || {})
        if (assets.length) {
          sections.push(h('div', { class: 'section' }, h('h3', null, 'Assets'), h('div', { class: 'chips' }, assets.map(([id, asset]) => renderRef({ type: 'asset', assetId: id, asset }, ctx)))))
        }
        const inputs = Object.entries(execution.inputs || {})
        if (inputs.length) {
          sections.push(h('div', { class: 'section' }, h('h3', null, 'Inputs'), h('div', { class: 'chips' }, inputs.map(([id, input]) =>
            h('span', { class: 'chip', title: id }, `✎ ${input.title || id} · ${input.status || 'pending'}`)))))
        }
        const metrics = Object.keys(execution.metrics || {})
        if (metrics.length) sections.push(h('div', { class: 'section' }, h('h3', null, 'Metrics'), h('div', { class: 'chips' }, metrics.map((m) => h('span', { class: 'chip' }, m)))))
      }
      clear(detail, sections)
    }

    function renderResult(execution, ctx, stepId) {
      if (!execution) return h('div', { class: 'subtle' }, 'No attempts yet.')
      return resultBlock(execution.result, execution, ctx, stepId, 0)
    }

    function resultBlock(result, execution, ctx, stepId, depth) {
      if (!result) {
        if (depth > 0) return h('div', { class: 'notice' }, 'Waiting for the result…')
        if (execution.assignedAt) return h('div', { class: 'notice' }, 'Running…')
        const q = shared.queue && shared.queue[execution.executionId]
        return h('div', { class: 'notice' }, q ? `Pending — ${q.reason || q.status}` : 'Pending')
      }
      const attemptLink = (label, attempt) => (attempt ? h('a', { href: hrefRun(ws, runId, stepId, attempt) }, `${label} #${attempt}`) : null)
      switch (result.type) {
        case 'value':
          return renderValue(result.value, ctx)
        case 'error': {
          const err = result.error || {}
          const frames = err.frames || []
          return h('div', null,
            h('div', { class: 'error-box' },
              h('div', { class: 'error-title' }, h('span', { class: 'etype', title: err.type }, shortType(err.type)), ': ', h('span', { class: 'emsg' }, err.message || '')),
              frames.length ? h('pre', { class: 'traceback' },
                h('span', { class: 'frame' }, 'Traceback (most recent call last):\n'),
                frames.map((f) => [
                  h('span', { class: 'frame' }, '  File "', h('b', null, f.file), `", line ${f.line}, in `, h('b', null, f.name), '\n'),
                  f.code ? h('span', { class: 'code' }, `  ${f.code}\n`) : null,
                ])) : null),
            result.retry ? h('div', { class: 'subtle section' }, 'Retried as ', attemptLink('attempt', result.retry), '.')
              : result.retryable === false ? h('div', { class: 'subtle section' }, 'Not retryable.') : null)
        }
        case 'abandoned':
        case 'timeout':
          return h('div', { class: 'notice warn' }, result.type === 'timeout' ? 'The execution timed out.' : 'The execution was abandoned (its worker went away).',
            result.retry ? [' Retried as ', attemptLink('attempt', result.retry), '.'] : null)
        case 'cancelled':
          return h('div', { class: 'notice warn' }, 'Cancelled.')
        case 'suspended':
        case 'recurred':
          return h('div', { class: 'notice' }, result.type === 'suspended' ? 'Suspended.' : 'Recurred.', result.successor ? [' Continued in ', attemptLink('attempt', result.successor), '.'] : null)
        case 'cached':
        case 'deferred':
        case 'spawned': {
          const target = result.execution || {}
          const verb = { cached: 'Cached result of', deferred: 'Deferred to', spawned: 'Spawned' }[result.type]
          return h('div', null,
            h('div', { class: 'subtle' }, `${verb} `, target.executionId ? h('a', { class: 'mono', href: hrefExecution(ws, target.executionId) }, `${target.module}/${target.target} ${target.executionId}`) : '?'),
            h('div', { class: 'section' }, resultBlock(result.result, execution, ctx, stepId, depth + 1)))
        }
        default:
          return h('div', { class: 'notice' }, result.type)
      }
    }

    render()
    return {
      el: root,
      shared: render,
      update(r) {
        selection = { step: r.query.get('step'), attempt: r.query.get('attempt') }
        if (run) render()
      },
      crumbs() {
        const step = run && initialStepId() ? run.steps[initialStepId()] : null
        const extra = step ? [{ label: `${step.module}/${step.target}`, href: hrefWorkflow(ws, step.module, step.target) }] : []
        wsCrumbs(ws, ...extra, { label: runId })
      },
      dispose: () => s.dispose(),
    }
  }

  // ------------------------------------------------------------------ logs (§12, SSE over fetch)

  const LEVELS = ['DEBUG', 'STDOUT', 'INFO', 'STDERR', 'WARN', 'ERROR']

  function logsPanel(ws, runId, getRun, onSelect) {
    const list = h('div', { class: 'logs' })
    const statusText = h('span', { class: 'faint' })
    const onlySelected = h('input', { type: 'checkbox' })
    const entries = []
    let selected = null
    let controller = null
    let disposed = false
    let retryTimer = null

    const el = h('div', { class: 'card' },
      h('div', { class: 'card-head' }, h('h2', null, 'Logs'), statusText, h('span', { class: 'spacer' }), h('label', { class: 'check' }, onlySelected, 'Selected attempt only')),
      h('div', { class: 'card-body flush' }, list))
    el.classList.add('logs-card')
    onlySelected.addEventListener('change', () => redraw())

    function label(executionId) {
      const run = getRun()
      const step = run && run.steps && run.steps[stepOfExecution(executionId)]
      const n = String(executionId).split(':')
      return step ? `${step.target} ${n[1]}:${n[2]}` : executionId
    }

    function message(entry) {
      const values = entry.values || {}
      const used = new Set()
      let text = entry.template === null || entry.template === undefined ? '' : String(entry.template)
      text = text.replace(/\{(\w+)\}/g, (m, name) => {
        if (!(name in values)) return m
        used.add(name)
        return logValueText(values[name])
      })
      const parts = [text]
      for (const name of Object.keys(values).sort()) {
        if (used.has(name)) continue
        parts.push(' ', h('span', { class: 'log-key' }, `${name}=`), logValueText(values[name]))
      }
      return parts
    }

    function logValueText(v) {
      if (!v) return ''
      if (v.type === 'blob') return `<blob (${fmtBytes(v.size)})>`
      return dataText(v.data, v.references || [])
    }

    let lastDay = null
    function lineFor(entry) {
      const day = new Date(entry.timestamp).toDateString()
      const nodes = []
      if (day !== lastDay) {
        lastDay = day
        nodes.push(h('div', { class: 'log-day' }, fmtDateTime(entry.timestamp).slice(0, 10)))
      }
      const level = Math.max(0, Math.min(5, Number(entry.level) || 0))
      nodes.push(h('div', { class: `log-line l${level}` },
        h('span', { class: 'ts', title: fmtDateTime(entry.timestamp) }, fmtClock(entry.timestamp)),
        h('span', { class: 'lv', title: LEVELS[level] }),
        h('span', { class: 'src', title: entry.executionId, onclick: () => onSelect(entry.executionId) }, label(entry.executionId)),
        h('span', { class: 'msg' }, message(entry))))
      return nodes
    }

    const visible = (entry) => !onlySelected.checked || !selected || entry.executionId === selected

    function redraw() {
      lastDay = null
      const shown = entries.filter(visible)
      clear(list, shown.length ? shown.map(lineFor) : h('div', { class: 'empty' }, entries.length ? 'No log lines for this attempt.' : 'No log lines yet.'))
      list.scrollTop = list.scrollHeight
    }

    function append(batch) {
      if (!batch.length) {
        if (!entries.length) redraw()
        return
      }
      const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40
      const wasEmpty = !entries.length
      entries.push(...batch)
      if (entries.length > MAX_LOG_LINES) {
        entries.splice(0, entries.length - MAX_LOG_LINES)
        redraw()
        return
      }
      if (wasEmpty) return redraw()
      for (const entry of batch) if (visible(entry)) add(list, lineFor(entry))
      if (atBottom) list.scrollTop = list.scrollHeight
    }

    async function stream() {
      controller = new AbortController()
      entries.length = 0
      statusText.textContent = 'connecting…'
      try {
        const res = await request(`/logs?run=${enc(runId)}`, { headers: { accept: 'text/event-stream' }, signal: controller.signal })
        statusText.textContent = 'live'
        const reader = res.body.getReader()
        const decoder = new TextDecoder()
        let buffer = ''
        let first = true
        for (;;) {
          const { value, done } = await reader.read()
          if (done) break
          buffer += decoder.decode(value, { stream: true })
          let cut
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const event = buffer.slice(0, cut)
            buffer = buffer.slice(cut + 2)
            const data = event.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n')
            if (!data) continue
            let batch
            try {
              batch = parseJson(data)
            } catch {
              continue
            }
            if (!Array.isArray(batch)) continue
            if (first) {
              first = false
              clear(list)
            }
            append(batch)
          }
        }
        if (!disposed) statusText.textContent = 'reconnecting…'
      } catch (err) {
        if (disposed) return
        statusText.textContent = err instanceof HttpError && err.status !== 401 ? `unavailable: ${describeError(err)}` : 'reconnecting…'
        if (err instanceof HttpError && err.status === 401) return
      }
      if (!disposed) retryTimer = setTimeout(stream, 2000)
    }

    clear(list, h('div', { class: 'loading' }, 'Loading logs…'))
    stream()

    return {
      el,
      setSelected(executionId) {
        if (executionId === selected) return
        selected = executionId
        if (onlySelected.checked) redraw()
      },
      dispose() {
        disposed = true
        if (retryTimer) clearTimeout(retryTimer)
        if (controller) controller.abort()
      },
    }
  }

  // ------------------------------------------------------------------ device login approval (§16.9)

  function deviceView() {
    const root = h('div', { class: 'page' })
    const code = pageQuery.get('code') || ''
    setCrumbs([{ label: 'Workspaces', href: '#/' }, { label: 'Device login' }])
    const input = h('input', { class: 'input mono', value: code, placeholder: 'ABCD-EFGH' })
    const out = h('div', { class: 'section' })
    const act = (what) => async () => {
      try {
        await api(`auth/device/${what}`, { user_code: input.value.trim().toUpperCase() })
        clear(out, h('div', { class: 'notice' }, what === 'approve' ? 'Approved. You can return to your terminal.' : 'Denied.'))
      } catch (err) {
        clear(out, h('div', { class: 'notice warn' }, describeError(err)))
      }
    }
    add(root, h('div', { class: 'card dialog' },
      h('h2', null, 'Approve a device login'),
      h('p', null, 'A command-line client asked for a token. Check that the code matches the one shown in your terminal.'),
      input,
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'btn', onclick: act('deny') }, 'Deny'),
        h('button', { type: 'button', class: 'btn btn-primary', onclick: act('approve') }, 'Approve')),
      out))
    return { el: root, dispose() {} }
  }

  // ------------------------------------------------------------------ app shell

  let currentView = null
  let currentKey = null

  function navigate() {
    if (authRequired) return
    const route = parseRoute()
    if (currentView && currentKey === route.key && currentView.update) {
      currentView.update(route)
      return
    }
    if (currentView) currentView.dispose()
    currentKey = route.key
    const make = { workspaces: workspacesView, device: deviceView }[route.name] || workspaceView
    currentView = make(route)
    clear($('app'), currentView.el)
  }

  async function boot() {
    try {
      const res = await request('/api/discover')
      state.discover = await res.json()
      const info = state.discover
      $('server-info').textContent = `${info.project ? `${info.project} · ` : ''}v${info.version}`
    } catch (err) {
      if (err instanceof HttpError && err.status === 401) return
      if (err instanceof HttpError) {
        if (currentView) currentView.dispose()
        currentView = null
        currentKey = null
        const hint = err.code === 'project_required' || err.code === 'invalid_host'
          ? ['This server hosts several projects: open the UI on ', h('code', null, '<project>.<host>'), ' or add ', h('code', null, '?project=<id>'), ' to the address.']
          : null
        clear($('app'), h('div', { class: 'page' }, h('div', { class: 'card' }, h('div', { class: 'empty' }, h('div', null, `The server answered ${describeError(err)}.`), hint ? h('p', null, hint) : null))))
        return
      }
      // network trouble: render anyway; the topic connection keeps retrying
    }
    currentKey = null
    navigate()
    topics.ensure()
  }

  $('token-button').addEventListener('click', () => showTokenDialog(null, false))
  window.addEventListener('hashchange', navigate)
  boot()
})()
