// jest runs tests in a fresh V8 context whose Symbol lacks the well-known symbols Node adds
// (Node >= 18.18 defines them as these registered symbols). Give the context the same ones, so
// `await using` and AsyncDisposable objects behave as they do in plain Node.
const symbols = Symbol as unknown as Record<string, symbol | undefined>;
symbols['asyncDispose'] ??= Symbol.for('nodejs.asyncDispose');
symbols['dispose'] ??= Symbol.for('nodejs.dispose');
