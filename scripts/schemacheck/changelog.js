'use strict';
// The schema changelog (api/CHANGELOG.md) as make schema-check and
// make schema-release read it: the "## Unreleased" section's schema-change
// blocks, each recording one breaking change GraphQL Inspector reports, and
// the policy they are held to.
const { ChangeType } = require('@graphql-inspector/core');

// MIN_DEPRECATION_DAYS is the shortest time between the release that
// announced a breaking change (its @deprecated) and the change itself.
const MIN_DEPRECATION_DAYS = 90;
const UNRELEASED = '## Unreleased';
const KEYS = ['change', 'path', 'announced', 'removal', 'reason'];
const KNOWN_TYPES = new Set(Object.values(ChangeType));
const DAY_MS = 24 * 60 * 60 * 1000;

// parseDate returns the UTC midnight of a YYYY-MM-DD date, or null.
function parseDate(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(s).trim());
  if (!m) return null;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.toISOString().slice(0, 10) === m[0] ? d : null;
}

function formatDate(d) {
  return d.toISOString().slice(0, 10);
}

// daysBetween is whole days from a to b (negative when b is earlier).
function daysBetween(a, b) {
  return Math.round((b.getTime() - a.getTime()) / DAY_MS);
}

// today is the UTC date, or SCHEMA_CHECK_TODAY (YYYY-MM-DD) for tests.
function today() {
  const override = process.env.SCHEMA_CHECK_TODAY;
  if (override) {
    const d = parseDate(override);
    if (!d) throw new Error(`SCHEMA_CHECK_TODAY=${override}: want YYYY-MM-DD`);
    return d;
  }
  return parseDate(new Date().toISOString().slice(0, 10));
}

// removalDate is the date a @deprecated reason promises ("Removal: YYYY-MM-DD").
function removalDate(reason) {
  const m = /\bRemoval: (\d{4}-\d{2}-\d{2})\b/.exec(reason || '');
  return m ? parseDate(m[1]) : null;
}

// unreleasedRange is the [start, end) line range of the Unreleased section's
// body, or null when the changelog has none.
function unreleasedRange(lines) {
  const start = lines.findIndex(l => l.trim() === UNRELEASED);
  if (start < 0) return null;
  let end = start + 1;
  while (end < lines.length && !/^## /.test(lines[end])) end++;
  return [start + 1, end];
}

// parse reads the Unreleased section's schema-change blocks. It throws on a
// malformed block, naming the file and line: a changelog the check cannot
// read must not pass.
function parse(text, file) {
  const lines = text.split('\n');
  const range = unreleasedRange(lines);
  if (!range) throw new Error(`${file}: no "${UNRELEASED}" section`);
  const entries = [];
  const seen = new Set();
  for (let i = range[0]; i < range[1]; i++) {
    if (lines[i].trim() !== '```schema-change') continue;
    const entry = { line: i + 1 };
    let j = i + 1;
    for (; j < range[1] && lines[j].trim() !== '```'; j++) {
      const line = lines[j].trim();
      if (line === '') continue;
      const m = /^([a-z]+):\s*(.*)$/.exec(line);
      if (!m || !KEYS.includes(m[1])) {
        throw new Error(`${file}:${j + 1}: want "key: value" with key one of ${KEYS.join(', ')}, got ${JSON.stringify(line)}`);
      }
      if (m[1] in entry) throw new Error(`${file}:${j + 1}: ${m[1]} given twice`);
      entry[m[1]] = m[2].trim();
    }
    if (j >= range[1]) throw new Error(`${file}:${i + 1}: schema-change block not closed`);
    for (const k of KEYS) {
      if (!entry[k]) throw new Error(`${file}:${i + 1}: schema-change block lacks ${k}`);
    }
    if (!KNOWN_TYPES.has(entry.change)) {
      throw new Error(`${file}:${i + 1}: change ${entry.change} is not a GraphQL Inspector change type (FIELD_REMOVED, ENUM_VALUE_REMOVED, FIELD_TYPE_CHANGED, ...)`);
    }
    for (const k of ['announced', 'removal']) {
      const d = parseDate(entry[k]);
      if (!d) throw new Error(`${file}:${i + 1}: ${k} ${entry[k]}: want a date YYYY-MM-DD`);
      entry[k + 'Date'] = d;
    }
    const key = `${entry.change} ${entry.path}`;
    if (seen.has(key)) throw new Error(`${file}:${i + 1}: ${key} recorded twice`);
    seen.add(key);
    entries.push(entry);
    i = j;
  }
  return entries;
}

// release moves the Unreleased section's body under a new "## DATE" heading
// below it, leaving Unreleased empty but for its guidance comment.
function release(text, date, file) {
  const lines = text.split('\n');
  const range = unreleasedRange(lines);
  if (!range) throw new Error(`${file}: no "${UNRELEASED}" section`);
  const body = lines.slice(range[0], range[1]);
  const guidance = [];
  const moved = [];
  let inComment = false;
  for (const l of body) {
    // The guidance comment (<!-- ... -->) stays under Unreleased.
    if (l.trim().startsWith('<!--')) inComment = true;
    (inComment ? guidance : moved).push(l);
    if (l.trim().endsWith('-->')) inComment = false;
  }
  while (moved.length && moved[0].trim() === '') moved.shift();
  while (moved.length && moved[moved.length - 1].trim() === '') moved.pop();
  const heading = `## ${date}`;
  if (lines.some(l => l.trim() === heading)) {
    throw new Error(`${file}: "${heading}" exists already: one release a day; edit the changelog by hand to merge them`);
  }
  const released = [heading, '', moved.length ? null : 'No breaking changes.', ...moved, ''].filter(l => l !== null);
  const kept = ['', ...guidance.filter(l => l.trim() !== ''), ''];
  return [...lines.slice(0, range[0]), ...(guidance.length ? kept : ['']), ...released, ...lines.slice(range[1])].join('\n');
}

module.exports = {
  MIN_DEPRECATION_DAYS, parse, release, parseDate, formatDate, daysBetween, today, removalDate,
};
