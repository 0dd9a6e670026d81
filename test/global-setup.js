// The CLI, README and package tests run the built files. `npm test` builds first (pretest);
// a bare `npx jest` builds here when dist/ is missing.
const { existsSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async () => {
  const root = join(__dirname, '..');
  if (!existsSync(join(root, 'dist', 'bin', 'wts-logoff.js')) || !existsSync(join(root, 'dist', 'index.mjs'))) {
    execFileSync(process.execPath, [join(root, 'node_modules', 'tsup', 'dist', 'cli-default.js')], { cwd: root, stdio: 'inherit' });
  }
};
