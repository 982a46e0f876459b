// Starts GraphiQL as gqlgen's playground.Handler does, from a file rather
// than an inline script, so that the page's Content-Security-Policy can
// forbid inline scripts; and signs it in first:
//
// - with the development session the server put in the page
//   (data-session: development, from this machine only), at once;
// - else with an API key typed into the page's form, kept in this page's
//   memory only, or in the browser's local storage when the person ticks
//   "remember" (the one opt-in: nothing else is stored then either).
(function () {
  'use strict';

  // GraphiQL's storage, under a key prefix (none in development: the keys
  // gqlgen's page used, so tabs and headers saved before are kept).
  class PrefixedStorage {
    constructor(prefix = '') {
      this.prefix = prefix;
    }

    setItem(key, value) {
      localStorage.setItem(this.prefix + key, value);
    }

    getItem(key) {
      return localStorage.getItem(this.prefix + key);
    }

    removeItem(key) {
      localStorage.removeItem(this.prefix + key);
    }

    keys() {
      const keys = [];
      for (let i = 0; i < localStorage.length; i++) {
        const key = localStorage.key(i);
        if (key.startsWith(this.prefix)) {
          keys.push(key.substring(this.prefix.length));
        }
      }
      return keys;
    }

    clear() {
      this.keys().forEach((key) => localStorage.removeItem(this.prefix + key));
    }

    get length() {
      return this.keys().length;
    }

    key(index) {
      const keys = this.keys();
      return index >= 0 && index < keys.length ? keys[index] : null;
    }
  }

  // GraphiQL's storage in this page's memory: gone when it closes.
  class MemoryStorage {
    constructor() {
      this.items = new Map();
    }

    setItem(key, value) {
      this.items.set(key, String(value));
    }

    getItem(key) {
      return this.items.has(key) ? this.items.get(key) : null;
    }

    removeItem(key) {
      this.items.delete(key);
    }

    clear() {
      this.items.clear();
    }

    get length() {
      return this.items.size;
    }

    key(index) {
      const keys = [...this.items.keys()];
      return index >= 0 && index < keys.length ? keys[index] : null;
    }
  }

  // Where a key the person chose to remember is kept, and GraphiQL's
  // state with it.
  const rememberedKey = 'shipmentapp:playground:apiKey';
  const rememberedPrefix = 'shipmentapp:playground:';

  function localGet(key) {
    try {
      return localStorage.getItem(key);
    } catch {
      return null; // storage disabled
    }
  }

  const root = document.getElementById('graphiql');
  const form = document.getElementById('key-form');
  const input = document.getElementById('key-input');
  const remember = document.getElementById('key-remember');
  const formError = document.getElementById('key-error');
  const bar = document.getElementById('session-bar');
  const barText = document.getElementById('session-text');
  const signOut = document.getElementById('sign-out');

  // A path of this origin or an absolute URL; subscriptions use the same
  // URL over ws: or wss:.
  const endpoint = new URL(root.dataset.endpoint, location.href);
  const subscriptionUrl = endpoint.href.replace(/^http/, 'ws');
  const introspection = root.dataset.introspection === 'on';
  let examples = [];
  try {
    examples = JSON.parse(root.dataset.examples || '[]');
  } catch {
    examples = [];
  }

  // start renders GraphiQL signed in with token.
  function start(token, { storage, persistHeaders, label, onSignOut }) {
    form.hidden = true;
    root.hidden = false;
    bar.hidden = false;
    barText.textContent = label;
    signOut.hidden = !onSignOut;
    if (onSignOut) signOut.addEventListener('click', onSignOut, { once: true });
    const authorization = 'Bearer ' + token;
    // Headers typed into the Headers pane still win over these.
    const fetcher = GraphiQL.createFetcher({
      url: endpoint.href,
      subscriptionUrl,
      headers: { Authorization: authorization },
      wsConnectionParams: { Authorization: authorization },
    });
    const props = {
      fetcher,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: persistHeaders,
      plugins: [],
      storage,
      inputValueDeprecation: true,
      defaultTabs: examples.map((e) => ({ query: e.query, variables: e.variables || undefined })),
    };
    if (!introspection) {
      // Introspection is off on this server: GraphiQL asks nothing (and
      // shows no error for it); queries still run.
      props.schema = null;
    }
    ReactDOM.createRoot(root).render(React.createElement(GraphiQL, props));
    if (introspection) openDocs(Date.now() + 5000);
  }

  // openDocs opens the documentation explorer once GraphiQL has rendered
  // its sidebar (its visiblePlugin prop is read too late to open the pane).
  function openDocs(deadline) {
    const button = root.querySelector('.graphiql-sidebar button[aria-label="Show Documentation Explorer"]');
    if (button) {
      button.click();
    } else if (!root.querySelector('.graphiql-sidebar button[aria-label="Hide Documentation Explorer"]') && Date.now() < deadline) {
      requestAnimationFrame(() => openDocs(deadline));
    }
  }

  // check asks the API whether key signs in: the refusal, or null.
  async function check(key) {
    let resp;
    try {
      resp = await fetch(endpoint.href, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/graphql-response+json, application/json',
          Authorization: 'Bearer ' + key,
        },
        body: JSON.stringify({ query: 'query KeyCheck { __typename }', operationName: 'KeyCheck' }),
      });
    } catch (err) {
      return 'The API at ' + endpoint.href + ' could not be reached: ' + err.message;
    }
    if (resp.status !== 401 && resp.status !== 403) return null;
    let message = resp.status === 401 ? 'This key is not valid, or expired, or was revoked.' : 'This key has no role in the API.';
    try {
      const body = await resp.json();
      if (body && body.errors && body.errors[0] && body.errors[0].message) message = 'The API refused this key: ' + body.errors[0].message + '.';
    } catch {
      // the status says enough
    }
    return message;
  }

  function forget() {
    try {
      new PrefixedStorage(rememberedPrefix).clear();
    } catch {
      // storage disabled: nothing was kept
    }
  }

  function signedIn(key, remembered) {
    start(key, {
      storage: remembered ? new PrefixedStorage(rememberedPrefix + 'graphiql:') : new MemoryStorage(),
      persistHeaders: remembered,
      label: remembered ? 'Signed in with an API key remembered in this browser.' : 'Signed in with an API key (kept in this page only).',
      onSignOut: () => {
        forget();
        location.reload();
      },
    });
  }

  function askForKey(message) {
    root.hidden = true;
    form.hidden = false;
    formError.hidden = !message;
    formError.textContent = message || '';
    input.focus();
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    const refused = await check(key);
    button.disabled = false;
    if (refused) {
      askForKey(refused);
      return;
    }
    input.value = '';
    if (remember.checked) {
      try {
        localStorage.setItem(rememberedKey, key);
      } catch {
        // storage disabled: kept in this page only
      }
    }
    signedIn(key, remember.checked && localGet(rememberedKey) === key);
  });

  const session = root.dataset.session;
  if (session) {
    const until = new Date(root.dataset.sessionExpires);
    start(session, {
      storage: new PrefixedStorage(''),
      persistHeaders: true,
      label: 'Development: signed in as the development admin until ' + until.toLocaleString() + ' (reload the page for a new session).',
    });
    return;
  }
  const kept = localGet(rememberedKey);
  if (!kept) {
    askForKey('');
    return;
  }
  check(kept).then((refused) => {
    if (refused) {
      forget();
      askForKey('The key remembered in this browser no longer works, it is forgotten. ' + refused);
      return;
    }
    signedIn(kept, true);
  });
})();
