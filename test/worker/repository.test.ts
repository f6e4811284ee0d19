import { env } from "cloudflare:workers";
import { database } from "../../workers/db/database.js";
import { repositorySuite } from "../repository/suite.js";

repositorySuite(
  `the Worker's configured driver (${(env as unknown as { STORAGE_DRIVER?: string }).STORAGE_DRIVER ?? "d1"})`,
  () => database(env),
);
