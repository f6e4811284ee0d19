/** The baseline: a Worker that only forwards each request to the upstream with `fetch`. */
export default {
  fetch(request: Request, env: { UPSTREAM: string }): Promise<Response> {
    return fetch(env.UPSTREAM, { method: request.method, headers: { "content-type": "application/json" }, body: request.body });
  },
};
