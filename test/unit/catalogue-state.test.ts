import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claimStateFile,
  emptyState,
  listStateEntries,
  listStateNames,
  nameTakenOnDisk,
  parseBindEntry,
  parseState,
  readState,
  removeStateFile,
  resolveName,
  serializeState,
  stateFromKV,
  stateToKV,
  writeState,
} from '../../src/engine/catalogue/container-state.js';
import { parseKV } from '../../src/engine/catalogue/kv.js';
import { layout, type Layout } from '../../src/engine/catalogue/paths.js';
import { compileForChild, startNode } from './catalogue-support.js';

// A state file as upstream sdme 0.18 writes it (BTreeMap order, `1` for the two
// network booleans, `yes` elsewhere, `|` for BINDS/ENVS), including kube keys
// and ENABLED=no that we do not model.
const UPSTREAM_FIXTURE = `ADD_CAPS=CAP_NET_ADMIN
BINDS=/srv/www:/var/www:ro|/srv/with space:/mnt/a:rw
CPUS=0.5
CPU_WEIGHT=100
CREATED=1718000000
DROP_CAPS=CAP_SYS_PTRACE,CAP_SYS_RAWIO,CAP_SYS_BOOT
ENABLED=no
ENVS=TZ=UTC|GREETING=a=b
HAS_PROBES=yes
KUBE=yes
KUBE_CONTAINERS=web,sidecar
KUBE_YAML_HASH=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
MASKED_SERVICES=systemd-resolved.service,getty@tty1.service
MEMORY=2G
NAME=web-1
NETWORK_VETH=1
NO_NEW_PRIVS=yes
OCI_APP=nginx
OCI_POD=pod-a
OCI_VOLUMES=/var/cache/nginx,/var/lib/nginx
OPAQUE_DIRS=/etc/systemd/system,/var/log
PORTS=tcp:8080:80,udp:53:53,tcp:443:443
PRIVATE_NETWORK=1
READ_ONLY=yes
RESTART_POLICY=on-failure
RESTART_SEC=2
ROOTFS=nginx
SYSCALL_FILTER=@system-service,~@mount
SYSTEMD_LOG_LEVEL=debug
USERNS=yes
USERNS_RANGE=65536
USERNS_SHIFT=1879048192
`;

const HOST_CLONE_FIXTURE = `CREATED=1718000001
NAME=hostbox
OPAQUE_DIRS=/etc/systemd/system,/var/log
ROOTFS=
`;

describe('state <-> KV', () => {
  it('upstream fixture round-trips byte for byte', () => {
    expect(serializeState(parseState(UPSTREAM_FIXTURE))).toBe(UPSTREAM_FIXTURE);
    expect(serializeState(parseState(HOST_CLONE_FIXTURE))).toBe(HOST_CLONE_FIXTURE);
  });

  it('types the modeled keys and keeps the rest in extra', () => {
    const s = parseState(UPSTREAM_FIXTURE);
    expect(s.name).toBe('web-1');
    expect(s.created).toBe(1718000000);
    expect(s.rootfs).toBe('nginx');
    expect(s.privateNetwork).toBe(true);
    expect(s.networkVeth).toBe(true);
    expect(s.binds).toEqual([
      { host: '/srv/www', container: '/var/www', mode: 'ro' },
      { host: '/srv/with space', container: '/mnt/a', mode: 'rw' },
    ]);
    expect(s.envs).toEqual(['TZ=UTC', 'GREETING=a=b']);
    expect(s.ports).toEqual(['tcp:8080:80', 'udp:53:53', 'tcp:443:443']);
    expect(s.userns).toBe(true);
    expect(s.usernsShift).toBe(1879048192);
    expect(s.restartPolicy).toBe('on-failure');
    expect(s.restartSec).toBe(2);
    expect(s.enabled).toBe(false);
    expect(s.extra).toEqual({
      HAS_PROBES: 'yes',
      KUBE: 'yes',
      KUBE_CONTAINERS: 'web,sidecar',
      KUBE_YAML_HASH: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    });
    const host = parseState(HOST_CLONE_FIXTURE);
    expect(host.rootfs).toBe('');
    expect(host.enabled).toBeUndefined();
  });

  it('reader treats anything but 1 / yes as false (PRIVATE_NETWORK=yes is false upstream)', () => {
    const s = stateFromKV(parseKV('NAME=a\nPRIVATE_NETWORK=yes\nNETWORK_VETH=true\nUSERNS=1\nREAD_ONLY=YES\n'));
    expect([s.privateNetwork, s.networkVeth, s.userns, s.readOnly]).toEqual([false, false, false, false]);
  });

  it('writer: ROOTFS always, empty lists/unset values omitted, booleans 1 vs yes', () => {
    const s = emptyState('a', 100);
    expect(serializeState(s)).toBe('CREATED=100\nNAME=a\nROOTFS=\n');
    s.privateNetwork = true;
    s.userns = true;
    s.enabled = true;
    s.memory = '';
    s.ports = [];
    expect(stateToKV(s)).toEqual({ CREATED: '100', NAME: 'a', ROOTFS: '', PRIVATE_NETWORK: '1', USERNS: 'yes', ENABLED: 'yes' });
  });

  it('typed fields win over stale copies of modeled keys in extra', () => {
    const s = emptyState('a', 1);
    s.extra = { NAME: 'evil', KUBE: 'yes' };
    expect(stateToKV(s).NAME).toBe('a');
    expect(stateToKV(s).KUBE).toBe('yes');
  });

  it.each([
    ['/a:/b:ro', { host: '/a', container: '/b', mode: 'ro' }],
    ['/a:/b:rw', { host: '/a', container: '/b', mode: 'rw' }],
    ['/h:ost:/b:ro', { host: '/h:ost', container: '/b', mode: 'ro' }],
    ['/a:/b', { host: '/a', container: '/b', mode: 'rw' }],
  ])('bind entry %s', (entry, want) => {
    expect(parseBindEntry(entry)).toEqual(want);
  });
});

describe('state files on disk', () => {
  let base: string;
  let L: Layout;
  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'sdme-state-'));
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  let n = 0;
  const fresh = () => {
    L = layout(join(base, `d${n++}`));
    return L;
  };

  it('claim creates state/ 0700 and the file 0600; a second claim fails "already exists"', async () => {
    fresh();
    await claimStateFile(L, 'web');
    expect(statSync(L.stateFile('web')).mode & 0o777).toBe(0o600);
    expect(statSync(L.stateDir).mode & 0o777).toBe(0o700);
    expect(statSync(L.datadir).mode & 0o777).toBe(0o700);
    await expect(claimStateFile(L, 'web')).rejects.toThrow("container 'web' already exists");
    await expect(claimStateFile(L, 'Bad')).rejects.toThrow(/invalid container name 'Bad'/);
  });

  it('writeState/readState round-trip; upstream file read then rewritten unchanged', async () => {
    fresh();
    mkdirSync(L.stateDir, { recursive: true });
    writeFileSync(L.stateFile('web-1'), UPSTREAM_FIXTURE, { mode: 0o600 });
    const s = await readState(L, 'web-1');
    await writeState(L, s);
    expect(readFileSync(L.stateFile('web-1'), 'utf8')).toBe(UPSTREAM_FIXTURE);
    await expect(readState(L, 'nope')).rejects.toThrow("container 'nope' does not exist");
  });

  it('an empty claimed file reads as a state named after the file', async () => {
    fresh();
    await claimStateFile(L, 'fresh');
    const s = await readState(L, 'fresh');
    expect(s.name).toBe('fresh');
  });

  it('listStateNames skips temp files and invalid names; resolveName: exact, unique prefix, errors', async () => {
    fresh();
    mkdirSync(L.stateDir, { recursive: true });
    for (const f of ['mybox', 'web', 'web-1', 'webapp', '.web.tmp', 'UPPER']) writeFileSync(join(L.stateDir, f), '');
    expect(await listStateNames(L)).toEqual(['mybox', 'web', 'web-1', 'webapp']);
    expect(await resolveName(L, 'web')).toBe('web');
    expect(await resolveName(L, 'my')).toBe('mybox');
    expect(await resolveName(L, 'weba')).toBe('webapp');
    await expect(resolveName(L, 'we')).rejects.toThrow("ambiguous name 'we', could match: web, web-1, webapp");
    await expect(resolveName(L, 'zzz')).rejects.toThrow("no container found matching 'zzz'");
    await expect(resolveName(L, '')).rejects.toThrow("no container found matching ''");
    expect(await listStateNames(layout(join(base, 'missing')))).toEqual([]);
  });

  it("names valid for upstream sdme (trailing '-') are listed, resolved, read, rewritten and removed; new ones are refused", async () => {
    fresh();
    mkdirSync(L.stateDir, { recursive: true });
    writeFileSync(L.stateFile('old-'), 'CREATED=1\nNAME=old-\nROOTFS=\n', { mode: 0o600 });
    expect(await listStateNames(L)).toEqual(['old-']);
    expect(await resolveName(L, 'old-')).toBe('old-');
    expect(await resolveName(L, 'ol')).toBe('old-');
    const s = await readState(L, 'old-');
    expect(s.name).toBe('old-');
    s.enabled = false;
    await writeState(L, s);
    expect(readFileSync(L.stateFile('old-'), 'utf8')).toContain('ENABLED=no');
    await expect(claimStateFile(L, 'new-')).rejects.toThrow(/must not end with '-'/);
    await removeStateFile(L, 'old-');
    expect(await listStateNames(L)).toEqual([]);
  });

  it('a directory or symlink in state/ is listed with a problem, reads as a one-line error, and rm handles it', async () => {
    fresh();
    mkdirSync(join(L.stateDir, 'dirbox', 'x'), { recursive: true });
    mkdirSync(join(L.stateDir, 'emptydir'));
    writeFileSync(join(base, 'elsewhere'), 'NAME=evil\n');
    symlinkSync(join(base, 'elsewhere'), join(L.stateDir, 'linkbox'));
    writeFileSync(L.stateFile('web'), 'NAME=web\n');
    expect(await listStateEntries(L)).toEqual([
      { name: 'dirbox', problem: 'state entry is a directory, not a file' },
      { name: 'emptydir', problem: 'state entry is a directory, not a file' },
      { name: 'linkbox', problem: 'state entry is a symbolic link, not a file' },
      { name: 'web' },
    ]);
    expect(await listStateNames(L)).toEqual(['dirbox', 'emptydir', 'linkbox', 'web']);
    await expect(readState(L, 'dirbox')).rejects.toThrow(`${L.stateFile('dirbox')} is a directory, not a state file`);
    await expect(readState(L, 'linkbox')).rejects.toThrow(`${L.stateFile('linkbox')} is a symbolic link, not a state file`);
    await removeStateFile(L, 'emptydir');
    expect(existsSync(L.stateFile('emptydir'))).toBe(false);
    await expect(removeStateFile(L, 'dirbox')).rejects.toThrow(`${L.stateFile('dirbox')} is a non-empty directory, not a state file; remove it by hand`);
    await removeStateFile(L, 'linkbox');
    expect(existsSync(join(base, 'elsewhere'))).toBe(true);
    expect(await listStateNames(L)).toEqual(['dirbox', 'web']);
  });

  it('nameTakenOnDisk checks state, containers and machines dirs', async () => {
    fresh();
    const machines = join(base, `machines${n}`);
    mkdirSync(join(machines, 'm1'), { recursive: true });
    mkdirSync(L.containerDir('c1'), { recursive: true });
    mkdirSync(L.stateDir, { recursive: true });
    writeFileSync(L.stateFile('s1'), '');
    for (const [name, want] of [['m1', true], ['c1', true], ['s1', true], ['free', false]] as const) {
      expect(await nameTakenOnDisk(L, name, machines)).toBe(want);
    }
  });
});

describe('concurrent claims from separate processes', () => {
  const compiled = compileForChild();
  afterAll(() => compiled.cleanup());

  it('10 processes claiming the same name: exactly one wins, the rest get "already exists"', async () => {
    const base = mkdtempSync(join(tmpdir(), 'sdme-race-'));
    try {
      for (let round = 0; round < 3; round++) {
        const datadir = join(base, `r${round}`);
        const go = join(base, `go${round}`);
        const code = `
          import { existsSync } from 'node:fs';
          import { claimStateFile } from '${compiled.url('src/engine/catalogue/container-state.js')}';
          import { layout } from '${compiled.url('src/engine/catalogue/paths.js')}';
          while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 2));
          try { await claimStateFile(layout(${JSON.stringify(datadir)}), 'web'); console.log('WON'); }
          catch (e) { console.log('LOST ' + e.message); }
        `;
        const kids = Array.from({ length: 10 }, () => startNode(code));
        await new Promise((r) => setTimeout(r, 300));
        writeFileSync(go, '');
        await Promise.all(kids.map((k) => k.exited));
        const outs = kids.map((k) => k.output().trim());
        expect(outs.filter((o) => o === 'WON')).toHaveLength(1);
        expect(outs.filter((o) => o === "LOST container 'web' already exists")).toHaveLength(9);
        expect(await listStateNames(layout(datadir))).toEqual(['web']);
      }
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
