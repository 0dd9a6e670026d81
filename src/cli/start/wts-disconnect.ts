/** `wts-disconnect`'s bundle, dist/cli/wts-disconnect.js, which dist/bin/wts-disconnect.js loads (tsup.config.ts). */
import { startCommand } from '../common';
import { disconnectMain } from '../disconnect';

startCommand('wts-disconnect', (argv, io) => disconnectMain(argv, io));
