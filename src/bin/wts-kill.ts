#!/usr/bin/env node
import { killMain } from '../cli/kill';
import { startCommand } from '../cli/common';

startCommand('wts-kill', (argv, io) => killMain(argv, io));
