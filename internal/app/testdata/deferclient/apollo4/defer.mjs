// Apollo Client 4's reading of one @defer query, printed as JSON lines for
// the Go test (internal/app/defer_clients_test.go), as ../defer.mjs does for
// Apollo Client 3 and meros:
//   {"client":"apollo-link","payload":...}  each payload the HttpLink parsed
//   {"client":"apollo","data":...}          the data the client ended with
// Usage: node defer.mjs --url URL --key KEY --query DOC [--variables JSON] [--get]
import { parseArgs } from 'node:util';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { Defer20220824Handler } from '@apollo/client/incremental';
import { tap } from 'rxjs';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    key: { type: 'string' },
    query: { type: 'string' },
    variables: { type: 'string', default: '{}' },
    get: { type: 'boolean', default: false },
  },
});
const print = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const withoutTypename = (v) => {
  if (Array.isArray(v)) return v.map(withoutTypename);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([k]) => k !== '__typename').map(([k, x]) => [k, withoutTypename(x)]));
  }
  return v;
};

try {
  let finished;
  const done = new Promise((resolve, reject) => { finished = { resolve, reject }; });
  const tapLink = new ApolloLink((operation, forward) => forward(operation).pipe(tap({
    next: (payload) => print({ client: 'apollo-link', payload: withoutTypename(payload) }),
    error: (err) => finished.reject(err),
    complete: () => finished.resolve(),
  })));
  const client = new ApolloClient({
    link: ApolloLink.from([tapLink, new HttpLink({
      uri: args.url,
      headers: { Authorization: `Bearer ${args.key}`, 'GraphQL-Require-Preflight': '1' },
      useGETForQueries: args.get,
    })]),
    cache: new InMemoryCache(),
    incrementalHandler: new Defer20220824Handler(),
  });
  let last;
  const sub = client.watchQuery({ query: gql(args.query), variables: JSON.parse(args.variables), fetchPolicy: 'network-only' }).subscribe({
    next: (result) => { last = result; },
    error: (err) => finished.reject(err),
  });
  await done;
  await new Promise((resolve) => setTimeout(resolve, 50)); // the last result reaches the watcher
  sub.unsubscribe();
  print({ client: 'apollo', data: withoutTypename(last?.data ?? null), errors: last?.error ? [String(last.error)] : null });
} catch (err) {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exit(1);
}
