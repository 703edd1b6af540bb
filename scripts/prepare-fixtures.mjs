#!/usr/bin/env node
// Builds the e2e fixtures on the host, before `sdme sandbox run` boots the
// sandbox (which has no network and sees this cache through its overlay of /).
// Uses the compiled builder: run `npm run build` first (npm test does).
import { existsSync } from 'node:fs';

const builder = new URL('../dist/engine/rootfs/bootable-fixture.js', import.meta.url);
if (!existsSync(builder)) {
  process.stderr.write('prepare-fixtures: dist/ is missing: run `npm run build` first\n');
  process.exit(1);
}
const { ensureBootableRootfsCache } = await import(builder.href);
const t0 = Date.now();
try {
  const r = await ensureBootableRootfsCache({ note: (m) => process.stderr.write(`${m}\n`) });
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  process.stderr.write(`e2e fixture ${r.built ? 'built' : 'cached'}: ${r.path} (${secs} s)\n`);
} catch (e) {
  process.stderr.write(`prepare-fixtures: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
