/**
 * Names on a terminal: escaped control characters, display widths (wide, combining, emoji), cuts
 * that never split a character, and tables whose columns stay aligned whatever the names hold —
 * checked against oracles of their own: Python's unicodedata for the width of every code point,
 * and, for the tables, a small width function written here for a known alphabet.
 */
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import type { DetailedSession } from '../../src/api/details';
import type { SessionProcess } from '../../src/api/wts';
import { createWts, type Session } from '../../src/index';
import { createMockApi } from '../../src/mock';
import { cut, eventLine, watchMain } from '../../src/cli/watch';
import { exampleFarm } from '../helpers';
import { failureLine } from '../../src/cli/shared';
import { formatCpuTime, formatKilobytes, formatOutcome, formatProcessTable, formatSessionTable, formatUserTable, oneLine, ownerName, planLine } from '../../src/cli/format';
import { clusterWidth, codePointWidth, displayWidth, fitWidth, graphemes, printable, printableLines } from '../../src/cli/text';
import { WtsError } from '../../src/errors';

/** What must never reach a terminal raw: C0, DEL, C1, bidi controls, U+2028-2029, lone surrogates. */
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The escape, written independently of src: \xHH up to U+00FF, else \uHHHH. */
const escapeOf = (c: string) => {
  const n = c.charCodeAt(0);
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
};
const expectedPrintable = (s: string) => s.replace(new RegExp(RAW.source.replace('\\x09\\x0b', '\\x09\\x0a\\x0b'), 'g'), escapeOf);

describe('printable: control characters escaped, everything else as it is', () => {
  test.each([
    ['bob\x1b[2J', 'bob\\x1b[2J'],
    ['a\nb\tc\r', 'a\\x0ab\\x09c\\x0d'],
    ['\x00\x7f', '\\x00\\x7f'],
    ['C1 \x9b31m', 'C1 \\x9b31m'],
    ['\u202eevil\u202c', '\\u202eevil\\u202c'],
    ['\u2066x\u2069 \u200e\u200f\u061c', '\\u2066x\\u2069 \\u200e\\u200f\\u061c'],
    ['line\u2028sep', 'line\\u2028sep'],
    ['half \ud800 \udc00', 'half \\ud800 \\udc00'],
    ['CORP\\alice 山田 é 👨‍👩‍👧 🇯🇵', 'CORP\\alice 山田 é 👨‍👩‍👧 🇯🇵'],
  ])('%j', (text, shown) => {
    expect(printable(text)).toBe(shown);
    expect(printable(printable(text))).toBe(shown); // idempotent: text already shown stays as it is
  });

  test('messages keep their line breaks; oneLine joins them and escapes the rest', () => {
    expect(printableLines('Could not logoff\nError [5]: \x1b[31mdenied')).toBe('Could not logoff\nError [5]: \\x1b[31mdenied');
    expect(printableLines('A system message\r\nof two lines\r')).toBe('A system message\nof two lines\\x0d');
    expect(oneLine('a\r\n  b\x07')).toBe('a / b\\x07');
  });

  test('property: no raw control character survives, and the escapes are exactly the independent ones', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
        const shown = printable(s);
        expect(shown).not.toMatch(RAW);
        expect(shown).not.toMatch(/\n/);
        expect(shown).toBe(expectedPrintable(s));
      }),
      { numRuns: 500 },
    );
  });
});

describe('display width', () => {
  test.each([
    ['abc', 3],
    ['山田太郎', 8],
    ['한국어', 6],
    ['ｆｕｌｌ', 8],
    ['e\u0301', 1], // a combining acute accent takes no column
    ['a\u200db', 2], // a zero-width joiner takes none
    ['👨‍👩‍👧', 2], // a ZWJ sequence is one emoji
    ['👍🏽', 2], // with a skin tone
    ['❤️', 2], // U+2764 with VS16: emoji presentation
    ['❤', 1], // without: text presentation
    ['🇯🇵', 2], // a flag
    ['\u{1f1ef}', 1], // a regional indicator alone
    ['1️⃣', 2], // a keycap
    ['\u1100\u1161\u11a8', 2], // a Hangul syllable from jamo
    ['\x1b', 4], // shown as \x1b
    ['\u202e', 6], // shown as \u202e
  ])('%j takes %i columns', (text, width) => {
    expect(displayWidth(text)).toBe(width);
  });

  const python = spawnSync('python3', ['-c', 'import unicodedata; print(unicodedata.unidata_version)'], { encoding: 'utf8' });
  const pyTest = python.status === 0 ? test : test.skip;
  if (python.status !== 0) console.log('skipped the unicodedata cross-check: python3 is not installed');

  pyTest(`every code point assigned in Unicode ${python.stdout?.trim() ?? '?'} against Python's unicodedata (W/F = 2, Mn/Me/Cf = 0, else 1)`, () => {
    // Python lists, for every assigned code point, its width by East_Asian_Width and category.
    const script = [
      'import unicodedata, sys',
      'out = []',
      'for cp in range(0x20, 0x110000):',
      '    if 0xd800 <= cp <= 0xdfff or 0x7f <= cp < 0xa0: continue',
      '    c = chr(cp); cat = unicodedata.category(c)',
      "    if cat in ('Cn', 'Co', 'Cs'): continue",
      "    w = 0 if cat in ('Mn', 'Me', 'Cf') else (2 if unicodedata.east_asian_width(c) in ('W', 'F') else 1)",
      '    out.append(f"{cp:x}:{w}")',
      'sys.stdout.write(",".join(out))',
    ].join('\n');
    const r = spawnSync('python3', ['-c', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(r.status).toBe(0);
    const differences: string[] = [];
    let checked = 0;
    for (const entry of r.stdout.split(',')) {
      const [hex, w] = entry.split(':') as [string, string];
      const cp = parseInt(hex, 16);
      // Hangul medial vowels and final consonants combine into the syllable: 0 here, N there.
      if ((cp >= 0x1160 && cp <= 0x11ff) || (cp >= 0xd7b0 && cp <= 0xd7ff)) continue;
      // Node's own Unicode is newer: AHOM CONSONANT SIGN MEDIAL RA is Mn in 14.0, Mc (spacing) since.
      if (cp === 0x1171e) continue;
      checked++;
      if (codePointWidth(cp) !== Number(w)) differences.push(`U+${hex.toUpperCase()}: ${codePointWidth(cp)}, Python ${w}`);
    }
    expect(checked).toBeGreaterThan(100_000);
    expect(differences).toEqual([]);
  });
});

/** Text the tests draw names from: ASCII, CJK, Hangul, fullwidth, marks, emoji, controls, bidi. */
const PIECES = [
  'a', 'Z', '7', ' ', '#', '-', '\\', '山', '田', '太', '郎', 'ア', '한', 'Ｆ', 'e\u0301', 'o\u0308\u0323',
  '👨‍👩‍👧', '👍🏽', '❤️', '😀', '🇯🇵', '1️⃣', '\x1b', '\x1b[2J', '\n', '\t', '\r', '\x00', '\x7f', '\x9b', '\u202e', '\u2066', '\u200f',
  '\ud800', '\udc00',
];
const name = fc.array(fc.constantFrom(...PIECES), { maxLength: 14 }).map((p) => p.join(''));

/**
 * The test's own width of shown text over PIECES' alphabet (escapes are ASCII): written without
 * src/cli/text.ts's tables.
 */
function oracleWidth(shown: string): number {
  let w = 0;
  for (const g of graphemes(shown)) {
    if (/^[\x20-\x7e]$/.test(g)) w += 1;
    else if (/\p{Extended_Pictographic}|[\u{1f1e6}-\u{1f1ff}]|\u20e3/u.test(g)) w += 2;
    else if (/^[\u4e00-\u9fff\u30a0-\u30ff\uac00-\ud7a3\uff01-\uff60]/u.test(g)) w += 2;
    else if (/^\p{M}+$/u.test(g)) w += 0;
    else w += 1; // a letter with its marks
  }
  return w;
}

/** Splits a line where `columns` (display offsets) fall; fails when a character straddles one. */
function splitAt(line: string, columns: readonly number[]): string[] {
  const parts: string[] = [];
  let current = '';
  let at = 0;
  let next = 0;
  for (const g of graphemes(line)) {
    while (next < columns.length && at === columns[next]) {
      parts.push(current);
      current = '';
      next++;
    }
    if (next < columns.length && at < (columns[next] as number) && at + oracleWidth(g) > (columns[next] as number)) {
      throw new Error(`a character straddles column ${columns[next]} in ${JSON.stringify(line)}`);
    }
    current += g;
    at += oracleWidth(g);
  }
  while (next < columns.length && at >= (columns[next] as number)) {
    parts.push(current);
    current = '';
    next++;
  }
  parts.push(current);
  return parts;
}

const session = (over: Partial<Session>): Session => ({
  id: 3, name: 'RDP-Tcp#1', state: 'Active', userName: 'bob', domain: 'CORP', server: '', isConsole: false, isCurrent: false, ...over,
});

/**
 * A cell shows the start of the name (made printable), as much as fits, then spaces: what is left
 * out would not have fitted (a wide character or an escape at the edge).
 */
function expectCell(cellText: string, value: string, fit: number): void {
  const shown = expectedPrintable(value);
  const cells = graphemes(cellText);
  const names = graphemes(shown);
  let k = 0;
  while (k < cells.length && k < names.length && cells[k] === names[k]) k++;
  expect(cells.slice(k).join('')).toMatch(/^ *$/);
  if (k < names.length) {
    const content = names.slice(0, k).join('');
    const rest = names.slice(k).join('');
    const nextUnit = rest.match(/^\\(x[0-9a-f]{2}|u[0-9a-f]{4})/)?.[0] ?? (names[k] as string);
    expect(oracleWidth(content) + oracleWidth(nextUnit)).toBeGreaterThan(fit);
  }
}

describe('tables stay aligned whatever the names hold', () => {
  test('山田太郎 as a user name does not shift the quser columns', () => {
    const rows = [
      { ...session({ id: 2, userName: 'alice' }), details: { idleMs: 0, logonTime: new Date(2026, 10, 21, 8, 2) } },
      { ...session({ id: 4, userName: '山田太郎' }), details: { idleMs: 0, logonTime: new Date(2026, 10, 21, 8, 2) } },
    ] as DetailedSession[];
    const lines = formatUserTable(rows).trimEnd().split('\n');
    const idColumn = lines.slice(1).map((l) => oracleWidth(l.slice(0, l.search(/ +[24]  Active/))));
    expect(new Set(idColumn).size).toBe(1);
    expect(lines[2]).toBe(' 山田太郎              rdp-tcp#1           4  Active          .  11/21/2026 8:02 AM');
  });

  test('property: session table — every column starts at the header\'s offset, no raw control character', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ name, user: name, id: fc.nat({ max: 70000 }) }), { minLength: 1, maxLength: 5 }), (rows) => {
        const sessions = rows.map((r) => session({ id: r.id, name: r.name, userName: r.user }));
        const lines = formatSessionTable(sessions).split('\n').slice(0, -1);
        expect(lines).toHaveLength(rows.length + 1);
        lines.forEach((line, i) => {
          expect(line).not.toMatch(RAW);
          if (i === 0) return;
          const r = rows[i - 1]!;
          // mark | SESSIONNAME (18) | USERNAME (22) | ID (5, right) | 2 | STATE ...
          const [mark, nameCell, userCell, rest] = splitAt(line, [1, 19, 41]) as [string, string, string, string];
          expect(mark).toBe(' ');
          expectCell(nameCell, r.name.toLowerCase(), 17);
          expectCell(userCell, r.user, 20);
          expect(rest).toBe(`${String(r.id).padStart(5)}  Active`);
        });
      }),
      { numRuns: 300 },
    );
  });

  test('property: user (quser) and process tables too', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ name, user: name, image: name }), { minLength: 1, maxLength: 4 }), (rows) => {
        const users = rows.map((r, i) => ({ ...session({ id: i + 1, name: r.name, userName: r.user }), details: { idleMs: null } })) as DetailedSession[];
        formatUserTable(users).split('\n').slice(1, -1).forEach((line, i) => {
          expect(line).not.toMatch(RAW);
          const [, userCell, nameCell, rest] = splitAt(line, [1, 23, 40]) as [string, string, string, string];
          expectCell(userCell, rows[i]!.user.toLowerCase(), 20);
          expectCell(nameCell, rows[i]!.name.toLowerCase(), 16);
          expect(rest).toBe(`${String(i + 1).padStart(4)}  Active${'none'.padStart(11)}`);
        });
        // USERNAME is the owner's account name (after its domain), shown printable like the rest.
        const owner = (r: { user: string }) => `CORP\\${r.user}`;
        const processes = rows.map((r, i) => ({
          server: '', sessionId: i, sessionName: r.name, userName: '', processId: 100 + i, processName: r.image, owner: owner(r), ownerSid: 'S-1-5-21-1-2-3-4',
        })) as SessionProcess[];
        formatProcessTable(processes).split('\n').slice(1, -1).forEach((line, i) => {
          expect(line).not.toMatch(RAW);
          const [, userCell, nameCell, rest] = splitAt(line, [1, 23, 41]) as [string, string, string, string];
          const o = owner(rows[i]!);
          expectCell(userCell, o.slice(o.lastIndexOf('\\') + 1).toLowerCase(), 20);
          expectCell(nameCell, rows[i]!.name.toLowerCase(), 17);
          expect(rest.trimEnd()).toBe(`${String(i).padStart(4)}${String(100 + i).padStart(7)}  ${expectedPrintable(rows[i]!.image.toLowerCase())}`.trimEnd());
        });
      }),
      { numRuns: 200 },
    );
  });

  test('property: cutting never splits a surrogate pair, a grapheme or an escape, and takes as much as fits', () => {
    fc.assert(
      fc.property(name, fc.nat({ max: 30 }), (text, width) => {
        const shown = printable(text);
        const cutText = fitWidth(text, width);
        expect(displayWidth(cutText)).toBeLessThanOrEqual(width);
        expect(shown.startsWith(cutText)).toBe(true);
        // Whole graphemes of the shown text (an escape's characters are graphemes of their own).
        expect(graphemes(shown).slice(0, graphemes(cutText).length).join('')).toBe(cutText);
        expect(cutText).not.toMatch(/[\ud800-\udbff]$/);
        expect(cutText).not.toMatch(/\\(x[0-9a-f]?|u[0-9a-f]{0,3})$/);
        if (cutText.length < shown.length) {
          const rest = shown.slice(cutText.length);
          const nextUnit = rest.match(/^\\(x[0-9a-f]{2}|u[0-9a-f]{4})/)?.[0] ?? graphemes(rest)[0]!;
          expect(displayWidth(cutText) + clusterWidthOf(nextUnit)).toBeGreaterThan(width);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('the --watch live table cuts its lines to the terminal by columns, the highlight kept whole', () => {
    expect(cut(' 山田太郎 x', 5)).toBe(' 山田');
    expect(cut('\x1b[7m 山田太郎\x1b[0m', 4)).toBe('\x1b[7m 山\x1b[0m');
    expect(cut('short', 10)).toBe('short');
  });
});

function clusterWidthOf(unit: string): number {
  return unit.startsWith('\\') ? unit.length : clusterWidth(unit);
}

describe('query process: owners and --long', () => {
  const base = { server: '', sessionId: 2, sessionName: 'RDP-Tcp#0', userName: 'alice', processId: 5004, processName: 'explorer.exe' };
  test('USERNAME is the owner: its name without the domain, the SID when unresolved, blank without a SID', () => {
    expect(ownerName({ ...base, owner: 'CORP\\Alice', ownerSid: 'S-1-5-21-1-2-3-4' })).toBe('Alice');
    expect(ownerName({ ...base, owner: 'Everyone', ownerSid: 'S-1-1-0' })).toBe('Everyone');
    expect(ownerName({ ...base, owner: 'S-1-5-21-9-9-9-500', ownerSid: 'S-1-5-21-9-9-9-500' })).toBe('S-1-5-21-9-9-9-500');
    expect(ownerName({ ...base, owner: null, ownerSid: null })).toBe('');
  });

  test('--long: THREADS HANDLES WORKING SET CPU TIME before IMAGE; blank for a server without counters', () => {
    const rows: SessionProcess[] = [
      { ...base, owner: 'CORP\\alice', ownerSid: 'S-1-5-21-1-2-3-4', threads: 40, handleCount: 1200, workingSetSize: 83_886_080, peakWorkingSetSize: 0, pagefileUsage: 0, peakPagefileUsage: 0, userTime: 3_725_500, kernelTime: 2_000 },
      { ...base, processId: 6100, processName: 'excel.exe', owner: 'NT AUTHORITY\\SYSTEM', ownerSid: 'S-1-5-18' },
    ];
    expect(formatProcessTable(rows, undefined, true).split('\n')).toEqual([
      ' USERNAME              SESSIONNAME         ID    PID  THREADS  HANDLES  WORKING SET CPU TIME  IMAGE',
      ' alice                 rdp-tcp#0            2   5004       40     1200     81,920 K  1:02:07  explorer.exe',
      ' system                rdp-tcp#0            2   6100                                          excel.exe',
      '',
    ]);
    expect(formatProcessTable(rows).split('\n')[1]).toBe(' alice                 rdp-tcp#0            2   5004  explorer.exe');
    expect([formatKilobytes(0), formatKilobytes(1536), formatKilobytes(undefined)]).toEqual(['0 K', '2 K', '']);
    expect([formatCpuTime(0), formatCpuTime(59_999), formatCpuTime(36_000_000), formatCpuTime(undefined)]).toEqual(['0:00:00', '0:00:59', '10:00:00', '']);
  });
});

describe('every line a command prints about a name is printable', () => {
  const evil = fc.record({ name, user: name, domain: name, server: fc.constantFrom('', 'WF12'), message: name });
  test('property: outcome lines, the plan question, failures and watch events', () => {
    fc.assert(
      fc.property(evil, (e) => {
        const s = session({ name: e.name, userName: e.user, domain: e.domain, server: e.server });
        const error = new WtsError('E_NOT_FOUND', `Session '${e.name}' not found.\n${e.message}`);
        const lines = [
          formatOutcome({ status: 'loggedOff', session: s, confirmed: true, alreadyClosing: false, requests: ['WTSLogoffSession'] }),
          formatOutcome({ status: 'skipped', session: s, reason: 'filtered', message: `user ${e.user} not selected`, requests: [] }),
          formatOutcome({ status: 'failed', session: s, error, requests: [] }),
          formatOutcome({ status: 'requested', session: s, request: 'WTSLogoffSession', accepted: true, message: e.message, requests: ['WTSLogoffSession'] }),
          planLine([{ status: 'wouldLogOff', session: s, identity: { sessionId: 3, name: e.name, userName: e.user, domain: e.domain, logonTime: null }, requests: [] }], 'Log off', [e.server || 'localhost']),
          failureLine({ server: e.server, error }),
          eventLine({ type: 'logoff', server: e.server, session: s, before: s, gone: true, at: new Date() }),
          eventLine({ type: 'serverError', server: e.server, error, attempt: 1, retryInMs: 1000, at: new Date() }),
        ];
        for (const line of lines) {
          expect(line).not.toMatch(RAW);
          expect(line).not.toMatch(/\n/);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('the --watch live table shows names escaped too', () => {
  test('a hostile name in the redrawn table and in the changes: only the display\'s own escape sequences reach the terminal', async () => {
    const farm = exampleFarm();
    farm.servers[0]!.sessions![3]!.user = 'bob\x1b[2J\u202e';
    farm.servers[0]!.sessions![4]!.user = '山田太郎\x9b';
    const mock = createMockApi(farm);
    const out: string[] = [];
    let interrupt: (() => void) | undefined;
    let drawn: () => void = () => {};
    const io = {
      out: (t: string) => {
        out.push(t);
        drawn();
      },
      err: () => {},
      interactive: false,
      progress: false,
      outputIsTerminal: true,
      columns: 80,
      color: true,
      confirm: async () => false,
      onInterrupt: (handler: () => void) => {
        interrupt = handler;
        return () => {};
      },
    };
    const next = () => new Promise<void>((resolve) => (drawn = resolve));
    const first = next();
    const done = watchMain(createWts({ api: mock }), { kind: 'session', target: { kind: 'one', server: undefined }, matches: undefined, json: false }, io);
    await first;
    const second = next();
    mock.removeSession('TS01', 4); // 山田太郎 logs off: a change line with the name, the row highlighted... gone
    await second;
    const third = next();
    mock.putSession('TS01', { id: 9, name: 'RDP-Tcp#9', state: 'Active', user: 'eve\x07\u2066', domain: 'CORP' });
    await third;
    interrupt?.();
    expect(await done).toBe(130);
    const screen = out.join('');
    // The display's own sequences: cursor up, clear to the end, inverse video on and off.
    const withoutOwn = screen.replace(/\x1b\[\d+A\r|\x1b\[(J|7m|0m)/g, '');
    expect(withoutOwn).not.toMatch(RAW);
    expect(screen).toMatch(/bob\\x1b\[2J\\u202e/);
    expect(screen).toMatch(/logoff\s+session 4: RDP-Tcp#1, CORP\\山田太郎\\x9b/);
    expect(screen).toMatch(/eve\\x07\\u2066/);
    // Every line fits the terminal's 80 columns.
    for (const line of withoutOwn.split('\n')) expect(displayWidth(line)).toBeLessThanOrEqual(79);
  });
});

test('text already shown, cut again (a --watch line cut to the terminal): an escape stays whole', () => {
  const shown = printable('eve\x07\u2066');
  expect(shown).toBe('eve\\x07\\u2066');
  for (let w = 0; w <= shown.length; w++) {
    const c = fitWidth(shown, w);
    expect(['', 'e', 'ev', 'eve', 'eve\\x07', 'eve\\x07\\u2066']).toContain(c);
  }
  expect(cut('  CORP\\eve\\x07\\u2066', 14)).toBe('  CORP\\eve\\x07');
});

test('without Intl.Segmenter (a Node built with small ICU): clusters by code point, marks and joined emoji kept whole', () => {
  const intl = Intl as unknown as { Segmenter?: unknown };
  const saved = intl.Segmenter;
  try {
    intl.Segmenter = undefined;
    jest.isolateModules(() => {
      const t = require('../../src/cli/text') as typeof import('../../src/cli/text');
      expect(t.graphemes('e\u0301a👨‍👩‍👧👍🏽❤️b')).toEqual(['e\u0301', 'a', '👨‍👩‍👧', '👍🏽', '❤️', 'b']);
      expect(t.displayWidth('山田e\u0301👨‍👩‍👧\x1b')).toBe(4 + 1 + 2 + 4);
      expect(t.fitWidth('a👨‍👩‍👧b', 2)).toBe('a');
    });
  } finally {
    intl.Segmenter = saved;
  }
});
