#!/usr/bin/env node
// React's development build is several times slower per frame: use the
// production one unless asked otherwise (set before React loads).
process.env.NODE_ENV ??= 'production';
// Ink draws nothing but the final frame when it believes it runs in CI (read
// once, when Ink loads); an interactive terminal is never CI for us. The
// variables are put back afterwards, so children still see them.
const saved = {};
if (process.stdout.isTTY && process.stdin.isTTY) {
  for (const k of ['CI', 'CONTINUOUS_INTEGRATION']) {
    if (process.env[k] !== undefined) {
      saved[k] = process.env[k];
      delete process.env[k];
    }
  }
}
const { main } = await import('../dist/ui/main.js');
Object.assign(process.env, saved);
main(process.argv);
