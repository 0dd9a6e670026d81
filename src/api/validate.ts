/**
 * Argument checks and normalisation. Pure: no backend, no platform. Everything here runs before
 * any system call, so an invalid argument never reaches wtsapi32.
 */
import type * as Net from 'node:net';
import { builtin } from '../builtin';
import { describeThrown, InvalidArgumentError } from '../errors';
import { WTS_ANY_SESSION, WTS_CURRENT_SESSION } from '../wtsapi';

/**
 * A session to act on: a session ID (a number, or a string of digits; 0 to 4294967293), or a
 * WinStation name (a string that starts with a letter or holds a `#`, such as `'RDP-Tcp#3'` or
 * `'TERM04'`; at most 32 characters; matched without case). Anything else is an
 * {@link InvalidArgumentError}, before any call. Where a target is optional, none means the
 * caller's own session (local server only).
 */
export type SessionTarget = number | string;

/** A target after parsing: the caller's own session, an ID, or a WinStation name. */
export type ParsedTarget =
  | { readonly kind: 'current' }
  | { readonly kind: 'id'; readonly id: number }
  | { readonly kind: 'name'; readonly name: string };

const MAX_SESSION_ID = 0xffffffff;
/** WINSTATIONNAME_LENGTH in wtsapi32.h. */
const WINSTATIONNAME_LENGTH = 32;

export function checkSessionId(id: number, argument = 'target'): number {
  if (!Number.isInteger(id) || id < 0 || id > MAX_SESSION_ID) {
    throw new InvalidArgumentError(
      argument,
      `Invalid session ID ${String(id)}: a session ID is a whole number from 0 to 4294967293.`,
    );
  }
  if (id === WTS_CURRENT_SESSION || id === WTS_ANY_SESSION) {
    throw new InvalidArgumentError(
      argument,
      `Invalid session ID ${id}: it is reserved (WTS_${id === WTS_CURRENT_SESSION ? 'CURRENT' : 'ANY'}_SESSION). ` +
        'For your own session, give no target.',
    );
  }
  return id;
}

/**
 * A number or an all-digit string is a session ID; a string that starts with a letter (or
 * holds a '#', like 'RDP-Tcp#3' or a RemoteApp WinStation '31C5CE94#0') is a WinStation name;
 * undefined is the caller's own session. Anything else is an invalid argument.
 */
export function parseTarget(target: SessionTarget | undefined, argument = 'target'): ParsedTarget {
  if (target === undefined) return { kind: 'current' };
  if (typeof target === 'number') return { kind: 'id', id: checkSessionId(target, argument) };
  if (typeof target !== 'string') {
    throw new InvalidArgumentError(
      argument,
      `Invalid ${argument}: expected a session ID (number) or a session name (string), got ${describeType(target)}.`,
    );
  }
  const text = target.trim();
  if (text === '') {
    throw new InvalidArgumentError(
      argument,
      `Invalid ${argument}: empty. Give a session ID or session name, or no target for your own session.`,
    );
  }
  if (/^\d+$/.test(text)) {
    const id = Number(text);
    if (!Number.isSafeInteger(id) || id > MAX_SESSION_ID) {
      throw new InvalidArgumentError(
        argument,
        `Invalid session ID ${text}: a session ID is a whole number from 0 to 4294967293.`,
      );
    }
    return { kind: 'id', id: checkSessionId(id, argument) };
  }
  if (/^[+-]\d/.test(text)) {
    throw new InvalidArgumentError(
      argument,
      `Invalid session ID ${text}: a session ID is a whole number from 0 to 4294967293.`,
    );
  }
  if (text.length > WINSTATIONNAME_LENGTH) {
    throw new InvalidArgumentError(
      argument,
      `Invalid session name '${text}': longer than ${WINSTATIONNAME_LENGTH} characters.`,
    );
  }
  const startsWithLetter = /^\p{L}/u.test(text);
  const validChars = /^[\p{L}\p{N}#._-]+$/u.test(text);
  if (!validChars || (!startsWithLetter && !text.includes('#'))) {
    throw new InvalidArgumentError(
      argument,
      `Invalid ${argument} '${text}': neither a session ID (digits only) nor a session name ` +
        "(letters, digits, '#', '-', '_', '.', starting with a letter, like 'RDP-Tcp#3').",
    );
  }
  return { kind: 'name', name: text };
}

/** A server name as the caller wrote it, normalised: `\\WF12` -> `WF12`. */
export function normalizeServerName(server: unknown, argument = 'server'): string {
  if (typeof server !== 'string') {
    throw new InvalidArgumentError(argument, `Invalid ${argument}: expected a string, got ${describeType(server)}.`);
  }
  const raw = server.trim();
  const name = raw.startsWith('\\\\') ? raw.slice(2) : raw;
  if (name === '') {
    throw new InvalidArgumentError(argument, `Invalid ${argument}: empty. Give a server name such as WF12.`);
  }
  if (ipKind(name) !== 0 || name === '.') return name; // '.': the local machine, as in other Win32 tools
  const bad = `Invalid ${argument} '${server}': expected a NetBIOS name (WF12 or \\\\WF12), a DNS name or an IP address`;
  if (name.length > 253) throw new InvalidArgumentError(argument, `${bad}; it is too long.`);
  const labels = name.split('.');
  for (const label of labels) {
    if (label === '' || label.length > 63 || !/^[\p{L}\p{N}_-]+$/u.test(label) || label.startsWith('-')) {
      throw new InvalidArgumentError(argument, `${bad}.`);
    }
  }
  return name;
}

/**
 * net.isIP without its cost for names that cannot be addresses: Node compiles isIPv6's large
 * regular expression on first use (about 6 ms, measured with --cpu-prof at a command's start-up),
 * so it is asked only of a name with a ':' (every IPv6 address has one), and isIPv4 only of digits
 * and dots.
 */
export function ipKind(name: string): 0 | 4 | 6 {
  if (name.includes(':')) return net().isIPv6(name) ? 6 : 0;
  return /^[0-9.]+$/.test(name) && net().isIPv4(name) ? 4 : 0;
}

/** node:net, loaded when a name first looks like an address (src/builtin.ts says why). */
const net = (): typeof Net => builtin<typeof Net>('node:net');

/** Names that always mean the machine we run on (so does every loopback address). */
const LOCAL_ALIASES = new Set(['.', 'localhost']);

/**
 * The IPv4 address a numbers-and-dots name stands for, as inet_addr reads it: `a.b.c.d`, `a.b.c`,
 * `a.b` or `a`, each part decimal, octal (leading 0) or hexadecimal (0x); the last part fills the
 * remaining bytes (https://learn.microsoft.com/windows/win32/api/winsock2/nf-winsock2-inet_addr).
 * So `127.1` and `2130706433` are 127.0.0.1. Assumed: WTSOpenServerW resolves a name with the
 * system's resolver, which reads these forms the same way. Undefined when the name is not one.
 */
function legacyIPv4(name: string): string | undefined {
  const parts = name.split('.');
  if (parts.length > 4) return undefined;
  const values: number[] = [];
  for (const part of parts) {
    if (/^0[xX][0-9a-fA-F]+$/.test(part)) values.push(parseInt(part.slice(2), 16));
    else if (/^0[0-7]*$/.test(part)) values.push(parseInt(part, 8));
    else if (/^[1-9][0-9]*$/.test(part)) values.push(parseInt(part, 10));
    else return undefined;
  }
  const last = values.pop() as number;
  if (values.some((v) => v > 255)) return undefined;
  const bytesLeft = 4 - values.length;
  if (last >= 256 ** bytesLeft) return undefined;
  for (let i = bytesLeft - 1; i >= 0; i--) values.push(Math.floor(last / 256 ** i) % 256);
  return values.join('.');
}

/**
 * An IP address in one canonical text: IPv6 compressed and lower-case without a zone ID, an
 * IPv4-mapped IPv6 address (`::ffff:10.0.0.5`) as its IPv4 address, IPv4 as dotted decimal.
 * Undefined when the name is not an address.
 */
function canonicalAddress(name: string): string | undefined {
  const kind = ipKind(name);
  if (kind === 4) return name;
  if (kind === 6) {
    let text: string;
    try {
      text = new (net().SocketAddress)({ address: name.split('%')[0] as string, family: 'ipv6' }).address;
    } catch {
      text = name.toLowerCase();
    }
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
    return mapped ? (mapped[1] as string) : text;
  }
  return legacyIPv4(name);
}

/**
 * How a server name compares with another: an IP address by its canonical text, any other name
 * without case (and without a trailing dot). Two names with the same key are one server; two
 * different DNS names of one remote server have different keys (telling needs DNS, which we do
 * not ask).
 */
export function serverNameKey(name: string): string {
  const text = name.trim().replace(/^\\\\/, '');
  return canonicalAddress(text) ?? text.toLowerCase().replace(/\.$/, '');
}

/** Whether a server name means the local machine whatever its names are: `.`, `localhost`, loopback. */
export function isAlwaysLocalName(name: string): boolean {
  const text = name.trim().toLowerCase();
  if (LOCAL_ALIASES.has(text)) return true;
  const address = canonicalAddress(text);
  return address !== undefined && (address === '::1' || address.startsWith('127.'));
}

/** The names the local machine answers to, gathered once for an operation. */
export interface LocalServerNames {
  /** Whether a (normalised) server name is the local machine. */
  has(name: string): boolean;
}

/**
 * The local machine's names: its NetBIOS name (GetComputerNameW), the backend's other names
 * (DNS host name, FQDN, IP addresses) and the fixed aliases (`.`, `localhost`, every loopback
 * address: 127.0.0.0/8, ::1, ::ffff:127.x.x.x). A name matches exactly (without case); a DNS
 * name is not local because its first label is the computer's name, since another domain can
 * hold a host of that name.
 */
export function localServerNames(computerName: string, otherNames: readonly unknown[] = []): LocalServerNames {
  const keys = new Set<string>();
  for (const name of [computerName, ...otherNames]) {
    if (typeof name !== 'string') continue;
    const key = serverNameKey(name);
    if (key !== '') keys.add(key);
  }
  return { has: (name) => isAlwaysLocalName(name) || keys.has(serverNameKey(name)) };
}

/** Whether a (normalised) server name is the local machine; see {@link localServerNames}. */
export function isLocalServerName(name: string, computerName: string, otherNames: readonly unknown[] = []): boolean {
  return localServerNames(computerName, otherNames).has(name);
}

export function checkTimeout(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 2 ** 31 - 1) {
    throw new InvalidArgumentError(
      argument,
      `Invalid ${argument}: expected milliseconds from 0 to 2147483647, got ${describeValue(value)}.`,
    );
  }
  return value;
}

export function checkPositiveInteger(value: unknown, argument: string, max = 1024): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidArgumentError(argument, `Invalid ${argument}: expected a whole number from 1 to ${max}, got ${describeValue(value)}.`);
  }
  return value;
}

export function checkBoolean(value: unknown, argument: string): boolean {
  if (typeof value !== 'boolean') {
    throw new InvalidArgumentError(argument, `Invalid ${argument}: expected true or false, got ${describeValue(value)}.`);
  }
  return value;
}

/** `options.signal`: undefined when not given, else checked ({@link checkSignal}). */
export function readSignal(o: Record<string, unknown>): AbortSignal | undefined {
  return o['signal'] === undefined ? undefined : checkSignal(o['signal']);
}

export function checkSignal(value: unknown, argument = 'options.signal'): AbortSignal {
  let usable = false;
  try {
    // `instanceof` is fooled by Object.create(AbortSignal.prototype): reading `aborted` is not.
    usable = value instanceof AbortSignal && typeof value.aborted === 'boolean';
  } catch {
    usable = false;
  }
  if (!usable) throw new InvalidArgumentError(argument, `Invalid ${argument}: expected an AbortSignal, got ${describeValue(value)}.`);
  return value as AbortSignal;
}

/** The property names a plain object may inherit: those of Object.prototype. */
const PLAIN_INHERITED = new Set(Object.getOwnPropertyNames(Object.prototype));

function invalidRead(argument: string, key: string, error: unknown): InvalidArgumentError {
  const where = key === '' ? argument : `${argument}.${key}`;
  return new InvalidArgumentError(where, `Invalid ${where}: reading it threw (${describeThrown(error)}).`);
}

/**
 * A snapshot of an options object: its own enumerable string-keyed properties, each read once, in
 * an object with no prototype — so a getter runs once (it cannot answer one thing to the check and
 * another to the call), and a getter or proxy that throws is an InvalidArgumentError. An option that
 * is inherited (a prototype's property or getter, a class instance's) or not enumerable is refused,
 * not ignored: an options object that does not say what it seems to say must not run for real.
 * `required`: undefined is an error too.
 */
export function readOptions(value: unknown, argument = 'options', required = false): Record<string, unknown> {
  if (value === undefined && !required) return Object.create(null) as Record<string, unknown>;
  let key = '';
  try {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new InvalidArgumentError(argument, `Invalid ${argument}: expected an object, got ${describeValue(value)}.`);
    }
    for (let proto = Object.getPrototypeOf(value) as object | null; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
      for (const name of Object.getOwnPropertyNames(proto)) {
        if (!PLAIN_INHERITED.has(name)) {
          throw new InvalidArgumentError(
            `${argument}.${name}`,
            `Invalid ${argument}: '${name}' is inherited, not the object's own property. Pass a plain object ({ ... }).`,
          );
        }
      }
    }
    const out = Object.create(null) as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(value)) {
      key = name;
      if (!Object.prototype.propertyIsEnumerable.call(value, name)) {
        throw new InvalidArgumentError(`${argument}.${name}`, `Invalid ${argument}.${name}: not an enumerable property. Pass a plain object ({ ... }).`);
      }
      out[name] = (value as Record<string, unknown>)[name];
    }
    return out;
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
    throw invalidRead(argument, key, error);
  }
}

/** The longest array an argument may be (plans, server lists, states): far above any real farm. */
/** Why no target (your own session) cannot go with a server: said by the API and the commands alike. */
export const NO_TARGET_WITH_SERVER =
  'No session given together with a server: name the session to act on. (No target means your own session, which is only defined on the local server.)';

export const MAX_ARRAY_LENGTH = 1_000_000;

/**
 * A snapshot of an array argument: each element read once, in a plain array. A proxy or getter
 * that throws is an InvalidArgumentError. Undefined when `value` is not an array.
 */
export function readArray(value: unknown, argument: string, max = MAX_ARRAY_LENGTH): unknown[] | undefined {
  let i = -1;
  try {
    if (!Array.isArray(value)) return undefined;
    const length = value.length;
    // Checked before anything is copied: a sparse array of length 2**32 - 1 must not exhaust memory.
    if (length > max) throw new InvalidArgumentError(argument, `Invalid ${argument}: at most ${max} elements, got ${length}.`);
    const out: unknown[] = [];
    for (i = 0; i < length; i++) out.push(value[i]);
    return out;
  } catch (error) {
    if (error instanceof InvalidArgumentError && i < 0) throw error;
    throw invalidRead(argument, i < 0 ? '' : `[${i}]`, error);
  }
}

export function checkOptionsObject(value: unknown, argument = 'options'): Record<string, unknown> {
  return readOptions(value, argument);
}

/** Rejects option names the function does not know (a typo must not silently do nothing). */
export function checkKnownKeys(options: Record<string, unknown>, known: readonly string[], argument = 'options'): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new InvalidArgumentError(
        `${argument}.${key}`,
        `Unknown option '${key}'. Known options: ${known.join(', ')}.`,
      );
    }
  }
}

/**
 * A case-insensitive wildcard pattern (`*` any run, `?` one character) over a user name;
 * a pattern with a backslash also matches DOMAIN\user.
 */
export function compileWildcard(pattern: string, argument: string): (text: string) => boolean {
  if (typeof pattern !== 'string' || pattern.trim() === '') {
    throw new InvalidArgumentError(argument, `Invalid ${argument}: expected a non-empty pattern such as 'temp*'.`);
  }
  // Without case as Windows compares names (each UTF-16 unit upper-cased on its own: upcaseUnit),
  // not as a JavaScript `i` regular expression, which also folds the Kelvin sign into k and ſ into
  // s and so would select accounts Windows holds to be others.
  const source = upcaseText(pattern.trim())
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  const re = new RegExp(`^${source}$`, 'us');
  return (text) => re.test(upcaseText(text));
}

/**
 * One UTF-16 unit upper-cased to one unit, as Windows' case-insensitive name comparison does
 * (docs/windows-facts.md, `account-name-case`), by the simple upper case: one with no one-unit
 * upper case (ß, ŉ) stays as it is, and so do ı (U+0131) and ſ (U+017F), which Windows' table does
 * not map to I and S (as .NET's ordinal casing, built to match it, keeps them).
 */
export function upcaseUnit(unit: string): string {
  if (unit === '\u0131' || unit === '\u017f') return unit;
  const upper = unit.toUpperCase();
  if (upper.length === 1) return upper;
  // JavaScript gives the full upper case (ᾳ -> ΑΙ); the simple one, which Windows' table and .NET's
  // ordinal casing follow, maps ᾳ to ᾼ. The 27 units with a longer full upper case but a one-unit
  // simple one are the Greek letters with iota subscript (UnicodeData.txt; a test derives them
  // from the lower-case mapping and compares).
  return SIMPLE_UPPER_OF_LONG.get(unit) ?? unit;
}

/** Unit -> its simple upper case, for the units whose full upper case is longer. */
const SIMPLE_UPPER_OF_LONG: ReadonlyMap<string, string> = new Map(
  [
    ...[0, 1, 2, 3, 4, 5, 6, 7].flatMap((i) => [
      [0x1f80 + i, 0x1f88 + i],
      [0x1f90 + i, 0x1f98 + i],
      [0x1fa0 + i, 0x1fa8 + i],
    ]),
    [0x1fb3, 0x1fbc],
    [0x1fc3, 0x1fcc],
    [0x1ff3, 0x1ffc],
  ].map(([from, to]) => [String.fromCharCode(from as number), String.fromCharCode(to as number)] as const),
);

/** A text with each UTF-16 unit upper-cased on its own ({@link upcaseUnit}). */
export function upcaseText(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += upcaseUnit(text.charAt(i));
  return out;
}

function describeType(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

/** A value as an error message shows it: a string quoted, a number, boolean, null or undefined as itself, else its kind. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return describeType(value);
}
