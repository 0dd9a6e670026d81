/** `wts-logoff`'s bundle, dist/cli/wts-logoff.js, which dist/bin/wts-logoff.js loads (tsup.config.ts). */
import { startCommand } from '../common';
import { logoffMain } from '../logoff';

startCommand('wts-logoff', (argv, io) => logoffMain(argv, io));
