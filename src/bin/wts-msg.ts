#!/usr/bin/env node
// Node 22.1 and later keep V8's compiled code of the command between runs: module.enableCompileCache
// (os.tmpdir()/node-compile-cache, or NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it off).
// It must be on before the command's bundle is loaded, so the bundle is a file of its own.
(require('node:module') as { enableCompileCache?: () => unknown }).enableCompileCache?.();
require('../cli/wts-msg.js');
