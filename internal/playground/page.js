// Starts GraphiQL as gqlgen's playground.Handler does, from a file rather
// than an inline script, so that the page's Content-Security-Policy can
// forbid inline scripts.
(function () {
  'use strict';

  // GraphiQL's storage, under a key prefix (none: the keys gqlgen's page
  // used, so tabs and headers saved before are kept).
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

  const root = document.getElementById('graphiql');
  // A path of this origin or an absolute URL; subscriptions use the same
  // URL over ws: or wss:.
  const endpoint = new URL(root.dataset.endpoint, location.href);
  const subscriptionUrl = endpoint.href.replace(/^http/, 'ws');

  const fetcher = GraphiQL.createFetcher({ url: endpoint.href, subscriptionUrl });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      plugins: [],
      storage: new PrefixedStorage(''),
      inputValueDeprecation: true,
    }),
  );
})();
