/** `sdme config get|set|completions`. */
import type { Command } from 'commander';
import { configSet, formatConfig } from '../engine/catalogue/config.js';
import { SdmeError } from '../engine/errors.js';
import type { CliApp } from './app.js';

export function registerConfigCommands(program: Command, app: CliApp): void {
  const config = program.command('config').description('show or change the configuration');
  config
    .command('get')
    .description('print the effective configuration')
    .action(async () => {
      const ctx = await app.ctx();
      process.stdout.write(formatConfig(ctx.config));
    });
  config
    .command('set <key> <value>')
    .description('set one configuration key (booleans as yes/no)')
    .action(async (key: string, value: string) => {
      await configSet((await app.ctx()).configPath, key, value);
    });
  config
    .command('completions <shell>')
    .description('print shell completions (bash)')
    .action((shell: string) => {
      if (shell !== 'bash') throw new SdmeError(`unsupported shell '${shell}' (supported: bash)`);
      process.stdout.write(bashCompletion(program));
    });
}

/** A small bash completion: top-level commands and their subcommands. */
export function bashCompletion(program: Command): string {
  const top = program.commands.map((c) => c.name());
  const subs = program.commands
    .filter((c) => c.commands.length > 0)
    .map((c) => `    ${c.name()}) COMPREPLY=($(compgen -W "${c.commands.map((s) => s.name()).join(' ')}" -- "$cur")); return;;`);
  return [
    '_sdme() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}"',
    '  if [ "$COMP_CWORD" -eq 1 ]; then',
    `    COMPREPLY=($(compgen -W "${top.join(' ')}" -- "$cur")); return`,
    '  fi',
    '  case "${COMP_WORDS[1]}" in',
    ...subs,
    '  esac',
    '}',
    'complete -F _sdme sdme',
    '',
  ].join('\n');
}
