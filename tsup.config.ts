import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'tsup';

// The commands' --version: package.json's, written into the build (the commands read no file).
const version = (JSON.parse(readFileSync(join(__dirname, 'package.json'), 'utf8')) as { version: string }).version;

const COMMANDS = ['wts-logoff', 'wts-query', 'wts-msg', 'wts-disconnect', 'wts-kill'];

export default defineConfig([
  {
    // The library: ESM + CJS + declarations, shared chunks so that 'wts-session' and
    // 'wts-session/mock' share one copy of the error classes within a format.
    entry: { index: 'src/index.ts', mock: 'src/mock.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    splitting: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    // __filename and __dirname in the ESM build (createRequire('koffi'), the lanes library): our
    // own shim, which unlike tsup's does not throw on import when a bundler turns the ES module
    // into CommonJS (scripts/esm-shims.mjs). The CommonJS build has its own. Maps carry no copy
    // of the sources; scripts/slim-maps.js then makes their paths relative.
    esbuildOptions(options, { format }) {
      if (format === 'esm') options.inject = [...(options.inject ?? []), 'scripts/esm-shims.mjs'];
      options.sourcesContent = false;
    },
    external: ['koffi'],
  },
  {
    // The commands: a CommonJS bundle for each (dist/cli/<command>.js: the library and the CLI
    // code it uses, internals the public entry points do not export included), beside the
    // library's own builds. Not split, so esbuild writes CommonJS itself (no shared chunk, no
    // helper for ?. and ??) and each command compiles only its own code, minified below. keepNames:
    // esbuild renames a class it hoists beside another of the same name, and an error's `name`
    // is in the JSON output.
    entry: Object.fromEntries(COMMANDS.map((c) => [`cli/${c}`, `src/cli/start/${c}.ts`])),
    format: ['cjs'],
    dts: false,
    splitting: false,
    sourcemap: true,
    clean: false,
    target: 'node20',
    platform: 'node',
    external: ['koffi'],
    keepNames: true,
    // Maps without a copy of the sources; scripts/slim-maps.js then makes their paths relative.
    // Whitespace and syntax minified, about 2 ms less to compile at every start; names not: an
    // unexpected error's message ("x is not a function") and a --debug stack keep the source's.
    esbuildOptions: (o) => {
      o.sourcesContent = false;
      o.minifyWhitespace = true;
      o.minifySyntax = true;
    },
    define: { __WTS_SESSION_VERSION__: JSON.stringify(version) },
  },
  {
    // Each command's file (package.json's bin): two lines that turn on Node's compile cache where
    // Node has it, then load the command's bundle. Not bundled.
    entry: COMMANDS.map((c) => `src/bin/${c}.ts`),
    outDir: 'dist/bin',
    format: ['cjs'],
    bundle: false,
    dts: false,
    sourcemap: false,
    clean: false,
    target: 'node20',
    platform: 'node',
  },
]);
