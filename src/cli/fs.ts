/** `sdme fs import|ls|rm|gc`. */
import { Option, type Command } from 'commander';
import { gcMessage, gcRootfs } from '../engine/rootfs/gc.js';
import { importRootfs } from '../engine/rootfs/import.js';
import { formatRootfsTable, listRootfs, rootfsJson } from '../engine/rootfs/list.js';
import { removeRootfs, requireRootfs } from '../engine/rootfs/remove.js';
import { SdmeError } from '../engine/errors.js';
import type { ProgressEvent } from '../engine/types.js';
import type { CliApp } from './app.js';
import { runBatch } from './batch.js';
import { pickFormat } from './ps-format.js';

/** Progress events as stderr lines (phases and notes; percentages at most every 10%). */
export function progressPrinter(err: (line: string) => void): (ev: ProgressEvent) => void {
  let lastPct = -10;
  return (ev) => {
    if (ev.kind === 'phase' || ev.kind === 'note') err(ev.message);
    else if (ev.total) {
      const pct = Math.floor((ev.done / ev.total) * 100);
      if (pct >= lastPct + 10 || pct === 100) {
        lastPct = pct;
        err(`${ev.message ?? 'progress'}: ${pct}%`);
      }
    }
  };
}

export function registerFsCommands(program: Command, app: CliApp): void {
  const fs = program.command('fs').description('manage imported root filesystems');
  fs.command('import <source>')
    .description('import a directory or tarball as a root filesystem')
    .option('--name <name>', 'rootfs name (default: derived from SOURCE)')
    .option('-f, --force', 'replace an existing rootfs of that name', false)
    .addOption(new Option('--install-packages <mode>', 'install systemd into the rootfs').choices(['auto', 'yes', 'no']))
    .addOption(new Option('--oci-mode <mode>', 'OCI image handling').choices(['auto', 'base', 'app']))
    .option('--base-fs <name>', 'base rootfs for OCI application images')
    .option('--no-cache', 'bypass the OCI cache')
    .action(async (source: string, o: { name?: string; force: boolean }) => {
      const ctx = await app.ctx();
      app.io.err(`importing '${source}'`);
      const name = await importRootfs(ctx, source, {
        name: o.name,
        force: o.force,
        signal: app.signal,
        onProgress: progressPrinter(app.io.err),
      });
      app.io.out(name);
    });
  fs.command('ls')
    .description('list root filesystems')
    .option('--json', 'JSON output')
    .option('--json-pretty', 'indented JSON output')
    .action(async (o: { json?: boolean; jsonPretty?: boolean }) => {
      const ctx = await app.ctx();
      const rows = await listRootfs(ctx);
      const fmt = pickFormat(o, ctx.config.default_output_format);
      if (fmt === 'table') process.stdout.write(formatRootfsTable(rows));
      else process.stdout.write(rootfsJson(rows, fmt === 'json-pretty'));
    });
  fs.command('rm [names...]')
    .description('remove root filesystems not used by any container')
    .option('-a, --all', 'remove all root filesystems')
    .option('-f, --force', 'skip the confirmation for --all', false)
    .action(async (names: string[], o: { all?: boolean; force: boolean }) => {
      const ctx = await app.ctx();
      let targets = names;
      if (o.all) {
        if (names.length > 0) throw new SdmeError('give names or --all, not both');
        targets = (await listRootfs(ctx)).map((r) => r.name);
        if (targets.length === 0) {
          app.io.err('no root filesystems found');
          return;
        }
        await confirmAll(app, o.force);
      } else if (targets.length === 0) {
        throw new SdmeError('no root filesystem given (use NAME... or --all)');
      }
      await runBatch(targets, {
        verb: 'removing',
        past: 'removed',
        noun: 'root filesystems',
        io: app.io,
        signal: app.signal,
        verbose: app.verbose(),
        resolve: (n) => requireRootfs(ctx, n),
        action: async (n) => {
          await removeRootfs(ctx, n);
        },
      });
    });
  fs.command('gc')
    .description('remove stale import/remove staging left by dead processes')
    .action(async () => {
      const ctx = await app.ctx();
      app.io.err(gcMessage(await gcRootfs(ctx)));
    });
}

/** `--all` removal: confirm interactively unless -f; refuse when non-interactive. */
export async function confirmAll(app: CliApp, force: boolean): Promise<void> {
  if (force) return;
  if (!(await app.interactive())) throw new SdmeError('use -f to confirm removal in non-interactive mode');
  if (!(await app.confirm('are you sure? [y/N]', false))) throw new SdmeError('aborted');
}
