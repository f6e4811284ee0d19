import { describe, expect, it } from "vitest";
import { PriorityQueue } from "../../workers/market/priority-queue.js";

const LONG = 60_000; // never reached: every waiter here is woken or shed explicitly

describe("relay priority under the in-flight limit", () => {
  it("hands each freed slot to the highest priority waiting, the earliest among equals", async () => {
    const queue = new PriorityQueue(8);
    const order: string[] = [];
    const wait = (name: string, priority: number) =>
      queue.wait(priority, LONG).then((admitted) => {
        if (admitted) order.push(name);
      });
    const all = [wait("low-1", 0), wait("mid", 4), wait("high-1", 9), wait("low-2", 0), wait("high-2", 9)];
    while (queue.wake()) await Promise.resolve();
    await Promise.all(all);
    expect(order).toEqual(["high-1", "high-2", "mid", "low-1", "low-2"]);
    expect(queue.wake()).toBe(false);
  });

  it("a full queue sheds its lowest-priority waiter for a higher newcomer, and refuses a newcomer no higher", async () => {
    const queue = new PriorityQueue(2);
    const low = queue.wait(1, LONG);
    const mid = queue.wait(5, LONG);
    expect(await queue.wait(1, LONG)).toBe(false); // no higher than the lowest waiting: shed at once
    const high = queue.wait(9, LONG);
    expect(await low).toBe(false); // made room for the high one
    expect(queue.wake()).toBe(true);
    expect(await high).toBe(true);
    expect(queue.wake()).toBe(true);
    expect(await mid).toBe(true);
    expect(queue.size).toBe(0);
  });

  it("a waiter not woken within its wait is shed", async () => {
    const queue = new PriorityQueue(4);
    expect(await queue.wait(9, 1)).toBe(false);
    expect(queue.size).toBe(0);
  });
});
