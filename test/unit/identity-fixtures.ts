/**
 * Shared by the identity attack tests (identity-attack*.test.ts): a farm with a remote server WF12,
 * a mock wrapped so that the farm can change right after any query, and small helpers.
 */
import { Win32Error, type WtsApi } from '../../src/index';
import type { Farm, FarmSession, MockApi } from '../../src/mock';
import { overriding } from '../helpers';

export const H = 3_600_000;
export const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

export type Query = Parameters<WtsApi['querySessionInformation']>;

/** A remote server WF12 (no console ID, no own session) plus the local TS01. */
export function farm(sessions: FarmSession[], extra: Partial<Farm['servers'][number]> = {}): Farm {
  return {
    localServer: 'TS01',
    servers: [
      { name: 'TS01', consoleSessionId: 1, sessions: [{ id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' }] },
      { name: 'WF12', sessions: [{ id: 0, name: 'Services', state: 'Disconnected' }, ...sessions], ...extra },
    ],
  };
}

/** A request as it reached the mock, with the session as it was at that moment. */
export interface SeenRequest {
  readonly api: string;
  readonly id: number;
  readonly s: FarmSession | undefined;
  readonly user: string | undefined;
  readonly domain: string | undefined;
  readonly logonTime: string | undefined;
  readonly name: string | undefined;
}

/**
 * The mock with: an optional server without WTSSessionInfo (50), a hook after each query of a
 * session (before the library sees the answer), disconnects that can be made to do nothing, and a
 * log of every request with the session as it was at that moment.
 */
export function hooked(
  mock: MockApi,
  afterQuery: (id: number, infoClass: string, n: number) => void,
  o: { noSessionInfo?: boolean; inertDisconnect?: boolean; server?: string } = {},
): { api: WtsApi; requests: SeenRequest[] } {
  const server = o.server ?? 'WF12';
  const requests: SeenRequest[] = [];
  let n = 0;
  const record = (api: string, id: number) => {
    const s = mock.getSession(server, id);
    requests.push({ api, id, s, user: s?.user, domain: s?.domain, logonTime: s?.logonTime, name: s?.name });
  };
  const api = overriding(mock, {
    querySessionInformation: (async (...args: Query) => {
      if (o.noSessionInfo && args[2] === 'WTSSessionInfo') {
        await (mock.querySessionInformation as (...a: Query) => Promise<unknown>)(args[0], args[1], 'WTSSessionId');
        throw new Win32Error({ win32Code: 50, api: 'WTSQuerySessionInformationW' });
      }
      const answer = await (mock.querySessionInformation as (...a: Query) => Promise<unknown>)(...args);
      afterQuery(args[1], args[2], n++);
      return answer;
    }) as WtsApi['querySessionInformation'],
    logoffSession: async (h, id) => (record('logoff', id), mock.logoffSession(h, id)),
    disconnectSession: async (h, id) => (record('disconnect', id), o.inertDisconnect ? undefined : mock.disconnectSession(h, id)),
    sendMessage: async (h, id, m, opt) => (record('message', id), mock.sendMessage(h, id, m, opt)),
  });
  return { api, requests };
}

export const outcomeOf = <O extends { session: { id: number } }>(out: readonly O[], id: number) => out.find((x) => x.session.id === id)!;
