#!/usr/bin/env node
import { logoffMain } from '../cli/logoff';
import { startCommand } from '../cli/common';

startCommand('wts-logoff', (argv, io) => logoffMain(argv, io));
