'use strict';
// The page: lists the sessions and logs one off after the person confirms. It reaches the main
// process only through window.wts (preload.js), and writes what it shows with textContent only:
// session and user names come from the server and are never parsed as HTML.
//
// The main process logs off only the logon its last listing showed under the ID (handlers.js):
// a session ID that another logon has taken since is left alone (E_SESSION_CHANGED). So that this
// is the listing the person looked at, a confirmation made while the list was being refreshed
// is not sent.
const tbody = document.querySelector('#sessions tbody');
const status = document.getElementById('status');

/** How many listings the page has asked for: the rows of the last one are the ones shown. */
let listing = 0;

function say(text, isError = false) {
  status.textContent = text;
  status.classList.toggle('error', isError);
}

function who(s) {
  if (!s.userName) return 'no user';
  return s.domain ? `${s.domain}\\${s.userName}` : s.userName;
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

/** One row of a listing (handlers.js): the session, and a button, or why it is not logged off. */
function row({ session: s, canLogOff, error }, shown) {
  const tr = document.createElement('tr');
  const notes = [s.isConsole ? 'console' : '', s.isCurrent ? 'this app runs here' : ''].filter(Boolean).join(', ');
  tr.append(cell(String(s.id)), cell(s.name), cell(s.state), cell(who(s)), cell(notes, 'note'));
  if (!canLogOff) {
    // The console, Services, listeners and this app's own session: the main process refuses
    // them too; here the page says why.
    tr.append(cell(describeWtsError(error), 'note'));
    return tr;
  }
  const td = document.createElement('td');
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = 'Log off';
  button.addEventListener('click', () => logOff(s, shown));
  td.append(button);
  tr.append(td);
  return tr;
}

async function refresh() {
  const mine = ++listing;
  const reply = await window.wts.listSessions();
  if (mine !== listing) return false; // a later listing was asked for: its rows are shown
  if (!reply.ok) {
    tbody.replaceChildren();
    say(describeWtsError(reply.error), true);
    return false;
  }
  tbody.replaceChildren(...reply.value.map((r) => row(r, mine)));
  return true;
}

async function logOff(s, shown) {
  const what = `session ${s.id} (${s.name || 'no name'}, ${who(s)})`;
  if (!window.confirm(`Log off ${what}?\n\nPrograms in it are closed: unsaved work is lost.`)) return;
  if (shown !== listing) {
    say(`The list was refreshed while you decided; nothing was done. Check ${what} in the new list.`, true);
    return;
  }
  say(`Logging off ${what}...`);
  const reply = await window.wts.logoff(s.id);
  await refresh();
  if (reply.ok) say(`Logged off ${what}${reply.value.confirmed ? '.' : ' (requested; not waited for).'}`);
  else say(describeWtsError(reply.error), true);
}

document.getElementById('refresh').addEventListener('click', async () => {
  if (await refresh()) say('');
});
refresh().then((ok) => ok && say(''));
