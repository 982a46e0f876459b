// Uses the GraphiQL playground as a person does, in headless Chromium driven
// by playwright-core: opens /playground, types the credentials into the
// Headers pane and a query into the editor, clicks the run button and reads
// the result pane. Prints one JSON object on stdout:
//
//   {"ok":true,"result":"<the result pane's text>","requests":[...],
//    "foreign":[...],"cspViolations":[...],"pageErrors":[...],"console":[...],
//    "timings":{"<step>":ms,...}}
//   {"ok":false,"step":"<the step that failed>","error":"...", ...the same}
//
// Requests to any other host than --url's are recorded in "foreign" and
// aborted, as they would fail for a developer offline.
//
//   node playground.mjs --url http://127.0.0.1:8080 --key sa_... \
//     --query '{ shipments(first: 5) { edges { node { reference status } } } }' \
//     [--header Authorization] [--screenshot out.png] [--chromium /usr/bin/chromium] [--timeout 120000]
//
// --mode picks what the person does:
//   typed (the default): as above;
//   ready: types nothing: the page must open signed in (a development
//     session), with the schema in the documentation explorer; it runs the
//     first tab as it is and reports the tabs ("tabs"), the explorer's text
//     ("docs") and the Authorization of each /graphql request ("auth");
//   prompt: the page must ask for a key (its form's text in "prompt") with
//     no GraphiQL and no /graphql request; with --key, it types the key into
//     the form, submits it and runs the first tab as it is.
//
// The whole run is bounded by --timeout and each step by 60 s at most: a hang
// fails, with a screenshot of the page when --screenshot names a file.
// Exit codes: 0 when the result pane showed the answer to the query, 1
// otherwise, 2 on bad arguments.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    key: { type: 'string' },
    query: { type: 'string' },
    header: { type: 'string', default: 'Authorization' },
    mode: { type: 'string', default: 'typed' },
    screenshot: { type: 'string' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    timeout: { type: 'string', default: '120000' },
  },
});
const modes = ['typed', 'ready', 'prompt'];
if (!args.url || !modes.includes(args.mode) || (args.mode === 'typed' && (!args.key || !args.query))) {
  process.stderr.write('usage: node playground.mjs --url URL [--mode typed|ready|prompt] --key KEY --query QUERY [--header Authorization|X-API-Key] [--screenshot FILE] [--chromium PATH] [--timeout MS]\n');
  process.exit(2);
}
const base = new URL(args.url);
const total = Number(args.timeout);
const step = Math.min(60000, total); // any one step
const out = { requests: [], foreign: [], cspViolations: [], pageErrors: [], console: [], timings: {}, auth: [] };
let current = 'start';
let stepStart = Date.now();
// at starts a step: its name is reported if it fails, its duration in timings.
function at(name) {
  out.timings[current] = Date.now() - stepStart;
  current = name;
  stepStart = Date.now();
}

function finish(code, extra) {
  process.stdout.write(JSON.stringify({ ...extra, ...out }) + '\n');
  process.exit(code);
}

// The whole run is bounded: a hang fails, with what was seen so far.
let timedOut = false;
const watchdog = setTimeout(async () => {
  timedOut = true;
  const failed = current;
  await screenshot();
  await close();
  finish(1, { ok: false, step: failed, error: `timed out after ${total} ms` });
}, total);

const profile = mkdtempSync(join(tmpdir(), 'playground-chromium-'));
let context;
let page;
try {
  at('launch chromium');
  context = await chromium.launchPersistentContext(profile, {
    executablePath: args.chromium,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1280, height: 1000 },
    timeout: step,
  });
  context.setDefaultTimeout(step);
  // Every request the page makes; other hosts are refused (offline).
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.protocol === 'data:' || u.protocol === 'blob:' || u.host === base.host) {
      return route.continue();
    }
    out.foreign.push(route.request().url());
    return route.abort('internetdisconnected');
  });
  // Content-Security-Policy violations, reported by the page itself.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('request', (r) => {
    out.requests.push(`${r.method()} ${r.url()}`);
    if (new URL(r.url()).pathname === '/graphql') {
      // The scheme and the credential's first characters: enough to tell
      // a development session from a key, not enough to use it.
      const [scheme, credential = ''] = (r.headers().authorization || '').split(' ');
      out.auth.push(scheme ? `${scheme} ${credential.slice(0, 8)}…` : '');
    }
  });
  page.on('pageerror', (e) => out.pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') {
      const text = m.text();
      out.console.push(`${m.type()}: ${text}`);
      if (text.startsWith('CSP violation')) out.cspViolations.push(text);
    }
  });

  at('open /playground');
  const resp = await page.goto(new URL('/playground', base).href, { waitUntil: 'load' });
  if (!resp || !resp.ok()) throw new Error(`GET /playground: ${resp && resp.status()}`);

  let result;
  if (args.mode === 'typed') {
    result = await typed();
  } else if (args.mode === 'ready') {
    result = await ready();
  } else {
    result = await prompt();
  }
  at('done');
  await screenshot();
  clearTimeout(watchdog);
  await close();
  finish(0, { ok: true, result });
} catch (err) {
  if (timedOut) await new Promise(() => {}); // the watchdog reports and exits
  await screenshot();
  clearTimeout(watchdog);
  await close();
  finish(1, { ok: false, step: current, error: String(err && err.message ? err.message : err) });
}

// typed types the headers and the query, runs it and reads the result.
async function typed() {
    at('wait for the query editor');
    const queryEditor = page.locator('.graphiql-query-editor .CodeMirror');
    await queryEditor.waitFor({ state: 'visible' });
    // The schema request (refused without credentials) has come back.
    await page.waitForLoadState('networkidle');

    at('open the Headers pane');
    await page.getByRole('button', { name: 'Headers', exact: true }).click();
    const headersEditor = page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror');
    await headersEditor.waitFor({ state: 'visible' });

    at('type the headers');
    // As the README says: {"Authorization": "Bearer sa_…"} (or X-API-Key).
    const credential = (args.header.toLowerCase() === 'authorization' ? 'Bearer ' : '') + args.key;
    const headers = `{"${args.header}": ${JSON.stringify(credential)}}`;
    await headersEditor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(headers);
    const typedHeaders = await editorValue(headersEditor);
    if (JSON.stringify(parseOr(typedHeaders)) !== JSON.stringify(JSON.parse(headers))) {
      throw new Error(`the Headers pane holds ${JSON.stringify(typedHeaders)}, not ${headers}`);
    }

    at('type the query');
    await queryEditor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type(args.query);
    await page.keyboard.press('Escape'); // an autocompletion list, if open
    const typedQuery = await editorValue(queryEditor);
    if (squash(typedQuery) !== squash(args.query)) {
      throw new Error(`the query editor holds ${JSON.stringify(typedQuery)}, not the query typed`);
    }

    at('run the query');
    // GraphiQL learns the operation's name a moment after the typing (the
    // tab's title shows it): running before would send the name the tab
    // held before.
    const name = (args.query.match(/^\s*(?:query|mutation|subscription)\s+(\w+)/) || [])[1] || '<untitled>';
    await page.waitForFunction((want) => {
      const tab = document.querySelector('.graphiql-tab-active');
      return !tab || tab.textContent.includes(want);
    }, name);
    return runAndRead(args.query);
}

// ready types nothing: the page opened signed in, with the schema in the
// documentation explorer; it runs the first tab as it is.
async function ready() {
  at('wait for the query editor');
  const queryEditor = page.locator('.graphiql-query-editor .CodeMirror');
  await queryEditor.waitFor({ state: 'visible' });
  if (await page.locator('#key-form').isVisible()) throw new Error('the page asks for a key');
  at('wait for the documentation explorer');
  const docs = page.locator('.graphiql-doc-explorer');
  await docs.waitFor({ state: 'visible' });
  await page.waitForFunction(() => /Root Types/.test(document.querySelector('.graphiql-doc-explorer').innerText));
  out.docs = (await docs.innerText()).slice(0, 2000);
  out.tabs = await page.locator('.graphiql-tab').allInnerTexts();
  at('run the first tab');
  return runAndRead(await editorValue(queryEditor), true);
}

// prompt checks the page asks for a key and nothing else; with --key, it
// signs in through the form and runs the first tab as it is.
async function prompt() {
  at('wait for the key form');
  const form = page.locator('#key-form');
  await form.waitFor({ state: 'visible' });
  await page.waitForLoadState('networkidle');
  out.prompt = await form.innerText();
  if (await page.locator('.graphiql-container').count()) throw new Error('GraphiQL is shown before a key was entered');
  if (out.auth.length) throw new Error(`the page sent ${out.auth.length} request(s) to /graphql before a key was entered`);
  if (!args.key) return '';
  at('type the key into the form');
  await page.locator('#key-input').fill(args.key);
  await page.getByRole('button', { name: 'Open the playground' }).click();
  const queryEditor = page.locator('.graphiql-query-editor .CodeMirror');
  await queryEditor.waitFor({ state: 'visible' });
  out.tabs = await page.locator('.graphiql-tab').allInnerTexts();
  at('run the first tab');
  const result = await runAndRead(await editorValue(queryEditor), true);
  // What the page left in the browser's storage (it should be nothing).
  out.stored = await page.evaluate(() => [...Object.keys(localStorage), ...Object.keys(sessionStorage)]);
  return result;
}

// runAndRead clicks run, waits for the answer to query and returns what the
// result pane shows of it: its rendered lines, or with whole, its editor's
// text (a long answer is rendered only in part).
async function runAndRead(query, whole = false) {
  const resultPane = page.locator('.graphiql-response .CodeMirror');
  // The answer to our query (not to GraphiQL's schema request).
  const responded = page.waitForResponse(
    (r) => r.request().method() === 'POST' && squash(String(parseOr(r.request().postData() || '{}').query || '')) === squash(query),
  );
  await page.getByRole('button', { name: /execute query/i }).click();

  at('wait for the result');
  const response = await responded;
  const body = await response.text();
  const answer = parseOr(body);
  if (typeof answer !== 'object') {
    throw new Error(`/graphql answered ${response.status()} with ${JSON.stringify(body.slice(0, 200))}`);
  }
  // The pane shows this answer (GraphiQL pretty-prints it).
  await page.waitForFunction(
    (expected) => {
      const el = document.querySelector('.graphiql-response .CodeMirror');
      try {
        return !!el && !!el.CodeMirror && JSON.stringify(JSON.parse(el.CodeMirror.getValue())) === expected;
      } catch {
        return false;
      }
    },
    JSON.stringify(answer),
    { timeout: step },
  );
  if (whole) return editorValue(resultPane);
  // What the pane shows: the rendered lines, not the editor's model.
  return (await resultPane.locator('.CodeMirror-code').innerText()).replace(/[\u200b\u00a0]/g, (c) => (c === '\u00a0' ? ' ' : ''));
}

async function editorValue(locator) {
  return locator.evaluate((el) => el.CodeMirror.getValue(), undefined, { timeout: step });
}

function parseOr(s) {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

function squash(s) {
  return s.replace(/\s+/g, ' ').trim();
}

async function screenshot() {
  if (!args.screenshot || !page) return;
  await page.screenshot({ path: args.screenshot, fullPage: true, timeout: 5000 }).catch(() => {});
}

async function close() {
  await Promise.race([context?.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
  rmSync(profile, { recursive: true, force: true });
}
