import { describe, expect, it } from 'vitest';
import { runBatch } from '../../src/cli/batch.js';
import { InterruptedError, SdmeError } from '../../src/engine/errors.js';

function recorder() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('runBatch (with fake actions)', () => {
  it('prints VERB to stderr and names to stdout, in order', async () => {
    const r = recorder();
    const done = await runBatch(['a', 'b'], {
      verb: 'starting',
      past: 'started',
      io: r.io,
      resolve: async (n) => `${n}x`,
      action: async () => {},
    });
    expect(done).toEqual(['ax', 'bx']);
    expect(r.err).toEqual(["starting 'ax'", "starting 'bx'"]);
    expect(r.out).toEqual(['ax', 'bx']);
  });

  it('continues past failures and ends with the PAST error', async () => {
    const r = recorder();
    const p = runBatch(['a', 'bad', 'c', 'gone'], {
      verb: 'removing',
      past: 'removed',
      io: r.io,
      resolve: async (n) => {
        if (n === 'gone') throw new SdmeError("no container found matching 'gone'");
        return n;
      },
      action: async (n) => {
        if (n === 'bad') throw new SdmeError('cannot lock containers/bad: locked by pid 7');
      },
    });
    await expect(p).rejects.toThrow('some containers could not be removed');
    expect(r.out).toEqual(['a', 'c']);
    expect(r.err).toEqual([
      "removing 'a'",
      "removing 'bad'",
      'error: bad: cannot lock containers/bad: locked by pid 7',
      "removing 'c'",
      "error: gone: no container found matching 'gone'",
    ]);
  });

  it('stops after the current item when interrupted', async () => {
    const r = recorder();
    const ac = new AbortController();
    const seen: string[] = [];
    const p = runBatch(['a', 'b', 'c'], {
      verb: 'stopping',
      past: 'stopped',
      io: r.io,
      signal: ac.signal,
      resolve: async (n) => n,
      action: async (n) => {
        seen.push(n);
        if (n === 'a') ac.abort();
      },
    });
    await expect(p).rejects.toBeInstanceOf(InterruptedError);
    expect(seen).toEqual(['a']);
    expect(r.out).toEqual(['a']);
  });
});
