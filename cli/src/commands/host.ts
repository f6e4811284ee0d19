/** `conductor host register|update|leave`: the host registry, signed by the operator's key. */
import { ConductorApiError } from "@conductor-relay/sdk";
import type { Command } from "commander";
import { action, parseAmount, parseDegrees, waitFor } from "../context.js";

interface HostShape {
  id: string;
  operator: string;
  endpoint: string;
  services: string[];
  latitude: number;
  longitude: number;
  status: string;
  stake: string;
}

const describe = (verb: string, h: HostShape) => [
  `${verb} ${h.id} (${h.status})`,
  `  operator  ${h.operator}`,
  `  endpoint  ${h.endpoint}`,
  `  services  ${h.services.join(", ")}`,
  `  location  ${h.latitude}, ${h.longitude}`,
  `  stake     ${h.stake}`,
];

interface LocationOptions {
  endpoint: string;
  service: string[];
  lat: string;
  lon: string;
}

const withLocation = (command: Command) =>
  command
    .requiredOption("--endpoint <url>", "the host's public http(s) URL")
    .requiredOption("--service <id...>", "the services it serves (one or more)")
    .requiredOption("--lat <degrees>", "latitude")
    .requiredOption("--lon <degrees>", "longitude");

const location = (o: LocationOptions) => ({
  endpoint: o.endpoint,
  services: o.service,
  latitude: parseDegrees(o.lat, 90, "--lat"),
  longitude: parseDegrees(o.lon, 180, "--lon"),
});

export function addHostCommands(program: Command): void {
  const host = program.command("host").description("register, update or leave a host (signed by the operator's key)");

  withLocation(host.command("register"))
    .description("register a host, staking from the operator's balance; waits until the registry shows it")
    .requiredOption("--stake <amount>", "stake in minor units, from the operator's balance")
    .option("--timeout <seconds>", "how long to wait for the registration to be visible", "60")
    .action(
      action(async (ctx, o: LocationOptions & { stake: string; timeout: string }) => {
        const account = ctx.account();
        const progress = ctx.out.progress("registering the host...");
        try {
          const registered = await ctx.client.registerHost({ account, ...location(o), stake: parseAmount(o.stake) });
          progress.update(`registered ${registered.id}; waiting for the registry to show it...`);
          const visible = await waitFor(
            () =>
              ctx.client.getHost(registered.id).catch((error) => {
                if (error instanceof ConductorApiError && error.code === "unknown_host") return undefined;
                throw error;
              }),
            { timeoutMs: Number(o.timeout) * 1000, what: `host ${registered.id} in the registry` },
          );
          progress.stop();
          ctx.out.result(visible, () => describe("registered", visible));
        } finally {
          progress.stop();
        }
      }),
    );

  withLocation(host.command("update").argument("<host-id>"))
    .description("change a host's endpoint, location and services")
    .action(
      action(async (ctx, hostId: string, o: LocationOptions) => {
        const updated = await ctx.client.updateHost({ account: ctx.account(), hostId, ...location(o) });
        ctx.out.result(updated, () => describe("updated", updated));
      }),
    );

  host
    .command("leave")
    .argument("<host-id>")
    .description("leave the network: no new session chooses the host (its stake stays bonded until unstaked)")
    .action(
      action(async (ctx, hostId: string) => {
        const left = await ctx.client.leaveHost({ account: ctx.account(), hostId });
        ctx.out.result(left, () => describe("left", left));
      }),
    );
}
