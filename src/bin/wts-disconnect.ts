#!/usr/bin/env node
import { disconnectMain } from '../cli/disconnect';
import { startCommand } from '../cli/common';

startCommand('wts-disconnect', (argv, io) => disconnectMain(argv, io));
