// Injected into the library's ES module build by tsup.config.ts, in place of tsup's own shims:
// `__filename` and `__dirname`, which src/backends/koffi uses to require koffi and to find the
// prebuilt wts_lanes library. tsup's shim calls fileURLToPath(import.meta.url) when the module is
// imported, which throws when a bundler turns this ES module into CommonJS (esbuild with
// format 'cjs' leaves import.meta empty): importing wts-session then failed with a TypeError.
// This one never throws on import; without import.meta.url both are '' and loading koffi fails
// later, with a message that says what to do (see loadKoffi and docs/bundling.md).
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const url = import.meta.url;
export const __filename = typeof url === 'string' && url.startsWith('file:') ? fileURLToPath(url) : '';
export const __dirname = __filename === '' ? '' : dirname(__filename);
