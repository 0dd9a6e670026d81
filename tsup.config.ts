import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'tsup';

// The commands' --version: package.json's, written into the build (the commands read no file).
const version = (JSON.parse(readFileSync(join(__dirname, 'package.json'), 'utf8')) as { version: string }).version;

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
    // The commands: CommonJS, one small file each over a shared chunk (the library and the CLI
    // code the four share): one copy for the four, beside the library's own builds (the commands
    // use internals the public entry points do not export).
    entry: {
      'bin/wts-logoff': 'src/bin/wts-logoff.ts',
      'bin/wts-query': 'src/bin/wts-query.ts',
      'bin/wts-msg': 'src/bin/wts-msg.ts',
      'bin/wts-disconnect': 'src/bin/wts-disconnect.ts',
      'bin/wts-kill': 'src/bin/wts-kill.ts',
    },
    format: ['cjs'],
    dts: false,
    splitting: true,
    sourcemap: true,
    clean: false,
    target: 'node20',
    platform: 'node',
    shims: true, // __filename in the ESM build, for createRequire('koffi')
    external: ['koffi'],
    // Maps without a copy of the sources; scripts/slim-maps.js then makes their paths relative.
    esbuildOptions: (o) => {
      o.sourcesContent = false;
    },
    define: { __WTS_SESSION_VERSION__: JSON.stringify(version) },
    // The commands' chunk assigns classes as `WtsError = exports.WtsError = class ...`, which
    // leaves them nameless: keep their names (an error's `name` is in the JSON output).
    keepNames: true,
  },
]);
