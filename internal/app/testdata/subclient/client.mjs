#!/usr/bin/env node
// Drives one GraphQL subscription with a real client library and prints one
// JSON object per line on stdout. See README.md for the contract.
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { createClient as createWsClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import subscriptionsTransportWs from 'subscriptions-transport-ws';

const { SubscriptionClient } = subscriptionsTransportWs;

const USAGE = `usage: node client.mjs --protocol graphql-transport-ws|graphql-ws|sse
       --url URL --query DOCUMENT [--variables JSON] [--key KEY]
       [--origin ORIGIN] [--max N] [--retry]`;

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      protocol: { type: 'string' },
      url: { type: 'string' },
      query: { type: 'string' },
      variables: { type: 'string' },
      key: { type: 'string' },
      origin: { type: 'string' },
      max: { type: 'string' },
      retry: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (err) {
  usageError(err.message);
}
if (args.help) {
  process.stdout.write(USAGE + '\n');
  process.exit(0);
}
if (!['graphql-transport-ws', 'graphql-ws', 'sse'].includes(args.protocol)) {
  usageError('--protocol must be graphql-transport-ws, graphql-ws or sse');
}
if (!args.url || !args.query) usageError('--url and --query are required');
let variables;
if (args.variables !== undefined) {
  try {
    variables = JSON.parse(args.variables);
  } catch (err) {
    usageError(`--variables is not JSON: ${err.message}`);
  }
}
const max = args.max === undefined ? Infinity : Number(args.max);
if (!(max > 0)) usageError('--max must be a positive number');

const request = { query: args.query, ...(variables ? { variables } : {}) };
const auth = args.key ? { authorization: `Bearer ${args.key}` } : undefined;
// Retries are only used with --retry: a few quick attempts, so tests stay short.
const RETRIES = 5;
const retryWait = (n) => new Promise((r) => setTimeout(r, Math.min(250 * 2 ** n, 2000)));

// ---- output -------------------------------------------------------------

let finished = false;
let cleanup = () => {};
let received = 0;
let connections = 0;

function emit(obj) {
  // stdout is synchronous for files and pipes on Linux, so each line is
  // flushed before the next event (and before process.exit).
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function usageError(msg) {
  process.stderr.write(`${msg}\n${USAGE}\n`);
  process.exit(2);
}

function ready() {
  emit(connections++ === 0 ? { type: 'ready' } : { type: 'ready', reconnected: true });
}

function next(result) {
  if (finished) return;
  emit({ type: 'next', payload: result });
  if (++received >= max) finish(0);
}

function complete() {
  if (finished) return;
  emit({ type: 'complete' });
  finish(0);
}

function fail(err) {
  if (finished) return;
  emit({ type: 'error', error: describe(err) });
  finish(1);
}

// Closes the subscription politely (the server sees complete/stop and a
// normal close), then exits; a short grace period lets the frames go out.
function finish(code) {
  finished = true;
  try {
    cleanup();
  } catch {
    // exiting anyway
  }
  setTimeout(() => process.exit(code), 100);
}

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => finish(1));

// Turns whatever a library reports into a JSON object that always has a
// string "message", plus "code"/"reason" for a websocket close, "errors" for
// GraphQL errors, "status" for an HTTP error answer (and "body" for sse).
function describe(err) {
  if (Array.isArray(err)) {
    return { message: err.map((e) => e?.message ?? String(e)).join('; '), errors: err };
  }
  if (!err || typeof err !== 'object') return { message: String(err) };
  if (typeof err.code === 'number' && 'reason' in err) {
    // a CloseEvent, possibly with the socket error that caused it
    const reason = String(err.reason ?? '');
    const closed = `websocket closed: ${err.code} ${reason}`.trim();
    const cause = err.cause ? describe(err.cause) : {};
    const message = cause.message ? `${cause.message} (${closed})` : closed;
    return { ...cause, message, code: err.code, reason };
  }
  if (err.response && typeof err.response.status === 'number') {
    return { message: err.message, status: err.response.status, body: err.body ?? '' };
  }
  if (err instanceof Error || err.error instanceof Error) {
    // an Error, or a ws ErrorEvent; ws reports a refused upgrade as
    // "Unexpected server response: 403"
    const message = err.message || String(err);
    const status = /^Unexpected server response: (\d+)/.exec(message)?.[1];
    return status ? { message, status: Number(status) } : { message };
  }
  if (typeof err.message === 'string') return { message: err.message, errors: [err] }; // a GraphQL error
  return { message: JSON.stringify(err) };
}

// ws's WebSocket with the Origin header set, and the last close/error
// remembered (subscriptions-transport-ws does not report close codes).
let lastClose;
let lastError;
class HeaderWebSocket extends WebSocket {
  constructor(url, protocols, options = {}) {
    const headers = { ...options.headers, ...(args.origin ? { Origin: args.origin } : {}) };
    super(url, protocols, { ...options, headers });
    lastError = lastClose = undefined;
    this.on('error', (err) => (lastError = err));
    this.on('close', (code, reason) => (lastClose = { code, reason: reason.toString() }));
  }
}

// ---- graphql-transport-ws (graphql-ws) ---------------------------------

function runGraphqlWs() {
  let closes = 0;
  const client = createWsClient({
    url: args.url,
    webSocketImpl: HeaderWebSocket,
    connectionParams: auth,
    lazy: true, // the subscribe below connects at once; errors go to its sink
    retryAttempts: args.retry ? RETRIES : 0,
    // retry lost connections and refused connects, not 4xxx closes (auth...)
    shouldRetry: (e) => !(typeof e?.code === 'number' && e.code >= 4000),
    retryWait,
    on: {
      connected: () => {
        closes = 0;
        ready();
      },
      closed: (event) => {
        // graphql-ws reconnects at once after a 1000 close, whatever
        // retryAttempts says. Without --retry any close before "complete"
        // ends the run; with it, a bounded number of closes in a row does.
        if (finished || (args.retry && ++closes <= RETRIES)) return;
        fail({ code: event.code, reason: event.reason, cause: lastError });
      },
    },
  });
  const unsubscribe = client.subscribe(request, { next, error: fail, complete });
  cleanup = () => {
    unsubscribe();
    client.dispose().catch(() => {}); // rejects if the connection had failed
  };
}

// ---- legacy graphql-ws (subscriptions-transport-ws) ---------------------

function runLegacy() {
  const client = new SubscriptionClient(
    args.url,
    {
      connectionParams: auth,
      reconnect: args.retry,
      reconnectionAttempts: RETRIES,
      // called with the payload of a connection_error message, or nothing on ack
      connectionCallback: (error) => {
        if (error) fail(error);
      },
    },
    HeaderWebSocket,
    'graphql-ws',
  );
  // The library reports a lost connection only as "disconnected" (no close
  // code: HeaderWebSocket keeps it). With --retry, socket errors lead to a
  // reconnect, and the run fails once the reconnects in a row are used up.
  let drops = 0;
  const connected = () => {
    drops = 0;
    ready();
  };
  client.onConnected(connected);
  client.onReconnected(connected);
  client.onError((err) => {
    if (!args.retry) fail(err);
  });
  client.onDisconnected(() => {
    if (finished || (args.retry && ++drops <= RETRIES)) return;
    // no close seen yet: the library itself gave up (connect timeout, or no
    // "ka" from the server within 30 s)
    fail(lastClose ? { ...lastClose, cause: lastError } : new Error('websocket disconnected by the client'));
  });
  const sub = client.request(request).subscribe({ next, error: fail, complete });
  cleanup = () => {
    sub.unsubscribe();
    client.close();
  };
}

// ---- GraphQL over SSE (graphql-sse, distinct connections mode) ---------

function runSse() {
  const client = createSseClient({
    url: args.url,
    headers: {
      ...(auth ? { Authorization: auth.authorization } : {}),
      ...(args.origin ? { Origin: args.origin } : {}),
    },
    retryAttempts: args.retry ? RETRIES : 0,
    retry: retryWait,
    // Node's fetch says only "fetch failed"; keep the cause (ECONNREFUSED...).
    fetchFn: async (url, init) => {
      try {
        return await fetch(url, init);
      } catch (err) {
        if (err?.cause?.message) err.message = `${err.message}: ${err.cause.message}`;
        throw err;
      }
    },
  });
  const error = async (err) => {
    // a non-2xx answer: keep its body for the test to look at
    if (err?.response && typeof err.response.text === 'function') {
      err.body = await err.response.text().catch(() => '');
    }
    fail(err);
  };
  // "connected" fires once the response headers (2xx) have arrived.
  const unsubscribe = client.subscribe(request, { next, error, complete }, { connected: ready });
  cleanup = () => {
    unsubscribe();
    client.dispose();
  };
}

({ 'graphql-transport-ws': runGraphqlWs, 'graphql-ws': runLegacy, sse: runSse })[args.protocol]();
