/**
 * Argument checks and normalisation. Pure: no backend, no platform. Everything here runs before
 * any system call, so an invalid argument never reaches wtsapi32.
 */
import { isIP } from 'node:net';
import { InvalidArgumentError } from '../errors';
import { WTS_ANY_SESSION, WTS_CURRENT_SESSION } from '../wtsapi';

/** What the caller may pass as a logoff target. */
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
        'To log off your own session, give no target.',
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
  if (isIP(name) !== 0) return name;
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

/** Names that always mean the machine we run on. */
const LOCAL_ALIASES = new Set(['.', 'localhost', '127.0.0.1', '::1']);

/**
 * Whether a (normalised) server name is the local machine: '.', 'localhost', a loopback address,
 * or the computer's own name (or a DNS name whose first label is it).
 */
export function isLocalServerName(name: string, computerName: string): boolean {
  const lower = name.toLowerCase();
  if (LOCAL_ALIASES.has(lower)) return true;
  const me = computerName.toLowerCase();
  if (me === '') return false;
  return lower === me || (isIP(name) === 0 && lower.split('.')[0] === me);
}

export function checkTimeout(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 2 ** 31 - 1) {
    throw new InvalidArgumentError(
      argument,
      `Invalid ${argument}: expected milliseconds from 0 to 2147483647, got ${describe(value)}.`,
    );
  }
  return value;
}

export function checkPositiveInteger(value: unknown, argument: string, max = 1024): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidArgumentError(argument, `Invalid ${argument}: expected a whole number from 1 to ${max}, got ${describe(value)}.`);
  }
  return value;
}

export function checkBoolean(value: unknown, argument: string): boolean {
  if (typeof value !== 'boolean') {
    throw new InvalidArgumentError(argument, `Invalid ${argument}: expected true or false, got ${describe(value)}.`);
  }
  return value;
}

export function checkSignal(value: unknown, argument = 'options.signal'): AbortSignal {
  if (!(value instanceof AbortSignal)) {
    throw new InvalidArgumentError(argument, `Invalid ${argument}: expected an AbortSignal, got ${describe(value)}.`);
  }
  return value;
}

export function checkOptionsObject(value: unknown, argument = 'options'): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError(argument, `Invalid ${argument}: expected an object, got ${describe(value)}.`);
  }
  return value as Record<string, unknown>;
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
  const source = pattern
    .trim()
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  const re = new RegExp(`^${source}$`, 'iu');
  return (text) => re.test(text);
}

function describeType(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return describeType(value);
}
