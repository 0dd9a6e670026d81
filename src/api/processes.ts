/**
 * `query process` on one server: WTSEnumerateProcessesExW level 1 where the server has it (level 0,
 * WTSEnumerateProcessesW, where it does not), one session enumeration for the sessions' names and
 * users, and each owner's SID resolved to its account with LookupAccountSidW on that server —
 * once per SID per call.
 */
import { OperationAbortedError } from '../errors';
import { LEVEL_ONE_UNSUPPORTED, WTS_ANY_SESSION, type WtsAccount, type WtsProcessInfo, type WtsProcessInfoEx } from '../wtsapi';
import { asWin32 } from './bulk';
import type { ServerContext } from './context';
import { mapLimit } from './limit';
import { enumerate } from './sessions';
import type { Session } from './types';

/** A process and the session it runs in (`query process`; WTS_PROCESS_INFO_EXW or WTS_PROCESS_INFOW). Frozen. */
export interface SessionProcess {
  /** `''` for the local server, else the server's name as given. */
  readonly server: string;
  /** The session the process runs in. */
  readonly sessionId: number;
  /** That session's WinStation name (`''` when it was not listed). */
  readonly sessionName: string;
  /** That session's user (`''` for none) — not necessarily the process's owner: see `owner`. */
  readonly userName: string;
  /** The process ID (PID 0 is the System Idle Process). */
  readonly processId: number;
  /** The executable's name. */
  readonly processName: string;
  /**
   * The process's owner (the user of its access token): `'DOMAIN\\name'` as LookupAccountSidW
   * resolved it on the server (`'NT AUTHORITY\\SYSTEM'`; the name alone when its domain is `''`),
   * the SID itself when it resolved to no account (or the lookup failed), null when Windows gave no
   * SID (a process the caller may not open). `owner === ownerSid` tells an unresolved owner.
   */
  readonly owner: string | null;
  /** The owner's SID in text form (`'S-1-5-18'`); null when Windows gave none. */
  readonly ownerSid: string | null;
  /** NumberOfThreads. This and the fields below are there only when the server answered WTSEnumerateProcessesExW level 1. */
  readonly threads?: number;
  /** HandleCount. */
  readonly handleCount?: number;
  /** WorkingSetSize, in bytes (a DWORD: Windows caps it at 4 GiB - 1). */
  readonly workingSetSize?: number;
  /** PeakWorkingSetSize, in bytes. */
  readonly peakWorkingSetSize?: number;
  /** PagefileUsage, in bytes. */
  readonly pagefileUsage?: number;
  /** PeakPagefileUsage, in bytes. */
  readonly peakPagefileUsage?: number;
  /** UserTime: CPU time in user mode, in milliseconds (Learn's unit for WTS_PROCESS_INFO_EXW). */
  readonly userTime?: number;
  /** KernelTime: CPU time in kernel mode, in milliseconds. */
  readonly kernelTime?: number;
}

/** How many owners are looked up at once on one server. */
const LOOKUP_CONCURRENCY = 8;

/**
 * The server's processes (or one session's: `sessionId`): level 1 when the backend and the server have it; level 0 when the
 * backend lacks the call or it fails with a code of `LEVEL_ONE_UNSUPPORTED` (120, 50, 1745, 1717). Any other
 * failure (1722: the server is down, 5: denied) is the server's, and rejects.
 */
export async function processesOf(ctx: ServerContext, sessionId: number = WTS_ANY_SESSION, signal?: AbortSignal): Promise<readonly (WtsProcessInfo | WtsProcessInfoEx)[]> {
  const { api } = ctx;
  if (typeof api.enumerateProcessesEx === 'function') {
    try {
      return await api.enumerateProcessesEx(ctx.handle, sessionId);
    } catch (error) {
      const code = asWin32(error)?.win32Code;
      if (code === undefined || !LEVEL_ONE_UNSUPPORTED.has(code)) throw error;
    }
    // Aborted meanwhile: the level-0 listing is not asked.
    if (signal?.aborted) throw new OperationAbortedError('Listing the processes', signal.reason, { server: ctx.server });
  }
  const all = await api.enumerateProcesses(ctx.handle);
  return sessionId === WTS_ANY_SESSION ? all : all.filter((p) => p.sessionId === sessionId);
}

/** `DOMAIN\name`, or the name alone without a domain. */
export function accountText(account: WtsAccount): string {
  return account.domain ? `${account.domain}\\${account.name}` : account.name;
}

/**
 * Each SID's account on the server, looked up once (at most 8 at a time): its text, or the SID
 * when it maps to none, when the lookup fails (whatever the reason: the listing stands), or when the
 * backend cannot look accounts up.
 */
export async function ownersOf(ctx: ServerContext, sids: Iterable<string>): Promise<Map<string, string>> {
  const unique = [...new Set(sids)];
  const owners = new Map<string, string>();
  const { api } = ctx;
  if (typeof api.lookupAccountSid !== 'function') {
    for (const sid of unique) owners.set(sid, sid);
    return owners;
  }
  const lookup = api.lookupAccountSid.bind(api);
  const found = await mapLimit(unique, LOOKUP_CONCURRENCY, async (sid) => {
    try {
      const account = await lookup(ctx.server, sid);
      return account ? accountText(account) : sid;
    } catch {
      return sid;
    }
  });
  unique.forEach((sid, i) => owners.set(sid, found[i] as string));
  return owners;
}

/** `query process` on one server: every process, with its session, owner and (level 1) counters. */
export async function listProcessesOn(ctx: ServerContext): Promise<SessionProcess[]> {
  let processes: Awaited<ReturnType<typeof processesOf>>;
  let sessions: Session[];
  if (ctx.ready) {
    // Over many servers a listing makes one request at a time, so that listings stuck on servers
    // that do not answer hold at most listConcurrency threads.
    processes = await processesOf(ctx);
    sessions = await enumerate(ctx);
  } else {
    // Both calls settle before either failure is reported: none is left running (its buffer still
    // to free) when the listing has already failed.
    const [listed, enumerated] = await Promise.allSettled([processesOf(ctx), enumerate(ctx)]);
    if (listed.status === 'rejected') throw listed.reason;
    if (enumerated.status === 'rejected') throw enumerated.reason;
    processes = listed.value;
    sessions = enumerated.value;
  }
  const byId = new Map(sessions.map((s) => [s.id, s] as const));
  const sidOf = (p: WtsProcessInfo): string | null => p.userSid ?? null;
  const sids = processes.map(sidOf).filter((sid): sid is string => sid !== null);
  // The account look-ups (up to 8 at a time) are the server's work: over many servers they wait
  // for its turn (serverConcurrency). They act on nothing, so the list is not made again.
  if (sids.length > 0 && ctx.ready) await ctx.ready();
  const owners = await ownersOf(ctx, sids);
  return processes.map((p) => {
    const sid = sidOf(p);
    const session = byId.get(p.sessionId);
    const row: SessionProcess = {
      server: ctx.server,
      sessionId: p.sessionId,
      sessionName: session?.name ?? '',
      userName: session?.userName ?? '',
      processId: p.processId,
      processName: p.processName,
      owner: sid === null ? null : (owners.get(sid) ?? sid),
      ownerSid: sid,
      ...('numberOfThreads' in p
        ? {
            threads: p.numberOfThreads,
            handleCount: p.handleCount,
            workingSetSize: p.workingSetSize,
            peakWorkingSetSize: p.peakWorkingSetSize,
            pagefileUsage: p.pagefileUsage,
            peakPagefileUsage: p.peakPagefileUsage,
            userTime: Number(p.userTime),
            kernelTime: Number(p.kernelTime),
          }
        : {}),
    };
    return Object.freeze(row);
  });
}
