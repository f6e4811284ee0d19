#!/usr/bin/env node
// `npx conductor`: the CLI's entry. The CLI and the SDK are TypeScript sources in this
// repository; tsx (a dependency of the repository) loads them without a build step.
import { register } from "tsx/esm/api";

register();
await import("../src/main.js");
