#!/usr/bin/env node
import { disconnectMain } from '../cli/disconnect';
import { processIo } from '../cli/common';

void disconnectMain(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
});
