/**
 * Runs a call's `onReturn` (CallOptions): once the call is over. What it throws is ignored — the
 * call's own outcome stands. Shared by the backends.
 */
export function callOnReturn(onReturn: (() => void) | undefined): void {
  try {
    onReturn?.();
  } catch {
    // ignored: see CallOptions.onReturn
  }
}

/**
 * A blocking call its caller may give up on: the native call (or the mock's) cannot be interrupted,
 * so abandoning it only settles the caller's promise, with `abort(signal.reason)`, as soon as the
 * signal fires; the call itself finishes unseen. Shared by the backends for WtsApi's CallOptions.
 */
export function abandonable<T>(call: Promise<T>, signal: AbortSignal | undefined, abort: (reason: unknown) => Error): Promise<T> {
  if (!signal) return call;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abort(signal.reason));
    call.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    if (signal.aborted) onAbort(); // fired while the call was being started: no event will come
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
