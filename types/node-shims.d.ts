// Node-side code (tools, validator, tests) reuses the repository layer, which names two Worker
// globals in its signatures; in Node only libSQL databases are passed, so opaque shapes suffice.
type D1Database = object;
interface Env {
  DB: D1Database;
}
