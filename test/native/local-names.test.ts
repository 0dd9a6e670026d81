/**
 * The local machine's other names through the koffi backend: GetComputerNameExW as Learn documents
 * it (nf-sysinfoapi-getcomputernameexw; the short-buffer cases as ReactOS's conformance test
 * checks them on Windows, modules/rostests/apitests/kernel32/GetComputerNameEx.c), and
 * getLocalServerNames giving the DNS host name, the FQDN and the machine's addresses.
 */
import { networkInterfaces } from 'node:os';
import { createWts } from '../../src/index';
import type { Farm } from '../../src/mock';
import { describeWithDouble } from './setup';

/** COMPUTER_NAME_FORMAT (sysinfoapi.h; Learn ne-sysinfoapi-computer_name_format). */
const ComputerNameNetBIOS = 0;
const ComputerNameDnsHostname = 1;
const ComputerNameDnsDomain = 2;
const ComputerNameDnsFullyQualified = 3;
const ComputerNamePhysicalDnsFullyQualified = 7;
const ERROR_INVALID_PARAMETER = 87;
const ERROR_BUFFER_OVERFLOW = 111;
const ERROR_MORE_DATA = 234;

const LONG_DOMAIN = 'terminal-services.europe-west.production-environment.corp.example';

function farm(): Farm {
  return {
    localServer: 'RDSH-PRODUCTIO',
    servers: [
      {
        name: 'RDSH-PRODUCTIO',
        consoleSessionId: 5,
        currentSessionId: 3,
        sessions: [
          { id: 0, name: 'Services', state: 'Disconnected' },
          { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'alice', domain: 'CORP' },
          { id: 3, name: 'RDP-Tcp#1', state: 'Active', user: 'me', domain: 'CORP' },
          { id: 4, name: '', state: 'Disconnected', user: 'bob', domain: 'CORP' },
          { id: 5, name: 'RDP-Tcp#2', state: 'Active', user: 'kiosk', domain: 'CORP' },
        ],
      },
      { name: 'WF12', sessions: [{ id: 3, name: 'RDP-Tcp#0', state: 'Active', user: 'frank', domain: 'CORP' }] },
    ],
  };
}

describeWithDouble('the local server under every name (koffi backend on the native double)', (get) => {
  test('GetComputerNameExW reports a short buffer as Learn documents: FALSE, ERROR_MORE_DATA, the size needed', () => {
    const { double } = get();
    double.loadFarm(farm());
    double.setDnsNames('rdsh-production-01', 'corp.example');
    const fqdn = 'rdsh-production-01.corp.example';

    expect(double.computerNameEx(ComputerNameDnsFullyQualified, 64)).toMatchObject({ ok: true, size: fqdn.length, text: fqdn });
    // Exactly the length plus the NUL is enough.
    expect(double.computerNameEx(ComputerNameDnsFullyQualified, fqdn.length + 1)).toMatchObject({ ok: true, size: fqdn.length, text: fqdn });
    // One short: FALSE, ERROR_MORE_DATA, *nSize = the size needed including the NUL.
    expect(double.computerNameEx(ComputerNameDnsFullyQualified, fqdn.length)).toMatchObject({ ok: false, error: ERROR_MORE_DATA, size: fqdn.length + 1, firstUnit: 0 });
    // Size 0 (with or without a buffer): the size needed, the buffer untouched.
    expect(double.computerNameEx(ComputerNameDnsFullyQualified, 8, 0)).toMatchObject({ ok: false, error: ERROR_MORE_DATA, size: fqdn.length + 1, firstUnit: 0x5555 });
    expect(double.computerNameEx(ComputerNameDnsFullyQualified, null, 0)).toMatchObject({ ok: false, error: ERROR_MORE_DATA, size: fqdn.length + 1 });
    // A NULL buffer with a non-zero size, or a NULL nSize: ERROR_INVALID_PARAMETER, size untouched.
    expect(double.computerNameEx(ComputerNameDnsFullyQualified, null, 40)).toMatchObject({ ok: false, error: ERROR_INVALID_PARAMETER, size: 40 });
    expect(double.computerNameEx(ComputerNameDnsFullyQualified, 64, null)).toMatchObject({ ok: false, error: ERROR_INVALID_PARAMETER });
    expect(double.computerNameEx(99, 64)).toMatchObject({ ok: false, error: ERROR_INVALID_PARAMETER });

    expect(double.computerNameEx(ComputerNameNetBIOS, 64)).toMatchObject({ ok: true, text: 'RDSH-PRODUCTIO' });
    expect(double.computerNameEx(ComputerNameDnsHostname, 64)).toMatchObject({ ok: true, text: 'rdsh-production-01' });
    expect(double.computerNameEx(ComputerNameDnsDomain, 64)).toMatchObject({ ok: true, text: 'corp.example' });
    expect(double.computerNameEx(ComputerNamePhysicalDnsFullyQualified, 64)).toMatchObject({ ok: true, text: fqdn });

    // No DNS domain (a workgroup machine): the FQDN is the host name; an empty domain is TRUE, size 0.
    double.setDnsNames('rdsh-production-01', '');
    expect(double.computerNameEx(ComputerNameDnsFullyQualified, 64)).toMatchObject({ ok: true, text: 'rdsh-production-01' });
    expect(double.computerNameEx(ComputerNameDnsDomain, 4)).toMatchObject({ ok: true, size: 0, text: '' });
  });

  test('GetComputerNameW reports a short buffer with ERROR_BUFFER_OVERFLOW (Learn nf-winbase-getcomputernamew)', () => {
    const { double } = get();
    double.loadFarm(farm());
    expect(double.computerName(16)).toMatchObject({ ok: true, size: 14, text: 'RDSH-PRODUCTIO' });
    expect(double.computerName(14)).toMatchObject({ ok: false, error: ERROR_BUFFER_OVERFLOW, size: 15 });
  });

  test('getLocalServerNames: the DNS host name, the FQDN (however long) and every address of the machine', () => {
    const { double, api } = get();
    double.loadFarm(farm());
    double.setDnsNames('rdsh-production-01', LONG_DOMAIN); // the FQDN needs more than the first 64-character buffer
    const names = api.getLocalServerNames();
    expect(api.getComputerName()).toBe('RDSH-PRODUCTIO');
    expect(names).toEqual(expect.arrayContaining(['rdsh-production-01', `rdsh-production-01.${LONG_DOMAIN}`, 'RDSH-PRODUCTIO']));
    const addresses = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address));
    expect(addresses.length).toBeGreaterThan(0);
    expect(names).toEqual(expect.arrayContaining(addresses));
    expect(new Set(names).size).toBe(names.length);

    // Without DNS names set, the DNS host name is the NetBIOS name.
    double.loadFarm(farm());
    expect(api.getLocalServerNames()).toEqual(expect.arrayContaining(['RDSH-PRODUCTIO']));
    expect(api.getLocalServerNames()).not.toContain('rdsh-production-01');
  });

  test('logoffAll under the DNS names, an address of the machine or loopback spares your session and the console', async () => {
    const { double, api } = get();
    const wts = createWts({ api });
    const address = Object.values(networkInterfaces()).flatMap((l) => l ?? []).find((a) => !a.internal)?.address ?? '127.0.0.1';
    for (const server of ['rdsh-production-01', `RDSH-PRODUCTION-01.${LONG_DOMAIN.toUpperCase()}`, address, '127.0.0.2', '::1']) {
      double.loadFarm(farm());
      double.setDnsNames('rdsh-production-01', LONG_DOMAIN);
      const before = { logoff: double.calls('logoff'), open: double.calls('open') };
      const outcomes = await wts.logoffAll({ server, pollIntervalMs: 1 });
      expect([server, Object.fromEntries(outcomes.map((o) => [o.session.id, o.status === 'skipped' ? o.reason : o.status]))]).toEqual([
        server,
        { 0: 'services', 2: 'loggedOff', 3: 'current', 4: 'loggedOff', 5: 'console' },
      ]);
      expect(double.calls('logoff') - before.logoff).toBe(2);
      expect(double.calls('open') - before.open).toBe(0); // WTS_CURRENT_SERVER_HANDLE, never opened by name
    }
  });

  test("servers: ['RDSH-PRODUCTIO', 'rdsh-production-01', the FQDN, 'localhost'] is one server: each session once", async () => {
    const { double, api } = get();
    double.loadFarm(farm());
    double.setDnsNames('rdsh-production-01', 'corp.example');
    const wts = createWts({ api });
    const result = await wts.logoffAll({
      servers: ['RDSH-PRODUCTIO', 'rdsh-production-01', 'rdsh-production-01.corp.example', 'localhost', 'WF12'],
      pollIntervalMs: 1,
    });
    expect([...result.byServer.keys()]).toEqual(['RDSH-PRODUCTIO', 'WF12']);
    expect(result.results.map((o) => `${o.session.server || 'local'}:${o.session.id}:${o.status}`)).toEqual([
      'local:0:skipped', 'local:2:loggedOff', 'local:3:skipped', 'local:4:loggedOff', 'local:5:skipped', 'WF12:3:loggedOff',
    ]);
    expect(double.calls('logoff')).toBe(3);
    expect(double.calls('open')).toBe(1); // WF12 alone
  });

  test('a farm alias opens its server; the caller with no currentSessionId is in no session', async () => {
    const { double, api } = get();
    const f = farm();
    f.servers[1]!.aliases = ['wf12.corp.example'];
    delete f.servers[0]!.currentSessionId;
    double.loadFarm(f);
    expect(api.getCurrentSessionId()).toBe(0xffffffff);
    const wts = createWts({ api });
    expect((await wts.listSessions()).filter((s) => s.isCurrent)).toEqual([]);
    const remote = await wts.listSessions({ server: 'WF12.corp.example' });
    expect(remote.map((s) => [s.id, s.userName, s.server])).toEqual([[3, 'frank', 'WF12.corp.example']]);
  });
});
