/**
 * Relays waiting for a slot under a session's in-flight limit (docs/market.md, "Priority"): when
 * a slot frees, the waiting relay with the highest priority gets it (the earliest among equals).
 * A full queue sheds its lowest-priority waiter for a higher newcomer, else the newcomer; a
 * waiter not woken within its wait is shed (429 `session_busy`, as before priorities).
 */
interface Waiter {
  priority: number;
  seq: number;
  resolve: (admitted: boolean) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class PriorityQueue {
  private waiters: Waiter[] = [];
  private seq = 0;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.waiters.length;
  }

  /** Resolves true when `wake` hands this waiter a slot, false when it is shed or waited `timeoutMs`. */
  wait(priority: number, timeoutMs: number): Promise<boolean> {
    if (this.capacity <= 0) return Promise.resolve(false);
    if (this.waiters.length >= this.capacity) {
      const worst = this.pick((a, b) => a.priority < b.priority || (a.priority === b.priority && a.seq > b.seq));
      if (!worst || worst.priority >= priority) return Promise.resolve(false);
      this.remove(worst);
      worst.resolve(false);
    }
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        priority,
        seq: this.seq++,
        resolve,
        timer: setTimeout(() => {
          this.remove(waiter);
          resolve(false);
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Hands a freed slot to the best waiter; false when nobody waits. */
  wake(): boolean {
    const best = this.pick((a, b) => a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq));
    if (!best) return false;
    this.remove(best);
    best.resolve(true);
    return true;
  }

  private pick(better: (a: Waiter, b: Waiter) => boolean): Waiter | undefined {
    let chosen: Waiter | undefined;
    for (const w of this.waiters) if (!chosen || better(w, chosen)) chosen = w;
    return chosen;
  }

  private remove(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    const at = this.waiters.indexOf(waiter);
    if (at >= 0) this.waiters.splice(at, 1);
  }
}
