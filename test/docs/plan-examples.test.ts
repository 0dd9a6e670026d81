/**
 * The examples teach the safe habit: a code block that shows a bulk call's dry run and then makes
 * the same call for real applies the dry run's `plan`, so that what a person saw is what is acted
 * on (docs/logoffAll.md, "Apply a reviewed plan"). Acting on a fresh enumeration after a dry run
 * is the mistake the plan exists to prevent; the README's first usage example once showed it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers';

const BULK = ['logoffAll', 'disconnectAll', 'sendMessageAll', 'terminateProcess'];

function markdownFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'api' ? [] : markdownFiles(path);
    return e.name.endsWith('.md') ? [path] : [];
  });
}

/** Each bulk call in a block: its function and its text up to the end of its statement. */
function bulkCalls(block: string): Array<{ fn: string; text: string }> {
  const calls: Array<{ fn: string; text: string }> = [];
  for (const m of block.matchAll(new RegExp(`\\b(${BULK.join('|')})\\(`, 'g'))) {
    const rest = block.slice(m.index);
    const end = rest.search(/\);?\s*(\n|$)/);
    calls.push({ fn: m[1] as string, text: end < 0 ? rest : rest.slice(0, end + 1) });
  }
  return calls;
}

/** The mistakes in one block: a real call after a dry run of the same function, without `plan`. */
export function freshAfterDryRun(block: string): string[] {
  const dry = new Set<string>();
  const found: string[] = [];
  for (const { fn, text } of bulkCalls(block)) {
    if (/\bdryRun:\s*true\b/.test(text)) dry.add(fn);
    else if (dry.has(fn) && !/\bplan\b/.test(text)) found.push(text.split('\n')[0] as string);
  }
  return found;
}

describe('examples apply the plan they showed', () => {
  test('the check finds the mistake, and accepts the plan', () => {
    expect(freshAfterDryRun("const p = await logoffAll({ dryRun: true });\nconst o = await logoffAll({ state: 'Disconnected' });")).toHaveLength(1);
    expect(freshAfterDryRun('const plan = await logoffAll({ dryRun: true });\nawait logoffAll({ plan });')).toEqual([]);
    expect(freshAfterDryRun('await disconnectAll({ dryRun: true });\nawait logoffAll({});')).toEqual([]);
  });

  const files = ['README.md', ...markdownFiles('docs'), ...markdownFiles('examples')];
  test.each(files)('%s', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const blocks = [...text.matchAll(/```(?:ts|js|typescript|javascript)\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    expect(blocks.flatMap(freshAfterDryRun)).toEqual([]);
  });
});
