/**
 * The engine's context: effective config, datadir layout, a note sink for
 * user-facing messages (stderr by default) and the cancellation signal.
 */
import { loadConfig, type Config } from './catalogue/config.js';
import { DEFAULT_CONFIG_PATH, layout as makeLayout, type Layout } from './catalogue/paths.js';

export interface Ctx {
  config: Config;
  configPath: string;
  layout: Layout;
  note(msg: string): void;
  verbose: boolean;
  signal?: AbortSignal;
}

export interface MakeCtxOptions {
  /** default /etc/sdme.conf */
  configPath?: string;
  verbose?: boolean;
  note?: (msg: string) => void;
  signal?: AbortSignal;
}

function stderrNote(msg: string): void {
  process.stderr.write(msg.endsWith('\n') ? msg : `${msg}\n`);
}

export async function makeCtx(opts: MakeCtxOptions = {}): Promise<Ctx> {
  const configPath = opts.configPath ?? DEFAULT_CONFIG_PATH;
  const config = await loadConfig(configPath);
  return {
    config,
    configPath,
    layout: makeLayout(config.datadir),
    note: opts.note ?? stderrNote,
    verbose: opts.verbose ?? false,
    signal: opts.signal,
  };
}
