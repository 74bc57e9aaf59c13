/** What the blob store tests (disk and S3) feed their stores. */

export const sha256 = (bytes: Uint8Array | string): string => new Bun.CryptoHasher('sha256').update(bytes).digest('hex')
/** the key of the one byte 0x00 */
export const KEY_00 = '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d'
export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

/** A stream yielding `chunks`, recording whether the consumer cancelled it. */
export function streamOf(chunks: Uint8Array[], fail?: Error): { stream: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  let i = 0
  let cancelled = false
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!)
      else if (fail) controller.error(fail)
      else controller.close()
    },
    cancel() {
      cancelled = true
    },
  })
  return { stream, cancelled: () => cancelled }
}
