/**
 * Bad input reaching createContainer (temp datadir, real files): host checks
 * run before the `creating` callback and before any write; unexpected OS
 * errors while building the tree are rolled back and become one-line
 * SdmeErrors.
 */
import { lstat, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/engine/catalogue/config.js';
import { emptyState } from '../../src/engine/catalogue/container-state.js';
import { layout } from '../../src/engine/catalogue/paths.js';
import { asCreateError, createContainer } from '../../src/engine/containers/create.js';
import type { Ctx } from '../../src/engine/context.js';
import { SdmeError } from '../../src/engine/errors.js';

let dir: string;
let ctx: Ctx;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sdme-create-bad-'));
  const config = { ...defaultConfig(), datadir: join(dir, 'data') };
  ctx = { config, configPath: join(dir, 'sdme.conf'), layout: layout(config.datadir), note: () => {}, verbose: false };
  await mkdir(join(dir, 'host'), { recursive: true });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const calls: string[] = [];
const opts = (over = {}) => ({
  hostUnitDir: join(dir, 'none'),
  hostRoot: join(dir, 'host'),
  listMachines: async () => [],
  systemdVersion: 252,
  onCreating: (n: string) => calls.push(n),
  ...over,
});

/** What create left in the datadir (state files and container dirs). */
async function leftovers(): Promise<string[]> {
  const ls = async (d: string) => (await readdir(d).catch(() => [] as string[])).filter((n) => !n.startsWith('.'));
  return [...(await ls(ctx.layout.stateDir)).map((n) => `state/${n}`), ...(await ls(ctx.layout.containersDir)).map((n) => `containers/${n}`)];
}

describe('unexpected OS errors while building the tree', () => {
  it('a 300-byte opaque dir component: rolled back, one-line SdmeError naming mkdir and ENAMETOOLONG', async () => {
    const spec = { ...emptyState('longo'), opaqueDirs: [`/${'m'.repeat(300)}`] };
    const err = await createContainer(ctx, spec, opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SdmeError);
    expect((err as Error).message).toMatch(/^cannot create container 'longo': mkdir \S+\/upper\/m{300}: ENAMETOOLONG$/);
    expect((err as Error).message).not.toContain('\n');
    expect(await leftovers()).toEqual([]);
  });

  it('a 300-byte masked service: rolled back, symlink named in the error', async () => {
    const spec = { ...emptyState('longm'), maskedServices: [`${'m'.repeat(300)}.service`] };
    await expect(createContainer(ctx, spec, opts())).rejects.toThrow(
      /^cannot create container 'longm': symlink \/dev\/null -> \S+\/upper\/etc\/systemd\/system\/m{300}\.service: ENAMETOOLONG$/,
    );
    expect(await leftovers()).toEqual([]);
  });

  it.each([
    [Object.assign(new Error('x'), { code: 'ENOSPC', syscall: 'write', path: '/d/f' }), "cannot create container 'n': write /d/f: ENOSPC"],
    [Object.assign(new Error('x'), { code: 'EACCES', syscall: 'open' }), "cannot create container 'n': open: EACCES"],
    [Object.assign(new Error('x'), { code: 'EIO' }), "cannot create container 'n': EIO"],
  ])('asCreateError wraps errno errors (%#)', (e, msg) => {
    const out = asCreateError('n', e) as SdmeError;
    expect(out).toBeInstanceOf(SdmeError);
    expect(out.message).toBe(msg);
    expect(out.cause).toBe(e);
  });

  it('asCreateError passes SdmeErrors and non-errno errors through unchanged', () => {
    const s = new SdmeError('already');
    const bug = new TypeError('x is undefined');
    const odd = Object.assign(new Error('y'), { code: 'ERR_INVALID_ARG_TYPE' });
    expect(asCreateError('n', s)).toBe(s);
    expect(asCreateError('n', bug)).toBe(bug);
    expect(asCreateError('n', odd)).toBe(odd);
  });
});

describe('host checks come before the creating callback and before any write', () => {
  beforeEach(() => {
    calls.length = 0;
  });

  it('a missing bind host: refused, callback not called, nothing written', async () => {
    const spec = { ...emptyState('mb'), binds: [{ host: join(dir, 'missing'), container: '/x', mode: 'rw' as const }] };
    await expect(createContainer(ctx, spec, opts())).rejects.toThrow(/bind host path '.*missing' does not exist/);
    expect(calls).toEqual([]);
    expect(await leftovers()).toEqual([]);
  });

  it('a missing rootfs: refused before the callback', async () => {
    await expect(createContainer(ctx, { ...emptyState('mr'), rootfs: 'nope' }, opts())).rejects.toThrow(
      "root filesystem 'nope' not found (see 'sdme fs ls')",
    );
    expect(calls).toEqual([]);
  });

  it('the callback gets the generated name once, before the state file exists', async () => {
    let stateAtCallback: boolean | undefined;
    const name = await createContainer(ctx, emptyState(''), opts({
      onCreating: (n: string) => {
        calls.push(n);
        stateAtCallback = false;
        lstat(ctx.layout.stateFile(n)).then(() => (stateAtCallback = true), () => undefined);
      },
    }));
    expect(calls).toEqual([name]);
    expect(name).toMatch(/^[a-z]/);
    expect(stateAtCallback).toBe(false);
  });
});
