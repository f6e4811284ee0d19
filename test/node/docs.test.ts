/** Generated docs are checked in: each must be exactly what `npm run docs` writes from the code. */
import { describe, expect, it } from "vitest";
import { checkedIn, DOC_GENERATORS } from "../../scripts/generate-docs.js";

describe("generated docs", () => {
  it.each(DOC_GENERATORS.map((g) => [g.path, g] as const))("%s is up to date", (path, generator) => {
    expect(checkedIn(generator), `${path} differs from what the code describes: run \`npm run docs\` and commit it`).toBe(
      generator.content(),
    );
  });
});
