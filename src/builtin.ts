/**
 * Node's built-in modules that only some paths need, loaded when first asked for rather than when
 * wts-session (or a command) is loaded: `node:net` loads Node's stream modules with it, about
 * 7 ms of a command's start (measured with --cpu-prof and process.moduleLoadList), and
 * `wts-query session` on a farm named by no address never needs it.
 */
import { createRequire } from 'node:module';

type GetBuiltin = (id: string) => unknown;

/**
 * The built-in module `id` (such as `'node:net'`): process.getBuiltinModule where Node has it
 * (20.16 and later, 22.3 and later), else Node's require, made for this file (any absolute path
 * works for a built-in; `/` when the ES module build was bundled without its own path).
 */
export function builtin<T>(id: `node:${string}`): T {
  const get = (process as { getBuiltinModule?: GetBuiltin }).getBuiltinModule;
  if (typeof get === 'function') return get.call(process, id) as T;
  return createRequire(__filename || '/')(id) as T;
}
