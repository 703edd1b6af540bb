/** A Ctx on a throw-away datadir for rootfs tests (real files, no fakes). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ctx } from '../../../src/engine/context.js';
import { defaultConfig } from '../../../src/engine/catalogue/config.js';
import { layout } from '../../../src/engine/catalogue/paths.js';

export function tmpCtx(prefix = 'sdme-rootfs-'): Ctx & { notes: string[] } {
  const datadir = mkdtempSync(join(tmpdir(), prefix));
  const config = { ...defaultConfig(), datadir };
  const notes: string[] = [];
  return {
    config,
    configPath: join(datadir, 'sdme.conf'),
    layout: layout(datadir),
    note: (m: string) => notes.push(m),
    verbose: false,
    notes,
  };
}
