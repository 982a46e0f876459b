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
    // urql's defaults otherwise: short queries go as GET, which the bearer
    // token lets through the server's CSRF rule, and its Accept header gets
    // JSON (or multipart/mixed for @defer).
    fetchOptions: {
      headers: { authorization: `Bearer ${config.apiKey}` },
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
