// `npm test`: the unit suite, then the e2e suite in the sandbox host, both always run
// (a unit failure must not hide the e2e results); exits non-zero if either failed.
import { spawnSync } from 'node:child_process';

const suites = ['test:unit', 'test:e2e'];
const failed = [];
for (const s of suites) {
  const started = Date.now();
  const r = spawnSync('npm', ['run', '--silent', s], { stdio: 'inherit' });
  const secs = Math.round((Date.now() - started) / 1000);
  const ok = r.status === 0;
  console.log(`== ${s}: ${ok ? 'passed' : `FAILED (exit ${r.status ?? r.signal})`} in ${secs} s`);
  if (!ok) failed.push(s);
}
if (failed.length) {
  console.log(`== failed: ${failed.join(', ')}`);
  process.exit(1);
}
