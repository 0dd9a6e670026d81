/**
 * The package's version, for `--version`: package.json's, put into the build by tsup's `define`
 * (and into the tests by jest's `globals`), so the command reads no file to say it.
 */
declare const __WTS_SESSION_VERSION__: string | undefined;

/** package.json's version, or undefined in a build made without it (tsup.config.ts defines it). */
export function packageVersion(): string | undefined {
  return typeof __WTS_SESSION_VERSION__ === 'string' ? __WTS_SESSION_VERSION__ : undefined;
}

/** What `--version` prints: the version alone (`0.2.0`), for scripts to compare. */
export function versionLine(): string {
  return `${packageVersion() ?? 'unknown (a build made without tsup.config.ts)'}\n`;
}

/** The help's line for `--version`, `/version` and `-V` (capital: `-v` and `/V` are verbose). */
export const VERSION_HELP = '  --version, -V      Print the version (package.json\'s) and exit.';
