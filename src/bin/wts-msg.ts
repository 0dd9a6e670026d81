#!/usr/bin/env node
import { msgMain } from '../cli/msg';
import { startCommand } from '../cli/common';

startCommand('wts-msg', (argv, io) => msgMain(argv, io));
