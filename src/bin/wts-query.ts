#!/usr/bin/env node
import { queryMain } from '../cli/query';
import { processIo } from '../cli/common';

void queryMain(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
});
