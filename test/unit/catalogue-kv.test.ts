import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SdmeError } from '../../src/engine/errors.js';
import { compareBytes, parseKV, serializeKV, writeFileAtomic } from '../../src/engine/catalogue/kv.js';

const dir = mkdtempSync(join(tmpdir(), 'sdme-kv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseKV', () => {
  it('splits on the first =, trims lines, skips blanks, last duplicate wins', () => {
    const kv = parseKV('  A=1  \n\nENVS=X=1|Y=a=b\r\n\tB=\nA=2\n');
    expect({ ...kv }).toEqual({ A: '2', ENVS: 'X=1|Y=a=b', B: '' });
  });

  it('keeps inner spaces around = as part of key/value (Rust split_once on the trimmed line)', () => {
    expect({ ...parseKV('K = v \n') }).toEqual({ 'K ': ' v' });
  });

  it('a line without = is an error naming the file and line', () => {
    let err: unknown;
    try {
      parseKV('A=1\n\nnot a pair\n', '/x/state/web');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SdmeError);
    expect((err as Error).message).toBe("invalid line 3 in /x/state/web: expected KEY=VALUE, got 'not a pair'");
  });
});

describe('serializeKV', () => {
  it('sorts by byte order like BTreeMap (CPUS before CPU_WEIGHT, upper before lower)', () => {
    expect(serializeKV({ CPU_WEIGHT: '1', CPUS: '2', b: '3', B: '4', A_: '5', A: '6' })).toBe(
      'A=6\nA_=5\nB=4\nCPUS=2\nCPU_WEIGHT=1\nb=3\n',
    );
    expect(compareBytes('é', 'z')).toBeGreaterThan(0);
  });

  it('refuses newlines in values and keys that cannot round-trip', () => {
    expect(() => serializeKV({ A: 'x\ny' })).toThrow('value for A must not contain a newline');
    expect(() => serializeKV({ 'A=B': 'x' })).toThrow(SdmeError);
    expect(() => serializeKV({ '': 'x' })).toThrow(SdmeError);
  });

  it('round-trips through parseKV', () => {
    const rec = { NAME: 'web', ROOTFS: '', ENVS: 'A=b=c|D=', PORTS: 'tcp:80:80' };
    expect({ ...parseKV(serializeKV(rec)) }).toEqual(rec);
  });
});

describe('writeFileAtomic', () => {
  it('replaces content, applies the mode exactly and leaves no temp file', async () => {
    const p = join(dir, 'web');
    writeFileSync(p, 'old\n', { mode: 0o644 });
    const old = process.umask(0o077);
    try {
      await writeFileAtomic(p, 'NAME=web\n', 0o600);
      await writeFileAtomic(join(dir, 'pub'), 'x', 0o644);
    } finally {
      process.umask(old);
    }
    expect(readFileSync(p, 'utf8')).toBe('NAME=web\n');
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'pub')).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir).sort()).toEqual(['pub', 'web']);
  });
});

describe('writeFileAtomic under concurrency', () => {
  it('20 concurrent writers of one file: the result is exactly one complete payload, no temp files left', async () => {
    const p = join(dir, 'race');
    const payloads = Array.from({ length: 20 }, (_, i) => `WRITER=${i}\n${'X'.repeat(100_000 + i)}\n`);
    await Promise.all(payloads.map((d) => writeFileAtomic(p, d, 0o600)));
    expect(payloads).toContain(readFileSync(p, 'utf8'));
    expect(readdirSync(dir).filter((f) => f.startsWith('.race'))).toEqual([]);
  });
});
