// Configuration from the environment: where the API is, the key to call it
// with, and whether to send persisted document IDs instead of documents.

export interface Config {
  /** The GraphQL endpoint, e.g. https://api.example.com/graphql. */
  url: string;
  /** An API key (sa_...), sent as Authorization: Bearer. */
  apiKey: string;
  /**
   * Send each generated document by its ID only (trusted documents: the
   * server runs with PERSISTED_QUERIES=allowlist and the manifest imported).
   */
  persisted: boolean;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const apiKey = env.SHIPMENTAPP_API_KEY ?? '';
  if (apiKey === '') {
    throw new Error('SHIPMENTAPP_API_KEY is not set: create a key with `shipmentapp apikey create --name web --role STAFF`');
  }
  const persisted = env.SHIPMENTAPP_PERSISTED ?? '';
  if (!['', '0', '1', 'false', 'true'].includes(persisted)) {
    throw new Error(`SHIPMENTAPP_PERSISTED must be 1 or 0, got ${JSON.stringify(persisted)}`);
  }
  return {
    url: env.SHIPMENTAPP_URL || 'http://127.0.0.1:8080/graphql',
    apiKey,
    persisted: persisted === '1' || persisted === 'true',
  };
}
