// The web UI's style sheet, embedded as text by a `with { type: 'text' }` import (routes.ts).
// (`*.html` is declared by bun-types as an HTML bundle; routes.ts imports it as text.)
declare module '*.css' {
  const text: string
  export default text
}
