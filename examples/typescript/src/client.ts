// The urql client: one for the whole app, with the API key on every request.

import { Client, cacheExchange, fetchExchange, makeOperation, mapExchange } from '@urql/core';
import type { Exchange, Operation, PersistedDocument } from '@urql/core';
import type { Config } from './config';

export function createShipmentClient(config: Config): Client {
  const exchanges: Exchange[] = [cacheExchange];
  if (config.persisted) {
    exchanges.push(persistedDocumentExchange);
  }
  exchanges.push(fetchExchange);
  return new Client({
    url: config.url,
    exchanges,
    fetchOptions: {
      headers: {
        authorization: `Bearer ${config.apiKey}`,
        // JSON, or multipart/mixed for @defer. urql's default also lists
        // text/event-stream, which this server answers with Server-Sent
        // Events (its subscription transport) for any POST that lists it.
        accept: 'application/graphql-response+json, application/json, multipart/mixed;deferSpec=20220824',
        // urql sends queries as GET when the URL stays short: the server
        // refuses a GET without a preflight header (CSRF protection).
        'graphql-require-preflight': '1',
      },
    },
  });
}

// persistedDocumentExchange sends a generated document by its ID alone
// (GraphQL over HTTP "documentId", the sha256:<hex> key of
// persisted-documents.json), never its text: the trusted documents of a
// server running with PERSISTED_QUERIES=allowlist. A document that codegen
// did not generate (it has no hash) goes as it is, and such a server refuses
// it with PERSISTED_QUERY_NOT_ALLOWED.
const persistedDocumentExchange: Exchange = mapExchange({
  onOperation(operation: Operation) {
    const hash = (operation.query as { __meta__?: { hash?: string } }).__meta__?.hash;
    if (hash === undefined || operation.kind === 'teardown') {
      return operation;
    }
    // urql's fetchExchange sends documentId, and no query, for a document
    // that has one and no definitions.
    const query: PersistedDocument = { kind: operation.query.kind, definitions: [], documentId: hash };
    return makeOperation(operation.kind, { ...operation, query }, operation.context);
  },
});
