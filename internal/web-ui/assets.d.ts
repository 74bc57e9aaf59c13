// The style sheet, imported for its side effect: Bun.build emits it as its own hashed file.
declare module '*.css' {}
