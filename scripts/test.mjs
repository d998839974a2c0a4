#!/usr/bin/env node
// The whole test suite, as README's `npm test` runs it: type checks, every vitest project (unit, property,
// scenario, component, e2e in Chromium), then a Storybook build. The last line it prints is the count from
// vitest's own JSON report: `N passed, N failed` — so a run that executed no test cannot pass unseen.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

const report = 'test-results/vitest.json';
mkdirSync('test-results', { recursive: true });
rmSync(report, { force: true });

function step(name, cmd, args) {
  console.log(`\n== ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: process.env });
  return r.status === 0;
}

const extra = process.argv.slice(2);
const checked = step('types', 'npm', ['run', '--silent', 'check']);
const tested = step('tests', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra]);
const stories = extra.length > 0 || step('storybook build', 'npm', ['run', '--silent', 'build-storybook']);

let passed = 0;
let failed = 0;
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed = r.numPassedTests;
  // A test file that fails outside its tests (an import error, a throw at module level) runs none of them: each
  // counts as one failure, so the line never reads "0 failed" over a file that could not load.
  const brokenFiles = (r.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed')).length;
  failed = r.numFailedTests + brokenFiles + (r.numTotalTestSuites > 0 && r.numTotalTests === 0 ? 1 : 0);
  if (brokenFiles > 0) console.log(`${brokenFiles} test file${brokenFiles === 1 ? '' : 's'} failed to run`);
} else {
  failed = 1;
}
if (!checked) console.log('type check failed');
if (!stories) console.log('storybook build failed');
const ok = checked && tested && stories && failed === 0 && passed > 0;
console.log(`${passed} passed, ${failed} failed`);
process.exit(ok ? 0 : 1);
