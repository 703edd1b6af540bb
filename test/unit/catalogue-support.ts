/**
 * Test support (not a test): transpiles src/ to plain JS under
 * node_modules/.cache so real child processes (node) can run engine code,
 * e.g. to hold a lock or race a state-file claim from another process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Transpile src/native and src/engine/{catalogue,errors,types,context} into a temp dir; returns its path. */
export function compileForChild(): { dir: string; url(rel: string): string; cleanup(): void } {
  const cache = join(ROOT, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const out = mkdtempSync(join(cache, 'sdme-child-'));
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  const files = [
    ...walk(join(ROOT, 'src', 'native')),
    ...walk(join(ROOT, 'src', 'engine', 'catalogue')),
    ...['errors.ts', 'types.ts', 'context.ts', 'security/caps.ts'].map((f) => join(ROOT, 'src', 'engine', f)),
  ];
  for (const f of files) {
    const js = ts.transpileModule(readFileSync(f, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
    const dest = join(out, relative(ROOT, f)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, js);
  }
  return {
    dir: out,
    url: (rel: string) => pathToFileURL(join(out, rel)).href,
    cleanup: () => rmSync(out, { recursive: true, force: true }),
  };
}

/** Start `node --input-type=module -e code`; collects stdout. */
export function startNode(code: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return { child, output: () => out, exited };
}

/** Resolve once pred() is true (polling), or reject after timeoutMs. */
export async function waitFor(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 20));
  }
}
