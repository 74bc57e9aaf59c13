/**
 * Variables never handed to user processes (executor-protocol.md §1.2): 0.12 leaked the session
 * token into every executor; ours strips every credential the CLI or server might hold.
 */
export const SECRET_ENV_VARS = [
  'COFLUX_TOKEN',
  'COFLUX_SESSION',
  'COFLUX_SUPER_TOKEN',
  'COFLUX_SUPER_TOKEN_HASH',
  'COFLUX_SECRET',
] as const

/**
 * The environment for adapter processes: `base` without the secret variables.
 *
 * @example
 * Bun.spawn([...argv, 'execute'], { env: { ...sanitizedEnv(), ...prepared.env } })
 */
export function sanitizedEnv(base: Record<string, string | undefined> = process.env): Record<string, string> {
  const out: Record<string, string> = {}
  const secret = new Set<string>(SECRET_ENV_VARS)
  for (const [key, value] of Object.entries(base)) {
    if (value !== undefined && !secret.has(key)) out[key] = value
  }
  return out
}
