/**
 * logoff.exe-style argument parsing, pure: `/switch`, `/switch:value` in any case, and the
 * Unix forms `-v`, `--switch`, `--switch=value`, `--switch value`.
 */

/** Bad command-line usage: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface SwitchSpec {
  /** Canonical name, the key in the result. */
  readonly name: string;
  /** Every accepted spelling, without prefix, lower case: ['server'], ['v', 'verbose']. */
  readonly aliases: readonly string[];
  /** Takes a value (`/server:X`, `--server X`). */
  readonly value?: boolean;
  /**
   * May be given more than once; values are collected (comma lists are split, blanks dropped).
   * The key is present once the switch is given, even when the list is empty.
   */
  readonly repeat?: boolean;
  /**
   * Whole spellings matched with their case, before the case-free aliases: `-V` is --version
   * while `-v` and `/V` stay logoff.exe's verbose.
   */
  readonly exact?: readonly string[];
}

export interface ParsedArgs {
  readonly positionals: readonly string[];
  /** Flags map to true; valued switches to the last value (or every value when `repeat`). */
  readonly switches: Readonly<Record<string, true | string | readonly string[]>>;
}

export function parseArgs(argv: readonly string[], specs: readonly SwitchSpec[]): ParsedArgs {
  const byAlias = new Map<string, SwitchSpec>();
  const byExact = new Map<string, SwitchSpec>();
  for (const spec of specs) {
    for (const alias of spec.aliases) byAlias.set(alias, spec);
    for (const spelling of spec.exact ?? []) byExact.set(spelling, spec);
  }
  const positionals: string[] = [];
  const switches: Record<string, true | string | string[]> = {};
  let onlyPositionals = false;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (onlyPositionals || !isSwitch(arg)) {
      positionals.push(arg);
      continue;
    }
    if (arg === '--') {
      onlyPositionals = true;
      continue;
    }
    const exact = byExact.get(arg);
    if (exact && !exact.value) {
      switches[exact.name] = true;
      continue;
    }
    const { key, inline, display } = splitSwitch(arg);
    const spec = byAlias.get(key.toLowerCase());
    if (!spec) throw new UsageError(`Unknown switch '${display}'.`);
    if (!spec.value) {
      if (inline !== undefined) throw new UsageError(`The switch '${display}' takes no value.`);
      switches[spec.name] = true;
      continue;
    }
    let value = inline;
    if (value === undefined && !arg.startsWith('/')) {
      const next = argv[i + 1];
      // `--simulate /tmp/farm.json`: after a Unix-style switch, only a '-' word is another switch.
      if (next !== undefined && !(isSwitch(next) && next.startsWith('-'))) {
        value = next;
        i++;
      }
    }
    if (spec.repeat && value !== undefined) {
      // A list may come out empty (`/servers:`, `/servers:,,`): the switch is still given, and the
      // command says what an empty list of that kind means (for servers: a usage error).
      const list = (switches[spec.name] as string[] | undefined) ?? [];
      list.push(...value.split(',').map((v) => v.trim()).filter((v) => v !== ''));
      switches[spec.name] = list;
      continue;
    }
    if (value === undefined || value.trim() === '') {
      throw new UsageError(`The switch '${display}' needs a value, as in ${example(spec, arg)}.`);
    }
    // A second value for a one-value switch (`/server:A /server:B`) is ambiguous: which server
    // did the person mean? Refuse rather than act on the last one.
    if (switches[spec.name] !== undefined && switches[spec.name] !== value) {
      throw new UsageError(`The switch '${display}' is given twice with different values ('${String(switches[spec.name])}' and '${value}'); give it once.`);
    }
    switches[spec.name] = value;
  }
  return { positionals, switches };
}

/** `-1` and `-12` are (bad) session IDs, not switches. */
function isSwitch(arg: string): boolean {
  if (arg === '/' || arg === '-') return false;
  if (/^-\d/.test(arg)) return false;
  return arg.startsWith('/') || arg.startsWith('-');
}

function splitSwitch(arg: string): { key: string; inline: string | undefined; display: string } {
  const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
  const sep = arg.startsWith('/') ? body.indexOf(':') : body.indexOf('=');
  if (sep < 0) return { key: body, inline: undefined, display: arg };
  return { key: body.slice(0, sep), inline: body.slice(sep + 1), display: arg.slice(0, arg.length - body.length + sep) };
}

function example(spec: SwitchSpec, arg: string): string {
  const name = spec.aliases[0] as string;
  return arg.startsWith('/') ? `/${name}:VALUE` : `--${name} VALUE`;
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.switches[name] === true;
}

export function value(args: ParsedArgs, name: string): string | undefined {
  const v = args.switches[name];
  return typeof v === 'string' ? v : undefined;
}

export function values(args: ParsedArgs, name: string): readonly string[] | undefined {
  const v = args.switches[name];
  return Array.isArray(v) ? v : undefined;
}
