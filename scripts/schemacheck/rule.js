'use strict';
// rule.js is a GraphQL Inspector diff rule (graphql-inspector diff --rule):
// it downgrades to dangerous the breaking changes api/CHANGELOG.md records
// under "## Unreleased" with a deprecation period the policy allows, and
// leaves every other breaking change breaking. At exit it prints why each
// remaining breaking change fails and how to record it, the changelog's stale
// entries, and new @deprecated whose removal date is too near, and sets the
// exit code. complete.js (--onComplete) hands it Inspector's verdict.
const fs = require('fs');
const { CriticalityLevel } = require('@graphql-inspector/core');
const log = require('./changelog.js');

const CHANGELOG = process.env.SCHEMA_CHANGELOG || 'api/CHANGELOG.md';

// The removals whose target can carry @deprecated in the released schema
// first; the others (a type changed, an argument made required, a type
// removed) still need an entry with the period.
const DEPRECATABLE = new Set(['FIELD_REMOVED', 'ENUM_VALUE_REMOVED', 'INPUT_FIELD_REMOVED', 'FIELD_ARGUMENT_REMOVED']);

const state = {
  ran: false,
  breaking: null, // set by complete.js
  problems: new Map(), // "TYPE path" -> why its entry does not allow it
  failures: [], // stale entries, deprecations without a far enough removal date
  recorded: [],
};

// deprecationOf is the released schema's deprecation reason of the element
// at path (Type.field, Type.field.argument, Input.field, Enum.VALUE), or
// undefined when it is not deprecated (or not there).
function deprecationOf(schema, change, path) {
  const [typeName, member, arg] = path.split('.');
  const type = schema.getType(typeName);
  if (!type) return undefined;
  if (change === 'ENUM_VALUE_REMOVED') return type.getValue?.(member)?.deprecationReason ?? undefined;
  const field = type.getFields?.()[member];
  if (!field) return undefined;
  if (change === 'FIELD_ARGUMENT_REMOVED') return field.args?.find(a => a.name === arg)?.deprecationReason ?? undefined;
  return field.deprecationReason ?? undefined;
}

// deprecations lists every deprecated element of schema by path.
function deprecations(schema) {
  const out = new Map();
  for (const [name, type] of Object.entries(schema.getTypeMap())) {
    if (name.startsWith('__')) continue;
    if (type.getValues) {
      for (const v of type.getValues()) if (v.deprecationReason != null) out.set(`${name}.${v.name}`, v.deprecationReason);
    }
    if (!type.getFields) continue;
    for (const f of Object.values(type.getFields())) {
      if (f.deprecationReason != null) out.set(`${name}.${f.name}`, f.deprecationReason);
      for (const a of f.args || []) {
        if (a.deprecationReason != null) out.set(`${name}.${f.name}.${a.name}`, a.deprecationReason);
      }
    }
  }
  return out;
}

// checkEntry lists why entry does not allow its breaking change today.
function checkEntry(entry, oldSchema, today) {
  const why = [];
  const period = log.daysBetween(entry.announcedDate, entry.removalDate);
  if (period < log.MIN_DEPRECATION_DAYS) {
    why.push(`its deprecation period, ${entry.announced} to ${entry.removal}, is ${period} days: the minimum is ${log.MIN_DEPRECATION_DAYS}`);
  }
  if (log.daysBetween(today, entry.removalDate) > 0) {
    why.push(`its removal date ${entry.removal} has not come (today is ${log.formatDate(today)}, UTC)`);
  }
  if (DEPRECATABLE.has(entry.change)) {
    const reason = deprecationOf(oldSchema, entry.change, entry.path);
    if (reason === undefined) {
      why.push(`the released schema (api/released.graphql) does not mark ${entry.path} @deprecated: deprecate it and release that first`);
    } else {
      const promised = log.removalDate(reason);
      if (promised && log.daysBetween(entry.removalDate, promised) > 0) {
        why.push(`the released @deprecated promised clients ${log.formatDate(promised)}, later than the entry's removal ${entry.removal}`);
      }
    }
  }
  return why;
}

function rule({ changes, oldSchema, newSchema }) {
  state.ran = true;
  const today = log.today();
  const entries = log.parse(fs.readFileSync(CHANGELOG, 'utf8'), CHANGELOG);
  const byKey = new Map(entries.map(e => [`${e.change} ${e.path}`, e]));
  const matched = new Set();

  const out = changes.map(change => {
    const key = `${change.type} ${change.path}`;
    const entry = byKey.get(key);
    if (entry) matched.add(key);
    if (change.criticality.level !== CriticalityLevel.Breaking || !entry) return change;
    const why = checkEntry(entry, oldSchema, today);
    if (why.length) {
      state.problems.set(key, why);
      return change;
    }
    state.recorded.push(key);
    return {
      ...change,
      message: `${change.message} (recorded in ${CHANGELOG}: announced ${entry.announced}, removal ${entry.removal})`,
      criticality: { ...change.criticality, level: CriticalityLevel.Dangerous },
    };
  });

  for (const e of entries) {
    if (!matched.has(`${e.change} ${e.path}`)) {
      state.failures.push(`${CHANGELOG}:${e.line}: stale entry: ${e.change} ${e.path} is recorded but the schema shows no such change; remove the entry or fix its change type and path`);
    }
  }

  // A deprecation new since the release must promise a removal date at
  // least the minimum period away: the release that carries it, today at
  // the earliest, is its announcement.
  const old = deprecations(oldSchema);
  for (const [path, reason] of deprecations(newSchema)) {
    const removal = log.removalDate(reason);
    const was = old.get(path);
    if (!removal) {
      state.failures.push(`${path}: @deprecated(reason: ${JSON.stringify(reason)}) names no removal date: end the reason with "Removal: YYYY-MM-DD"`);
      continue;
    }
    if (was === undefined) {
      const days = log.daysBetween(today, removal);
      if (days < log.MIN_DEPRECATION_DAYS) {
        state.failures.push(`${path}: new @deprecated promises removal on ${log.formatDate(removal)}, ${days} days from today: the minimum is ${log.MIN_DEPRECATION_DAYS}`);
      }
      continue;
    }
    const promised = log.removalDate(was);
    if (promised && log.daysBetween(removal, promised) > 0) {
      state.failures.push(`${path}: @deprecated moves the removal clients were promised from ${log.formatDate(promised)} to ${log.formatDate(removal)}: a removal date may only move later`);
    }
  }
  return out;
}

function recordHint(change) {
  return [
    `    not recorded: once its deprecation period is over, record it under "## Unreleased" in ${CHANGELOG}:`,
    '    ```schema-change',
    `    change: ${change.type}`,
    `    path: ${change.path}`,
    '    announced: YYYY-MM-DD (the release that first carried its @deprecated)',
    '    removal: YYYY-MM-DD',
    '    reason: why, and what clients use instead',
    '    ```',
  ].join('\n');
}

const POLICY = `A breaking change needs a deprecation period of at least ${log.MIN_DEPRECATION_DAYS} days: mark what goes ` +
  '@deprecated(reason: "Use ... instead. Removal: YYYY-MM-DD") (or, for a change that cannot carry @deprecated, ' +
  'announce it in the changelog), make schema-release, and make the change on or after the removal date.';

process.on('exit', code => {
  if (!state.ran) return;
  const err = s => process.stderr.write(s + '\n');
  const breaking = state.breaking || [];
  let failed = code !== 0;
  if (breaking.length) {
    failed = true;
    err('');
    for (const change of breaking) {
      const key = `${change.type} ${change.path}`;
      err(`✖ ${key}: ${change.message}`);
      const why = state.problems.get(key);
      if (why) {
        for (const w of why) err(`    recorded in ${CHANGELOG}, but ${w}`);
      } else {
        err(recordHint(change));
      }
    }
    err(POLICY);
  }
  if (state.failures.length) {
    failed = true;
    err('');
    for (const f of state.failures) err(`✖ ${f}`);
  }
  err('');
  if (failed) {
    err(`schema-check: FAILED (the policy: api/CHANGELOG.md, "Policy")`);
    process.exitCode = 1;
  } else {
    const n = state.recorded.length;
    err(`schema-check: OK${n ? ` (${n} recorded breaking change${n > 1 ? 's' : ''}: ${state.recorded.join(', ')})` : ''}`);
  }
});

module.exports = rule;
module.exports.state = state;
