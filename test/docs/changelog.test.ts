/**
 * CHANGELOG.md follows Keep a Changelog 1.1.0: an [Unreleased] section, then one dated section per
 * release, newest first, the version in package.json among them; every section heading has its
 * link reference at the bottom (a compare view between tags, the first a tag).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers';

const changelog = readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; repository: { url: string } };
const REPO = pkg.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
const sections = [...changelog.matchAll(/^## \[([^\]]+)\](.*)$/gm)].map((m) => ({ name: m[1] as string, rest: (m[2] as string).trim() }));
const releases = sections.filter((s) => s.name !== 'Unreleased');

test('an [Unreleased] section comes first, then dated releases, newest first', () => {
  expect(sections[0]?.name).toBe('Unreleased');
  expect(releases.length).toBeGreaterThan(0);
  for (const r of releases) {
    expect([r.name, r.rest]).toEqual([r.name, expect.stringMatching(/^- \d{4}-\d{2}-\d{2}$/)]);
    expect(r.name).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/);
  }
  const dates = releases.map((r) => r.rest.slice(2));
  expect([...dates].sort().reverse()).toEqual(dates);
  const order = (v: string) => v.split(/[.-]/).slice(0, 3).map(Number);
  for (let i = 1; i < releases.length; i++) {
    const [a, b] = [order(releases[i - 1]!.name), order(releases[i]!.name)];
    expect(a[0]! * 1e6 + a[1]! * 1e3 + a[2]!).toBeGreaterThan(b[0]! * 1e6 + b[1]! * 1e3 + b[2]!);
  }
});

test("package.json's version has a dated section", () => {
  expect(releases.map((r) => r.name)).toContain(pkg.version);
});

test('every section has its link reference: compare views between tags, the oldest a tag', () => {
  const refs = new Map([...changelog.matchAll(/^\[([^\]]+)\]: (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]));
  expect([...refs.keys()]).toEqual(sections.map((s) => s.name));
  const tags = releases.map((r) => `v${r.name}`);
  expect(refs.get('Unreleased')).toBe(`${REPO}/compare/${tags[0]}...HEAD`);
  releases.forEach((r, i) => {
    const expected = i === releases.length - 1 ? `${REPO}/releases/tag/${tags[i]}` : `${REPO}/compare/${tags[i + 1]}...${tags[i]}`;
    expect([r.name, refs.get(r.name)]).toEqual([r.name, expected]);
  });
});
