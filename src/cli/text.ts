/**
 * Text for a terminal, pure: names shown with their control characters escaped, and measured,
 * cut and padded in terminal columns (a wide character takes 2, a combining mark 0), so that a
 * table stays aligned whatever the names hold and no name can move the cursor, clear the screen
 * or reverse the text around it. JSON output does not go through here: there, strings stay exact.
 */

/**
 * What is never written raw: C0 controls (newline and tab included: a name is one cell), DEL, C1
 * controls, the bidirectional formatting characters (U+061C, U+200E-200F, U+202A-202E,
 * U+2066-2069: "Trojan Source"), the line and paragraph separators (U+2028-2029) and lone
 * surrogates (a half of a character, which no terminal can show).
 */
const UNPRINTABLE_SOURCE =
  '[\\x00-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]|[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]';
const UNPRINTABLE = new RegExp(UNPRINTABLE_SOURCE, 'g');
const HAS_UNPRINTABLE = new RegExp(UNPRINTABLE_SOURCE);
const UNPRINTABLE_ONE = new RegExp(`^(?:${UNPRINTABLE_SOURCE})$`);

/** One character's escape: `\x1b` up to U+00FF, else `\u202e` (lower-case hex). */
function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every unprintable character escaped (`\x1b`, `\u202e`); a backslash stays itself. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escapeChar);
}

/** A message of several lines (Windows' \r\n or \n): each line made printable, the line breaks kept as \n. */
export function printableLines(text: string): string {
  return text.split(/\r?\n/).map(printable).join('\n');
}

/**
 * East_Asian_Width W (wide) or F (fullwidth), as inclusive [first, last] pairs: EastAsianWidth.txt
 * of Unicode 14.0, plus the blocks whose unassigned code points default to W there (CJK
 * ideographs, 1F300-1F64F, 1F900-1F9FF, planes 2 and 3). Ambiguous (A) characters take 1 column,
 * as in terminals outside CJK locales. Checked code point by code point against Python's
 * unicodedata by test/unit/cli-text.test.ts.
 */
// prettier-ignore
const WIDE = [
  0x1100, 0x115f, 0x231a, 0x231b, 0x2329, 0x232a, 0x23e9, 0x23ec, 0x23f0, 0x23f0, 0x23f3, 0x23f3, 0x25fd,
  0x25fe, 0x2614, 0x2615, 0x2648, 0x2653, 0x267f, 0x267f, 0x2693, 0x2693, 0x26a1, 0x26a1, 0x26aa, 0x26ab,
  0x26bd, 0x26be, 0x26c4, 0x26c5, 0x26ce, 0x26ce, 0x26d4, 0x26d4, 0x26ea, 0x26ea, 0x26f2, 0x26f3, 0x26f5,
  0x26f5, 0x26fa, 0x26fa, 0x26fd, 0x26fd, 0x2705, 0x2705, 0x270a, 0x270b, 0x2728, 0x2728, 0x274c, 0x274c,
  0x274e, 0x274e, 0x2753, 0x2755, 0x2757, 0x2757, 0x2795, 0x2797, 0x27b0, 0x27b0, 0x27bf, 0x27bf, 0x2b1b,
  0x2b1c, 0x2b50, 0x2b50, 0x2b55, 0x2b55, 0x2e80, 0x2e99, 0x2e9b, 0x2ef3, 0x2f00, 0x2fd5, 0x2ff0, 0x2ffb,
  0x3000, 0x303e, 0x3041, 0x3096, 0x3099, 0x30ff, 0x3105, 0x312f, 0x3131, 0x318e, 0x3190, 0x31e3, 0x31f0,
  0x321e, 0x3220, 0x3247, 0x3250, 0x4dbf, 0x4e00, 0xa48c, 0xa490, 0xa4c6, 0xa960, 0xa97c, 0xac00, 0xd7a3,
  0xf900, 0xfaff, 0xfe10, 0xfe19, 0xfe30, 0xfe52, 0xfe54, 0xfe66, 0xfe68, 0xfe6b, 0xff01, 0xff60, 0xffe0,
  0xffe6, 0x16fe0, 0x16fe4, 0x16ff0, 0x16ff1, 0x17000, 0x187f7, 0x18800, 0x18cd5, 0x18d00, 0x18d08, 0x1aff0,
  0x1aff3, 0x1aff5, 0x1affb, 0x1affd, 0x1affe, 0x1b000, 0x1b122, 0x1b150, 0x1b152, 0x1b164, 0x1b167, 0x1b170,
  0x1b2fb, 0x1f004, 0x1f004, 0x1f0cf, 0x1f0cf, 0x1f18e, 0x1f18e, 0x1f191, 0x1f19a, 0x1f200, 0x1f202, 0x1f210,
  0x1f23b, 0x1f240, 0x1f248, 0x1f250, 0x1f251, 0x1f260, 0x1f265, 0x1f300, 0x1f320, 0x1f32d, 0x1f335, 0x1f337,
  0x1f37c, 0x1f37e, 0x1f393, 0x1f3a0, 0x1f3ca, 0x1f3cf, 0x1f3d3, 0x1f3e0, 0x1f3f0, 0x1f3f4, 0x1f3f4, 0x1f3f8,
  0x1f43e, 0x1f440, 0x1f440, 0x1f442, 0x1f4fc, 0x1f4ff, 0x1f53d, 0x1f54b, 0x1f54e, 0x1f550, 0x1f567, 0x1f57a,
  0x1f57a, 0x1f595, 0x1f596, 0x1f5a4, 0x1f5a4, 0x1f5fb, 0x1f64f, 0x1f680, 0x1f6c5, 0x1f6cc, 0x1f6cc, 0x1f6d0,
  0x1f6d2, 0x1f6d5, 0x1f6d7, 0x1f6dd, 0x1f6df, 0x1f6eb, 0x1f6ec, 0x1f6f4, 0x1f6fc, 0x1f7e0, 0x1f7eb, 0x1f7f0,
  0x1f7f0, 0x1f90c, 0x1f93a, 0x1f93c, 0x1f945, 0x1f947, 0x1f9ff, 0x1fa70, 0x1fa74, 0x1fa78, 0x1fa7c, 0x1fa80,
  0x1fa86, 0x1fa90, 0x1faac, 0x1fab0, 0x1faba, 0x1fac0, 0x1fac5, 0x1fad0, 0x1fad9, 0x1fae0, 0x1fae7, 0x1faf0,
  0x1faf6, 0x20000, 0x2fffd, 0x30000, 0x3fffd,
];

function inWide(cp: number): boolean {
  if (cp < 0x1100) return false;
  let lo = 0;
  let hi = WIDE.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < (WIDE[mid * 2] as number)) hi = mid - 1;
    else if (cp > (WIDE[mid * 2 + 1] as number)) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Marks (Mn, Me), format characters (Cf: joiners, ...), Hangul medial vowels and final consonants. */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\u1160-\u11ff\ud7b0-\ud7ff]$/u;
const EMOJI_PRESENTATION = /^\p{Emoji_Presentation}$/u;
const PICTOGRAPHIC = /^\p{Extended_Pictographic}$/u;
const REGIONAL_INDICATOR = /^[\u{1f1e6}-\u{1f1ff}]$/u;

/** The columns one code point takes on its own: 0, 1 or 2 (a control character: 0; escape it first). */
export function codePointWidth(cp: number): 0 | 1 | 2 {
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (cp < 0x300 && cp !== 0xad) return 1;
  const c = String.fromCodePoint(cp);
  if (ZERO_WIDTH.test(c)) return 0;
  // A regional indicator alone is narrow (East_Asian_Width N); a pair of them, a flag, takes 2.
  if (inWide(cp) || (EMOJI_PRESENTATION.test(c) && !REGIONAL_INDICATOR.test(c))) return 2;
  return 1;
}

/**
 * The columns a grapheme cluster (what a person sees as one character) takes: its widest code
 * point — a base and its marks take the base's width, an emoji sequence joined by ZWJ takes 2 —
 * and 2 for an emoji made to look like one (U+FE0F after a pictograph or a keycap) and for a flag
 * (a pair of regional indicators).
 */
export function clusterWidth(cluster: string): number {
  let width = 0;
  let first = true;
  for (const c of cluster) {
    const cp = c.codePointAt(0) as number;
    if (first && REGIONAL_INDICATOR.test(c) && cluster.length > 2) return 2;
    if (cp === 0xfe0f && !first) {
      const base = String.fromCodePoint(cluster.codePointAt(0) as number);
      if (PICTOGRAPHIC.test(base) || /^[0-9#*]$/.test(base)) return 2;
    }
    first = false;
    width = Math.max(width, codePointWidth(cp));
  }
  return width;
}

type Segmenter = { segment(text: string): Iterable<{ segment: string }> };
let segmenter: Segmenter | null | undefined;

/**
 * The grapheme clusters of `text`: Intl.Segmenter where Node has it (every official build), else
 * code points with marks, joiners, variation selectors and what follows a ZWJ kept on their base.
 */
export function graphemes(text: string): string[] {
  if (segmenter === undefined) {
    const Seg = (Intl as unknown as { Segmenter?: new (locale?: string, options?: { granularity: string }) => Segmenter }).Segmenter;
    segmenter = Seg ? new Seg(undefined, { granularity: 'grapheme' }) : null;
  }
  if (segmenter) return Array.from(segmenter.segment(text), (s) => s.segment);
  const out: string[] = [];
  let joined = false;
  for (const c of text) {
    const attach = out.length > 0 && (joined || (ZERO_WIDTH.test(c) && !UNPRINTABLE_ONE.test(c)) || /^[\u{1f3fb}-\u{1f3ff}]$/u.test(c));
    if (attach) out[out.length - 1] += c;
    else out.push(c);
    joined = c === '\u200d';
  }
  return out;
}

/** A piece of shown text that is never split: a grapheme cluster, or one escape. */
interface Unit {
  readonly text: string;
  readonly width: number;
}

/** An escape as printable() writes it: kept whole when text already shown is cut again. */
const SHOWN_ESCAPE = /(\\x[0-9a-f]{2}|\\u[0-9a-f]{4})/;

function units(text: string): Unit[] {
  const out: Unit[] = [];
  text.split(SHOWN_ESCAPE).forEach((part, i) => {
    if (i % 2 === 1) out.push({ text: part, width: part.length });
    else graphemeUnits(part, out);
  });
  return out;
}

function graphemeUnits(text: string, out: Unit[]): void {
  for (const g of graphemes(text)) {
    if (!HAS_UNPRINTABLE.test(g)) {
      out.push({ text: g, width: clusterWidth(g) });
      continue;
    }
    // A cluster with an unprintable character in it (\r\n is one cluster): each escape is a unit
    // of its own; what is printable around it keeps its width.
    let rest = '';
    const flush = () => {
      if (rest !== '') out.push({ text: rest, width: clusterWidth(rest) });
      rest = '';
    };
    for (let i = 0; i < g.length; i++) {
      const code = g.charCodeAt(i);
      const pair = code >= 0xd800 && code <= 0xdbff && i + 1 < g.length && (g.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      const c = pair ? g.slice(i, i + 2) : (g[i] as string);
      if (pair) i++;
      if (UNPRINTABLE_ONE.test(c)) {
        flush();
        const e = escapeChar(c);
        out.push({ text: e, width: e.length });
      } else {
        rest += c;
      }
    }
    flush();
  }
}

const PLAIN = /^[\x20-\x7e]*$/;

/** The columns `text` takes once made printable. */
export function displayWidth(text: string): number {
  if (PLAIN.test(text)) return text.length;
  return units(text).reduce((sum, u) => sum + u.width, 0);
}

/**
 * `text` made printable and cut to at most `width` columns, between clusters and escapes only:
 * never half a surrogate pair, a character without its marks, or half of `\x1b` (also when the
 * text was already made printable: a line of the --watch display cut to the terminal's width).
 */
export function fitWidth(text: string, width: number): string {
  if (PLAIN.test(text) && (text.length <= width || !text.includes('\\'))) return text.slice(0, Math.max(0, width));
  let out = '';
  let used = 0;
  for (const u of units(text)) {
    if (used + u.width > width) break;
    out += u.text;
    used += u.width;
  }
  return out;
}

/** `text` made printable and padded with spaces after it to `width` columns (never cut). */
export function padEndWidth(text: string, width: number): string {
  const shown = printable(text);
  return shown + ' '.repeat(Math.max(0, width - displayWidth(shown)));
}

/** A table cell: `text` cut to `fit` columns, then padded to `width` (at least `fit`) columns. */
export function cell(text: string, fit: number, width: number): string {
  return padEndWidth(fitWidth(text, fit), width);
}
