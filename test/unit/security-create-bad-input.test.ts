/**
 * Bad input reaching createContainer (temp datadir, real files): host checks
 * run before the `creating` callback and before any write; unexpected OS
 * errors while building the tree are rolled back and become one-line
 * SdmeErrors; --network-bridge must name an existing bridge (fake sysfs).
 */
import { lstat, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/engine/catalogue/config.js';
import { emptyState } from '../../src/engine/catalogue/container-state.js';
import { layout } from '../../src/engine/catalogue/paths.js';
import { asCreateError, createContainer } from '../../src/engine/containers/create.js';
import { startContainer } from '../../src/engine/containers/start.js';
import type { SystemdClient } from '../../src/engine/systemd/dbus.js';
import type { Ctx } from '../../src/engine/context.js';
import { SdmeError } from '../../src/engine/errors.js';
import { assertBridgeExists, bridgeExists } from '../../src/engine/network/ifnames.js';

let dir: string;
let ctx: Ctx;
let sysNet: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sdme-create-bad-'));
  const config = { ...defaultConfig(), datadir: join(dir, 'data') };
  ctx = { config, configPath: join(dir, 'sdme.conf'), layout: layout(config.datadir), note: () => {}, verbose: false };
  sysNet = join(dir, 'sys-class-net');
  await mkdir(join(sysNet, 'br0', 'bridge'), { recursive: true });
  await mkdir(join(sysNet, 'eth0'), { recursive: true });
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
  sysClassNet: sysNet,
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

  it('a missing bridge: refused before the callback; an existing one is accepted', async () => {
    const spec = (b: string) => ({ ...emptyState(`nb-${b}`), privateNetwork: true, networkBridge: b });
    await expect(createContainer(ctx, spec('br9'), opts())).rejects.toThrow(/^bridge 'br9' does not exist on this host/);
    await expect(createContainer(ctx, spec('eth0'), opts())).rejects.toThrow(/^bridge 'eth0' does not exist/);
    expect(calls).toEqual([]);
    expect(await leftovers()).toEqual([]);
    expect(await createContainer(ctx, spec('br0'), opts())).toBe('nb-br0');
    expect(calls).toEqual(['nb-br0']);
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

describe('bridgeExists (fake /sys/class/net)', () => {
  it('only interfaces with a bridge/ subdir are bridges; odd names are never looked up', () => {
    expect(bridgeExists('br0', sysNet)).toBe(true);
    expect(bridgeExists('eth0', sysNet)).toBe(false);
    expect(bridgeExists('nope', sysNet)).toBe(false);
    expect(bridgeExists('../br0', sysNet)).toBe(false);
    expect(() => assertBridgeExists('nope', sysNet)).toThrow(SdmeError);
    expect(() => assertBridgeExists('br0', sysNet)).not.toThrow();
  });
});

describe('start: the bridge is checked before anything is written or started (fake systemd client)', () => {
  it('a bridge gone since create is refused before the template, drop-ins or StartUnit', async () => {
    const name = await createContainer(ctx, { ...emptyState('gone'), privateNetwork: true, networkBridge: 'br0' }, opts());
    const called: string[] = [];
    const client = {
      unitActiveStates: async () => new Map([[`sdme@${name}.service`, 'inactive']]),
      machineState: async () => undefined,
      // the next step would write the host's template unit: stop there if the check is missed
      version: async () => {
        called.push('version');
        throw new Error('version() reached');
      },
    } as unknown as SystemdClient;
    await rm(join(sysNet, 'br0'), { recursive: true });
    await expect(startContainer(ctx, name, { client, sysClassNet: sysNet })).rejects.toThrow(
      /^bridge 'br0' does not exist on this host/,
    );
    expect(called).toEqual([]);
  });
});
