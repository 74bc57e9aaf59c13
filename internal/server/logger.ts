/** The server's logging surface (implemented over consola by the command). */
export interface Logger {
  debug(message: string): void
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }
