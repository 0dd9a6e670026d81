/** `wts-msg`'s bundle, dist/cli/wts-msg.js, which dist/bin/wts-msg.js loads (tsup.config.ts). */
import { startCommand } from '../common';
import { msgMain } from '../msg';

startCommand('wts-msg', (argv, io) => msgMain(argv, io));
