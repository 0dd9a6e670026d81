/**
 * The test's own account of the farm: every session as it was at every moment, from the farm the
 * run started with and every change the test made (plus the disconnects the library made), on one
 * clock shared with the recording wrapper. The invariants ask it "who was in session X of server S
 * when the library called?" — without asking the backend, so the answer does not depend on the code
 * under test.
 */
import { isAlwaysLocalName, serverNameKey } from '../../src/api/validate';
import type { Farm, FarmSession } from '../../src/mock';

/** Who a session is: user, domain and logon time (WTSINFOW's LogonTime, ms; null = none). */
export interface Identity {
  readonly user: string;
  readonly domain: string;
  readonly logonTime: number | null;
}

/** Account names compare without case, as Windows compares them. */
export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export function sameIdentity(a: Identity, b: Identity): boolean {
  return sameName(a.user, b.user) && sameName(a.domain, b.domain) && a.logonTime === b.logonTime;
}

export function identityOfSession(s: FarmSession): Identity {
  return { user: s.user ?? '', domain: s.domain ?? '', logonTime: s.logonTime ? Date.parse(s.logonTime) : null };
}

/** A time as a dry run's outcome may carry it: a Date, or an ISO string after a JSON round trip. */
export function timeOf(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') return Date.parse(value);
  return Number.NaN;
}

export function describeIdentity(id: Identity | undefined): string {
  if (!id) return 'nobody (no such session)';
  const who = id.user === '' ? 'no user' : `${id.domain === '' ? '' : `${id.domain}\\`}${id.user}`;
  return `${JSON.stringify(who)} logon ${id.logonTime === null ? 'none' : new Date(id.logonTime).toISOString()}`;
}

interface ServerInfo {
  /** The name as the farm spells it. */
  readonly name: string;
  readonly isLocal: boolean;
  readonly consoleSessionId: number | undefined;
  readonly currentSessionId: number | undefined;
}

interface Version {
  readonly seq: number;
  readonly session: FarmSession;
}

/** Key of a server in the model: the farm name, lower-case. */
export type ServerKey = string;

export class FarmModel {
  readonly farm: Farm;
  readonly localKey: ServerKey;
  readonly servers = new Map<ServerKey, ServerInfo>();
  readonly #names = new Map<string, ServerKey>();
  /** server -> session ID -> versions, oldest first. */
  readonly #history = new Map<ServerKey, Map<number, Version[]>>();
  /** Sessions the test or the library asked to end (logoff accepted): never resurrected by a change. */
  readonly #ending = new Set<string>();
  #clock = 0;
  #nextId = 100;
  #nextLogon = Date.UTC(2026, 10, 22, 0, 0, 0);

  constructor(farm: Farm) {
    this.farm = structuredClone(farm);
    this.localKey = farm.localServer.toLowerCase();
    for (const s of farm.servers) {
      const key = s.name.toLowerCase();
      this.servers.set(key, {
        name: s.name,
        isLocal: key === this.localKey,
        consoleSessionId: s.consoleSessionId,
        currentSessionId: s.currentSessionId,
      });
      this.#names.set(serverNameKey(s.name), key);
      for (const alias of s.aliases ?? []) this.#names.set(serverNameKey(alias), key);
      this.#history.set(key, new Map());
      for (const session of s.sessions ?? []) this.#record(key, session, 0);
    }
  }

  /** The shared clock: every call, every answer and every change gets the next tick. */
  tick(): number {
    return ++this.#clock;
  }

  get now(): number {
    return this.#clock;
  }

  /** The farm server a name opens (as the backends resolve it), or undefined for an unknown name. */
  resolve(name: string): ServerKey | undefined {
    const key = this.#names.get(serverNameKey(name));
    if (key !== undefined) return key;
    return isAlwaysLocalName(name) ? this.localKey : undefined;
  }

  /** A server key for a session's `server` field ('' = the local server). */
  keyOfSessionServer(server: string): ServerKey {
    return server === '' ? this.localKey : (this.resolve(server) ?? `?${server.toLowerCase()}`);
  }

  info(key: ServerKey): ServerInfo | undefined {
    return this.servers.get(key);
  }

  #record(key: ServerKey, session: FarmSession, seq: number): void {
    const byId = this.#history.get(key) as Map<number, Version[]>;
    const versions = byId.get(session.id) ?? [];
    versions.push({ seq, session: structuredClone(session) });
    byId.set(session.id, versions);
    if (session.id >= this.#nextId) this.#nextId = session.id + 1;
    if (session.logonTime) this.#nextLogon = Math.max(this.#nextLogon, Date.parse(session.logonTime) + 60_000);
  }

  /** Records a change (the backend is changed by the caller at the same moment). */
  put(key: ServerKey, session: FarmSession): number {
    const seq = this.tick();
    this.#record(key, session, seq);
    this.#ending.delete(`${key}:${session.id}`);
    return seq;
  }

  markEnding(key: ServerKey, id: number): void {
    this.#ending.add(`${key}:${id}`);
  }

  isEnding(key: ServerKey, id: number): boolean {
    return this.#ending.has(`${key}:${id}`);
  }

  /** The session with this ID at time `seq` (the last version put at or before it). */
  sessionAt(key: ServerKey, id: number, seq: number): FarmSession | undefined {
    const versions = this.#history.get(key)?.get(id) ?? [];
    let found: FarmSession | undefined;
    for (const v of versions) if (v.seq <= seq) found = v.session;
    return found;
  }

  identityAt(key: ServerKey, id: number, seq: number): Identity | undefined {
    const s = this.sessionAt(key, id, seq);
    return s && identityOfSession(s);
  }

  /** Every identity the session had during [from, to]. */
  identitiesDuring(key: ServerKey, id: number, from: number, to: number): Identity[] {
    const result: Identity[] = [];
    const first = this.identityAt(key, id, from);
    if (first) result.push(first);
    for (const v of this.#history.get(key)?.get(id) ?? []) if (v.seq > from && v.seq <= to) result.push(identityOfSession(v.session));
    return result;
  }

  /** The sessions as the model holds them now (ended ones included: the model does not remove). */
  sessionsNow(key: ServerKey): FarmSession[] {
    const byId = this.#history.get(key) ?? new Map<number, Version[]>();
    return [...byId.values()].map((v) => (v[v.length - 1] as Version).session);
  }

  /** Whether session `id` is the console at time `seq`: the local console's ID, or named Console. */
  isConsoleAt(key: ServerKey, id: number, seq: number): boolean {
    const info = this.servers.get(key);
    if (info?.isLocal && info.consoleSessionId === id) return true;
    return sameName(this.sessionAt(key, id, seq)?.name ?? '', 'console');
  }

  isListenerAt(key: ServerKey, id: number, seq: number): boolean {
    return id >= 0x10000 || this.sessionAt(key, id, seq)?.state === 'Listen';
  }

  /** The caller's own session: on the local server only. */
  isOwn(key: ServerKey, id: number): boolean {
    const info = this.servers.get(key);
    return info?.isLocal === true && info.currentSessionId === id;
  }

  freshId(): number {
    return this.#nextId++;
  }

  freshLogonTime(): string {
    const t = this.#nextLogon;
    this.#nextLogon += 60_000;
    return new Date(t).toISOString();
  }
}
