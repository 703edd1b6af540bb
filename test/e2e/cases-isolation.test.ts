/**
 * Cases paths-special-chars and veth-name-collisions (shared/cases/), in the
 * sandbox host. Traffic: none; only interfaces nspawn makes inside the sandbox.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/native/run.js';
import { hostVethName } from '../../src/engine/network/ifnames.js';
import { cleanupContainers, inSandbox, sdme, uniqueName } from './helpers.js';

const PREFIX = 'isoc';
const ODD = ['/srv/isoc-t%3Ax', '/srv/isoc-with space', '/srv/isoc-dol$HOME', '/srv/isoc-q"x', '/srv/isoc-back\\slash'];
const TARGETS = ['/data', '/mnt/a', '/mnt/b', '/mnt/c', '/mnt/d'];

async function ok(args: string[], timeoutMs = 180_000): Promise<string> {
  const r = await sdme(args, { timeoutMs });
  if (r.code !== 0) throw new Error(`sdme ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  inSandbox();
  await cleanupContainers(PREFIX);
  for (const p of ODD) {
    mkdirSync(p, { recursive: true });
    writeFileSync(`${p}/content`, `host path ${p}\n`);
  }
  mkdirSync('/srv/isoc-colon:x', { recursive: true });
});

afterAll(async () => {
  const left = await cleanupContainers(PREFIX);
  for (const p of [...ODD, '/srv/isoc-colon:x']) rmSync(p, { recursive: true, force: true });
  expect(left).toEqual([]);
});

describe('paths-special-chars', () => {
  it('binds with %, space, $, ", \\ show the exact host content inside; the unit verifies cleanly', async () => {
    const name = uniqueName(`${PREFIX}-paths`);
    await ok(['create', '--name', name, ...ODD.flatMap((p, i) => ['-b', `${p}:${TARGETS[i]}`])]);
    await ok(['start', name]);
    for (const [i, p] of ODD.entries()) {
      expect(await ok(['exec', name, 'cat', `${TARGETS[i]}/content`])).toBe(`host path ${p}\n`);
    }
    const dropin = readFileSync(`/etc/systemd/system/sdme@${name}.service.d/nspawn.conf`, 'utf8');
    expect(dropin).toContain('t%%3Ax'); // % escaped for systemd
    expect(dropin).toContain('dol$$HOME'); // $ escaped, never expanded
    const v = await run('systemd-analyze', ['verify', `sdme@${name}.service`], { timeoutMs: 60_000 });
    expect([v.exitCode, v.stderr]).toEqual([0, '']);
    await ok(['rm', '-f', name]);
  });

  it('a host path containing ":" is refused at create, nothing written', async () => {
    const name = uniqueName(`${PREFIX}-colon`);
    const r = await sdme(['create', '--name', name, '-b', '/srv/isoc-colon:x:/mnt/x']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^Error: .*bind/m);
    expect((await sdme(['ps'])).stdout).not.toContain(name);
  });
});

describe('veth-name-collisions', () => {
  it('two long-prefix veth containers started together both run, with distinct host names of <= 15 bytes', async () => {
    const base = uniqueName(`${PREFIX}-longprefix`);
    const a = `${base}1`;
    const b = `${base}2`;
    await ok(['create', '--name', a, '--network-veth']);
    await ok(['create', '--name', b, '--network-veth']);
    await ok(['start', a, b]);
    const names = [a, b].map((n) => hostVethName({ name: n, networkVeth: true })!);
    expect(names[0]).not.toBe(names[1]);
    for (const n of names) {
      expect(Buffer.byteLength(n)).toBeLessThanOrEqual(15);
      // the host link nspawn made has exactly the name we predicted
      expect((await run('ip', ['link', 'show', 'dev', n], { timeoutMs: 10_000 })).exitCode).toBe(0);
    }
    for (const n of [a, b]) {
      const st = await run('systemctl', ['is-active', `sdme@${n}.service`]);
      expect(st.stdout.trim()).toBe('active');
    }
    await ok(['rm', '-f', a, b]);
  });
});
