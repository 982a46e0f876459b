#!/usr/bin/env node
// Runs graphql-http's GraphQL over HTTP server audits against a running
// server and prints one JSON object per audit on stdout. See README.md.
import { parseArgs } from 'node:util';
import { serverAudits } from 'graphql-http';

const USAGE = `usage: node audit.mjs --url http://HOST:PORT/graphql [--header 'Name: value']...`;

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      url: { type: 'string' },
      header: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (err) {
  usage(err.message);
}
if (args.help) {
  process.stdout.write(USAGE + '\n');
  process.exit(0);
}
if (!args.url) {
  usage('--url is required');
}
const extra = [];
for (const h of args.header) {
  const i = h.indexOf(':');
  if (i <= 0) {
    usage(`--header ${JSON.stringify(h)}: want "Name: value"`);
  }
  extra.push([h.slice(0, i).trim(), h.slice(i + 1).trim()]);
}

// Every audit request gets the extra headers (credentials, typically) unless
// the audit set that header itself.
async function fetchFn(input, init = {}) {
  const headers = new Headers(init.headers);
  for (const [name, value] of extra) {
    if (!headers.has(name)) {
      headers.set(name, value);
    }
  }
  return fetch(input, { ...init, headers });
}

const audits = serverAudits({ url: args.url, fetchFn });
for (const { fn } of audits) {
  // One at a time, in the package's order: the output reads like its list.
  const result = await fn();
  const line = { id: result.id, name: result.name, status: result.status };
  if (result.status !== 'ok') {
    line.reason = result.reason;
    const res = result.response;
    line.response = {
      status: res.status,
      contentType: res.headers.get('content-type'),
      allow: res.headers.get('allow') ?? undefined,
      body: await res.text().then((t) => t.slice(0, 500), (e) => `(body not read: ${e.message})`),
    };
  }
  process.stdout.write(JSON.stringify(line) + '\n');
}

function usage(msg) {
  process.stderr.write(`${msg}\n${USAGE}\n`);
  process.exit(2);
}
