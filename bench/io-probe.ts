/**
 * Preloaded (`node -r`) into a command run by the simulated-mode benchmark: counts fsync calls
 * and, at exit, writes them with the process's write counters from /proc/self/io (`wchar`: bytes
 * handed to write calls, `syscw`: write calls) to the file BENCH_IO_OUT names.
 */
import fs = require('node:fs');

let fsyncs = 0;
const fsyncSync = fs.fsyncSync;
fs.fsyncSync = (fd: number) => {
  fsyncs++;
  fsyncSync(fd);
};
let renames = 0;
const renameSync = fs.renameSync;
fs.renameSync = (from: fs.PathLike, to: fs.PathLike) => {
  renames++;
  renameSync(from, to);
};

process.on('exit', () => {
  const out = process.env['BENCH_IO_OUT'];
  if (!out) return;
  const io = Object.fromEntries(
    fs
      .readFileSync('/proc/self/io', 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(': ') as [string, string])
      .map(([k, v]) => [k, Number(v)]),
  );
  fs.writeFileSync(out, JSON.stringify({ fsyncs, renames, wchar: io['wchar'], syscw: io['syscw'] }));
});
