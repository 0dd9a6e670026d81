import { compileWildcard, isLocalServerName, normalizeServerName, parseTarget, serverNameKey } from '../../src/api/validate';
import { parseState, shortStateLabel, SESSION_STATES, stateFromWin32 } from '../../src/api/types';
import { InvalidArgumentError } from '../../src/index';

describe('parseTarget', () => {
  test.each([
    [undefined, { kind: 'current' }],
    [0, { kind: 'id', id: 0 }],
    [12, { kind: 'id', id: 12 }],
    ['12', { kind: 'id', id: 12 }],
    [' 012 ', { kind: 'id', id: 12 }],
    [4294967293, { kind: 'id', id: 4294967293 }],
    ['TERM04', { kind: 'name', name: 'TERM04' }],
    ['RDP-Tcp#3', { kind: 'name', name: 'RDP-Tcp#3' }],
    ['31C5CE94259D4006A9E4#0', { kind: 'name', name: '31C5CE94259D4006A9E4#0' }],
    ['Jürgens-PC', { kind: 'name', name: 'Jürgens-PC' }],
  ])('%p', (input, expected) => {
    expect(parseTarget(input as never)).toEqual(expected);
  });

  test.each([-1, '-1', '+3', 4294967294, 4294967295, 4294967296, '4294967296', '99999999999999999999', 1.5, '12abc', '', ' ', 'a b', 'x'.repeat(33), null, true])(
    'rejects %p',
    (input) => {
      expect(() => parseTarget(input as never)).toThrow(InvalidArgumentError);
    },
  );
});

describe('server names', () => {
  test.each([
    ['WF12', 'WF12'],
    ['\\\\WF12', 'WF12'],
    ['ts-01.corp.example.com', 'ts-01.corp.example.com'],
    ['10.0.0.5', '10.0.0.5'],
    ['::1', '::1'],
  ])('%s -> %s', (input, out) => expect(normalizeServerName(input)).toBe(out));

  test.each(['', '\\\\', 'WF 12', 'WF/12', 'a\\b', 'a..b', '-lead', 'x'.repeat(64), 'a:b', 'w*'])('rejects %p', (input) => {
    expect(() => normalizeServerName(input)).toThrow(InvalidArgumentError);
  });

  test('local aliases', () => {
    expect(isLocalServerName('localhost', 'TS01')).toBe(true);
    expect(isLocalServerName('LOCALHOST', 'TS01')).toBe(true);
    expect(isLocalServerName('.', 'TS01')).toBe(true);
    expect(isLocalServerName('ts01', 'TS01')).toBe(true);
    expect(isLocalServerName('127.0.0.1', 'TS01')).toBe(true);
    expect(isLocalServerName('WF12', 'TS01')).toBe(false);
    expect(isLocalServerName('ts011', 'TS01')).toBe(false);
  });

  test('a DNS name is local only when the machine answers to it, not by its first label', () => {
    // Another domain can hold a host named TS01: only the names the backend reports are local.
    expect(isLocalServerName('TS01.corp.example.com', 'TS01')).toBe(false);
    expect(isLocalServerName('TS01.corp.example.com', 'TS01', ['ts01', 'ts01.corp.example.com'])).toBe(true);
    expect(isLocalServerName('ts01.other.example', 'TS01', ['ts01', 'ts01.corp.example.com'])).toBe(false);
  });

  test('the NetBIOS name is cut to 15 characters; the DNS names are whole', () => {
    const names = ['RDSH-PRODUCTION-01', 'rdsh-production-01.corp.example', '10.0.0.5', 'fe80::5:1'];
    for (const name of ['RDSH-PRODUCTIO', 'rdsh-productio', 'RDSH-PRODUCTION-01', 'Rdsh-Production-01.Corp.Example', '10.0.0.5', 'FE80:0::5:1', 'fe80::5:1%12', '::ffff:10.0.0.5', '::FFFF:a00:5']) {
      expect([name, isLocalServerName(name, 'RDSH-PRODUCTIO', names)]).toEqual([name, true]);
    }
    for (const name of ['RDSH-PRODUCTION', 'RDSH-PRODUCTION-02', 'rdsh-production-01.corp', '10.0.0.50', '10.0.0.6', '::ffff:10.0.0.6', 'fe80::5:2']) {
      expect([name, isLocalServerName(name, 'RDSH-PRODUCTIO', names)]).toEqual([name, false]);
    }
  });

  test.each([
    '127.0.0.1', '127.0.0.2', '127.255.255.254', '127.1', '127.0.1', '0x7f.1', '0177.0.0.1', '2130706433',
    '::1', '0:0:0:0:0:0:0:1', '::0:1', '::ffff:127.0.0.1', '::FFFF:127.9.8.7', '::ffff:7f00:2', '0:0:0:0:0:ffff:127.0.0.1',
  ])('every loopback address is local: %s', (name) => {
    expect(isLocalServerName(name, 'TS01')).toBe(true);
  });

  test.each(['128.0.0.1', '126.255.255.255', '::2', '::ffff:128.0.0.1', '::127.0.0.1', '10.0.0.1', '0x80.1', '1.2.3.4.5', 'localhost2', '0'])(
    'not loopback: %s',
    (name) => {
      expect(isLocalServerName(name, 'TS01')).toBe(false);
    },
  );

  test('names the backend reports are compared in canonical form; junk in the list is ignored', () => {
    expect(isLocalServerName('10.0.0.5', 'TS01', ['\\\\10.0.0.5'])).toBe(true);
    expect(isLocalServerName('ts01.corp.example.com', 'TS01', ['TS01.CORP.EXAMPLE.COM.'])).toBe(true);
    expect(isLocalServerName('10.0.0.5', 'TS01', [null, 5, '', ' ', undefined])).toBe(false);
    expect(isLocalServerName('10.5', 'TS01', ['10.0.0.5'])).toBe(true); // inet_addr's a.b form
  });

  test('serverNameKey: one key per server name, whatever its spelling', () => {
    expect(serverNameKey('WF12')).toBe(serverNameKey('wf12'));
    expect(serverNameKey('\\\\WF12')).toBe('wf12');
    expect(serverNameKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(serverNameKey('2001:DB8:0:0::1')).toBe('2001:db8::1');
    expect(serverNameKey('wf12.corp.example.com')).not.toBe(serverNameKey('wf12'));
  });
});

describe('states', () => {
  test('numeric values follow WTS_CONNECTSTATE_CLASS', () => {
    expect(SESSION_STATES.map((s, i) => [i, s])).toEqual([
      [0, 'Active'], [1, 'Connected'], [2, 'ConnectQuery'], [3, 'Shadow'], [4, 'Disconnected'],
      [5, 'Idle'], [6, 'Listen'], [7, 'Reset'], [8, 'Down'], [9, 'Init'],
    ]);
    expect(stateFromWin32(42)).toBe('Down');
  });
  test('short labels are query session\'s', () => {
    expect(SESSION_STATES.map(shortStateLabel)).toEqual(['Active', 'Conn', 'ConnQ', 'Shadow', 'Disc', 'Idle', 'Listen', 'Reset', 'Down', 'Init']);
  });
  test('parseState accepts names, labels, WTS names', () => {
    expect(parseState('disc')).toBe('Disconnected');
    expect(parseState('WTSConnectQuery')).toBe('ConnectQuery');
    expect(parseState('ACTIVE')).toBe('Active');
    expect(() => parseState('asleep')).toThrow(InvalidArgumentError);
  });
});

describe('wildcards', () => {
  test('* and ? without case; regex characters are literal', () => {
    const m = compileWildcard('temp?.*', 'user');
    expect(m('TEMP1.x')).toBe(true);
    expect(m('temp12x')).toBe(false);
    expect(compileWildcard('a+b', 'user')('a+b')).toBe(true);
    expect(compileWildcard('a+b', 'user')('aab')).toBe(false);
  });

  test('* and ? match any character, a line break included (a user name may hold one)', () => {
    expect(compileWildcard('*', 'user')('bad\nname')).toBe(true);
    expect(compileWildcard('bad?name', 'user')('bad\nname')).toBe(true);
    expect(compileWildcard('bad*', 'user')('bad\r\n\u2028x')).toBe(true);
  });
});
