'use strict';
// The page: lists the sessions and logs one off after the person confirms. It reaches the main
// process only through window.wts (preload.js), and writes what it shows with textContent only:
// session and user names come from the server and are never parsed as HTML.
const tbody = document.querySelector('#sessions tbody');
const status = document.getElementById('status');

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

function row(s) {
  const tr = document.createElement('tr');
  const notes = [s.isConsole ? 'console' : '', s.isCurrent ? 'this app runs here' : ''].filter(Boolean).join(', ');
  tr.append(cell(String(s.id)), cell(s.name), cell(s.state), cell(who(s)), cell(notes, 'note'));
  const td = document.createElement('td');
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = 'Log off';
  // The console, Services and listener sessions are refused by the library itself; the button
  // stays so that the page shows why.
  button.addEventListener('click', () => logOff(s));
  td.append(button);
  tr.append(td);
  return tr;
}

async function refresh() {
  const reply = await window.wts.listSessions();
  if (!reply.ok) {
    tbody.replaceChildren();
    say(describeWtsError(reply.error), true);
    return false;
  }
  tbody.replaceChildren(...reply.value.map(row));
  return true;
}

async function logOff(s) {
  const what = `session ${s.id} (${s.name || 'no name'}, ${who(s)})`;
  if (!window.confirm(`Log off ${what}?\n\nPrograms in it are closed: unsaved work is lost.`)) return;
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
