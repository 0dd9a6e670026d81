/**
 * Links that work where each page is read. The README is also the npm page, where relative links
 * break (docs/ is not in the tarball): its links are absolute, to this repository on GitHub, and
 * each must name a file or folder that exists here. The pages under docs/ and examples/ are read
 * on GitHub: their relative links must reach an existing file, and anchors an existing heading.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { DOCS_URL } from '../../src/errors';
import { ROOT } from '../helpers';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { repository: { url: string } };
const REPO = pkg.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');

/** Markdown links outside code: [text](target). */
function links(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1] as string);
}

/** GitHub's anchor for a heading. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1] as string)));
}

function markdownFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'api' ? [] : markdownFiles(path);
    return e.name.endsWith('.md') ? [path] : [];
  });
}

describe('README (the npm page)', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const targets = links(readme);

  it('has links, and none of them is relative', () => {
    expect(targets.length).toBeGreaterThan(15);
    expect(targets.filter((t) => !/^(https?:|mailto:|#)/.test(t))).toEqual([]);
  });

  it('links into this repository name files and folders that exist, on main', () => {
    const own = targets.filter((t) => t.startsWith(`${REPO}/`));
    expect(own.length).toBeGreaterThan(10);
    for (const target of own) {
      const m = /^\/(blob|tree)\/main\/([^#?]*)(#.*)?$/.exec(target.slice(REPO.length));
      expect([target, m !== null]).toEqual([target, true]);
      const [, kind, path, anchor] = m as RegExpExecArray;
      const full = join(ROOT, decodeURIComponent(path as string));
      expect([target, existsSync(full)]).toEqual([target, true]);
      expect([target, kind]).toEqual([target, statSync(full).isDirectory() ? 'tree' : 'blob']);
      if (anchor && full.endsWith('.md')) expect([target, anchors(full).has(anchor.slice(1))]).toEqual([target, true]);
    }
  });

  it("anchors within the README name one of its headings", () => {
    const own = anchors(join(ROOT, 'README.md'));
    for (const target of targets.filter((t) => t.startsWith('#'))) expect([target, own.has(target.slice(1))]).toEqual([target, true]);
  });
});

describe('pages under docs/ and examples/', () => {
  const pages = [...markdownFiles('docs'), ...markdownFiles('examples')];
  it.each(pages)('%s: relative links reach an existing file and heading', (page) => {
    const base = dirname(join(ROOT, page));
    for (const target of links(readFileSync(join(ROOT, page), 'utf8'))) {
      if (/^(https?:|mailto:)/.test(target)) continue;
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const full = path === '' ? join(ROOT, page) : join(base, decodeURIComponent(path));
      expect([target, relative(ROOT, full).startsWith('..'), existsSync(full)]).toEqual([target, false, true]);
      if (anchor && full.endsWith('.md')) expect([target, anchors(full).has(anchor)]).toEqual([target, true]);
    }
  });
});

test("the library's messages send people to the docs of package.json's repository", () => {
  expect(DOCS_URL).toBe(`${REPO}/blob/main/docs/`);
});
