'use strict';
// The page's only way to the main process: two functions, through contextBridge. Never
// ipcRenderer itself and never a generic invoke(channel, ...args): a page that is compromised
// can then still do nothing but list sessions and ask for one logoff, which the main process checks.
// This preload runs sandboxed (sandbox: true), where only 'electron' can be required, so the
// channel names are written here again (handlers.js has the same; a test compares them).
const { contextBridge, ipcRenderer } = require('electron');

contextBridge.exposeInMainWorld(
  'wts',
  Object.freeze({
    /** Every session on the local server, each with whether it can be logged off: { ok: true, value: Row[] } or { ok: false, error }. */
    listSessions: () => ipcRenderer.invoke('wts:list-sessions'),
    /** Logs off the logon the last listing showed under this ID (a number): { ok: true, value: LoggedOff } or { ok: false, error }. */
    logoff: (id) => ipcRenderer.invoke('wts:logoff', id),
  }),
);
