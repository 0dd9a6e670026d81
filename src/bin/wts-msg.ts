#!/usr/bin/env node
// Calls on slow or dead servers block libuv worker threads (koffi runs them there): give the
// commands more than the default 4 before the pool starts, unless the user chose a size.
process.env['UV_THREADPOOL_SIZE'] ??= '64';
import { msgMain } from '../cli/msg';
import { startCommand } from '../cli/common';

startCommand('wts-msg', (argv, io) => msgMain(argv, io));
