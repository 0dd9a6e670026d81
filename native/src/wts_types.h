/*
 * The Win32 types the double implements. On Windows (mingw-w64) they come from the SDK headers,
 * so the structs are the SDK's; elsewhere they are declared here with the same layout, with
 * UTF-16 strings as 16-bit units (never wchar_t, which is 32-bit on Linux).
 */
#ifndef WTS_DOUBLE_TYPES_H
#define WTS_DOUBLE_TYPES_H

#include <stdint.h>
#include <stddef.h>

#if defined(_WIN32)
  #ifndef WIN32_LEAN_AND_MEAN
    #define WIN32_LEAN_AND_MEAN
  #endif
  #include <windows.h>
  #include <wtsapi32.h>
  #include <lm.h> /* SERVER_INFO_101, NET_API_STATUS, NetServerGetInfo, NetApiBufferFree (netapi32) */
  typedef WCHAR WCHAR16;
  typedef LARGE_INTEGER DBL_LARGE_INTEGER;
  #define DOUBLE_EXPORT __declspec(dllexport)
  #define DOUBLE_CALL WINAPI
  /*
   * mingw-w64 10's <wtsapi32.h> has WTS_SESSION_INFOW, WTS_CLIENT_ADDRESS and WTSINFOW (used as
   * they are: the SDK's layouts) but not the Windows 7 additions: WTS_SESSION_INFO_1W,
   * WTSEnumerateSessionsExW, WTSFreeMemoryExW, WTSOpenServerExW. Those are declared below, as
   * Microsoft Learn gives them, for both builds.
   */
  /* kernel32's and advapi32's names are declared dllimport by <windows.h>: defined under other names and
     exported under the real ones by wtsapi32_double.def. */
  #define K32(name) Double_##name
#else
  typedef uint32_t DWORD;
  typedef int32_t LONG;
  typedef uint32_t ULONG;
  typedef int BOOL;
  typedef uint8_t BYTE;
  typedef void *HANDLE;
  typedef void *PVOID;
  typedef uint16_t WCHAR16;
  typedef WCHAR16 *LPWSTR;
  typedef int64_t LARGE_INTEGER_QUAD;
  typedef int64_t DBL_LARGE_INTEGER;
  typedef BYTE *LPBYTE;
  typedef void *LPVOID;
  #define TRUE 1
  #define FALSE 0
  #define DOUBLE_EXPORT __attribute__((visibility("default")))
  #define DOUBLE_CALL

  typedef enum _WTS_CONNECTSTATE_CLASS {
    WTSActive, WTSConnected, WTSConnectQuery, WTSShadow, WTSDisconnected,
    WTSIdle, WTSListen, WTSReset, WTSDown, WTSInit
  } WTS_CONNECTSTATE_CLASS;

  typedef enum _WTS_INFO_CLASS {
    WTSInitialProgram, WTSApplicationName, WTSWorkingDirectory, WTSOEMId, WTSSessionId,
    WTSUserName, WTSWinStationName, WTSDomainName, WTSConnectState, WTSClientBuildNumber,
    WTSClientName, WTSClientDirectory, WTSClientProductId, WTSClientHardwareId, WTSClientAddress,
    WTSClientDisplay, WTSClientProtocolType, WTSIdleTime, WTSLogonTime, WTSIncomingBytes,
    WTSOutgoingBytes, WTSIncomingFrames, WTSOutgoingFrames, WTSClientInfo, WTSSessionInfo,
    WTSSessionInfoEx, WTSConfigInfo, WTSValidationInfo, WTSSessionAddressV4, WTSIsRemoteSession
  } WTS_INFO_CLASS;


  typedef struct _WTS_SESSION_INFOW {
    DWORD SessionId;
    LPWSTR pWinStationName;
    WTS_CONNECTSTATE_CLASS State;
  } WTS_SESSION_INFOW, *PWTS_SESSION_INFOW;

  typedef struct _WTS_PROCESS_INFOW {
    DWORD SessionId;
    DWORD ProcessId;
    LPWSTR pProcessName;
    PVOID pUserSid;
  } WTS_PROCESS_INFOW, *PWTS_PROCESS_INFOW;

  typedef struct _WTS_CLIENT_ADDRESS {
    DWORD AddressFamily;
    BYTE Address[20];
  } WTS_CLIENT_ADDRESS, *PWTS_CLIENT_ADDRESS;

  #define WINSTATIONNAME_LENGTH 32
  #define DOMAIN_LENGTH 17
  #define USERNAME_LENGTH 20

  /* LARGE_INTEGER is a union aligned to 8 bytes; an int64 has the same size and alignment. */
  typedef struct _WTSINFOW {
    WTS_CONNECTSTATE_CLASS State;
    DWORD SessionId;
    DWORD IncomingBytes;
    DWORD OutgoingBytes;
    DWORD IncomingFrames;
    DWORD OutgoingFrames;
    DWORD IncomingCompressedBytes;
    DWORD OutgoingCompressedBytes;
    WCHAR16 WinStationName[WINSTATIONNAME_LENGTH];
    WCHAR16 Domain[DOMAIN_LENGTH];
    WCHAR16 UserName[USERNAME_LENGTH + 1];
    LARGE_INTEGER_QUAD ConnectTime;
    LARGE_INTEGER_QUAD DisconnectTime;
    LARGE_INTEGER_QUAD LastInputTime;
    LARGE_INTEGER_QUAD LogonTime;
    LARGE_INTEGER_QUAD CurrentTime;
  } WTSINFOW, *PWTSINFOW;

  /* WTSCLIENTW (Learn, ns-wtsapi32-wtsclientw; the lengths as in wtsapi32.h: CLIENTNAME_LENGTH 20,
     CLIENTADDRESS_LENGTH 30, MAX_PATH 260). ULONG is 32 bits on Windows. */
  #define CLIENTNAME_LENGTH 20
  #define CLIENTADDRESS_LENGTH 30
  #ifndef MAX_PATH
    #define MAX_PATH 260
  #endif
  typedef struct _WTSCLIENTW {
    WCHAR16 ClientName[CLIENTNAME_LENGTH + 1];
    WCHAR16 Domain[DOMAIN_LENGTH + 1];
    WCHAR16 UserName[USERNAME_LENGTH + 1];
    WCHAR16 WorkDirectory[MAX_PATH + 1];
    WCHAR16 InitialProgram[MAX_PATH + 1];
    BYTE EncryptionLevel;
    uint32_t ClientAddressFamily;
    uint16_t ClientAddress[CLIENTADDRESS_LENGTH + 1];
    uint16_t HRes;
    uint16_t VRes;
    uint16_t ColorDepth;
    WCHAR16 ClientDirectory[MAX_PATH + 1];
    uint32_t ClientBuildNumber;
    uint32_t ClientHardwareId;
    uint16_t ClientProductId;
    uint16_t OutBufCountHost;
    uint16_t OutBufCountClient;
    uint16_t OutBufLength;
    WCHAR16 DeviceId[MAX_PATH + 1];
  } WTSCLIENTW, *PWTSCLIENTW;

  #define WTS_CURRENT_SERVER_HANDLE ((HANDLE)NULL)
  #define WTS_CURRENT_SESSION ((DWORD)-1)
  #define K32(name) name

  /* netapi32 (Learn: ns-lmserver-server_info_101, nf-lmserver-netservergetinfo,
     nf-lmapibuf-netapibufferfree). LMSTR is a wide string. */
  typedef DWORD NET_API_STATUS;
  typedef WCHAR16 *LMSTR;
  typedef struct _SERVER_INFO_101 {
    DWORD sv101_platform_id;
    LMSTR sv101_name;
    DWORD sv101_version_major;
    DWORD sv101_version_minor;
    DWORD sv101_type;
    LMSTR sv101_comment;
  } SERVER_INFO_101, *PSERVER_INFO_101, *LPSERVER_INFO_101;
#endif

/*
 * WTSINFOEX_LEVEL1_W, WTSINFOEX_LEVEL_W and WTSINFOEXW (Windows 7 and later; Learn,
 * ns-wtsapi32-wtsinfoex_level1_w, -wtsinfoex_level_w, -wtsinfoexw): mingw-w64 10's <wtsapi32.h>
 * lacks them, so they are declared here for both builds, named apart, with the header's lengths
 * (WINSTATIONNAME_LENGTH 32, USERNAME_LENGTH 20, DOMAIN_LENGTH 17) and, on Windows, its
 * LARGE_INTEGER.
 */
typedef struct _DBL_WTSINFOEX_LEVEL1_W {
  ULONG SessionId;
  WTS_CONNECTSTATE_CLASS SessionState;
  LONG SessionFlags;
  WCHAR16 WinStationName[WINSTATIONNAME_LENGTH + 1];
  WCHAR16 UserName[USERNAME_LENGTH + 1];
  WCHAR16 DomainName[DOMAIN_LENGTH + 1];
  DBL_LARGE_INTEGER LogonTime;
  DBL_LARGE_INTEGER ConnectTime;
  DBL_LARGE_INTEGER DisconnectTime;
  DBL_LARGE_INTEGER LastInputTime;
  DBL_LARGE_INTEGER CurrentTime;
  DWORD IncomingBytes;
  DWORD OutgoingBytes;
  DWORD IncomingFrames;
  DWORD OutgoingFrames;
  DWORD IncomingCompressedBytes;
  DWORD OutgoingCompressedBytes;
} DBL_WTSINFOEX_LEVEL1_W;
typedef union _DBL_WTSINFOEX_LEVEL_W {
  DBL_WTSINFOEX_LEVEL1_W WTSInfoExLevel1;
} DBL_WTSINFOEX_LEVEL_W;
typedef struct _DBL_WTSINFOEXW {
  DWORD Level;
  DBL_WTSINFOEX_LEVEL_W Data;
} DBL_WTSINFOEXW;

/* WTS_INFO_CLASS WTSSessionInfoEx (25; Learn's WTS_INFO_CLASS, numbered) and SessionFlags' values
   (Learn, WTSINFOEX_LEVEL1_W): past the end of older SDK headers. */
#define DBL_WTSSessionInfoEx 25
#define DBL_WTS_SESSIONSTATE_LOCK 0
#define DBL_WTS_SESSIONSTATE_UNLOCK 1
#define DBL_WTS_SESSIONSTATE_UNKNOWN ((LONG)0xFFFFFFFF)

/* NetServerGetInfo's level 101, its failures (Learn, nf-lmserver-netservergetinfo), the
   platform value (PLATFORM_ID_NT, Learn's SERVER_INFO_101) and lmserver.h's MAJOR_VERSION_MASK. */
#define DBL_NERR_Success 0
#define DBL_ERROR_INVALID_LEVEL 124
#define DBL_PLATFORM_ID_NT 500
#define DBL_MAJOR_VERSION_MASK 0x0Fu

/* WTS_SESSION_INFO_1W (Windows 7 and later): named apart, so a newer SDK header cannot clash. */
typedef struct _DBL_WTS_SESSION_INFO_1W {
  DWORD ExecEnvId;
  WTS_CONNECTSTATE_CLASS State;
  DWORD SessionId;
  LPWSTR pSessionName;
  LPWSTR pHostName;
  LPWSTR pUserName;
  LPWSTR pDomainName;
  LPWSTR pFarmName;
} DBL_WTS_SESSION_INFO_1W;
#define WTS_SESSION_INFO_1W DBL_WTS_SESSION_INFO_1W
#define PWTS_SESSION_INFO_1W DBL_WTS_SESSION_INFO_1W *

/*
 * WTS_PROCESS_INFO_EXW (Windows 7 and later; Learn, ns-wtsapi32-wts_process_info_exw), which
 * mingw-w64 10's header lacks: named apart like WTS_SESSION_INFO_1W. UserTime and KernelTime are
 * LARGE_INTEGERs: the SDK's union on Windows (8-byte aligned, also on x86), an int64 elsewhere. Both
 * fall on 8-byte boundaries anyway (offset 40 on x86, 48 on x64): no padding either way.
 */
#if defined(_WIN32)
  typedef LARGE_INTEGER DBL_LARGE_INTEGER;
#else
  typedef LARGE_INTEGER_QUAD DBL_LARGE_INTEGER;
#endif
typedef struct _DBL_WTS_PROCESS_INFO_EXW {
  DWORD SessionId;
  DWORD ProcessId;
  LPWSTR pProcessName;
  PVOID pUserSid;
  DWORD NumberOfThreads;
  DWORD HandleCount;
  DWORD PagefileUsage;
  DWORD PeakPagefileUsage;
  DWORD WorkingSetSize;
  DWORD PeakWorkingSetSize;
  DBL_LARGE_INTEGER UserTime;
  DBL_LARGE_INTEGER KernelTime;
} DBL_WTS_PROCESS_INFO_EXW;

/* WTS_TYPE_CLASS (Learn, ne-wtsapi32-wts_type_class): an enum counted from 0. */
#define DBL_WTSTypeProcessInfoLevel0 0
#define DBL_WTSTypeProcessInfoLevel1 1
#define DBL_WTSTypeSessionInfoLevel1 2

/* WTS_ANY_SESSION ((DWORD)-2, wtsapi32.h): WTSEnumerateProcessesExW's "every session". */
#define DBL_WTS_ANY_SESSION 0xFFFFFFFEu

/* SID_NAME_USE (Learn, ne-winnt-sid_name_use): SidTypeUser = 1, then counted on. */
#define DBL_SidTypeUser 1
/* A SID's largest size: 8 + 4 * SID_MAX_SUB_AUTHORITIES (15; MS-DTYP 2.4.2.2). */
#define DBL_MAX_SID_SIZE 68

/* WTS_INFO_CLASS values past the end of older SDK headers. */
#define DBL_WTSIsRemoteSession 29

/* Win32 error codes the double reports. */
#define DBL_ERROR_ACCESS_DENIED 5
#define DBL_ERROR_INVALID_HANDLE 6
#define DBL_ERROR_NOT_SUPPORTED 50
#define DBL_ERROR_INVALID_USER_BUFFER 1784
#define DBL_ERROR_NOT_ENOUGH_MEMORY 8
/* GetComputerNameW's short buffer: ERROR_BUFFER_OVERFLOW (Learn, nf-winbase-getcomputernamew; Wine's
   dlls/kernel32/computername.c maps GetComputerNameExW's ERROR_MORE_DATA to it). */
#define DBL_ERROR_BUFFER_OVERFLOW 111
/* GetComputerNameExW's short buffer: ERROR_MORE_DATA (Learn, nf-sysinfoapi-getcomputernameexw). */
#define DBL_ERROR_MORE_DATA 234
#define DBL_ERROR_INVALID_PARAMETER 87
#define DBL_ERROR_CALL_NOT_IMPLEMENTED 120
/* LookupAccountSidW: a buffer too small (Wine's advapi32 tests, test_LookupAccountSid, on Windows)
   and a SID with no account (Learn, nf-winbase-lookupaccountsidw, Remarks). */
#define DBL_ERROR_INSUFFICIENT_BUFFER 122
#define DBL_ERROR_NONE_MAPPED 1332
#define DBL_RPC_S_SERVER_UNAVAILABLE 1722
#define DBL_ERROR_CTX_CLOSE_PENDING 7007
#define DBL_ERROR_CTX_WINSTATION_NOT_FOUND 7022

/* The APIs a fault, a latency or a counter can target (same order as the mock's names). */
enum DoubleApi {
  DBL_API_OPEN = 0,
  DBL_API_ENUMERATE = 1,     /* WTSEnumerateSessionsExW and WTSEnumerateSessionsW */
  DBL_API_QUERY = 2,
  DBL_API_LOGOFF = 3,
  DBL_API_DISCONNECT = 4,
  DBL_API_MESSAGE = 5,
  DBL_API_ENUMERATE_EX = 6,  /* only WTSEnumerateSessionsExW: to exercise the fallback */
  DBL_API_CLOSE = 7,
  DBL_API_FREE = 8,
  DBL_API_PROCESSES = 9,     /* WTSEnumerateProcessesW and WTSEnumerateProcessesExW */
  DBL_API_WAIT = 10,         /* WTSWaitSystemEvent, waits and flushes alike */
  DBL_API_VERSION = 11,      /* netapi32 NetServerGetInfo */
  DBL_API_TERMINATE = 12,    /* WTSTerminateProcess: a fault's key is the process ID */
  DBL_API_PROCESSES_EX = 13, /* only WTSEnumerateProcessesExW (DBL_API_PROCESSES fails both) */
  DBL_API_LOOKUP = 14,       /* advapi32 LookupAccountSidW */
  DBL_API_COUNT = 15
};

/* WTSWaitSystemEvent's event flags (wtsapi32.h; Learn, nf-wtsapi32-wtswaitsystemevent). Named apart,
   so the SDK's own definitions (Windows build) cannot clash. */
#define DBL_WTS_EVENT_NONE 0x0u
#define DBL_WTS_EVENT_CREATE 0x1u
#define DBL_WTS_EVENT_DELETE 0x2u
#define DBL_WTS_EVENT_RENAME 0x4u
#define DBL_WTS_EVENT_CONNECT 0x8u
#define DBL_WTS_EVENT_DISCONNECT 0x10u
#define DBL_WTS_EVENT_LOGON 0x20u
#define DBL_WTS_EVENT_LOGOFF 0x40u
#define DBL_WTS_EVENT_STATECHANGE 0x80u
#define DBL_WTS_EVENT_LICENSE 0x100u
#define DBL_WTS_EVENT_ALL 0x7fffffffu
#define DBL_WTS_EVENT_FLUSH 0x80000000u

#endif
