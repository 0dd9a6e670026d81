/**
 * parseDuration's grammar: milliseconds, a number and a unit (decimals allowed), units combined
 * from the largest down, rounded to the nearest whole millisecond whether given as a number or as
 * text; everything else a typed InvalidArgumentError naming the accepted forms.
 */
import fc from 'fast-check';
import { InvalidArgumentError, parseDuration } from '../../src/index';

const H = 3_600_000;

describe('parseDuration', () => {
  test.each([
    // what it accepted before
    ['90m', 90 * 60_000],
    ['2h', 2 * H],
    ['1d12h', 36 * H],
    ['45s', 45_000],
    ['1500ms', 1500],
    ['1D', 24 * H],
    [' 1h 30m ', 90 * 60_000],
    // plain milliseconds, decimals, compounds
    ['7200000', 2 * H],
    ['0', 0],
    ['1.5h', 1.5 * H],
    ['0.5d', 12 * H],
    ['1h30m', 90 * 60_000],
    ['2m30s', 150_000],
    ['1d2h3m4s5ms', (((24 + 2) * 60 + 3) * 60 + 4) * 1000 + 5],
    ['1.25s', 1250],
    ['0.0004s', 0], // rounded to whole milliseconds
    ['2.5ms', 3],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text, 'options.idleLongerThan')).toBe(ms);
  });

  test('numbers are milliseconds, up to Number.MAX_SAFE_INTEGER', () => {
    expect(parseDuration(0, 'x')).toBe(0);
    expect(parseDuration(7_200_000, 'x')).toBe(7_200_000);
    expect(parseDuration(Number.MAX_SAFE_INTEGER, 'x')).toBe(Number.MAX_SAFE_INTEGER);
  });

  test.each([
    [''], ['  '], ['h'], ['1x'], ['1 h'], ['-5m'], ['+5m'], ['1h1h'], ['30m1h'], ['1ms1s'], ['.5h'], ['5.h'], ['1e3'], ['1,5h'],
    ['NaN'], ['Infinity'], ['1h30'], ['h1'], ['1hh'], ['1h-30m'], ['0x10'], ['١h'], // Arabic-Indic digit
    [`${'9'.repeat(400)}ms`], ['104249991375d'], ['9007199254740992'], [-1], [NaN], [Infinity], [-Infinity], [9007199254740992], [null], [{}], [[]], [true],
  ])('%p is refused with InvalidArgumentError', (value) => {
    let error: unknown;
    try {
      parseDuration(value, 'options.idleLongerThan');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe('options.idleLongerThan');
    expect((error as Error).message).toMatch(/^Invalid options\.idleLongerThan: /);
    // The message names the forms, with examples.
    expect((error as Error).message).toMatch(/milliseconds \('7200000'\).*'90m', '1\.5h', '1h30m', '1d12h', '500ms'/);
  });

  // One rule for both forms: a duration is rounded to the nearest whole millisecond (half up),
  // whether it is given as a number or as text.
  test.each([
    [1.5, '1.5', '1.5ms', 2],
    [0.5, '0.5', '0.5ms', 1],
    [0.4, '0.4', '0.4ms', 0],
    [2.5, '2.5', '2.5ms', 3],
    [1499.999, '1499.999', '1499.999ms', 1500],
    [7_200_000.2, '7200000.2', '7200000.2ms', 7_200_000],
  ])('%p ms as a number, %j and %j as text, are all %d ms', (number, text, withUnit, ms) => {
    expect(parseDuration(number, 'x')).toBe(ms);
    expect(parseDuration(text, 'x')).toBe(ms);
    expect(parseDuration(withUnit, 'x')).toBe(ms);
  });

  test('a negative number is refused even when it would round to 0', () => {
    expect(() => parseDuration(-0.4, 'x')).toThrow(/-0\.4 is negative/);
    expect(parseDuration(-0, 'x')).toBe(0);
  });

  test('the last day that fits is accepted; one more millisecond is not', () => {
    const days = Math.floor(Number.MAX_SAFE_INTEGER / 86_400_000);
    expect(parseDuration(`${days}d`, 'x')).toBe(days * 86_400_000);
    expect(() => parseDuration(`${days + 1}d`, 'x')).toThrow(/too long/);
  });
});

/** A duration written from its parts: `1d2h`, `30m`, `1h 5s`, in any case, with spaces or not. */
const compound = fc
  .record({
    d: fc.option(fc.nat({ max: 10_000 }), { nil: undefined }),
    h: fc.option(fc.nat({ max: 100 }), { nil: undefined }),
    m: fc.option(fc.nat({ max: 1000 }), { nil: undefined }),
    s: fc.option(fc.nat({ max: 100_000 }), { nil: undefined }),
    ms: fc.option(fc.nat({ max: 1_000_000 }), { nil: undefined }),
    upper: fc.boolean(),
    space: fc.constantFrom('', ' ', '  '),
  })
  .filter((r) => [r.d, r.h, r.m, r.s, r.ms].some((v) => v !== undefined));

const FACTOR: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

describe('parseDuration: properties', () => {
  test('a compound duration, formatted and parsed, gives its milliseconds', () => {
    fc.assert(
      fc.property(compound, (r) => {
        let expected = 0;
        const parts: string[] = [];
        for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
          const n = r[unit];
          if (n === undefined) continue;
          expected += n * (FACTOR[unit] as number);
          parts.push(`${n}${r.upper ? unit.toUpperCase() : unit}`);
        }
        expect(parseDuration(parts.join(r.space), 'x')).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  test('a decimal number and a unit: the number times the unit, to the millisecond', () => {
    fc.assert(
      fc.property(fc.nat({ max: 100_000 }), fc.nat({ max: 999 }), fc.constantFrom('d', 'h', 'm', 's'), (whole, thousandths, unit) => {
        const text = `${whole}.${String(thousandths).padStart(3, '0')}${unit}`;
        const exact = (whole * 1000 + thousandths) * (FACTOR[unit] as number); // in thousandths of a ms
        expect(parseDuration(text, 'x')).toBe(Math.round(exact / 1000));
      }),
      { numRuns: 500 },
    );
  });

  test('plain milliseconds as text equal the number', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        expect(parseDuration(String(n), 'x')).toBe(n);
        expect(parseDuration(n, 'x')).toBe(n);
      }),
    );
  });

  test('any string: a safe whole number of milliseconds, or InvalidArgumentError — never anything else', () => {
    const alphabet = fc.constantFrom(...'0123456789.dhmsDHMS -+eE,x\t'.split(''), 'ms', '١');
    const text = fc.oneof(fc.string({ maxLength: 30 }), fc.array(alphabet, { maxLength: 20 }).map((a) => a.join('')));
    fc.assert(
      fc.property(text, (s) => {
        try {
          const ms = parseDuration(s, 'x');
          expect(Number.isSafeInteger(ms)).toBe(true);
          expect(ms).toBeGreaterThanOrEqual(0);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidArgumentError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('any number: itself rounded to the nearest whole millisecond when finite, 0 or more and safe; else InvalidArgumentError', () => {
    fc.assert(
      fc.property(fc.double(), (n) => {
        const ok = Number.isFinite(n) && n >= 0 && n <= Number.MAX_SAFE_INTEGER;
        if (ok) expect(parseDuration(n, 'x')).toBe(Math.round(n) + 0);
        else expect(() => parseDuration(n, 'x')).toThrow(InvalidArgumentError);
      }),
      { numRuns: 1000 },
    );
  });
});
