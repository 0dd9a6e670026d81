/**
 * `wts-msg NAME TEXT`: a name that is no session's is a user name (msg.exe), and one user's. No
 * user name has `*` or `?`; such a name used to reach every user the pattern matched
 * (`wts-msg 'CORP\*' hi` messaged all of CORP), with no question asked. It is bad usage now, and
 * `* --user PATTERN` is the way to reach several users.
 */
import { simulate } from './run';

describe('wts-msg NAME: one user, never a pattern', () => {
  test.each([['a*'], ['CORP\\*'], ['?lice'], ['*o*']])("wts-msg '%s' hi: bad usage (exit 2), no message sent", (name) => {
    const r = simulate().run('wts-msg', [name, 'hi']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not a session or a user name \(a user name has no \* or \?\)/);
    expect(r.stderr).toContain('* --user PATTERN');
    expect(r.calls.filter((c) => c.api === 'message')).toEqual([]);
  });

  test("wts-msg carol hi still reaches carol's session, and * --user 'c*' every user whose name starts with c", () => {
    const one = simulate().run('wts-msg', ['carol', 'hi']);
    expect(one.code).toBe(0);
    expect(one.calls.filter((c) => c.api === 'message').map((c) => c.sessionId)).toEqual([4]);
    const many = simulate().run('wts-msg', ['*', '--user', 'c*', 'hi', '--dry-run']);
    expect(many.code).toBe(0);
    expect(many.stdout).toMatch(/carol/);
    expect(many.stdout).not.toMatch(/alice|bob|dave/);
  });
});
