// @ts-check
// The web console's page: plain JavaScript the browser runs as served (no framework, no build step).
// The relay keeps the state: the page loads it, then follows the numbered changes after it over Server-Sent
// Events; a reconnect names the last change it saw (Last-Event-ID), so nothing is lost or shown twice.
// Relay messages arrive as the relay's own HTML in which everything from outside is escaped; what the user
// typed and every file name are put in place as text.

const ICONS = { queued: '⏳', running: '⚙️', done: '✅', error: '❌', stopped: '⏹️', interrupted: '⚠️' };
const ORIGINS = { web: 'Console', telegram: 'Telegram', discord: 'Discord', gateway: 'API gateway' };
const ACTIVE = new Set(['queued', 'running']);

/** @type {Map<string, any>} every message by id */
const messages = new Map();
/** @type {Map<string, any>} every conversation node by id */
const nodes = new Map();
/** @type {Map<string, string>} console message id → node id */
const nodeOfMessage = new Map();
let lastSeq = -1;
let boot = '';
/** @type {EventSource | null} */
let events = null;
/** @type {string | null} */
let replyTo = null;
/** @type {Array<{name: string, type: string, data: string}>} */
let attached = [];
/** @type {string | null} */
let selectedNode = null;

/** @param {string} id @returns {HTMLElement} */
const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const feed = byId('feed');
const textarea = /** @type {HTMLTextAreaElement} */ (byId('message'));

/**
 * @param {string} tag
 * @param {Record<string, string>} [attributes]
 * @param {string} [text]
 */
function element(tag, attributes = {}, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** @param {string} text */
function notice(text) {
  byId('notice').textContent = text;
}

/** @param {string} path @param {unknown} body */
async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error ?? `the relay answered ${response.status}`);
  return answer;
}

// ---- state and changes -------------------------------------------------------------------------------------

/** @param {string} id */
function seqOf(id) {
  const [eventBoot, seq] = id.split(':');
  return eventBoot === boot ? Number(seq) : -1;
}

async function loadState() {
  const response = await fetch('api/state');
  if (response.status === 401) return showLogin();
  if (!response.ok) throw new Error(`the relay answered ${response.status}`);
  const state = await response.json();
  boot = state.lastId.split(':')[0];
  lastSeq = seqOf(state.lastId);
  messages.clear();
  for (const message of state.messages) messages.set(message.id, message);
  byId('login').hidden = true;
  byId('composer').hidden = false;
  await loadTree();
  renderFeed();
  follow(state.lastId);
}

/** @param {string} after */
function follow(after) {
  events?.close();
  events = new EventSource(`api/events?after=${encodeURIComponent(after)}`);
  events.onopen = () => {
    byId('connection').textContent = 'live';
  };
  events.onmessage = (event) => {
    const seq = seqOf(event.lastEventId);
    if (seq <= lastSeq) return; // already applied
    lastSeq = seq;
    apply(JSON.parse(event.data));
  };
  events.addEventListener('reload', () => {
    events?.close();
    loadState().catch(connectionLost);
  });
  events.onerror = () => {
    byId('connection').textContent = 'reconnecting…';
    // The browser retries by itself unless the relay refused the stream (then it is closed).
    if (events?.readyState === EventSource.CLOSED) setTimeout(() => loadState().catch(connectionLost), 2000);
  };
}

/** @param {unknown} error */
function connectionLost(error) {
  byId('connection').textContent = 'offline: retrying';
  notice(error instanceof Error ? error.message : String(error));
  setTimeout(() => loadState().catch(connectionLost), 3000);
}

let treeTimer = 0;
/** @param {any} change */
function apply(change) {
  if (change.kind === 'message') {
    messages.set(change.message.id, change.message);
    renderFeed();
  } else if (change.kind === 'delete') {
    messages.delete(change.id);
    renderFeed();
  } else if (change.kind === 'notice') {
    notice(change.text);
  }
  if (change.kind === 'node' || change.kind === 'delete' || change.kind === 'message') {
    clearTimeout(treeTimer);
    treeTimer = setTimeout(() => loadTree().then(renderFeed), 150);
  }
}

// ---- the feed: one article per task -------------------------------------------------------------------------

/** The user message a message belongs under: its own, or the one its chain of replies leads to. */
function rootOf(message) {
  let current = message;
  const seen = new Set();
  while (current.author !== 'user' && current.replyTo !== null && !seen.has(current.id)) {
    seen.add(current.id);
    const parent = messages.get(current.replyTo);
    if (parent === undefined) break;
    current = parent;
  }
  return current;
}

/**
 * Each fold's open state, by its message and its place in it: the feed is rebuilt on every change, and a fold
 * (a task's steps, a file) must stay as the user left it, not snap shut while they read.
 */
function foldStates() {
  /** @type {Map<string, boolean>} */
  const states = new Map();
  for (const box of feed.querySelectorAll('.message[data-id]')) {
    box.querySelectorAll('details').forEach((fold, index) => {
      states.set(`${box.getAttribute('data-id')}#${index}`, fold.open);
    });
  }
  return states;
}

/** @param {Map<string, boolean>} states */
function restoreFolds(states) {
  for (const box of feed.querySelectorAll('.message[data-id]')) {
    box.querySelectorAll('details').forEach((fold, index) => {
      const open = states.get(`${box.getAttribute('data-id')}#${index}`);
      if (open !== undefined) fold.open = open;
    });
  }
}

function renderFeed() {
  const atBottom = feed.scrollHeight - feed.scrollTop - feed.clientHeight < 40;
  const folds = foldStates();
  /** @type {Map<string, any[]>} */
  const groups = new Map();
  const ordered = [...messages.values()].sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
  for (const message of ordered) {
    const root = rootOf(message);
    const group = groups.get(root.id) ?? [];
    group.push(message);
    groups.set(root.id, group);
  }
  feed.replaceChildren(...[...groups.entries()].map(([rootId, group]) => renderTask(rootId, group)));
  restoreFolds(folds);
  if (atBottom) feed.scrollTop = feed.scrollHeight;
}

/** @param {string} rootId @param {any[]} group */
function renderTask(rootId, group) {
  const root = messages.get(rootId) ?? group[0];
  const article = element('article', {
    'aria-label': `Task: ${(root.text || 'relay message').slice(0, 60)}`,
  });
  article.dataset.root = rootId;
  const nodeId = group.map((m) => nodeOfMessage.get(m.id)).find((id) => id !== undefined);
  const node = nodeId === undefined ? undefined : nodes.get(nodeId);
  const head = element('div', { class: 'task-head' });
  const parentMessage = root.replyTo === null ? undefined : messages.get(root.replyTo);
  const label = parentMessage ? `↪ reply to: ${firstWords(parentMessage)}` : '';
  head.append(element('span', {}, `${node ? `${ICONS[node.state]} ${node.state}` : ''} ${label}`.trim()));
  if (node && ACTIVE.has(node.state)) {
    const stop = element('button', { type: 'button', class: 'danger' }, 'Stop');
    stop.addEventListener('click', () => send('/stop', rootId).catch((error) => notice(error.message)));
    head.append(stop);
  }
  article.append(head, ...group.map(renderMessage));
  if (selectedNode !== null && selectedNode === nodeId) article.classList.add('highlight');
  return article;
}

/** @param {any} message */
function firstWords(message) {
  if (message.html === null) return message.text.slice(0, 40);
  // Parsed into an inert template (nothing in it loads or runs) to read its text.
  const scratch = document.createElement('template');
  // Cells and blocks end with a space, so their words do not run together.
  scratch.innerHTML = message.html.replace(/<\/(td|th|tr|pre|blockquote)>/g, '$& ');
  return (scratch.content.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 40);
}

/** @param {any} message */
function renderMessage(message) {
  const box = element('div', { class: `message ${message.author}` });
  box.dataset.id = message.id;
  const body = element('div', { class: 'body' });
  // The relay's markup escapes everything from outside (model output, tool arguments, file names); the rest
  // is text. The page's Content-Security-Policy refuses inline script besides.
  if (message.html !== null) body.innerHTML = message.html;
  else body.textContent = message.text;
  box.append(body);
  if (message.files.length > 0) {
    const files = element('ul', { class: 'files' });
    for (const file of message.files) {
      const label = `📎 ${file.name} (${sizeOf(file.sizeBytes)})`;
      if (typeof file.text !== 'string') {
        files.append(element('li', {}, label));
        continue;
      }
      // A file the relay sent as text (a /diff patch): shown in a fold, as text.
      const fold = element('details');
      fold.append(element('summary', {}, label), element('pre', { class: 'file-text' }, file.text));
      const item = element('li');
      item.append(fold);
      files.append(item);
    }
    box.append(files);
  }
  const actions = element('div', { class: 'actions' });
  for (const button of message.buttons) {
    const press = element('button', { type: 'button', class: button.style }, button.label);
    press.addEventListener('click', () =>
      post('api/press', { messageId: message.id, data: button.id }).catch((error) => notice(error.message)),
    );
    actions.append(press);
  }
  const reply = element('button', { type: 'button', 'aria-describedby': `text-${message.id}` }, 'Reply');
  body.id = `text-${message.id}`;
  reply.addEventListener('click', () => startReply(message));
  actions.append(reply);
  box.append(actions);
  return box;
}

/** @param {number} bytes */
function sizeOf(bytes) {
  return bytes < 1024 * 1024 ? `${Math.ceil(bytes / 1024)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// ---- the tree -----------------------------------------------------------------------------------------------

async function loadTree() {
  const response = await fetch('api/tree');
  if (!response.ok) return;
  const tree = await response.json();
  nodes.clear();
  nodeOfMessage.clear();
  for (const node of tree.nodes) {
    nodes.set(node.id, node);
    for (const id of node.messageIds) nodeOfMessage.set(id, node.id);
  }
  renderTree();
}

function renderTree() {
  /** @type {Map<string | null, any[]>} */
  const children = new Map();
  for (const node of nodes.values()) {
    const parent = node.parentId !== null && nodes.has(node.parentId) ? node.parentId : null;
    const list = children.get(parent) ?? [];
    list.push(node);
    children.set(parent, list);
  }
  /** @param {string | null} parent @returns {HTMLElement} */
  const branch = (parent) => {
    const list = element('ul');
    const below = (children.get(parent) ?? []).sort((a, b) => a.createdAt - b.createdAt);
    for (const node of below) {
      const item = element('li');
      const button = element('button', { type: 'button', class: 'node' });
      button.setAttribute('aria-current', String(node.id === selectedNode));
      button.append(`${ICONS[node.state] ?? '•'} ${node.title} `);
      button.append(element('time', {}, new Date(node.createdAt).toLocaleTimeString()));
      if (node.origin !== 'web') {
        button.append(
          element('span', { class: 'origin' }, `${ORIGINS[node.origin] ?? node.origin}, read-only`),
        );
      }
      button.addEventListener('click', () => showNode(node.id));
      item.append(button);
      if (children.has(node.id)) item.append(branch(node.id));
      list.append(item);
    }
    return list;
  };
  const top = branch(null);
  top.id = 'tree-list';
  byId('tree-list').replaceWith(top);
  byId('tree-empty').hidden = nodes.size > 0;
}

/** @param {string} nodeId */
async function showNode(nodeId) {
  selectedNode = nodeId;
  renderTree();
  renderFeed();
  const article = [...feed.querySelectorAll('article')].find((candidate) =>
    [...candidate.querySelectorAll('.message')].some(
      (box) => nodeOfMessage.get(/** @type {HTMLElement} */ (box).dataset.id ?? '') === nodeId,
    ),
  );
  article?.scrollIntoView({ block: 'nearest' });
  const view = byId('node-view');
  const response = await fetch(`api/node?id=${encodeURIComponent(nodeId)}`);
  if (!response.ok) {
    view.hidden = true;
    return;
  }
  const node = await response.json();
  const origin = ORIGINS[node.origin] ?? node.origin;
  const answer = element('div', { class: 'body' });
  if (node.answerHtml !== null) answer.innerHTML = node.answerHtml;
  else answer.textContent = `${ICONS[node.state]} ${node.state}…`;
  view.replaceChildren(
    element('p', {}, `${ICONS[node.state]} ${origin}${node.origin === 'web' ? '' : ' (read-only)'}`),
    element('p', { class: 'message user' }, node.prompt),
    answer,
  );
  view.hidden = false;
}

// ---- the composer -------------------------------------------------------------------------------------------

/** @param {any} message */
function startReply(message) {
  replyTo = message.id;
  byId('replying-to').textContent = `Replying to: ${firstWords(message)}`;
  byId('replying').hidden = false;
  textarea.focus();
}

function cancelReply() {
  replyTo = null;
  byId('replying').hidden = true;
}

/** @param {string} text @param {string | null} target @param {Record<string, unknown>} [extra] */
async function send(text, target, extra = {}) {
  await post('api/send', { text, replyTo: target, ...extra });
}

async function submit() {
  const text = textarea.value;
  if (text.trim() === '' && attached.length === 0) return;
  try {
    await send(text, replyTo, attached.length > 0 ? { files: attached } : {});
    // Cleared only once the relay has it: a refused message stays in the composer.
    textarea.value = '';
    attached = [];
    renderAttached();
    cancelReply();
    notice('');
  } catch (error) {
    notice(error instanceof Error ? error.message : String(error));
  }
}

/** @param {Blob} blob @returns {Promise<string>} */
function base64Of(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

function renderAttached() {
  byId('attached').replaceChildren(...attached.map((file) => element('li', {}, `📎 ${file.name}`)));
}

/** @type {MediaRecorder | null} */
let recorder = null;
async function toggleRecording() {
  const button = byId('record');
  if (recorder !== null) {
    recorder.stop();
    return;
  }
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const type = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus'].find((t) =>
    MediaRecorder.isTypeSupported(t),
  );
  recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
  /** @type {Blob[]} */
  const chunks = [];
  recorder.ondataavailable = (event) => chunks.push(event.data);
  recorder.onstop = async () => {
    for (const track of stream.getTracks()) track.stop();
    const mimeType = recorder?.mimeType || 'audio/webm';
    recorder = null;
    button.textContent = 'Record voice';
    const blob = new Blob(chunks, { type: mimeType });
    const name = mimeType.includes('ogg') ? 'voice.ogg' : 'voice.webm';
    try {
      await send('', replyTo, { voice: { name, type: mimeType.split(';')[0], data: await base64Of(blob) } });
      cancelReply();
    } catch (error) {
      notice(error instanceof Error ? error.message : String(error));
    }
  };
  recorder.start();
  button.textContent = 'Stop recording';
}

function showLogin() {
  byId('login').hidden = false;
  byId('composer').hidden = true;
  byId('connection').textContent = 'locked';
  byId('token').focus();
}

// ---- wiring -------------------------------------------------------------------------------------------------

byId('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  void submit();
});
textarea.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    void submit();
  }
});
byId('cancel-reply').addEventListener('click', cancelReply);
byId('attach').addEventListener('click', () => byId('files').click());
byId('files').addEventListener('change', async () => {
  const input = /** @type {HTMLInputElement} */ (byId('files'));
  for (const file of input.files ?? []) {
    attached.push({
      name: file.name,
      type: file.type || 'application/octet-stream',
      data: await base64Of(file),
    });
  }
  input.value = '';
  renderAttached();
});
byId('record').addEventListener('click', () => toggleRecording().catch((error) => notice(error.message)));
byId('stats-button').addEventListener('click', () =>
  send('/stats', null).catch((error) => notice(error.message)),
);
byId('tree-toggle').addEventListener('click', () => {
  const open = byId('tree').classList.toggle('open');
  byId('tree-toggle').setAttribute('aria-expanded', String(open));
});
byId('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const token = /** @type {HTMLInputElement} */ (byId('token'));
  try {
    await post('api/login', { token: token.value });
    token.value = '';
    byId('login-error').textContent = '';
    await loadState();
  } catch (error) {
    byId('login-error').textContent = error instanceof Error ? error.message : String(error);
  }
});

loadState().catch(connectionLost);
