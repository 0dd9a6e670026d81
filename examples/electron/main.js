'use strict';
// The main process: the only place that uses wts-session (it calls native code through koffi and
// needs Node). The page gets two functions through preload.js; handlers.js checks what it sends,
// and keeps the last listing (a logoffAll dry run) so that a logoff acts only on the logon listed.
//
//   npm start                                        on Windows: this machine's sessions
//   WTS_SESSION_SIMULATE=../farm.json npm start      anywhere: a simulated farm (a copy: it is changed)
const path = require('node:path');
const { fileURLToPath } = require('node:url');
const { app, BrowserWindow, ipcMain, session } = require('electron');
const wtsSession = require('wts-session');
const { registerHandlers } = require('./handlers');

const INDEX = path.join(__dirname, 'index.html');

/** Whether an IPC message comes from this app's own page (and not from a frame it may have loaded). */
function isAppPage(event) {
  const url = event.senderFrame && event.senderFrame.url;
  if (typeof url !== 'string' || !url.startsWith('file:')) return false;
  try {
    const file = path.resolve(fileURLToPath(url));
    return process.platform === 'win32' ? file.toLowerCase() === INDEX.toLowerCase() : file === INDEX;
  } catch {
    return false;
  }
}

function createWindow() {
  const win = new BrowserWindow({
    width: 960,
    height: 640,
    webPreferences: {
      preload: path.join(__dirname, 'preload.js'),
      contextIsolation: true, // the page cannot reach the preload's objects, only what it exposes
      nodeIntegration: false, // no require() in the page
      sandbox: true, // the renderer is an OS sandboxed process; the preload sees only 'electron'
    },
  });
  // Nothing but this page: no navigation away, no new windows.
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.loadFile(INDEX);
}

app.whenReady().then(() => {
  // The page needs no permission (camera, notifications, ...).
  session.defaultSession.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false));
  // The top-level functions run on the default backend, chosen on first use: the farm file of
  // WTS_SESSION_SIMULATE, else wtsapi32 on Windows, else they reject with E_UNSUPPORTED_PLATFORM
  // (which the page shows). To choose the backend: wts: wtsSession.createWts({ api }).
  registerHandlers(ipcMain, { library: wtsSession, isTrustedSender: isAppPage });
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
