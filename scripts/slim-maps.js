#!/usr/bin/env node
// Run after tsup (npm run build). The published source maps point stack traces
// (`node --enable-source-maps`) at src/ lines, but carry no copy of the sources
// (sourcesContent, 1.6 MB; esbuild already leaves it out) and no path of the machine that built
// them: tsup's CommonJS code-splitting pass names its own output (`file`, and a source) by its
// absolute path, which becomes relative to the map here.
'use strict';
const { readdirSync, readFileSync, writeFileSync } = require('node:fs');
const { dirname, isAbsolute, join, relative, resolve, sep } = require('node:path');

function slim(dir) {
  let count = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = join(dir, entry.name);
    if (entry.isDirectory()) count += slim(file);
    else if (entry.name.endsWith('.map')) {
      const map = JSON.parse(readFileSync(file, 'utf8'));
      delete map.sourcesContent;
      delete map.sourceRoot;
      const rel = (s) => (isAbsolute(s) ? relative(dirname(file), s).split(sep).join('/') : s);
      map.sources = map.sources.map(rel);
      if (typeof map.file === 'string') map.file = rel(map.file);
      writeFileSync(file, JSON.stringify(map));
      count++;
    }
  }
  return count;
}

slim(resolve(__dirname, '..', 'dist'));
