/**
 * A farm's process owners and accounts (docs/mock.md): who owns a process by default, the names a
 * farm can give, SIDs made from names (stable, distinct, the farm's own `accounts` first), and the
 * farm check's errors for owners and accounts.
 */
import { FarmAccounts, parseFarm, type Farm, type FarmSession } from '../../src/backends/mock/farm';
import { InvalidArgumentError } from '../../src/errors';
import { createMockApi } from '../../src/mock';
import { isSidString } from '../../src/sid';
import { WTS_ANY_SESSION, WTS_CURRENT_SERVER_HANDLE } from '../../src/wtsapi';

const session = (s: Partial<FarmSession> & { id: number }): FarmSession => ({ state: 'Active', ...s });

function farm(extra: Partial<Farm> = {}): Farm {
  return {
    localServer: 'TS01',
    servers: [
      {
        name: 'TS01',
        sessions: [
          session({ id: 0, name: 'Services', state: 'Disconnected', processes: [{ pid: 4, name: 'System' }, { pid: 800, name: 'svc.exe', user: 'LOCAL SERVICE' }] }),
          session({
            id: 2,
            user: 'alice',
            domain: 'CORP',
            processes: [
              { pid: 10, name: 'a.exe' },
              { pid: 11, name: 'b.exe', user: 'Alice' },
              { pid: 12, name: 'c.exe', user: 'CORP\\bob' },
              { pid: 13, name: 'd.exe', user: 'NT AUTHORITY\\SYSTEM' },
              { pid: 14, name: 'e.exe', user: 'S-1-5-21-7-7-7-7' },
              { pid: 15, name: 'f.exe', user: null },
              { pid: 16, name: 'g.exe', user: 'svc' },
            ],
          }),
          session({ id: 3, state: 'Connected', processes: [{ pid: 20, name: 'logonui.exe' }] }),
          session({ id: 4, user: 'carol', processes: [{ pid: 30, name: 'h.exe' }] }),
        ],
      },
    ],
    ...extra,
  };
}

describe('farm owners and accounts', () => {
  test('defaults: the session\'s user; SYSTEM in session 0 and in a session without a user; bare names in the session\'s domain', () => {
    const f = parseFarm(farm());
    const accounts = new FarmAccounts(f);
    const sessions = f.servers[0]?.sessions ?? [];
    const owner = (sessionId: number, pid: number) => {
      const s = sessions.find((x) => x.id === sessionId) as FarmSession;
      const sid = accounts.ownerSid(s, s.processes?.find((p) => p.pid === pid));
      return sid === null ? null : (accounts.accountOf(sid) ?? sid);
    };
    expect(owner(0, 4)).toEqual({ name: 'SYSTEM', domain: 'NT AUTHORITY', use: 5 });
    expect(owner(0, 800)).toEqual({ name: 'LOCAL SERVICE', domain: 'NT AUTHORITY', use: 5 });
    expect(owner(2, 10)).toEqual({ name: 'alice', domain: 'CORP', use: 1 });
    // Names are compared without case: 'Alice' is alice (the first spelling seen is the account's).
    expect(owner(2, 11)).toEqual({ name: 'alice', domain: 'CORP', use: 1 });
    expect(owner(2, 12)).toEqual({ name: 'bob', domain: 'CORP', use: 1 });
    expect(owner(2, 13)).toEqual({ name: 'SYSTEM', domain: 'NT AUTHORITY', use: 5 });
    expect(owner(2, 14)).toBe('S-1-5-21-7-7-7-7'); // a SID no account has
    expect(owner(2, 15)).toBeNull();
    expect(owner(2, 16)).toEqual({ name: 'svc', domain: 'CORP', use: 1 });
    expect(owner(3, 20)).toEqual({ name: 'SYSTEM', domain: 'NT AUTHORITY', use: 5 });
    expect(owner(4, 30)).toEqual({ name: 'carol', domain: '', use: 1 });
  });

  test('made-up SIDs are stable (the same on every run and every farm), valid, distinct per account, shared by a domain', () => {
    const a = new FarmAccounts(parseFarm(farm()));
    const b = new FarmAccounts(parseFarm({ localServer: 'X', servers: [{ name: 'X', sessions: [session({ id: 1, user: 'alice', domain: 'corp' })] }] }));
    expect(a.sidOf('CORP', 'alice')).toBe(b.sidOf('CORP', 'ALICE'));
    const sids = ['alice', 'bob', 'svc'].map((n) => a.sidOf('CORP', n));
    expect(new Set(sids).size).toBe(3);
    expect(sids.every((sid) => isSidString(sid) && sid.startsWith('S-1-5-21-'))).toBe(true);
    const domainOf = (sid: string) => sid.split('-').slice(0, 7).join('-');
    expect(new Set(sids.map(domainOf)).size).toBe(1);
    expect(domainOf(a.sidOf('LAB', 'alice'))).not.toBe(domainOf(sids[0] as string));
  });

  test('the farm\'s accounts: their SIDs win over made-up ones, and a SID owner resolves through them', async () => {
    const f = farm({ accounts: { 'S-1-5-21-1-2-3-1104': 'CORP\\alice', 'S-1-5-21-7-7-7-7': 'LAB\\robot' } });
    const mock = createMockApi(f);
    const list = await mock.enumerateProcessesEx(WTS_CURRENT_SERVER_HANDLE, WTS_ANY_SESSION);
    expect(list.find((p) => p.processId === 10)?.userSid).toBe('S-1-5-21-1-2-3-1104');
    expect(await mock.lookupAccountSid('', 'S-1-5-21-7-7-7-7')).toEqual({ name: 'robot', domain: 'LAB', use: 1 });
    expect(mock.toFarm().accounts).toEqual(f.accounts);
  });

  test('the farm check names the owner or account that is wrong', () => {
    const bad: Array<[(f: Farm) => void, RegExp]> = [
      [(f) => ((f.servers[0]!.sessions![1]!.processes![0] as { user: unknown }).user = 'S-1-5-x'), /processes\[0\]\.user: 'S-1-5-x' is not a SID/],
      [(f) => ((f.servers[0]!.sessions![1]!.processes![0] as { user: unknown }).user = 'A\\B\\C'), /processes\[0\]\.user: expected 'DOMAIN\\name'/],
      [(f) => ((f.servers[0]!.sessions![1]!.processes![0] as { user: unknown }).user = 'CORP\\'), /processes\[0\]\.user/],
      [(f) => ((f.servers[0]!.sessions![1]!.processes![0] as { threads: unknown }).threads = 1.5), /processes\[0\]\.threads: expected a whole number/],
      [(f) => (f.accounts = { 'S-1-5-21-1-2-3-4': 'CORP\\x', 'S-1-5-21-1-2-3-5': 'corp\\X' }), /accounts\.S-1-5-21-1-2-3-5: 'corp\\X' already has the SID S-1-5-21-1-2-3-4/],
      [(f) => (f.accounts = { 'S-1-5-21-1-2-3-4': '' }), /accounts\.S-1-5-21-1-2-3-4: expected a non-empty string/],
      [(f) => (f.accounts = [] as never), /farm\.accounts: expected an object/],
    ];
    for (const [change, message] of bad) {
      const f = farm();
      change(f);
      let error: unknown;
      try {
        parseFarm(f);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(message);
    }
  });
});
