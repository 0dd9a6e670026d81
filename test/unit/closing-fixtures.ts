/**
 * A session already logging off (another admin's logoff): Windows answers a query on a closing
 * session with 7007 (docs/windows-facts.md, logoff-closing), which the mock, counting the closing
 * phase in polls, does not do by itself.
 */
import { Win32Error, type WtsApi } from '../../src/index';
import { createMockApi, type MockApi } from '../../src/mock';
import { exampleFarm, overriding } from '../helpers';

type Query = Parameters<WtsApi['querySessionInformation']>;

/**
 * WF12's session `id` (3: grace) is being logged off by someone else: its queries answer 7007
 * while it closes (`closingPolls` polls). The other admin's logoff is in `mock.calls`.
 */
export async function closingOnWf12(closingPolls: number, id = 3): Promise<{ mock: MockApi; api: WtsApi }> {
  const mock = createMockApi(exampleFarm(), { closingPolls });
  const other = await mock.openServer('WF12');
  await mock.logoffSession(other, id);
  await mock.closeServer(other);
  const api = overriding(mock, {
    // The mock's own query first (it counts the closing phase in polls), then 7007 while closing.
    querySessionInformation: (async (...args: Query) => {
      const answer = await (mock.querySessionInformation as (...a: Query) => Promise<unknown>)(...args);
      if (args[1] === id && mock.getSession('WF12', id)?.closing !== undefined) {
        throw new Win32Error({ win32Code: 7007, api: 'WTSQuerySessionInformationW', sessionId: id });
      }
      return answer;
    }) as WtsApi['querySessionInformation'],
  });
  return { mock, api };
}
