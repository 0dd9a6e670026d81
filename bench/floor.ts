/**
 * The simulated-mode benchmark's floor: what any implementation must do once to log off every
 * session of a farm file: read and parse it, drop the sessions, write it back (indented, as the
 * library writes it) to a temporary file, fsync, rename. Run as its own process, like the command.
 */
import { fsyncSync, openSync, closeSync, readFileSync, renameSync, writeSync } from 'node:fs';

const path = process.argv[2] as string;
const farm = JSON.parse(readFileSync(path, 'utf8')) as { servers: Array<{ sessions: Array<{ id: number; user?: string }> }> };
for (const s of farm.servers) s.sessions = s.sessions.filter((x) => !x.user || x.id < 10);
const temp = `${path}.floor.tmp`;
const fd = openSync(temp, 'w');
writeSync(fd, `${JSON.stringify(farm, null, 2)}\n`);
fsyncSync(fd);
closeSync(fd);
renameSync(temp, path);
