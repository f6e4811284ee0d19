/**
 * The repository layer's contract, run against every driver (D1 in workerd, libSQL in Node) with
 * the same assertions: callers must not be able to tell which database is underneath.
 */
import { describe, expect, it } from "vitest";
import { balanceAccount, ISSUANCE_ACCOUNT } from "../../protocol/ledger.js";
import { DEFAULT_RELAY_POLICY } from "../../protocol/relay-policy.js";
import { services } from "../../schema/tables.js";
import { batchMembers, getBatch, insertBatch, markSessionClosed, reportCardsOfSessions } from "../../workers/db/batches.js";
import type { Database } from "../../workers/db/database.js";
import { consumeOperatorNonce, getHost, insertHost, listHosts, nextOperatorNonce } from "../../workers/db/hosts.js";
import { getAccounts, ledgerStatements, operationStatement, single } from "../../workers/db/ledger.js";
import { createRequestor, findRequestorByKeyHash, insertApiKey } from "../../workers/db/requestors.js";
import { createService, getService } from "../../workers/db/services.js";
import { getSessionRecord, recordSession } from "../../workers/db/sessions.js";
import { ConstraintViolation, write } from "../../workers/db/storage-errors.js";

const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
const NOW = 1_763_712_000_000;

async function newService(db: Database) {
  const id = unique("svc");
  expect(
    await createService(
      db,
      {
        id,
        kind: "jsonrpc",
        chainId: 1,
        model: null,
        computeUnits: { default: 1, methods: { eth_getLogs: 5 } },
        pricePerComputeUnit: 10,
        allowedMethods: [],
        relayPolicy: DEFAULT_RELAY_POLICY,
      },
      NOW,
    ),
  ).toBe(true);
  return id;
}

async function newHost(db: Database, serviceId: string, id = unique("host")) {
  const operator = `0x${Math.random().toString(16).slice(2).padEnd(40, "0").slice(0, 40)}`;
  await consumeOperatorNonce(db, operator, 0n);
  await insertHost(
    db,
    {
      id,
      operator,
      endpoint: "https://rpc.example.com",
      latitude: 1,
      longitude: 2,
      activeSince: 0,
      services: [serviceId],
    },
    NOW,
  );
  return id;
}

async function expectViolation(operation: Promise<unknown>, kind: ConstraintViolation["kind"]) {
  const error = await operation.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConstraintViolation);
  expect((error as ConstraintViolation).kind).toBe(kind);
}

export function repositorySuite(driver: string, getDb: () => Database) {
  describe(`repository layer on ${driver}`, () => {
    it("stores and reads services; a taken id answers false instead of throwing", async () => {
      const db = getDb();
      const id = await newService(db);
      expect(
        await createService(
          db,
          {
            id,
            kind: "http",
            chainId: null,
            model: "m",
            computeUnits: { default: 2, methods: {} },
            pricePerComputeUnit: 10,
            allowedMethods: [],
            relayPolicy: DEFAULT_RELAY_POLICY,
          },
          NOW,
        ),
      ).toBe(false);
      expect(await getService(db, id)).toEqual({
        id,
        kind: "jsonrpc",
        chainId: 1,
        model: null,
        computeUnits: { default: 1, methods: { eth_getLogs: 5 } },
        pricePerComputeUnit: 10,
        allowedMethods: [],
        partner: null,
        relayPolicy: DEFAULT_RELAY_POLICY,
        // The market's per-service settings (0012), at their defaults.
        tokensPerComputeUnit: 0,
        slaMinAvailability: 0,
        slaMinLatency: 0,
      });
    });

    it("reports broken constraints as ConstraintViolation of the right kind, and keeps nothing of a failed write", async () => {
      const db = getDb();
      const requestor = { id: unique("req"), name: "dapp", createdAt: NOW };
      await createRequestor(db, requestor);
      await expectViolation(createRequestor(db, requestor), "unique");
      const key = {
        id: unique("key"),
        requestorId: requestor.id,
        keyHash: unique("hash"),
        prefix: "cr_",
        scopes: ["relay" as const],
        createdAt: NOW,
        revokedAt: null,
      };
      await insertApiKey(db, key);
      await expectViolation(insertApiKey(db, { ...key, id: unique("key") }), "unique");
      await expectViolation(
        insertApiKey(db, { ...key, id: unique("key"), keyHash: unique("hash"), requestorId: "req-missing" }),
        "foreign_key",
      );
      await expectViolation(
        write(() => db.insert(services).values({ id: unique("svc"), kind: "carrier-pigeon" as "http", createdAt: NOW })),
        "check",
      );

      // A host naming an unknown service: the host row and its service rows are written together or not at all.
      const hostId = unique("host");
      await expectViolation(
        insertHost(
          db,
          {
            id: hostId,
            operator: "0xabc",
            endpoint: "https://h.example.com",
            latitude: 0,
            longitude: 0,
            activeSince: 0,
            services: ["svc-missing"],
          },
          NOW,
        ),
        "foreign_key",
      );
      expect(await getHost(db, hostId)).toBeNull();
      expect((await findRequestorByKeyHash(db, key.keyHash))?.requestor.id).toBe(requestor.id);
    });

    it("spends an operator nonce once under concurrent writes to the same row", async () => {
      const db = getDb();
      const operator = unique("0xop");
      const spent = await Promise.all(Array.from({ length: 25 }, () => consumeOperatorNonce(db, operator, 0n)));
      expect(spent.filter(Boolean)).toHaveLength(1);
      expect(await nextOperatorNonce(db, operator)).toBe(1n);
      // Nonces 1 and 2 racing: 1 is spent exactly once, 2 at most once (only after 1), none twice.
      const nonces = Array.from({ length: 10 }, (_, i) => BigInt(1 + (i % 2)));
      const results = await Promise.all(nonces.map((n) => consumeOperatorNonce(db, operator, n)));
      const spentOnes = results.filter((ok, i) => ok && nonces[i] === 1n).length;
      const spentTwos = results.filter((ok, i) => ok && nonces[i] === 2n).length;
      expect(spentOnes).toBe(1);
      expect(spentTwos).toBeLessThanOrEqual(1);
      expect(await nextOperatorNonce(db, operator)).toBe(BigInt(2 + spentTwos));
    });

    it("pages hosts of a service in id order, services listed, past the 100-parameter limit", async () => {
      const db = getDb();
      const serviceId = await newService(db);
      const ids = [];
      for (let i = 0; i < 230; i++) ids.push(await newHost(db, serviceId, `${serviceId}-host-${String(i).padStart(4, "0")}`));
      const seen: string[] = [];
      let after: string | undefined;
      do {
        const page = await listHosts(db, { service: serviceId, after, limit: 200 });
        expect(page.hosts.every((h) => h.services.length === 1 && h.services[0] === serviceId)).toBe(true);
        seen.push(...page.hosts.map((h) => h.id));
        after = page.next ?? undefined;
      } while (after);
      expect(seen).toEqual(ids);
    });

    it("writes a ledger batch of 40 transfers to 40 new accounts in one transaction, past the 100-parameter limit", async () => {
      const db = getDb();
      const holders = Array.from({ length: 40 }, (_, i) => unique(`holder${i}`));
      const list = holders.map((h, i) => single(unique("mint"), ISSUANCE_ACCOUNT, balanceAccount(h), BigInt(i + 1), "mint"));
      const statements = [
        operationStatement(db, { id: unique("op"), kind: "mint", request: {} }, NOW),
        ...ledgerStatements(db, list, NOW),
      ];
      await write(() => db.batch(statements as unknown as Parameters<Database["batch"]>[0]));
      const accounts = await getAccounts(db, holders.map(balanceAccount));
      expect(holders.map((h) => accounts.get(balanceAccount(h))?.creditsPosted)).toEqual(holders.map((_, i) => BigInt(i + 1)));
    });

    it("records a batch of 450 sessions in one transaction, refuses a session in two batches, and keeps nothing of a refused batch", async () => {
      const db = getDb();
      const serviceId = await newService(db);
      const requestor = { id: unique("req"), name: "dapp", createdAt: NOW };
      await createRequestor(db, requestor);
      const sessionIds: string[] = [];
      for (let epoch = 0; epoch < 450; epoch++) {
        const id = unique(`ses${epoch}`);
        await recordSession(db, {
          id,
          requestorId: requestor.id,
          serviceId,
          epoch,
          seed: `0x${"1".repeat(64)}`,
          algorithm: "t",
          hostIds: "[]",
          quota: 1,
          startsAt: 0,
          endsAt: 1,
          createdAt: NOW,
        });
        await markSessionClosed(
          db,
          id,
          { closedAt: NOW, sessionRoot: `0x${"2".repeat(64)}`, relayCount: 3, computeUnits: 2 },
          [],
        );
        sessionIds.push(id);
      }
      const members = (batchId: string, ids: string[]) =>
        ids.map((sessionId, ordinal) => ({
          batchId,
          ordinal,
          sessionId,
          sessionSeed: `0x${"1".repeat(64)}`,
          sessionRoot: `0x${"2".repeat(64)}`,
          relayCount: 3,
          computeUnits: 2,
        }));
      const batch = (id: string, count: number) => ({
        id,
        root: `0x${"3".repeat(64)}`,
        reportCardRoot: `0x${"0".repeat(64)}`,
        relayCount: count * 3,
        computeUnits: count * 2,
        sessionCount: count,
        state: "pending" as const,
        attempts: 0,
        nextAttemptAt: NOW,
        createdAt: NOW,
        updatedAt: NOW,
      });
      const batchId = unique("0xbatch");
      expect(await insertBatch(db, batch(batchId, 450), members(batchId, sessionIds))).toBe(true);
      expect(await batchMembers(db, batchId)).toHaveLength(450);
      expect((await getSessionRecord(db, sessionIds[449]))?.batchId).toBe(batchId);
      expect(await insertBatch(db, batch(batchId, 450), members(batchId, sessionIds))).toBe(false);
      expect(await reportCardsOfSessions(db, sessionIds)).toEqual([]);

      const other = unique("0xbatch");
      await expectViolation(insertBatch(db, batch(other, 2), members(other, sessionIds.slice(0, 2))), "unique");
      expect(await getBatch(db, other)).toBeNull();
    });
  });
}
