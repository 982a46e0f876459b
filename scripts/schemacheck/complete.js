'use strict';
// complete.js is graphql-inspector diff's --onComplete handler: it hands the
// breaking changes left after rule.js to rule.js's exit report, which prints
// them with how to record each and sets the exit code.
const { state } = require('./rule.js');

module.exports = ({ breakingChanges }) => {
  state.breaking = breakingChanges;
};
