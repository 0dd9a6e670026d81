/**
 * Session details: who is connected from where, since when, idle for how long. Each field group
 * costs exactly one WTSQuerySessionInformationW call per session, and only when asked for.
 */
import { InvalidArgumentError } from '../errors';
import { readArray } from './validate';
import type { WtsInfo, WtsInfoClass } from '../wtsapi';
import type { ServerContext } from './context';
import type { Session } from './types';

/**
 * The field groups, each one query: WTSSessionInfo, WTSClientName, WTSClientAddress, and for
 * `remote` WTSClientProtocolType (0 console, 1 ICA, 2 RDP). Not WTSIsRemoteSession: Learn allows
 * it only on WTS_CURRENT_SERVER_HANDLE and describes it for the current session, so it cannot say
 * whether another session, or one on another server, is remote (docs/windows-facts.md).
 */
export type DetailGroup = 'times' | 'clientName' | 'clientAddress' | 'remote';
export const DETAIL_GROUPS: readonly DetailGroup[] = ['times', 'clientName', 'clientAddress', 'remote'];

const GROUP_CLASS: Readonly<Record<DetailGroup, WtsInfoClass>> = {
  times: 'WTSSessionInfo',
  clientName: 'WTSClientName',
  clientAddress: 'WTSClientAddress',
  remote: 'WTSClientProtocolType',
};

/** What a group adds; fields of groups not asked for are absent. */
export interface SessionDetails {
  /** clientName: the client computer's name ('' for the console). */
  readonly clientName?: string;
  /** clientAddress: the client's IP address as the client reported it ('' when none). */
  readonly clientAddress?: string;
  /** times: from WTSINFOW. null = never. */
  readonly logonTime?: Date | null;
  readonly connectTime?: Date | null;
  readonly disconnectTime?: Date | null;
  readonly lastInputTime?: Date | null;
  /** times: the server's clock minus the last input; null when there was none. */
  readonly idleMs?: number | null;
  /** times: for a Disconnected session, how long since it was disconnected; else null. */
  readonly disconnectedMs?: number | null;
  /** remote: a remote session — WTSClientProtocolType is not 0 (the console). */
  readonly isRemote?: boolean;
  /**
   * true when the session ended between the enumeration and its detail queries (7022): it is
   * listed as the enumeration saw it, without the details asked for.
   */
  readonly gone?: boolean;
}

/** The details of a session that ended before they could be read. */
export const GONE: SessionDetails = Object.freeze({ gone: true });

export interface DetailedSession extends Session {
  readonly details: SessionDetails;
}

/** `details: true` = every group; an array = those groups. */
export type DetailsOption = boolean | readonly DetailGroup[];

export function checkDetails(value: unknown, argument = 'options.details'): ReadonlySet<DetailGroup> {
  if (value === undefined || value === false) return new Set();
  if (value === true) return new Set(DETAIL_GROUPS);
  const list = readArray(value, argument);
  if (!list || list.some((g) => !(DETAIL_GROUPS as readonly unknown[]).includes(g))) {
    throw new InvalidArgumentError(argument, `Invalid ${argument}: true, or a list of ${DETAIL_GROUPS.join(', ')}.`);
  }
  return new Set(list as DetailGroup[]);
}

/** Queries the asked groups for one session (in parallel; one query per group). */
export async function fetchDetails(ctx: ServerContext, session: Session, groups: ReadonlySet<DetailGroup>): Promise<SessionDetails> {
  const details: Record<string, unknown> = {};
  await Promise.all(
    [...groups].map(async (group) => {
      const value = await ctx.api.querySessionInformation(ctx.handle, session.id, GROUP_CLASS[group]);
      switch (group) {
        case 'clientName':
          details['clientName'] = value as string;
          break;
        case 'clientAddress':
          details['clientAddress'] = (value as { address: string }).address;
          break;
        case 'remote':
          details['isRemote'] = (value as number) !== 0; // 0: the console; 1 (ICA), 2 (RDP): remote
          break;
        case 'times': {
          const info = value as WtsInfo;
          const now = info.currentTime?.getTime() ?? Date.now();
          details['logonTime'] = info.logonTime;
          details['connectTime'] = info.connectTime;
          details['disconnectTime'] = info.disconnectTime;
          details['lastInputTime'] = info.lastInputTime;
          details['idleMs'] = info.lastInputTime ? Math.max(0, now - info.lastInputTime.getTime()) : null;
          details['disconnectedMs'] =
            session.state === 'Disconnected' && info.disconnectTime ? Math.max(0, now - info.disconnectTime.getTime()) : null;
          break;
        }
      }
    }),
  );
  return Object.freeze(details) as SessionDetails;
}

export function withDetails(session: Session, details: SessionDetails): DetailedSession {
  return Object.freeze({ ...session, details });
}
