/**
 * Encryption of launcher secrets at rest (http-api.md §16.6): AES-256-GCM with a key derived by
 * HMAC-SHA256 from `COFLUX_SECRET`, or — when none is configured — from `<data>/secret.key`,
 * generated (0600) the first time a secret is stored or read. `COFLUX_SECRET` itself is never
 * used as a key directly, so the same secret can also sign tokens.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** Names what the derived key is for, so other uses of the same secret get other keys. */
const KEY_CONTEXT = 'coflux launcher secrets v1'
const VERSION = 'v1'
const IV_BYTES = 12
const TAG_BYTES = 16

export class SecretError extends Error {
  override readonly name = 'SecretError'
}

export class SecretBox {
  readonly #secret: string | null
  readonly #keyFile: string
  #key: Buffer | null = null

  /**
   * @example
   * const box = new SecretBox({ secret: null, dataDir: '/srv/coflux' })
   * box.decrypt(box.encrypt('hunter2')) // 'hunter2'
   */
  constructor(options: { secret: string | null; dataDir: string }) {
    this.#secret = options.secret
    this.#keyFile = join(options.dataDir, 'secret.key')
  }

  /** `v1.<base64url(iv ‖ ciphertext ‖ tag)>` */
  encrypt(plain: string): string {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.#derivedKey(), iv)
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return `${VERSION}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`
  }

  /** Throws SecretError when the value was sealed with another key (e.g. COFLUX_SECRET changed). */
  decrypt(sealed: string): string {
    const dot = sealed.indexOf('.')
    const raw = dot > 0 && sealed.slice(0, dot) === VERSION ? Buffer.from(sealed.slice(dot + 1), 'base64url') : null
    if (!raw || raw.length < IV_BYTES + TAG_BYTES) throw new SecretError('malformed sealed secret')
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#derivedKey(), raw.subarray(0, IV_BYTES))
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES))
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8')
    } catch {
      throw new SecretError('cannot decrypt a launcher secret (was COFLUX_SECRET or secret.key changed?)')
    }
  }

  #derivedKey(): Buffer {
    this.#key ??= createHmac('sha256', this.#secret ?? this.#localKey()).update(KEY_CONTEXT).digest()
    return this.#key
  }

  /** The local key, created on first need; an existing file always wins (another process may have made it). */
  #localKey(): Buffer {
    try {
      writeFileSync(this.#keyFile, randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const text = readFileSync(this.#keyFile, 'utf8').trim()
    if (text.length < 32) throw new SecretError(`${this.#keyFile} is too short to be a key`)
    return Buffer.from(text, 'utf8')
  }
}

const boxes = new WeakMap<object, SecretBox>()

/** One box per server (its settings object), so the key is derived once. */
export function secretBoxFor(settings: { secret: string | null; dataDir: string }): SecretBox {
  let box = boxes.get(settings)
  if (!box) boxes.set(settings, (box = new SecretBox(settings)))
  return box
}
