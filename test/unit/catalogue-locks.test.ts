import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lock, withLock } from '../../src/engine/catalogue/locks.js';
import { layout } from '../../src/engine/catalogue/paths.js';
import { SdmeError } from '../../src/engine/errors.js';
import { compileForChild, startNode, waitFor } from './catalogue-support.js';

const base = mkdtempSync(join(tmpdir(), 'sdme-locks-'));
const L = layout(base);
const compiled = compileForChild();
afterAll(() => {
  rmSync(base, { recursive: true, force: true });
  compiled.cleanup();
});

function holdInChild(kind: string, name: string, mode: 'shared' | 'exclusive') {
  const code = `
    import { lock } from '${compiled.url('src/engine/catalogue/locks.js')}';
    import { layout } from '${compiled.url('src/engine/catalogue/paths.js')}';
    lock(layout(${JSON.stringify(base)}), ${JSON.stringify(kind)}, ${JSON.stringify(name)}, ${JSON.stringify(mode)});
    console.log('HELD');
    setInterval(() => {}, 1000);
  `;
  return startNode(code);
}

describe('locks within one process', () => {
  it('writes the holder pid; exclusive excludes; release frees', () => {
    const a = lock(L, 'containers', 'web', 'exclusive');
    expect(readFileSync(L.lockFile('containers', 'web'), 'utf8')).toBe(`${process.pid}\n`);
    expect(() => lock(L, 'containers', 'web', 'exclusive')).toThrow(
      `cannot lock containers/web: locked by pid ${process.pid}`,
    );
    expect(() => lock(L, 'containers', 'web', 'shared')).toThrow(
      `cannot read-lock containers/web: locked by pid ${process.pid}`,
    );
    a.release();
    a.release(); // idempotent
    const b = lock(L, 'containers', 'web', 'exclusive');
    b.release();
  });

  it('shared locks coexist but block an exclusive one', () => {
    const r1 = lock(L, 'fs', 'ubuntu', 'shared');
    const r2 = lock(L, 'fs', 'ubuntu', 'shared');
    expect(() => lock(L, 'fs', 'ubuntu', 'exclusive')).toThrow(SdmeError);
    r1.release();
    expect(() => lock(L, 'fs', 'ubuntu', 'exclusive')).toThrow(/cannot lock fs\/ubuntu/);
    r2.release();
    lock(L, 'fs', 'ubuntu', 'exclusive').release();
  });

  it('withLock releases even when fn throws', async () => {
    await expect(
      withLock(L, 'pods', 'p1', 'exclusive', () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    lock(L, 'pods', 'p1', 'exclusive').release();
  });
});

describe('locks across processes', () => {
  it('a child holding the lock is named; after SIGKILL the lock is free', async () => {
    const kid = holdInChild('containers', 'db', 'exclusive');
    try {
      await waitFor(() => kid.output().includes('HELD'));
      const pid = kid.child.pid!;
      expect(() => lock(L, 'containers', 'db', 'exclusive')).toThrow(`cannot lock containers/db: locked by pid ${pid}`);
      expect(() => lock(L, 'containers', 'db', 'shared')).toThrow(`cannot read-lock containers/db: locked by pid ${pid}`);
      kid.child.kill('SIGKILL');
      await kid.exited;
      const l = lock(L, 'containers', 'db', 'exclusive');
      expect(readFileSync(L.lockFile('containers', 'db'), 'utf8')).toBe(`${process.pid}\n`);
      l.release();
    } finally {
      kid.child.kill('SIGKILL');
    }
  });

  it('a child shared lock allows our shared lock and refuses our exclusive one', async () => {
    const kid = holdInChild('fs', 'debian', 'shared');
    try {
      await waitFor(() => kid.output().includes('HELD'));
      const r = lock(L, 'fs', 'debian', 'shared');
      r.release();
      expect(() => lock(L, 'fs', 'debian', 'exclusive')).toThrow(/cannot lock fs\/debian: locked by pid \d+/);
    } finally {
      kid.child.kill('SIGKILL');
      await kid.exited;
    }
    lock(L, 'fs', 'debian', 'exclusive').release();
  });
});
