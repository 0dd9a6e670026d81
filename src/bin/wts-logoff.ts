#!/usr/bin/env node
import { logoffMain } from '../cli/logoff';
import { processIo } from '../cli/common';

void logoffMain(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
});
