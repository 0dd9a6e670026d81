'use strict';
// What to tell the person about an error from the main process: the plain form of a WtsError
// (error.toJSON(), see handlers.js), read by its `code` — never by its message, which may change.
// E_NOT_LISTED, E_OWN_SESSION and E_UNEXPECTED are the app's own codes (handlers.js), the rest the
// library's.
// A classic script: in the page it defines window.describeWtsError; under Node (the tests) it
// exports it.
(function (root) {
  function describeWtsError(error) {
    const e = error !== null && typeof error === 'object' ? error : {};
    const session = typeof e.sessionId === 'number' ? `Session ${e.sessionId}` : 'The session';
    const message = typeof e.message === 'string' && e.message !== '' ? e.message : 'Unknown error.';
    switch (e.code) {
      case 'E_CONSOLE':
        return `${session} is the console session: wts-session never logs it off from here.`;
      case 'E_SERVICES':
        return `${session} is the Services session (session 0): it is never logged off.`;
      case 'E_LISTENER':
        return `${session} is a listener (it accepts new connections): it has no user to log off.`;
      case 'E_NOT_FOUND':
        return `${session} no longer exists. Refresh the list.`;
      case 'E_SESSION_CHANGED':
        return `${session} now belongs to another logon; nothing was done to it. Refresh the list.`;
      case 'E_NOT_LISTED':
        return `${session} is not in the last list of sessions; nothing was done to it. Refresh the list.`;
      case 'E_OWN_SESSION':
        return `${session} is the session this app runs in: it is not logged off from here.`;
      case 'E_TIMEOUT':
        return `${session} was asked to log off but has not closed yet (programs may be holding it up). Refresh in a moment.`;
      case 'E_WIN32':
        return describeWin32(e, session, message);
      case 'E_UNSUPPORTED_PLATFORM':
        return `Not available here. ${message}`;
      case 'E_INVALID_ARGUMENT':
        return `The request was refused: ${message}`;
      default:
        return message;
    }
  }

  function describeWin32(e, session, message) {
    switch (e.win32Code) {
      case 5:
      case 7045:
        return (
          `Access denied (error ${e.win32Code}): logging off another user's session needs administrator rights ` +
          'on that server. Run this app elevated (right-click, "Run as administrator").'
        );
      case 1722:
      case 1726:
        return `The server could not be reached (error ${e.win32Code}): check its name, that it is up, and the firewall.`;
      case 7022:
        return `${session} no longer exists. Refresh the list.`;
      default:
        return typeof e.win32Code === 'number' ? `Windows error ${e.win32Code}: ${message}` : message;
    }
  }

  if (typeof module === 'object' && module !== null && module.exports) module.exports = { describeWtsError };
  else root.describeWtsError = describeWtsError;
})(globalThis);
