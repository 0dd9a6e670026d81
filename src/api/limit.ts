/**
 * Runs `fn` over `items` with at most `limit` at once, keeping order in the results. Once one
 * rejects, no further item is started, and the first rejection is thrown only when the items
 * already started have settled: nothing the call began is still running when it has failed (a
 * caller closes its server handle then), and no request is made for a result that is already lost.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { readonly error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && failure === undefined) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}

interface Waiter {
  readonly grant: (release: () => void) => void;
  readonly fail: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  onAbort?: () => void;
}

/**
 * A counting semaphore that grants its slots in the order they were asked for. A slot is given
 * back by calling the function it was granted with (once; later calls do nothing). A waiter whose
 * signal fires leaves the queue and is rejected with the signal's reason: it never holds a slot.
 */
export class Slots {
  #free: number;
  readonly #waiting: Waiter[] = [];
  constructor(slots: number) {
    this.#free = slots;
  }

  /** A slot now if one is free and nobody waits for one (the order stays fair), else undefined. */
  tryAcquire(): (() => void) | undefined {
    if (this.#free === 0 || this.#waiting.length > 0) return undefined;
    this.#free--;
    return this.#releaser();
  }

  /** A slot, once the ones asked for before it were granted and one is free. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((grant, fail) => {
      const waiter: Waiter = { grant, fail, signal };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.#waiting.indexOf(waiter);
          if (i >= 0) this.#waiting.splice(i, 1);
          fail(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiting.push(waiter);
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (!next) {
        this.#free++;
        return;
      }
      if (next.signal && next.onAbort) next.signal.removeEventListener('abort', next.onAbort);
      next.grant(this.#releaser());
    };
  }
}
