// Reads one @defer query the way frontend apps do, and prints what each
// client saw as JSON lines for the Go test (internal/app/defer_clients_test.go):
//   {"client":"apollo-link","payload":...}  each payload Apollo's HttpLink parsed
//                                          (without the __typename fields Apollo adds)
//   {"client":"apollo","data":...}          the data Apollo Client's cache merged
//   {"client":"meros","payload":...}        each part meros read from fetch
// Usage: node defer.mjs --url URL --key KEY --query DOC [--variables JSON] [--get]
import { parseArgs } from 'node:util';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, Observable, gql } from '@apollo/client/core/index.js';
import { meros } from 'meros/browser';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    key: { type: 'string' },
    query: { type: 'string' },
    variables: { type: 'string', default: '{}' },
    get: { type: 'boolean', default: false },
  },
});
const variables = JSON.parse(args.variables);
const headers = { Authorization: `Bearer ${args.key}`, 'GraphQL-Require-Preflight': '1' };
const print = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const withoutTypename = (v) => {
  if (Array.isArray(v)) return v.map(withoutTypename);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([k]) => k !== '__typename').map(([k, x]) => [k, withoutTypename(x)]));
  }
  return v;
};

async function apollo() {
  let finished;
  const done = new Promise((resolve, reject) => { finished = { resolve, reject }; });
  // Sees every payload the HttpLink parsed, and the end of the stream.
  const tap = new ApolloLink((operation, forward) => new Observable((observer) => {
    const sub = forward(operation).subscribe({
      next: (payload) => { print({ client: 'apollo-link', payload: withoutTypename(payload) }); observer.next(payload); },
      error: (err) => { observer.error(err); finished.reject(err); },
      complete: () => { observer.complete(); finished.resolve(); },
    });
    return () => sub.unsubscribe();
  }));
  const client = new ApolloClient({
    link: ApolloLink.from([tap, new HttpLink({ uri: args.url, headers, useGETForQueries: args.get })]),
    cache: new InMemoryCache(),
  });
  const query = gql(args.query);
  let last;
  const sub = client.watchQuery({ query, variables, fetchPolicy: 'network-only' }).subscribe({
    next: (result) => { last = result; },
    error: (err) => finished.reject(err),
  });
  await done;
  await new Promise((resolve) => setTimeout(resolve, 50)); // the last result reaches the watcher
  sub.unsubscribe();
  print({ client: 'apollo', data: withoutTypename(last?.data ?? null), errors: last?.errors ?? null });
}

async function merosRead() {
  let url = args.url;
  const init = { headers: { ...headers, Accept: 'multipart/mixed;deferSpec=20220824, application/json' } };
  if (args.get) {
    const q = new URLSearchParams({ query: args.query, variables: JSON.stringify(variables) });
    url += '?' + q.toString();
  } else {
    init.method = 'POST';
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify({ query: args.query, variables });
  }
  const response = await fetch(url, init);
  const parts = await meros(response);
  if (!(Symbol.asyncIterator in Object(parts))) {
    throw new Error(`not a multipart answer: ${response.status} ${response.headers.get('content-type')}`);
  }
  for await (const part of parts) {
    if (!part.json) throw new Error(`a part that is not JSON: ${part.body}`);
    print({ client: 'meros', payload: part.body });
  }
}

try {
  await apollo();
  await merosRead();
} catch (err) {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exit(1);
}
