import { env } from "cloudflare:workers";
import { database, storageDriver } from "../../workers/db/database.js";
import { repositorySuite } from "../repository/suite.js";

repositorySuite(`the Worker's configured driver (${storageDriver(env)})`, () => database(env));
