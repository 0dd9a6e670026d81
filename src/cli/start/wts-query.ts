/** `wts-query`'s bundle, dist/cli/wts-query.js, which dist/bin/wts-query.js loads (tsup.config.ts). */
import { startCommand } from '../common';
import { queryMain } from '../query';

startCommand('wts-query', (argv, io) => queryMain(argv, io));
