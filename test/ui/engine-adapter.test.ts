import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCtx, type Ctx } from '../../src/engine/context.js';
import { startPhase } from '../../src/engine/containers/start.js';
import type { JournalEntry as EngineJournalEntry, JournalQuery } from '../../src/engine/systemd/journal.js';
import type { SystemdClient } from '../../src/engine/systemd/dbus.js';
import type { ProgressEvent } from '../../src/engine/types.js';
import { EngineAdapter } from '../../src/state/engine-adapter.js';
import { defaultFlags } from '../../src/state/create-flags.js';

let dir = '';
let ctx: Ctx;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sdme-adapter-'));
  await writeFile(join(dir, 'sdme.conf'), `datadir = "${join(dir, 'data')}"\n`);
  ctx = await makeCtx({ configPath: join(dir, 'sdme.conf'), note: () => undefined });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fakeClient = { version: async () => 252 } as unknown as SystemdClient;

describe('EngineAdapter (fake bus client, fake engine start, fake journal)', () => {
  it('startWithProgress: the engine phases once each, in order, plus journal lines as notes', async () => {
    let journalQuery: JournalQuery | null = null;
    let journalAborted = false;
    let releaseJournal!: () => void;
    const journalRead = new Promise<void>((r) => (releaseJournal = r));
    async function* readJournal(q: JournalQuery): AsyncGenerator<EngineJournalEntry> {
      journalQuery = q;
      yield { ts: 1, message: 'Welcome to Debian GNU/Linux 12!\nsecond line', unit: 'sdme@web.service' } as EngineJournalEntry;
      releaseJournal();
      await new Promise<void>((r) => q.signal!.addEventListener('abort', () => r()));
      journalAborted = true;
    }
    const startContainer = async (_ctx: Ctx, name: string, o: { onProgress?: (ev: ProgressEvent) => void } = {}) => {
      o.onProgress?.({ kind: 'phase', message: startPhase.units });
      o.onProgress?.({ kind: 'phase', message: startPhase.startUnit(name) });
      await journalRead;
      o.onProgress?.({ kind: 'phase', message: startPhase.registered(name) });
      o.onProgress?.({ kind: 'phase', message: startPhase.systemdInside(name) });
    };
    const a = new EngineAdapter(ctx, { client: fakeClient, readJournal: readJournal as never, startContainer: startContainer as never });
    const evs: ProgressEvent[] = [];
    await a.startWithProgress('web', (e) => evs.push(e));
    expect(evs.filter((e) => e.kind === 'phase').map((e) => ('message' in e ? e.message : ''))).toEqual([
      'writing unit files',
      'starting sdme@web.service',
      "machine 'web' registered",
      "waiting for systemd inside 'web'",
    ]);
    expect(evs.filter((e) => e.kind === 'note')).toEqual([{ kind: 'note', message: 'Welcome to Debian GNU/Linux 12!' }]);
    expect(journalQuery).toMatchObject({ unit: 'sdme@web.service', lines: 0, follow: true });
    await new Promise((r) => setTimeout(r, 0));
    expect(journalAborted).toBe(true);
  });

  it('validateCreateFlags: a bridge this host lacks is an error on the bridge field', async () => {
    const a = new EngineAdapter(ctx, { client: fakeClient });
    const v = await a.validateCreateFlags({ ...defaultFlags('box'), rootfs: '', network: 'bridge', bridge: 'sdmenobr7' });
    expect(v.errors).toEqual([{ field: 'bridge', message: "bridge 'sdmenobr7' does not exist on this host" }]);
    const ok = await a.validateCreateFlags({ ...defaultFlags('box'), network: 'veth' });
    expect(ok.errors).toEqual([]);
  });
});
