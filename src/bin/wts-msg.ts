#!/usr/bin/env node
import { msgMain } from '../cli/msg';
import { processIo } from '../cli/common';

void msgMain(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
});
