#!/usr/bin/env node
/**
 * Core CLI benchmarks: create, start-until-booted, ps (1/10/30 containers),
 * peak RSS of ps. Each figure is printed with a baseline measured in the same
 * run and the ratio sdme/baseline. Drives the built CLI as a user would
 * (`node bin/sdme.js ...`); imports nothing from src, needs no extra deps.
 *
 * Runs inside a booted systemd (the sandbox host). `npm run bench` =
 * `npm run build && node bench/core.mjs`: on the bare machine the file notes
 * the free inotify instances, then re-runs itself with
 * `node bin/sdme.js sandbox run --name sdme-bench --bind-checkout -- node bench/core.mjs`.
 *
 * Flags (after `npm run bench --`): --create=N (10), --start=N (5), --ps=N (10)
 * sample counts; --all-running-30 adds ps with 30 running containers (needs
 * fs.inotify.max_user_instances well above the default 128: each booted
 * container takes ~13 of root's instances; fewer run when the budget is short).
 * Creates containers named bench-NN and dirs under DATADIR/bench-baseline;
 * removes them all at the end (and any left by an earlier killed run first).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
// A private copy of dist/ (a rebuild of the shared one mid-run would break the
// run); bare imports still resolve through the checkout's node_modules.
const SNAP = join(ROOT, 'node_modules/.cache/sdme-core-bench');
const SDME = join(SNAP, 'sdme.js');
const DATADIR = '/var/lib/sdme';
const BASE_DIR = join(DATADIR, 'bench-baseline');
const PREFIX = 'bench-';
/** `--name=value` / `--flag` from argv (env is not forwarded by `sandbox run`, so flags it is). */
function opt(name, dflt) {
  const a = process.argv.slice(2).find((x) => x === `--${name}` || x.startsWith(`--${name}=`));
  if (a === undefined) return dflt;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : true;
}
const N_CREATE = Number(opt('create', 10));
const N_START = Number(opt('start', 5));
const N_PS = Number(opt('ps', 10));
const ALL_RUNNING_30 = opt('all-running-30', false) === true;
const INOTIFY_FREE = opt('inotify-free', undefined) === undefined ? undefined : Number(opt('inotify-free'));
/** inotify instances one booted container took (measured) */
let perBoot = 0;
const MANUAL_UNIT = 'bench-manual';

// ---------- process helpers ----------

/** Runs argv, returns {ms, code, stdout, stderr}. */
function exec(argv, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: opts.timeoutMs ?? 180_000,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, code: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** exec that throws with stderr on a non-zero exit. */
function must(argv, opts) {
  const r = exec(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} -> exit ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r;
}

const sdme = (...args) => must([process.execPath, SDME, ...args]);
const sh = (script) => must(['sh', '-c', script]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------- stats ----------

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
/** nearest-rank percentile */
function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
const f1 = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const ratio = (a, b) => `x${(a / b).toFixed(2)}`;

/** One line: sdme median/p95/min, baseline median/p95/min, ratio of medians (and of mins: robust on a busy machine). */
function report(label, mine, base, baseLabel) {
  const stats = (xs) => `median ${f1(median(xs)).padStart(6)}  p95 ${f1(pct(xs, 95)).padStart(6)}  min ${f1(Math.min(...xs)).padStart(6)} ms`;
  console.log(`${label}\n  sdme     ${stats(mine)}\n  baseline ${stats(base)}  (${baseLabel})`);
  console.log(`  ratio    x${(median(mine) / median(base)).toFixed(2)} (medians), x${(Math.min(...mine) / Math.min(...base)).toFixed(2)} (mins)`);
}

// ---------- environment ----------

/** inotify instances held by the processes this /proc shows (all root here). */
function inotifyInUse() {
  let n = 0;
  for (const pid of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    let fds = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:inotify') n++;
      } catch {
        /* gone */
      }
    }
  }
  return n;
}

/**
 * On the bare machine: note root's free inotify instances (a booted container
 * takes ~10 of fs.inotify.max_user_instances, shared with every other sandbox
 * on the machine), then re-run this file inside the sandbox host.
 */
function launchInSandbox() {
  const max = Number(readFileSync('/proc/sys/fs/inotify/max_user_instances', 'utf8'));
  const free = max - inotifyInUse();
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'bin/sdme.js'), 'sandbox', 'run', '--name', 'sdme-bench', '--bind-checkout', '--',
      'node', fileURLToPath(import.meta.url), `--inotify-free=${free}`, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(r.status ?? 1);
}

function checkHost() {
  const comm = readFileSync('/proc/1/comm', 'utf8').trim();
  if (process.getuid?.() !== 0) {
    console.error('bench/core.mjs needs root (it runs inside the sandbox host: npm run bench)');
    process.exit(2);
  }
  if (comm !== 'systemd') launchInSandbox();
  if (!existsSync(join(DIST, 'cli/main.js'))) {
    console.error('dist/ is missing: run `npm run build` first');
    process.exit(2);
  }
}

function snapshotDist() {
  rmSync(SNAP, { recursive: true, force: true });
  cpSync(DIST, join(SNAP, 'dist'), { recursive: true, filter: (src) => !src.startsWith(`${DIST}/.`) });
  cpSync(join(ROOT, 'package.json'), join(SNAP, 'package.json'));
  writeFileSync(SDME, "import { main } from './dist/cli/main.js';\nmain(process.argv);\n");
}

function stateNames() {
  try {
    return readdirSync(join(DATADIR, 'state')).filter((n) => !n.startsWith('.'));
  } catch {
    return [];
  }
}

const benchNames = () => stateNames().filter((n) => n.startsWith(PREFIX)).sort();
const cname = (i) => `${PREFIX}${String(i).padStart(2, '0')}`;

function cleanup() {
  exec(['systemctl', 'stop', `${MANUAL_UNIT}.service`]);
  exec(['systemctl', 'reset-failed', `${MANUAL_UNIT}.service`]);
  const names = benchNames();
  if (names.length) {
    const r = exec([process.execPath, SDME, 'rm', '-f', ...names]);
    if (r.code !== 0) console.error(`cleanup: sdme rm: ${r.stderr.trim()}`);
  }
  rmSync(BASE_DIR, { recursive: true, force: true });
  const left = benchNames();
  if (left.length) console.error(`cleanup: could not remove ${left.join(' ')}`);
}

// ---------- startup ----------

/** The floor under every command: loading the CLI (`sdme --version`) vs a bare node. */
function benchStartup() {
  console.log(`\n== CLI startup: sdme --version vs node -e 0, ${N_PS}x each ==`);
  const mine = [];
  const base = [];
  for (let i = 0; i < N_PS; i++) {
    mine.push(sdme('--version').ms);
    base.push(must([process.execPath, '-e', '0']).ms);
  }
  report('startup (--version)', mine, base, 'node -e 0');
}

// ---------- create ----------

/**
 * Baseline: the bare file work of a host-clone create in one shell: the three
 * dirs, two opaque dirs, hostname/hosts/resolv.conf/machine-id/fstab, the
 * resolved mask and host .mount/.swap/.automount masks, a state file written
 * to a temp name and renamed.
 */
function baselineCreate(name) {
  const d = join(BASE_DIR, 'containers', name);
  const st = join(BASE_DIR, 'state');
  const u = `${d}/upper`;
  return exec([
    'sh',
    '-c',
    `set -e
mkdir -p ${st} ${d}/work ${d}/merged ${u}/etc/systemd/system ${u}/var/log
chmod 700 ${d}/work
setfattr -n trusted.overlay.opaque -v y ${u}/etc/systemd/system
setfattr -n trusted.overlay.opaque -v y ${u}/var/log
echo ${name} > ${u}/etc/hostname
printf '127.0.0.1 localhost ${name}\\n::1 localhost ${name}\\n' > ${u}/etc/hosts
ln -s /dev/null ${u}/etc/systemd/system/systemd-resolved.service
for f in /etc/systemd/system/*.mount /etc/systemd/system/*.swap /etc/systemd/system/*.automount; do
  [ -f "$f" ] && ln -s /dev/null ${u}/etc/systemd/system/$(basename "$f")
done
echo '# placeholder' > ${u}/etc/resolv.conf
: > ${u}/etc/machine-id
echo '# sdme: empty fstab' > ${u}/etc/fstab
printf 'CREATED=%s\\nNAME=${name}\\nROOTFS=\\n' "$(date +%s)" > ${st}/.${name}.tmp
mv ${st}/.${name}.tmp ${st}/${name}`,
  ]);
}

function benchCreate() {
  console.log(`\n== create: ${N_CREATE} host clones (sdme create --name N) vs shell file work ==`);
  const mine = [];
  const base = [];
  for (let i = 0; i < N_CREATE; i++) {
    // alternate which goes first so drift hits both
    const a = () => mine.push(sdme('create', '--name', cname(i)).ms);
    const b = () => {
      const r = baselineCreate(cname(i));
      if (r.code !== 0) throw new Error(`baseline create: ${r.stderr}`);
      base.push(r.ms);
    };
    if (i % 2) {
      b();
      a();
    } else {
      a();
      b();
    }
  }
  report('create', mine, base, 'mkdir+write');

  // rm of the stopped extras (all but bench-00) vs rm -rf of the baseline trees
  const rmMine = [];
  const rmBase = [];
  for (let i = 1; i < N_CREATE; i++) {
    rmMine.push(sdme('rm', cname(i)).ms);
    rmBase.push(must(['rm', '-rf', join(BASE_DIR, 'containers', cname(i)), join(BASE_DIR, 'state', cname(i))]).ms);
  }
  if (rmMine.length) report('rm (stopped)', rmMine, rmBase, 'rm -rf');
}

// ---------- start ----------

/** Unit-file value -> argv (continuations joined, "..." unquoted, %% and $$ unescaped). */
export function splitExec(value) {
  const out = [];
  let cur = '';
  let inArg = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"') {
      inArg = true;
      for (i++; i < value.length && value[i] !== '"'; i++) cur += value[i] === '\\' ? value[++i] : value[i];
    } else if (c === ' ' || c === '\t') {
      if (inArg) out.push(cur);
      cur = '';
      inArg = false;
    } else {
      cur += c;
      inArg = true;
    }
  }
  if (inArg) out.push(cur);
  return out.map((a) => a.replace(/%%/g, '%').replace(/\$\$/g, '$'));
}

/** ExecStartPre/ExecStart/ExecStopPost argv lists from nspawn.conf ('-' prefix = failure ignored). */
function readDropin(name) {
  const text = readFileSync(`/etc/systemd/system/sdme@${name}.service.d/nspawn.conf`, 'utf8').replace(/\s*\\\n\s*/g, ' ');
  const d = { pre: [], start: [], post: [], env: [] };
  for (const line of text.split('\n')) {
    const m = /^(ExecStartPre|ExecStart|ExecStopPost|Environment)=(.*)$/.exec(line.trim());
    if (!m || m[2] === '') continue;
    if (m[1] === 'Environment') {
      d.env.push(m[2]);
      continue;
    }
    let v = m[2];
    const ignore = v.startsWith('-');
    if (ignore) v = v.slice(1);
    const e = { ignore, argv: splitExec(v) };
    if (m[1] === 'ExecStartPre') d.pre.push(e);
    else if (m[1] === 'ExecStopPost') d.post.push(e);
    else d.start = e.argv;
  }
  return d;
}

function machineProp(name, prop) {
  const r = exec(['machinectl', 'show', name, '-p', prop, '--value']);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/** Same readiness as sdme start: machined State=running, then the container's system bus answers. */
async function waitReady(name, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (machineProp(name, 'State') === 'running') {
      const leader = machineProp(name, 'Leader');
      const bus = `unix:path=/proc/${leader}/root/run/dbus/system_bus_socket`;
      const r = exec(['busctl', `--address=${bus}`, 'call', 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetId']);
      if (r.code === 0) return;
    }
    await sleep(20);
  }
  throw new Error(`manual start of ${name}: not ready after ${timeoutMs} ms`);
}

/** The drop-in's commands by hand, under a transient unit with the template's key properties. */
async function manualStart(name, d) {
  const t0 = process.hrtime.bigint();
  for (const p of d.pre) {
    const r = exec(p.argv);
    if (r.code !== 0 && !p.ignore) throw new Error(`${p.argv.join(' ')}: ${r.stderr}`);
  }
  must([
    'systemd-run',
    `--unit=${MANUAL_UNIT}`,
    '--collect',
    '--quiet',
    '-p', 'Type=notify',
    '-p', 'Delegate=yes',
    '-p', 'Slice=machine.slice',
    '-p', 'KillMode=mixed',
    ...d.env.flatMap((e) => ['-p', `Environment=${e}`]),
    '--',
    ...d.start,
  ]);
  await waitReady(name);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function manualStop(name, d) {
  must(['systemctl', 'stop', `${MANUAL_UNIT}.service`]);
  for (const p of d.post) exec(p.argv);
  for (let i = 0; i < 100 && machineProp(name, 'State') !== undefined; i++) await sleep(50);
}

async function benchStart() {
  const name = cname(0);
  console.log(`\n== start until booted: ${name}, ${N_START}x sdme start vs ${N_START}x the drop-in's nspawn by hand ==`);
  // first start writes the template + drop-in and daemon-reloads: reported apart
  const first = sdme('start', name).ms;
  sdme('stop', name);
  const d = readDropin(name);
  await manualStart(name, d);
  await manualStop(name, d);
  const mine = [];
  const base = [];
  const unit = [];
  const unitName = `sdme@${name}.service`;
  const steps = [
    async () => {
      mine.push(sdme('start', name).ms);
      sdme('stop', name);
    },
    async () => {
      base.push(await manualStart(name, d));
      await manualStop(name, d);
    },
    // same unit + drop-in without the sdme process: splits sdme's own cost from the unit's
    async () => {
      const t = process.hrtime.bigint();
      must(['systemctl', 'start', unitName]);
      await waitReady(name);
      unit.push(Number(process.hrtime.bigint() - t) / 1e6);
      must(['systemctl', 'stop', unitName]);
    },
  ];
  for (let i = 0; i < N_START; i++) {
    // rotate the order so drift hits all three
    for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]();
  }
  console.log(`first start (template + drop-in + reload): ${f1(first)} ms`);
  report('start (until booted)', mine, base, 'by hand');
  report('start vs systemctl start sdme@N', mine, unit, 'systemctl+poll');
}

// ---------- ps ----------

function benchPs(label) {
  const text = [];
  const json = [];
  const base = [];
  for (let i = 0; i < N_PS; i++) {
    text.push(sdme('ps').ms);
    json.push(sdme('ps', '--json').ms);
    const a = must(['machinectl', 'list', '--no-pager']).ms;
    const b = must(['systemctl', 'list-units', '--all', '--no-pager', 'sdme@*']).ms;
    base.push(a + b);
  }
  const bl = 'machinectl+list-units';
  report(`ps ${label}`, text, base, bl);
  report(`ps --json ${label}`, json, base, bl);
  return { text: Math.min(...text), json: Math.min(...json), base: Math.min(...base), textMed: median(text) };
}

/** Peak RSS (kB) of argv, via /usr/bin/time, median of n runs. */
function peakRss(argv, n = 5) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-rss-'));
  const out = join(dir, 'rss');
  const xs = [];
  try {
    for (let i = 0; i < n; i++) {
      must(['/usr/bin/time', '-f', '%M', '-o', out, ...argv]);
      xs.push(Number(readFileSync(out, 'utf8').trim().split('\n').pop()));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return median(xs);
}

function createFixtures(from, to) {
  for (let i = from; i < to; i++) sdme('create', '--name', cname(i));
}

function namesRange(from, to) {
  return Array.from({ length: to - from }, (_, i) => cname(from + i));
}

/**
 * ps with N containers of which bench-00..K-1 run: K = N, or fewer when root's
 * inotify budget (free at launch, machine-wide, minus what this sandbox and
 * bench-00 took since, minus a margin of 20 for the other sandboxes on the
 * machine) would not hold N booted containers; skipped below 3. Stops 1..K-1
 * after. A failed start skips the scenario instead of failing the run.
 */
function scenarioRunning(n, whileRunning) {
  let k = n;
  if (INOTIFY_FREE !== undefined && perBoot > 0) {
    const left = INOTIFY_FREE - inotifyInUse();
    k = Math.min(n, 1 + Math.floor((left - 20) / perBoot));
    if (k < n) console.log(`note: ~${left} inotify instances free, ~${perBoot} per booted container: ${k} of ${n} can run`);
  }
  if (k < 3) {
    console.log(`ps ${n} (${n} running): skipped (fs.inotify.max_user_instances)`);
    return false;
  }
  const names = namesRange(1, k);
  const r = exec([process.execPath, SDME, 'start', ...names]);
  const ok = r.code === 0;
  if (!ok) {
    const why = /Too many open files/.test(r.stderr) ? ' (inotify instances exhausted: fs.inotify.max_user_instances)' : '';
    console.log(`ps ${n} (${k} running): skipped, not all containers booted${why}`);
    console.log(r.stderr.split('\n').filter((l) => l.startsWith('error:')).slice(0, 3).join('\n'));
  } else {
    benchPs(`${n} (${k} running)`);
    whileRunning?.(k);
  }
  const running = names.filter((x) => exec(['systemctl', 'is-active', '--quiet', `sdme@${x}.service`]).code === 0);
  if (running.length) sdme('stop', ...running);
  if (!ok) for (const x of names) exec(['systemctl', 'reset-failed', `sdme@${x}.service`]);
  return ok;
}

async function benchPsAll() {
  console.log(`\n== ps: median of ${N_PS}; baseline = machinectl list + systemctl list-units 'sdme@*' ==`);
  // bench-00 is running for every scenario
  const before = inotifyInUse();
  sdme('start', cname(0));
  // a container still starting holds fewer than it will: never assume under 13
  perBoot = Math.max(13, inotifyInUse() - before);
  const p1 = benchPs('1 (1 running)');
  createFixtures(1, 10);
  const p10 = benchPs('10 (1 running)');
  scenarioRunning(10);
  createFixtures(10, 30);
  const p30 = benchPs('30 (1 running)');
  console.log(
    `growth 1 -> 30 (mins): ps ${ratio(p30.text, p1.text)}, ps --json ${ratio(p30.json, p1.json)}, baseline ${ratio(p30.base, p1.base)}` +
      ` (1 -> 10: ps ${ratio(p10.text, p1.text)}); ps medians ${f1(p1.textMed)} -> ${f1(p10.textMed)} -> ${f1(p30.textMed)} ms`,
  );

  console.log(`\n== memory: peak RSS, median of 5, 30 containers (1 running) ==`);
  const node0 = peakRss([process.execPath, '-e', '0']);
  const rssPs = peakRss([process.execPath, SDME, 'ps']);
  const rssJson = peakRss([process.execPath, SDME, 'ps', '--json']);
  console.log(`node -e 0: ${(node0 / 1024).toFixed(1)} MiB`);
  console.log(`sdme ps: ${(rssPs / 1024).toFixed(1)} MiB  ratio ${ratio(rssPs, node0)}`);
  console.log(`sdme ps --json: ${(rssJson / 1024).toFixed(1)} MiB  ratio ${ratio(rssJson, node0)}`);

  if (ALL_RUNNING_30) {
    scenarioRunning(30, (k) => {
      const rss30 = peakRss([process.execPath, SDME, 'ps']);
      console.log(`sdme ps, 30 (${k} running): ${(rss30 / 1024).toFixed(1)} MiB  ratio ${ratio(rss30, node0)}`);
    });
  }
}

// ---------- main ----------

async function main() {
  checkHost();
  const others = stateNames().filter((n) => !n.startsWith(PREFIX));
  if (others.length) console.log(`note: ${others.length} other container(s) exist here; ps figures include them`);
  const t0 = Date.now();
  snapshotDist();
  cleanup();
  console.log(`sdme core bench: node ${process.version}, ${readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm).length} cpus, ${new Date().toISOString()}`);
  let failed = false;
  try {
    benchStartup();
    benchCreate();
    await benchStart();
    await benchPsAll();
  } catch (e) {
    failed = true;
    console.error(`bench failed: ${e.message}`);
  } finally {
    const tc = Date.now();
    cleanup();
    rmSync(SNAP, { recursive: true, force: true });
    console.log(`\ncleanup ${((Date.now() - tc) / 1000).toFixed(1)} s; total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  process.exitCode = failed ? 1 : 0;
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    cleanup();
    rmSync(SNAP, { recursive: true, force: true });
    process.exit(130);
  });
}

await main();
