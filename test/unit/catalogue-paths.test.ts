import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  dropinDir,
  layout,
  limitsDropin,
  nspawnDropin,
  podNetnsPath,
  TEMPLATE_UNIT_PATH,
  unitName,
  volumeName,
} from '../../src/engine/catalogue/paths.js';
import { makeCtx } from '../../src/engine/context.js';

describe('layout', () => {
  it('maps every datadir path of layout-and-state.md §1', () => {
    const L = layout('/var/lib/sdme');
    expect(L.stateFile('web')).toBe('/var/lib/sdme/state/web');
    expect(L.containerDir('web')).toBe('/var/lib/sdme/containers/web');
    expect(L.upper('web')).toBe('/var/lib/sdme/containers/web/upper');
    expect(L.work('web')).toBe('/var/lib/sdme/containers/web/work');
    expect(L.merged('web')).toBe('/var/lib/sdme/containers/web/merged');
    expect(L.submountDir('web', 'data/deep')).toBe('/var/lib/sdme/containers/web/submounts/data/deep');
    expect(L.fsPath('ubuntu')).toBe('/var/lib/sdme/fs/ubuntu');
    expect(L.fsMeta('ubuntu')).toBe('/var/lib/sdme/fs/.ubuntu.meta');
    expect(L.fsEnv('ubuntu')).toBe('/var/lib/sdme/fs/.ubuntu.env');
    expect(L.fsTxn('ubuntu', 'import', 42)).toBe('/var/lib/sdme/fs/.ubuntu.import-txn-42');
    expect(L.podState('p1')).toBe('/var/lib/sdme/pods/p1/state');
    expect(L.lockFile('userns', 'shift')).toBe('/var/lib/sdme/locks/userns/shift.lock');
    expect(L.volumeDir('db', '/var/lib/mysql')).toBe('/var/lib/sdme/volumes/db/var-lib-mysql');
    expect(L.defaultOciCacheDir).toBe('/var/lib/sdme/cache/oci');
    expect(L.updateCheckFile).toBe('/var/lib/sdme/update-check.json');
  });

  it('systemd paths and unit names use the literal container name', () => {
    expect(TEMPLATE_UNIT_PATH).toBe('/etc/systemd/system/sdme@.service');
    expect(unitName('deb-template')).toBe('sdme@deb-template.service');
    expect(dropinDir('web')).toBe('/etc/systemd/system/sdme@web.service.d');
    expect(nspawnDropin('web')).toBe('/etc/systemd/system/sdme@web.service.d/nspawn.conf');
    expect(limitsDropin('web')).toBe('/etc/systemd/system/sdme@web.service.d/limits.conf');
    expect(podNetnsPath('p1')).toBe('/run/sdme/pods/p1/netns');
  });

  it.each([
    ['/var/lib/mysql', 'var-lib-mysql'],
    ['/data', 'data'],
    ['/a/b/', 'a-b'],
  ])('volumeName(%s) = %s', (p, want) => expect(volumeName(p)).toBe(want));
});

describe('makeCtx', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdme-ctx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('layout follows datadir from the given config; note is injectable', async () => {
    const p = join(dir, 'sdme.conf');
    writeFileSync(p, 'datadir = "/srv/other"\nboot_timeout = 5\n');
    const notes: string[] = [];
    const ctx = await makeCtx({ configPath: p, note: (m) => notes.push(m), verbose: true });
    expect(ctx.layout.stateDir).toBe('/srv/other/state');
    expect(ctx.config.boot_timeout).toBe(5);
    expect(ctx.verbose).toBe(true);
    ctx.note('hello');
    expect(notes).toEqual(['hello']);
  });

  it('a missing config file gives defaults', async () => {
    const ctx = await makeCtx({ configPath: join(dir, 'absent.conf') });
    expect(ctx.layout.datadir).toBe('/var/lib/sdme');
    expect(ctx.verbose).toBe(false);
  });
});
