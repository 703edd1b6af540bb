/** `sdme pod new|ls|rm|net attach|net detach` (cli-surface.md "pod"). */
import { Option, type Command } from 'commander';
import { validateName } from '../engine/catalogue/names.js';
import { removeContainer } from '../engine/containers/rm.js';
import { SdmeError } from '../engine/errors.js';
import { attachPodNet, detachPodNet } from '../engine/network/pod-net.js';
import type { PodNetMode } from '../engine/network/pod-state.js';
import { createPod, listPods, removePod, type PodInfo } from '../engine/network/pods.js';
import type { CliApp } from './app.js';
import { runBatch } from './batch.js';
import { confirmAll } from './fs.js';
import { formatJson, formatTable, pickFormat } from './ps-format.js';

/** `NAME ACTIVE NET ZONE ADDRESSES CREATED`; `no pods found` when empty. */
export function formatPodTable(pods: readonly PodInfo[]): string {
  if (pods.length === 0) return 'no pods found\n';
  const dash = (s: string | null | undefined) => (s ? s : '-');
  return formatTable(
    ['NAME', 'ACTIVE', 'NET', 'ZONE', 'ADDRESSES', 'CREATED'],
    pods.map((p) => [
      p.name,
      p.active ? 'yes' : 'no',
      dash(p.net_mode),
      dash(p.net_zone),
      dash(p.addresses.join(',')),
      p.created,
    ]),
  );
}

function netMode(v: string): PodNetMode {
  if (v !== 'veth' && v !== 'zone') throw new SdmeError(`invalid network mode '${v}': expected veth or zone`);
  return v;
}

export function registerPodCommands(program: Command, app: CliApp): void {
  const pod = program.command('pod').description('pods: network namespaces shared by containers');

  pod
    .command('new <name>')
    .description('create a pod (a network namespace with loopback only)')
    .addOption(new Option('--attach <mode>', 'also attach external networking').choices(['veth', 'zone']))
    .option('--zone <zone>', 'zone for --attach zone')
    .action(async (name: string, o: { attach?: PodNetMode; zone?: string }) => {
      const ctx = await app.ctx();
      app.io.err(`creating pod '${name}'`);
      await createPod(ctx, name, { attach: o.attach, zone: o.zone });
      app.io.out(name);
    });

  pod
    .command('ls')
    .description('list pods')
    .option('--json', 'JSON output')
    .option('--json-pretty', 'indented JSON output')
    .action(async (o: { json?: boolean; jsonPretty?: boolean }) => {
      const ctx = await app.ctx();
      const fmt = pickFormat(o, ctx.config.default_output_format);
      const pods = await listPods(ctx);
      process.stdout.write(fmt === 'table' ? formatPodTable(pods) : formatJson(pods, fmt === 'json-pretty'));
    });

  pod
    .command('rm [names...]')
    .description('remove pods (refused while containers use them; -f removes those containers too)')
    .option('-a, --all', 'remove all pods')
    .option('-f, --force', 'also remove member containers; skip the confirmation for --all', false)
    .action(async (names: string[], o: { all?: boolean; force: boolean }) => {
      const ctx = await app.ctx();
      let targets = names;
      if (o.all) {
        if (names.length > 0) throw new SdmeError('give pod names or --all, not both');
        targets = (await listPods(ctx)).map((p) => p.name);
        if (targets.length === 0) {
          app.io.err('no pods found');
          return;
        }
        await confirmAll(app, o.force);
      } else if (targets.length === 0) {
        throw new SdmeError('no pod given (use NAME... or --all)');
      }
      await runBatch(targets, {
        verb: 'removing pod',
        past: 'removed',
        noun: 'pods',
        io: app.io,
        signal: app.signal,
        verbose: app.verbose(),
        resolve: async (n) => {
          validateName(n, 'pod');
          return n;
        },
        action: (n) =>
          removePod(ctx, n, {
            force: o.force,
            removeMember: async (c) => {
              app.io.err(`removing '${c}'`);
              await removeContainer(ctx, c);
            },
          }),
      });
    });

  const net = pod.command('net').description('external networking of a pod');
  net
    .command('attach <name> <mode> [zone]')
    .description('veth pair from the host (veth) or a zone bridge (zone ZONE) into the pod, with DHCP')
    .action(async (name: string, mode: string, zone: string | undefined) => {
      const ctx = await app.ctx();
      const s = await attachPodNet(ctx, name, netMode(mode), zone);
      app.io.err(`attached pod '${name}' via ${s.netHostIface}${s.netDns.length ? ` (dns ${s.netDns.join(' ')})` : ''}`);
      app.io.out(name);
    });
  net
    .command('detach <name>')
    .description('undo net attach')
    .action(async (name: string) => {
      const ctx = await app.ctx();
      await detachPodNet(ctx, name);
      app.io.out(name);
    });
}
