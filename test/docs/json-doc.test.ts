/**
 * docs/json.md keeps up with the commands: every command the package installs (package.json's
 * `bin`) is named in the page's opening list of the commands that speak the contract, and has a
 * row in its "Which command prints which documents" table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers';

const COMMANDS = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin).sort();
const page = readFileSync(join(ROOT, 'docs', 'json.md'), 'utf8');

/** The page's text from its title to the first `##` heading. */
const intro = page.split(/\n## /)[0] ?? '';

/** The first cells of the table that follows "Which command prints which documents". */
function tableCommands(): string[] {
  const after = page.split('Which command prints which documents')[1] ?? '';
  const lines = after.split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  if (start < 0) return [];
  const rows: string[] = [];
  for (const line of lines.slice(start)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split(/(?<!\\)\|/)[1]?.trim() ?? '');
  }
  return rows.slice(2); // the header and its rule
}

test('package.json installs the commands this test expects', () => {
  expect(COMMANDS).toEqual(expect.arrayContaining(['wts-query', 'wts-logoff', 'wts-kill']));
});

test.each(COMMANDS)('docs/json.md names %s among the commands that speak the contract', (command) => {
  expect(intro).toContain(`[${command}](${command}.md)`);
});

test.each(COMMANDS)('docs/json.md says which documents %s prints', (command) => {
  const named = new RegExp(`\`${command}(?![\\w-])`);
  expect(tableCommands().filter((cell) => named.test(cell))).not.toEqual([]);
});
