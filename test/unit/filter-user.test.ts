/**
 * The `user` filter: a pattern without a backslash matches the user name alone; one with a
 * backslash matches `DOMAIN\user`. Before, every pattern was also tried against `DOMAIN\user`, so
 * `c*` selected every user of the domain CORP (`wts-logoff /all --user c* --yes` logged them all
 * off). The property hunts for a session a pattern selects that an independent matcher would not,
 * in listSessions and in logoffAll's dry run alike.
 */
import fc from 'fast-check';
import { createWts } from '../../src/index';
import { createMockApi, type Farm, type FarmSession } from '../../src/mock';
import { compileWildcard, upcaseUnit } from '../../src/api/validate';

/** Glob matching written independently of the library's (no regular expression): `*`, `?`, ASCII case folded. */
function globMatch(pattern: string, text: string, exact = false): boolean {
  const p = [...(exact ? pattern : pattern.toLowerCase())];
  const t = [...(exact ? text : text.toLowerCase())];
  let row = Array<boolean>(t.length + 1).fill(false);
  row[0] = true;
  for (const ch of p) {
    const next = Array<boolean>(t.length + 1).fill(false);
    if (ch === '*') next[0] = row[0] as boolean;
    for (let j = 1; j <= t.length; j++) {
      if (ch === '*') next[j] = (row[j] as boolean) || (next[j - 1] as boolean);
      else next[j] = (row[j - 1] as boolean) && (ch === '?' || ch === t[j - 1]);
    }
    row = next;
  }
  return row[t.length] as boolean;
}

function expected(pattern: string, s: { user: string; domain: string }): boolean {
  if (s.user === '') return false;
  return pattern.includes('\\') ? globMatch(pattern, `${s.domain}\\${s.user}`) : globMatch(pattern, s.user);
}

const name = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'C', 'o', 'r', 'p', 'P', '1', '.', '-'), minLength: 1, maxLength: 6 });
const patternUnit = fc.constantFrom('a', 'b', 'c', 'C', 'o', 'r', 'p', '1', '.', '*', '?', '\\');
const pattern = fc.string({ unit: patternUnit, minLength: 1, maxLength: 7 }).filter((p) => p.trim() !== '');

function farmOf(users: ReadonlyArray<{ user: string; domain: string }>): Farm {
  const sessions: FarmSession[] = [{ id: 0, name: 'Services', state: 'Disconnected' }];
  users.forEach((u, i) => sessions.push({ id: 2 + i, name: `RDP-Tcp#${i}`, state: 'Active', user: u.user, domain: u.domain }));
  return { localServer: 'TS01', servers: [{ name: 'TS01', consoleSessionId: 1, sessions }] };
}

describe('the user filter', () => {
  test("'c*' selects users whose names start with c, not every user of the domain CORP", async () => {
    const wts = createWts({ api: createMockApi(farmOf([{ user: 'carol', domain: 'CORP' }, { user: 'bob', domain: 'CORP' }, { user: 'Chris', domain: 'LAB' }])) });
    expect((await wts.listSessions({ user: 'c*' })).map((s) => s.userName)).toEqual(['carol', 'Chris']);
    expect((await wts.listSessions({ user: 'CORP\\*' })).map((s) => s.userName)).toEqual(['carol', 'bob']);
    expect((await wts.listSessions({ user: '*\\c*' })).map((s) => s.userName)).toEqual(['carol', 'Chris']);
    const plan = await wts.logoffAll({ user: 'c*', dryRun: true });
    expect(plan.filter((o) => o.status === 'wouldLogOff').map((o) => o.session.userName)).toEqual(['carol', 'Chris']);
  });

  test('property: a pattern selects exactly the sessions an independent matcher selects (listing and dry run)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ user: name, domain: name }), { minLength: 1, maxLength: 6 }), pattern, async (users, p) => {
        const wts = createWts({ api: createMockApi(farmOf(users)) });
        const want = users.flatMap((u, i) => (expected(p, u) ? [2 + i] : []));
        const listed = (await wts.listSessions({ user: p })).map((s) => s.id);
        expect(listed).toEqual(want);
        const planned = (await wts.logoffAll({ user: p, dryRun: true })).filter((o) => o.status === 'wouldLogOff').map((o) => o.session.id);
        expect(planned).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });

  test('without case as Windows compares names: the Kelvin sign is not k, ſ is not s, ẞ is not ß', async () => {
    const users = [
      { user: '\u212Aim', domain: 'CORP' }, // KELVIN SIGN + im: another account than kim
      { user: 'Kim', domain: 'CORP' },
      { user: '\u017Fam', domain: 'CORP' }, // LATIN SMALL LETTER LONG S + am
      { user: 'Sam', domain: 'CORP' },
      { user: 'stra\u1E9Ee', domain: 'CORP' }, // capital sharp s
      { user: 'straße', domain: 'CORP' },
    ];
    const wts = createWts({ api: createMockApi(farmOf(users)) });
    const names = async (user: string) => (await wts.listSessions({ user })).map((s) => s.userName);
    expect(await names('kim')).toEqual(['Kim']);
    expect(await names('sam')).toEqual(['Sam']);
    expect(await names('straße')).toEqual(['straße']);
    expect(await names('STRASSE')).toEqual([]);
    // Greek with iota subscript: ᾳ and ᾼ are one letter in two cases (simple upper case), as before.
    const greek = createWts({ api: createMockApi(farmOf([{ user: '\u1FBCnna', domain: 'CORP' }])) });
    expect((await greek.listSessions({ user: '\u1FB3nna' })).map((s) => s.userName)).toEqual(['\u1FBCnna']);
  });

  test('property: the wildcard matches exactly what a unit-by-unit upper-case comparison matches', () => {
    // Any BMP text, the pattern made from pieces of it (so matches happen), a wildcard or two.
    const unit = fc.constantFrom('k', 'K', '\u212A', 's', 'S', '\u017F', 'ß', '\u1E9E', 'i', 'I', '\u0131', '\u0130', 'é', 'É', 'a', '.', '\\', '\u1FB3', '\u1FBC');
    const text = fc.string({ unit, minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(text, fc.array(fc.constantFrom('', '*', '?'), { minLength: 6, maxLength: 6 }), (t, wild) => {
        const pattern = [...t].map((ch, i) => (wild[i] === '' ? ch : wild[i])).join('');
        if (pattern.trim() === '' || pattern.trim() !== pattern) return;
        // Windows' simple upper case, written out: one unit to one unit; ı and ſ kept; ᾳ to ᾼ (its full upper case is ΑΙ).
        const simple: Record<string, string> = { '\u1FB3': '\u1FBC' };
        const upper = (x: string) => [...x].map((u) => (u === '\u0131' || u === '\u017F' ? u : simple[u] ?? (u.toUpperCase().length === 1 ? u.toUpperCase() : u))).join('');
        for (const candidate of [t, t.toUpperCase(), t.toLowerCase()]) {
          expect(compileWildcard(pattern, 'p')(candidate)).toBe(globMatch(upper(pattern), upper(candidate), true));
        }
      }),
      { numRuns: 500 },
    );
  });

  test("upcaseUnit's table of simple upper cases is what this Node's Unicode data derives: every unit with a longer full upper case maps to the one unit that lower-cases to it (ß excepted: it has none)", () => {
    const derived: string[] = [];
    const table: string[] = [];
    for (let c = 0; c < 0x10000; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      const unit = String.fromCharCode(c);
      const lower = unit.toLowerCase();
      if (lower.length === 1 && lower !== unit && lower !== '\u00df' && lower.toUpperCase().length > 1) derived.push(`${lower}>${unit}`);
      if (unit.toUpperCase().length > 1 && upcaseUnit(unit) !== unit) table.push(`${unit}>${upcaseUnit(unit)}`);
    }
    expect(table.sort()).toEqual(derived.sort());
    expect(table).toHaveLength(27);
  });
});
