/** `wts-kill`'s bundle, dist/cli/wts-kill.js, which dist/bin/wts-kill.js loads (tsup.config.ts). */
import { startCommand } from '../common';
import { killMain } from '../kill';

startCommand('wts-kill', (argv, io) => killMain(argv, io));
