/**
 * The structs koffi decodes must have the C compiler's layout. The double reports sizeof and
 * offsetof for each struct as its build sees them: on Windows (mingw-w64, under Wine) from the
 * SDK's <wtsapi32.h>; on Linux from the double's own declarations.
 */
import koffi from 'koffi';
import { win32Types } from '../../src/backends/koffi/bindings';
import { describeWithDouble } from './setup';

const STRUCTS: Array<{
  index: number;
  name:
    | 'WTS_SESSION_INFO_1W'
    | 'WTS_SESSION_INFOW'
    | 'WTS_CLIENT_ADDRESS'
    | 'WTSINFOW'
    | 'WTS_PROCESS_INFOW'
    | 'WTSCLIENTW'
    | 'WTSINFOEXW'
    | 'WTSINFOEX_LEVEL1_W'
    | 'SERVER_INFO_101'
    | 'WTS_PROCESS_INFO_EXW';
  fields: string[];
}> = [
  { index: 0, name: 'WTS_SESSION_INFO_1W', fields: ['ExecEnvId', 'State', 'SessionId', 'pSessionName', 'pHostName', 'pUserName', 'pDomainName', 'pFarmName'] },
  { index: 1, name: 'WTS_SESSION_INFOW', fields: ['SessionId', 'pWinStationName', 'State'] },
  { index: 2, name: 'WTS_CLIENT_ADDRESS', fields: ['AddressFamily', 'Address'] },
  { index: 4, name: 'WTS_PROCESS_INFOW', fields: ['SessionId', 'ProcessId', 'pProcessName', 'pUserSid'] },
  {
    index: 9,
    name: 'WTS_PROCESS_INFO_EXW',
    fields: [
      'SessionId', 'ProcessId', 'pProcessName', 'pUserSid', 'NumberOfThreads', 'HandleCount', 'PagefileUsage', 'PeakPagefileUsage',
      'WorkingSetSize', 'PeakWorkingSetSize', 'UserTime', 'KernelTime',
    ],
  },
  {
    index: 5,
    name: 'WTSCLIENTW',
    fields: [
      'ClientName', 'Domain', 'UserName', 'WorkDirectory', 'InitialProgram', 'EncryptionLevel', 'ClientAddressFamily', 'ClientAddress',
      'HRes', 'VRes', 'ColorDepth', 'ClientDirectory', 'ClientBuildNumber', 'ClientHardwareId', 'ClientProductId', 'OutBufCountHost',
      'OutBufCountClient', 'OutBufLength', 'DeviceId',
    ],
  },
  {
    index: 3,
    name: 'WTSINFOW',
    fields: [
      'State', 'SessionId', 'IncomingBytes', 'OutgoingBytes', 'IncomingFrames', 'OutgoingFrames', 'IncomingCompressedBytes',
      'OutgoingCompressedBytes', 'WinStationName', 'Domain', 'UserName', 'ConnectTime', 'DisconnectTime', 'LastInputTime',
      'LogonTime', 'CurrentTime',
    ],
  },
  { index: 6, name: 'WTSINFOEXW', fields: ['Level', 'Data'] },
  {
    index: 7,
    name: 'WTSINFOEX_LEVEL1_W',
    fields: [
      'SessionId', 'SessionState', 'SessionFlags', 'WinStationName', 'UserName', 'DomainName', 'LogonTime', 'ConnectTime',
      'DisconnectTime', 'LastInputTime', 'CurrentTime', 'IncomingBytes', 'OutgoingBytes', 'IncomingFrames', 'OutgoingFrames',
      'IncomingCompressedBytes', 'OutgoingCompressedBytes',
    ],
  },
  {
    index: 8,
    name: 'SERVER_INFO_101',
    fields: ['sv101_platform_id', 'sv101_name', 'sv101_version_major', 'sv101_version_minor', 'sv101_type', 'sv101_comment'],
  },
];

/** The structs mingw-w64 10's headers lack: the double declares them itself, as Learn gives them. */
const OWN_DECLARATION: ReadonlySet<string> = new Set(['WTS_SESSION_INFO_1W', 'WTSINFOEXW', 'WTSINFOEX_LEVEL1_W', 'WTS_PROCESS_INFO_EXW']);

describeWithDouble(`struct layouts: koffi's declarations against the C compiler's (${process.platform})`, (get) => {
  test.each(STRUCTS)('$name: size and every field offset', ({ index, name, fields }) => {
    const { double } = get();
    const type = win32Types()[name];
    const ours = { size: koffi.sizeof(type), offsets: fields.map((f) => koffi.offsetof(type, f)) };
    const theirs = { size: double.layout(index, 0), offsets: fields.map((_, i) => double.layout(index, i + 1)) };
    expect(ours).toEqual(theirs);
    if (process.platform === 'win32') {
      const origin = OWN_DECLARATION.has(name)
        ? "the double's declaration: mingw-w64 10's header lacks it"
        : name === 'SERVER_INFO_101'
          ? "mingw-w64's <lmserver.h>"
          : "mingw-w64's <wtsapi32.h>";
      console.log(`${name}: sizeof ${theirs.size}, offsets ${theirs.offsets.join(' ')} (${origin})`);
    }
  });
});
