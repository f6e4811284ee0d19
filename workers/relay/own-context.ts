/**
 * Waiting for work another request started (a shared cache load, a lease another relay asked
 * for), in this request's own context.
 *
 * In workerd a continuation attached to a promise runs in the context of the request that settles
 * it. A relay that awaited another request's load resumed in that request's context, where
 * workerd refuses this relay's own I/O (reading its body, its fetches: "Cannot perform I/O on
 * behalf of a different request"), and it answered 500; `npm run bench` saw a dozen per 20,000
 * relays, at each cache refresh. A promise created in this request and settled from another one
 * resumes here (workerd moves its continuations to the context that created it).
 */
export function inOwnContext<T>(shared: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    shared.then(resolve, reject);
  });
}
