import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lock, lockTestHooks, removeLockFile, withLock } from '../../src/engine/catalogue/locks.js';
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

describe('lock file removal (unlink-safe)', () => {
  it('release({unlinkIfOwner}) removes the file of an exclusive lock; shared holders never unlink', () => {
    const path = L.lockFile('fs', 'gone');
    lock(L, 'fs', 'gone', 'exclusive').release({ unlinkIfOwner: true });
    expect(existsSync(path)).toBe(false);
    const s1 = lock(L, 'fs', 'gone', 'shared');
    s1.release({ unlinkIfOwner: true });
    expect(existsSync(path)).toBe(true);
    lock(L, 'fs', 'gone', 'exclusive').release({ unlinkIfOwner: true });
    expect(existsSync(path)).toBe(false);
  });

  it('a lock file replaced under a holder is not unlinked by it, and the new file can be locked', () => {
    const path = L.lockFile('containers', 'swap');
    const a = lock(L, 'containers', 'swap', 'exclusive');
    writeFileSync(`${path}.new`, '');
    renameSync(`${path}.new`, path); // someone replaced the file: a's inode is orphaned
    const b = lock(L, 'containers', 'swap', 'exclusive'); // locks the new inode
    a.release({ unlinkIfOwner: true }); // must not remove b's file
    expect(existsSync(path)).toBe(true);
    b.release({ unlinkIfOwner: true });
    expect(existsSync(path)).toBe(false);
  });

  it('removeLockFile removes a free lock file, leaves a held one, and is false when absent', () => {
    const path = L.lockFile('pods', 'p9');
    lock(L, 'pods', 'p9', 'exclusive').release();
    expect(removeLockFile(L, 'pods', 'p9')).toBe(true);
    expect(existsSync(path)).toBe(false);
    expect(removeLockFile(L, 'pods', 'p9')).toBe(false);
    const held = lock(L, 'pods', 'p9', 'shared');
    expect(removeLockFile(L, 'pods', 'p9')).toBe(false);
    expect(existsSync(path)).toBe(true);
    held.release();
  });

  it('withLock unlinkAfter decides after fn (also when fn throws)', async () => {
    const path = L.lockFile('fs', 'wl');
    await expect(
      withLock(L, 'fs', 'wl', 'exclusive', () => {
        throw new Error('boom');
      }, { unlinkAfter: () => true }),
    ).rejects.toThrow('boom');
    expect(existsSync(path)).toBe(false);
    await withLock(L, 'fs', 'wl', 'exclusive', () => 1, { unlinkAfter: () => false });
    expect(statSync(path).isFile()).toBe(true);
  });

  it('an acquirer that opened the file just before the holder unlinked it retries on the new file', () => {
    const path = L.lockFile('containers', 'seam');
    const a = lock(L, 'containers', 'seam', 'exclusive');
    let c: ReturnType<typeof lock> | undefined;
    lockTestHooks.afterOpen = () => {
      lockTestHooks.afterOpen = undefined;
      // between our open() and flock(): the holder unlinks and leaves, a third party locks the new file
      a.release({ unlinkIfOwner: true });
      c = lock(L, 'containers', 'seam', 'exclusive');
    };
    try {
      expect(() => lock(L, 'containers', 'seam', 'exclusive')).toThrow(
        `cannot lock containers/seam: locked by pid ${process.pid}`,
      );
    } finally {
      lockTestHooks.afterOpen = undefined;
    }
    expect(c).toBeDefined();
    c!.release({ unlinkIfOwner: true });
    expect(existsSync(path)).toBe(false);
  });

  it('two processes locking and unlinking in a loop never hold the same lock at once', async () => {
    // Bounded by wall time, not by a try count (a try count is a timing guess: a
    // loaded machine can deschedule the holder while the other side spins), and
    // both start together (under load one child could otherwise finish before
    // the other has even started, and the run would prove nothing).
    const log = `${base}/mutex.log`;
    const go = `${base}/mutex.go`;
    writeFileSync(log, '');
    const code = (tag: string) => `
      import { lock } from '${compiled.url('src/engine/catalogue/locks.js')}';
      import { layout } from '${compiled.url('src/engine/catalogue/paths.js')}';
      import { appendFileSync, existsSync } from 'node:fs';
      const L = layout(${JSON.stringify(base)});
      const nap = new Int32Array(new SharedArrayBuffer(4));
      console.log('READY');
      while (!existsSync(${JSON.stringify(go)})) Atomics.wait(nap, 0, 0, 2);
      const deadline = Date.now() + 40000;
      let held = 0;
      let tries = 0;
      while (held < 300 && Date.now() < deadline) {
        tries++;
        let l;
        try { l = lock(L, 'containers', 'race', 'exclusive'); } catch { continue; }
        appendFileSync(${JSON.stringify(log)}, '${tag}+\\n');
        appendFileSync(${JSON.stringify(log)}, '${tag}-\\n');
        l.release({ unlinkIfOwner: true });
        held++;
      }
      console.log('DONE ' + held + ' in ' + tries + ' tries');
    `;
    const kids = [startNode(code('a')), startNode(code('b'))];
    try {
      await waitFor(() => kids.every((k) => k.output().includes('READY')), 30_000);
      writeFileSync(go, '');
      await Promise.all(kids.map((k) => k.exited));
      for (const k of kids) expect(k.output()).toMatch(/DONE 300 in \d+ tries/);
      const lines = readFileSync(log, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(1200);
      for (let i = 0; i < lines.length; i += 2) {
        // each + is immediately followed by the same holder's -
        expect([lines[i], lines[i + 1]]).toEqual([lines[i], lines[i]!.replace('+', '-')]);
        expect(lines[i]!.endsWith('+')).toBe(true);
      }
      // they really contended: the lock changed hands between the two many times
      const handovers = lines.filter((l, i) => i > 0 && l.endsWith('+') && l[0] !== lines[i - 1]![0]).length;
      expect(handovers).toBeGreaterThanOrEqual(10);
    } finally {
      for (const k of kids) k.child.kill('SIGKILL');
    }
  }, 90_000);
});
