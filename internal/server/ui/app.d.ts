// app.js is plain browser JavaScript, imported by routes.ts as text to embed it in the binary.
declare const text: string
export default text
