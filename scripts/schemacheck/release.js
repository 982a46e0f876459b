'use strict';
// make schema-release: api/schema.graphql becomes the released schema
// (api/released.graphql), and api/CHANGELOG.md's Unreleased entries move
// under today's date (UTC; SCHEMA_CHECK_TODAY overrides it). The Makefile
// runs make schema-check first: a release never carries an unrecorded
// breaking change.
// Usage: node release.js [CURRENT RELEASED CHANGELOG]
const fs = require('fs');
const path = require('path');
const log = require('./changelog.js');

const root = path.resolve(__dirname, '../..');
const [current, released, changelog] = [
  process.argv[2] || path.join(root, 'api/schema.graphql'),
  process.argv[3] || path.join(root, 'api/released.graphql'),
  process.argv[4] || path.join(root, 'api/CHANGELOG.md'),
];

try {
  const date = log.formatDate(log.today());
  const text = log.release(fs.readFileSync(changelog, 'utf8'), date, changelog);
  fs.copyFileSync(current, released);
  fs.writeFileSync(changelog, text);
  console.log(`schema-release: ${path.relative(process.cwd(), released)} is now ${path.relative(process.cwd(), current)}; ${path.relative(process.cwd(), changelog)}'s Unreleased entries are under "## ${date}"`);
} catch (e) {
  console.error(`schema-release: ${e.message}`);
  process.exit(1);
}
