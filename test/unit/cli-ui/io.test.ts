import { expect, test } from 'bun:test'
import { resolve } from 'node:path'
import { QueuedStream } from '../../../internal/cli-ui/index.ts'

test('flushProcessIO keeps everything for a slow reader before process.exit', async () => {
  // process.stdout.write + process.exit loses all but the pipe buffer when the reader lags
  const io = resolve(import.meta.dir, '../../../internal/cli-ui/io.ts')
  const script = `
    import { processIO, flushProcessIO } from ${JSON.stringify(io)}
    const { stdout } = processIO()
    for (let i = 0; i < 64; i++) stdout.write('x'.repeat(64 * 1024))
    stdout.write('end\\n')
    await flushProcessIO()
    process.exit(0)
  `
  const proc = Bun.spawn([process.execPath, '-e', script], { stdout: 'pipe', stderr: 'inherit' })
  await Bun.sleep(300) // let the child fill the pipe and reach process.exit
  const text = await new Response(proc.stdout).text()
  expect(await proc.exited).toBe(0)
  expect(text.length).toBe(64 * 64 * 1024 + 4)
  expect(text.endsWith('end\n')).toBe(true)
})

test('QueuedStream counts queued bytes', async () => {
  const chunks: string[] = []
  const sink = { write: async (s: string) => void chunks.push(s) }
  // any Bun.write target works; a temp file is the simplest
  const path = resolve(import.meta.dir, `.queued-${process.pid}.tmp`)
  const stream = new QueuedStream(Bun.file(path), { isTTY: false })
  stream.write('abc')
  expect(stream.writableLength).toBe(3)
  await stream.flush()
  expect(stream.writableLength).toBe(0)
  void sink
  expect(await Bun.file(path).text()).toBe('abc')
  await Bun.file(path).delete()
})
