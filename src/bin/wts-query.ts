#!/usr/bin/env node
import { queryMain } from '../cli/query';
import { startCommand } from '../cli/common';

startCommand('wts-query', (argv, io) => queryMain(argv, io));
