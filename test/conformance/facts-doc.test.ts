/**
 * docs/windows-facts.md is generated from test/conformance/facts.ts: this test fails when the doc
 * is stale. WTS_WRITE_FACTS=1 npx jest test/conformance/facts-doc.test.ts rewrites it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers';
import { BACKENDS, FACTS, renderFactsDoc } from './facts';

const DOC = join(ROOT, 'docs', 'windows-facts.md');

test('the facts table is well formed: unique ids, a source or a capture for every row', () => {
  const ids = FACTS.map((f) => f.id);
  expect(new Set(ids).size).toBe(ids.length);
  for (const f of FACTS) {
    if (f.status === 'sourced') expect({ id: f.id, sources: f.sources.length > 0 }).toEqual({ id: f.id, sources: true });
    else expect({ id: f.id, capture: typeof f.capture }).toEqual({ id: f.id, capture: 'string' });
    for (const b of BACKENDS) expect([f.id, b, f.backends[b] === true || (typeof f.backends[b] === 'string' && f.backends[b] !== '')]).toEqual([f.id, b, true]);
  }
});

test('docs/windows-facts.md is generated from test/conformance/facts.ts and up to date', () => {
  const rendered = renderFactsDoc();
  if (process.env['WTS_WRITE_FACTS'] === '1') writeFileSync(DOC, rendered);
  const current = existsSync(DOC) ? readFileSync(DOC, 'utf8').replace(/\r\n/g, '\n') : '';
  if (current !== rendered) {
    throw new Error('docs/windows-facts.md is stale: run WTS_WRITE_FACTS=1 npx jest test/conformance/facts-doc.test.ts');
  }
});
