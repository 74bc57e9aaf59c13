/**
 * The docker launcher's pure parts: where requests go, what is pulled, how a container's log
 * stream is read, and the container it asks for (the daemon itself: test/e2e/docker-launcher).
 */
import { describe, expect, test } from 'bun:test'
import { containerSpec, dockerHostOf } from '../../../internal/server/launchers/docker.ts'
import { demultiplexLogs, imageReference, parseDockerHost } from '../../../internal/server/launchers/docker-engine.ts'

function frame(stream: number, text: string): Uint8Array {
  const payload = new TextEncoder().encode(text)
  const header = new Uint8Array(8)
  header[0] = stream
  new DataView(header.buffer).setUint32(4, payload.length)
  return Buffer.concat([header, payload])
}

describe('docker engine', () => {
  test('hosts: unix sockets, tcp and http', () => {
    expect(parseDockerHost('unix:///var/run/docker.sock')).toEqual({ baseUrl: 'http://docker', socketPath: '/var/run/docker.sock' })
    expect(parseDockerHost('tcp://10.0.0.2:2375')).toEqual({ baseUrl: 'http://10.0.0.2:2375', socketPath: null })
    expect(parseDockerHost('https://docker.internal:2376/')).toEqual({ baseUrl: 'https://docker.internal:2376', socketPath: null })
    expect(() => parseDockerHost('ssh://me@box')).toThrow("unsupported docker host 'ssh://me@box'")
  })

  test('a pull names one tag: latest when none is given, a registry port is not a tag', () => {
    expect(imageReference('app')).toEqual({ fromImage: 'app', tag: 'latest' })
    expect(imageReference('app:1.2')).toEqual({ fromImage: 'app', tag: '1.2' })
    expect(imageReference('localhost:5000/team/app')).toEqual({ fromImage: 'localhost:5000/team/app', tag: 'latest' })
    expect(imageReference('localhost:5000/app:v2')).toEqual({ fromImage: 'localhost:5000/app', tag: 'v2' })
    expect(imageReference('app@sha256:abc')).toEqual({ fromImage: 'app', tag: 'sha256:abc' })
  })

  test('multiplexed logs are joined in order; a TTY stream is kept as it is', () => {
    const joined = demultiplexLogs(Buffer.concat([frame(1, 'out 1\n'), frame(2, 'err ✗\n'), frame(1, 'out 2\n')]))
    expect(new TextDecoder().decode(joined)).toBe('out 1\nerr ✗\nout 2\n')
    const raw = new TextEncoder().encode('plain output\n')
    expect(demultiplexLogs(raw)).toEqual(raw)
    expect(demultiplexLogs(new Uint8Array())).toEqual(new Uint8Array())
  })
})

describe('docker launcher', () => {
  test('the container: `coflux worker <modules>`, the environment, labels, host network', () => {
    const spec = containerSpec({
      workerId: 'w-1',
      image: 'app:1',
      dockerHost: 'unix:///var/run/docker.sock',
      modules: ['app.flows', 'app.tasks'],
      env: { COFLUX_HOST: 'localhost:7777', MODE: 'a=b' },
      labels: { 'coflux.pool': 'cpu' },
    })
    expect(spec).toEqual({
      Image: 'app:1',
      Entrypoint: ['coflux', 'worker'],
      Cmd: ['app.flows', 'app.tasks'],
      Env: ['COFLUX_HOST=localhost:7777', 'MODE=a=b'],
      Labels: { 'coflux.pool': 'cpu', 'coflux.worker': 'w-1' },
      HostConfig: { NetworkMode: 'host', Init: true },
    })
  })

  test("the daemon: the pool's dockerHost, else DOCKER_HOST, else the local socket", () => {
    expect(dockerHostOf('tcp://box:2375', { DOCKER_HOST: 'unix:///x.sock' })).toBe('tcp://box:2375')
    expect(dockerHostOf(undefined, { DOCKER_HOST: 'unix:///x.sock' })).toBe('unix:///x.sock')
    expect(dockerHostOf('', {})).toBe('unix:///var/run/docker.sock')
  })
})
