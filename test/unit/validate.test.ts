import { compileWildcard, isLocalServerName, normalizeServerName, parseTarget } from '../../src/api/validate';
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
    expect(isLocalServerName('ts01', 'TS01')).toBe(true);
    expect(isLocalServerName('TS01.corp.example.com', 'TS01')).toBe(true);
    expect(isLocalServerName('127.0.0.1', 'TS01')).toBe(true);
    expect(isLocalServerName('WF12', 'TS01')).toBe(false);
    expect(isLocalServerName('ts011', 'TS01')).toBe(false);
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
});
