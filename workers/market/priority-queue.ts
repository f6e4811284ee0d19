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
    // The timer is this waiter's request's own: it is cleared here, in that request's context, once
    // the wait ends. `wake` and shedding run in other requests, which may not touch it (workerd
    // timers belong to the request that set them).
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ended = new Promise<boolean>((resolve) => {
      const waiter: Waiter = { priority, seq: this.seq++, resolve };
      this.waiters.push(waiter);
      timer = setTimeout(() => {
        if (this.remove(waiter)) resolve(false);
      }, timeoutMs);
    });
    return ended.then((admitted) => {
      clearTimeout(timer);
      return admitted;
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

  /** Takes a waiter out of the queue; false when it was no longer in it (woken or shed already). */
  private remove(waiter: Waiter): boolean {
    const at = this.waiters.indexOf(waiter);
    if (at >= 0) this.waiters.splice(at, 1);
    return at >= 0;
  }
}
