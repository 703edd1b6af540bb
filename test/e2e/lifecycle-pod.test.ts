/**
 * The CLI's view of a pod member, inside the sandbox host: `inspect` names
 * the pod (table line and JSON field); `ps` shows the pod's addresses for a
 * member once the pod has an external network (net attach), none after detach.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupContainers, sdme, uniqueName } from './helpers.js';

const PREFIX = 'lcp';
const POD = uniqueName(PREFIX);
const MEMBER = uniqueName(PREFIX);
const LONER = uniqueName(PREFIX);

async function ok(args: string[], timeoutMs?: number): Promise<string> {
  const r = await sdme(args, { timeoutMs });
  if (r.code !== 0) throw new Error(`sdme ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function psJson(name: string): Promise<{ addresses: string[]; network: { pod: string | null } }> {
  const rows = JSON.parse(await ok(['ps', '--json'])) as { name: string; addresses: string[]; network: { pod: string | null } }[];
  const row = rows.find((r) => r.name === name);
  if (!row) throw new Error(`${name} not in ps --json`);
  return row;
}

function psTableCell(table: string, name: string, column: string): string | undefined {
  const lines = table.split('\n');
  const header = lines[0]!.split(/\s{2,}/);
  const row = lines.find((l) => l.split(/\s+/)[0] === name)?.split(/\s{2,}/);
  return row?.[header.indexOf(column)];
}

beforeAll(async () => {
  await ok(['pod', 'new', POD]);
  await ok(['create', '--pod', POD, '--name', MEMBER]);
  await ok(['create', '--name', LONER]);
  await ok(['start', MEMBER, LONER], 240_000);
});
afterAll(async () => {
  expect(await cleanupContainers(PREFIX)).toEqual([]);
  await sdme(['pod', 'rm', '-f', POD]);
});

describe('a pod member in inspect and ps', () => {
  it('inspect names the pod in the table and in JSON; null outside a pod', async () => {
    const table = (await ok(['inspect', MEMBER])).split('\n');
    expect(table[0]).toMatch(new RegExp(`^${MEMBER} \\(leader \\d+\\)$`));
    expect(table[1]).toBe(`pod: ${POD}`);
    expect(JSON.parse(await ok(['inspect', MEMBER, '--json']))).toMatchObject({ name: MEMBER, pod: POD });
    expect(JSON.parse(await ok(['inspect', LONER, '--json']))).toMatchObject({ name: LONER, pod: null });
    expect(await ok(['inspect', LONER])).not.toMatch(/^pod: /m);
  });

  it("ps shows the pod's addresses for a member while the pod has a network", async () => {
    expect((await psJson(MEMBER)).addresses).toEqual([]);
    await ok(['pod', 'net', 'attach', POD, 'veth'], 120_000);
    const pod = (JSON.parse(await ok(['pod', 'ls', '--json'])) as { name: string; addresses: string[] }[]).find((p) => p.name === POD)!;
    const v4 = pod.addresses.filter((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
    expect(v4.length).toBeGreaterThan(0);
    const row = await psJson(MEMBER);
    expect(row.network.pod).toBe(POD);
    expect(row.addresses).toEqual(pod.addresses);
    expect(psTableCell(await ok(['ps']), MEMBER, 'ADDRESSES')).toBe(pod.addresses.join(','));
    // the loner (host network) has no interface of its own: no addresses
    expect((await psJson(LONER)).addresses).toEqual([]);
    await ok(['pod', 'net', 'detach', POD], 60_000);
    expect((await psJson(MEMBER)).addresses).toEqual([]);
  });
});
