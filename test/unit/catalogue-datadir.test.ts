import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDataDirSync, SUBDIR_MODES } from '../../src/engine/catalogue/datadir.js';
import { claimStateFile } from '../../src/engine/catalogue/container-state.js';
import { lock } from '../../src/engine/catalogue/locks.js';
import { layout } from '../../src/engine/catalogue/paths.js';

const base = mkdtempSync(join(tmpdir(), 'sdme-datadir-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const mode = (p: string) => statSync(p).mode & 0o7777;

describe('ensureDataDirSync', () => {
  it('creates missing parents 0755, the datadir 0700 and subdirs with their modes (umask-proof)', () => {
    const L = layout(join(base, 'p1', 'deep', 'data'));
    const old = process.umask(0o077);
    try {
      ensureDataDirSync(L, ['state', 'containers', 'fs', 'locks']);
    } finally {
      process.umask(old);
    }
    expect([mode(join(base, 'p1')), mode(join(base, 'p1', 'deep'))]).toEqual([0o755, 0o755]);
    expect(mode(L.datadir)).toBe(0o700);
    expect([mode(L.stateDir), mode(L.containersDir), mode(L.fsDir), mode(L.locksDir)]).toEqual([
      SUBDIR_MODES.state, SUBDIR_MODES.containers, SUBDIR_MODES.fs, SUBDIR_MODES.locks,
    ]);
    expect([SUBDIR_MODES.state, SUBDIR_MODES.containers]).toEqual([0o700, 0o700]);
  });

  it('re-applies 0700 to an existing datadir; leaves existing subdirs alone', () => {
    const L = layout(join(base, 'p2'));
    mkdirSync(L.datadir, { mode: 0o755 });
    chmodSync(L.datadir, 0o755);
    mkdirSync(L.fsDir, { mode: 0o711 });
    chmodSync(L.fsDir, 0o711);
    ensureDataDirSync(L, ['fs']);
    expect([mode(L.datadir), mode(L.fsDir)]).toEqual([0o700, 0o711]);
  });

  it('refuses a datadir that config would refuse, and a file in the way', () => {
    expect(() => ensureDataDirSync(layout('/'))).toThrow(/refusing to use datadir \/: must not be \//);
    expect(() => ensureDataDirSync(layout('/tmp/../etc'))).toThrow(/must not contain '\.\.'/);
    const L = layout(join(base, 'p3'));
    mkdirSync(L.datadir);
    writeFileSync(L.stateDir, 'x');
    expect(() => ensureDataDirSync(L, ['state'])).toThrow(`cannot create ${L.stateDir}: it exists and is not a directory`);
  });

  it('the state claim and lock() go through it (datadir 0700, state/ and locks/ 0700)', async () => {
    const L = layout(join(base, 'p4', 'data'));
    await claimStateFile(L, 'box');
    expect([mode(L.datadir), mode(L.stateDir)]).toEqual([0o700, 0o700]);
    const L2 = layout(join(base, 'p5', 'data'));
    lock(L2, 'fs', 'x', 'exclusive').release();
    expect([mode(L2.datadir), mode(L2.locksDir), mode(join(L2.locksDir, 'fs'))]).toEqual([0o700, 0o700, 0o700]);
  });
});
