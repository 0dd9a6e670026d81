/**
 * Security identifiers (SIDs): the binary form Windows hands out (a process's pUserSid) and the
 * standard text form (`S-1-5-18`), both ways, decoded and encoded here without advapi32
 * (ConvertSidToStringSidW would need its LocalAlloc'd string freed with LocalFree, and is not there
 * off Windows).
 *
 * The binary form (MS-DTYP 2.4.2.2, "SID--Packet Representation"; winnt.h SID): Revision (1 byte,
 * 1), SubAuthorityCount (1 byte, at most 15), IdentifierAuthority (6 bytes, big-endian: the NT
 * authority is {0,0,0,0,0,5}), then SubAuthorityCount DWORDs, in memory in the machine's byte order
 * (little-endian on every Windows architecture).
 *
 * The text form (MS-DTYP 2.4.2.1, "SID String Format Syntax"): `S-1-` IdentifierAuthority, in
 * decimal when below 2^32, else `0x` and 12 hexadecimal digits; then `-` and each SubAuthority in
 * decimal; no leading zeros. See docs/windows-facts.md, row `sid-format`.
 */
import { InvalidArgumentError } from './errors';

/** SID_MAX_SUB_AUTHORITIES (MS-DTYP 2.4.2.2: "The maximum number of elements allowed is 15"). */
export const SID_MAX_SUB_AUTHORITIES = 15;
/** SID_REVISION: the only revision there is (MS-DTYP 2.4.2.2: "This value MUST be set to 0x01"). */
export const SID_REVISION = 1;
/** The largest SID in bytes: 8 + 4 * 15. */
export const SECURITY_MAX_SID_SIZE = 8 + 4 * SID_MAX_SUB_AUTHORITIES;

const AUTHORITY_LIMIT = 2n ** 48n;
const DECIMAL_LIMIT = 2n ** 32n;

/** The size in bytes of the SID whose first 2 bytes are given (its SubAuthorityCount is byte 1). */
export function sidLength(subAuthorityCount: number): number {
  return 8 + 4 * subAuthorityCount;
}

/**
 * A binary SID as text (`S-1-5-21-1004336348-1177238915-682003330-1001`).
 *
 * @param bytes - the SID: at least 8 + 4 * SubAuthorityCount bytes, from `offset`.
 * @param offset - where it starts.
 * @returns its text form, or null when the bytes are not a SID (another revision, more than 15
 *   subauthorities, too short): nothing is read past them.
 */
export function sidToString(bytes: Uint8Array, offset = 0): string | null {
  if (bytes.length - offset < 8) return null;
  const revision = bytes[offset] as number;
  const count = bytes[offset + 1] as number;
  if (revision !== SID_REVISION || count > SID_MAX_SUB_AUTHORITIES || bytes.length - offset < sidLength(count)) return null;
  let authority = 0n;
  for (let i = 2; i < 8; i++) authority = (authority << 8n) | BigInt(bytes[offset + i] as number);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, sidLength(count));
  let text = `S-${revision}-${authority < DECIMAL_LIMIT ? authority.toString(10) : `0x${authority.toString(16).toUpperCase().padStart(12, '0')}`}`;
  for (let i = 0; i < count; i++) text += `-${view.getUint32(8 + 4 * i, true)}`;
  return text;
}

const TEXT_FORM = /^S-1-(0[xX][0-9A-Fa-f]{12}|0|[1-9][0-9]{0,14})((?:-(?:0|[1-9][0-9]{0,9}))*)$/;

/**
 * Text to a binary SID, the inverse of {@link sidToString}.
 *
 * @param text - `S-1-...` (a capital S, as Windows writes it).
 * @param argument - how an error names the value (`sid`).
 * @returns the SID's bytes.
 * @throws InvalidArgumentError for text that is not a SID: another revision, an authority of 2^48
 *   or more (or of 2^32 or more in decimal), a subauthority above 4294967295, more than 15 of
 *   them, leading zeros.
 */
export function sidFromString(text: unknown, argument = 'sid'): Uint8Array {
  const bad = (why: string) =>
    new InvalidArgumentError(argument, `Invalid ${argument}: ${typeof text === 'string' ? `'${text}'` : String(text)} is not a SID in text form (S-1-5-21-...): ${why}.`);
  if (typeof text !== 'string') throw bad('expected a string');
  const m = TEXT_FORM.exec(text);
  if (!m) throw bad('expected S-1-, the authority, then -subauthority values in decimal');
  const authorityText = m[1] as string;
  const authority = /^0[xX]/.test(authorityText) ? BigInt(authorityText) : BigInt(authorityText);
  if (!/^0[xX]/.test(authorityText) && authority >= DECIMAL_LIMIT) throw bad('an authority of 2^32 or more is written 0x and 12 hexadecimal digits');
  if (authority >= AUTHORITY_LIMIT) throw bad('the authority is 6 bytes');
  const subs = (m[2] as string).split('-').slice(1).map(Number);
  if (subs.length > SID_MAX_SUB_AUTHORITIES) throw bad(`at most ${SID_MAX_SUB_AUTHORITIES} subauthorities`);
  const bytes = new Uint8Array(sidLength(subs.length));
  bytes[0] = SID_REVISION;
  bytes[1] = subs.length;
  for (let i = 7, a = authority; i >= 2; i--, a >>= 8n) bytes[i] = Number(a & 0xffn);
  const view = new DataView(bytes.buffer);
  for (const [i, sub] of subs.entries()) {
    if (sub > 0xffffffff) throw bad('a subauthority is a DWORD (at most 4294967295)');
    view.setUint32(8 + 4 * i, sub, true);
  }
  return bytes;
}

/**
 * Whether `text` is a SID in text form ({@link sidFromString} would accept it).
 *
 * @param text - anything.
 * @returns true for `S-1-5-18` and the like.
 */
export function isSidString(text: unknown): text is string {
  try {
    sidFromString(text);
    return true;
  } catch {
    return false;
  }
}
