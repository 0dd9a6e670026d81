/**
 * src/builtin.ts: Node's built-in modules loaded when first needed. Where Node has no
 * process.getBuiltinModule (before 20.16 and 22.3), Node's require made with createRequire is
 * used; these tests take getBuiltinModule away to run that path, in the sources and in the built
 * ES module and CommonJS builds (dist/, built by `npm test`'s pretest).
 */
import { execFileSync } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtin } from '../../src/builtin';
import { ROOT } from '../helpers';

type WithGetter = { getBuiltinModule?: unknown };

test('builtin gives the module itself, with and without process.getBuiltinModule', () => {
  expect(builtin<typeof net>('node:net').isIPv6).toBe(net.isIPv6);
  const saved = Object.getOwnPropertyDescriptor(process, 'getBuiltinModule');
  try {
    delete (process as WithGetter).getBuiltinModule;
    expect((process as WithGetter).getBuiltinModule).toBeUndefined();
    expect(builtin<typeof net>('node:net').SocketAddress).toBe(net.SocketAddress);
    expect(builtin<typeof path>('node:path').join).toBe(path.join);
  } finally {
    if (saved) Object.defineProperty(process, 'getBuiltinModule', saved);
  }
});

// The local machine named by an IPv6 loopback address: the name is read with node:net (ipKind,
// canonicalAddress), so the listing only works when the module was loaded.
const farm = JSON.stringify({ localServer: 'A', servers: [{ name: 'A', sessions: [{ id: 2, state: 'Active', user: 'alice' }] }] });

test.each([
  ['ES module', 'index.mjs', 'mock.mjs', (file: string) => `await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist', file)).href)})`, ['--input-type=module']],
  ['CommonJS', 'index.js', 'mock.js', (file: string) => `require(${JSON.stringify(path.join(ROOT, 'dist', file))})`, []],
] as const)('the %s build reads an address as a server name without process.getBuiltinModule', (_format, index, mock, load, flags) => {
  const body = `
    delete process.getBuiltinModule;
    const { createWts } = ${load(index)};
    const { createMockApi } = ${load(mock)};
    const wts = createWts({ api: createMockApi(${farm}) });
    const sessions = await wts.listSessions({ server: '0:0::1' });
    console.log(typeof process.getBuiltinModule, sessions.map((s) => s.userName).join(','));
  `;
  const script = flags.length > 0 ? body : `(async () => { ${body} })().catch((e) => { console.log(String(e)); process.exitCode = 1; });`;
  const out = execFileSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' });
  expect(out).toBe('undefined alice\n');
});
