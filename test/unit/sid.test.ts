/**
 * SIDs, binary and text (src/sid.ts; MS-DTYP 2.4.2.1 and 2.4.2.2, docs/windows-facts.md row
 * `sid-format`): every SID round-trips both ways, the text is the canonical one, and what is not a
 * SID is refused (text) or not read past its head (bytes).
 */
import fc from 'fast-check';
import { InvalidArgumentError } from '../../src/errors';
import { isSidString, sidFromString, sidToString } from '../../src/sid';

/** A SID's parts: revision 1, a 48-bit authority, 0 to 15 subauthorities. */
const parts = fc.record({
  authority: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }), fc.bigInt({ min: 2n ** 32n, max: 2n ** 48n - 1n }), fc.constantFrom(0n, 1n, 5n, 16n)),
  subs: fc.array(fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 18, 21, 500, 1000, 0xffffffff)), { maxLength: 15 }),
});

/** The bytes as MS-DTYP 2.4.2.2 lays them out, built independently of src/sid.ts. */
function bytesOf(authority: bigint, subs: readonly number[]): Uint8Array {
  const b = Buffer.alloc(8 + 4 * subs.length);
  b[0] = 1;
  b[1] = subs.length;
  b.writeUIntBE(Number(authority), 2, 6);
  subs.forEach((s, i) => b.writeUInt32LE(s, 8 + 4 * i));
  return new Uint8Array(b);
}

/** The text as MS-DTYP 2.4.2.1 writes it, built independently of src/sid.ts. */
function textOf(authority: bigint, subs: readonly number[]): string {
  const a = authority < 2n ** 32n ? authority.toString() : `0x${authority.toString(16).toUpperCase().padStart(12, '0')}`;
  return ['S', '1', a, ...subs.map(String)].join('-');
}

describe('SIDs (src/sid.ts)', () => {
  test('bytes -> text -> bytes and text -> bytes -> text round-trip, and agree with the format (property)', () => {
    fc.assert(
      fc.property(parts, ({ authority, subs }) => {
        const bytes = bytesOf(authority, subs);
        const text = textOf(authority, subs);
        expect(sidToString(bytes)).toBe(text);
        expect([...sidFromString(text)]).toEqual([...bytes]);
        expect(sidToString(sidFromString(text))).toBe(text);
        expect(isSidString(text)).toBe(true);
      }),
      { numRuns: 2000, seed: 15 },
    );
  });

  test('known SIDs', () => {
    expect(sidToString(bytesOf(5n, [18]))).toBe('S-1-5-18');
    expect(sidToString(bytesOf(5n, []))).toBe('S-1-5');
    expect(sidToString(bytesOf(5n, [21, 1004336348, 1177238915, 682003330, 1001]))).toBe('S-1-5-21-1004336348-1177238915-682003330-1001');
    expect(sidToString(bytesOf(0xffffffffffffn, [7]))).toBe('S-1-0xFFFFFFFFFFFF-7');
    expect(sidToString(bytesOf(2n ** 32n, [1]))).toBe('S-1-0x000100000000-1');
    // Lower-case hexadecimal digits are read; the text written is upper-case.
    expect(sidToString(sidFromString('S-1-0xabcdef012345-1'))).toBe('S-1-0xABCDEF012345-1');
  });

  test('a SID is read at its offset and not past its own size (the bytes after it are left alone)', () => {
    const sid = bytesOf(5n, [32, 544]);
    const padded = new Uint8Array(3 + sid.length + 9).fill(0xee);
    padded.set(sid, 3);
    expect(sidToString(padded, 3)).toBe('S-1-5-32-544');
  });

  test('bytes that are not a SID are null: another revision, more than 15 subauthorities, cut short', () => {
    const good = bytesOf(5n, [18]);
    expect(sidToString(Uint8Array.from([2, ...good.slice(1)]))).toBeNull();
    expect(sidToString(Uint8Array.from([1, 16, ...good.slice(2), ...new Uint8Array(64)]))).toBeNull();
    expect(sidToString(good.slice(0, 11))).toBeNull();
    expect(sidToString(new Uint8Array(4))).toBeNull();
  });

  test('text that is not a SID is refused with an InvalidArgumentError naming the argument (property: any other string)', () => {
    const bad = [
      '', 'S-1', 'S-1-', 's-1-5-18', 'S-2-5-18', 'S-1-5-', 'S-1-5--18', 'S-1-05-18', 'S-1-5-018', 'S-1-5-18 ', ' S-1-5-18', 'S-1-4294967296-1',
      'S-1-0x1234-1', 'S-1-0x1000000000000-1', 'S-1-5-4294967296', 'S-1-5-99999999999', `S-1-5${'-1'.repeat(16)}`, 'S-1-5-18-x', 'alice', 'CORP\\alice',
    ];
    for (const text of bad) {
      let error: unknown;
      try {
        sidFromString(text, 'owner');
      } catch (e) {
        error = e;
      }
      expect([text, error instanceof InvalidArgumentError && (error as InvalidArgumentError).argument]).toEqual([text, 'owner']);
      expect(isSidString(text)).toBe(false);
    }
    for (const value of [undefined, null, 18, {}, ['S-1-5-18']]) expect(() => sidFromString(value)).toThrow(InvalidArgumentError);
    fc.assert(
      fc.property(fc.string(), (text) => {
        // Whatever is accepted is canonical: it prints back the same.
        if (isSidString(text)) expect(sidToString(sidFromString(text))?.toUpperCase()).toBe(text.toUpperCase());
      }),
      { numRuns: 2000, seed: 16 },
    );
  });
});
