/**
 * Name rules (layout-and-state.md §5) and random container names
 * (lifecycle.md §11). The word list is our own: 200 invented, pronounceable
 * consonant-vowel words.
 */
import { randomInt } from 'node:crypto';
import { SdmeError } from '../errors.js';

export const MAX_NAME_LEN = 64;

/** Printable form of a user string for one-line error messages. */
export function showName(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f\\]/g, (c) => (c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/**
 * Reason the name is invalid, or undefined if valid: non-empty, `[a-z][a-z0-9-]*`,
 * at most 64 chars, not ending in `-`. The last rule is ours, not upstream's:
 * systemd-nspawn 252 refuses such a machine name ("Invalid machine name").
 */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > MAX_NAME_LEN) return `must be at most ${MAX_NAME_LEN} characters (got ${name.length})`;
  if (!/^[a-z]/.test(name)) return "must start with a lowercase letter and contain only a-z, 0-9 and '-'";
  if (!/^[a-z][a-z0-9-]*$/.test(name)) return "must contain only lowercase letters a-z, digits 0-9 and '-'";
  if (name.endsWith('-')) return "must not end with '-' (systemd-nspawn rejects it as a machine name)";
  return undefined;
}

export function isValidName(name: string): boolean {
  return nameProblem(name) === undefined;
}

/**
 * Upstream sdme 0.18's rule (no trailing-'-' refusal): for READING existing
 * state, so containers made by upstream are still listed, resolved and
 * removable. New names must pass `validateName`.
 */
export function isUpstreamValidName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME_LEN && /^[a-z][a-z0-9-]*$/.test(name);
}

/** Throws SdmeError `invalid name 'X': ...` (or `invalid WHAT name`) unless the name is valid. */
export function validateName(name: string, what?: string): void {
  const problem = nameProblem(name);
  if (problem !== undefined) {
    throw new SdmeError(`invalid ${what ? `${what} ` : ''}name '${showName(name)}': ${problem}`);
  }
}

export const WORDS: readonly string[] = [
  'bapo', 'basa', 'bepas', 'bepi', 'bezun', 'bibes', 'bimes', 'bipama', 'boku', 'bopeka',
  'bovas', 'bupel', 'dade', 'dafis', 'dilefel', 'dimi', 'diza', 'dobedor', 'dodas', 'dolufal',
  'donal', 'duker', 'dumas', 'fenato', 'fereban', 'feso', 'fibo', 'fimi', 'finu', 'fipan',
  'fivomu', 'fivu', 'fofedi', 'fonur', 'fuvar', 'fuvi', 'gabil', 'gafil', 'galezos', 'gare',
  'gaze', 'gefes', 'gefo', 'gefol', 'gimipi', 'girar', 'gisegar', 'gisen', 'gitul', 'gopos',
  'gose', 'gotor', 'govoka', 'govon', 'gufur', 'kafabir', 'kafo', 'kafon', 'kamol', 'ketus',
  'kinezul', 'kodir', 'kodur', 'kope', 'kumon', 'kunatur', 'kunil', 'kuno', 'kunu', 'lakir',
  'laras', 'leba', 'ledil', 'lepito', 'leres', 'lesoti', 'levikus', 'litan', 'lodibin', 'lolorer',
  'lomon', 'lote', 'lubal', 'lugufor', 'lure', 'lurun', 'magal', 'manu', 'mase', 'mazur',
  'medi', 'meteku', 'meviver', 'mibar', 'mibe', 'midas', 'mifun', 'mitin', 'mizal', 'mizis',
  'mokinul', 'momel', 'monu', 'moru', 'mosolus', 'mugil', 'mukus', 'mume', 'muna', 'munu',
  'musinus', 'nage', 'nanos', 'negu', 'nevepel', 'nevin', 'nonaten', 'nudu', 'nudun', 'nupo',
  'paberas', 'pada', 'pamopu', 'parus', 'pavu', 'pazul', 'pesege', 'pesi', 'pevil', 'pife',
  'pifu', 'pikavan', 'pitul', 'pomi', 'pozulel', 'purer', 'purugus', 'pusa', 'raro', 'revabul',
  'revos', 'reze', 'rike', 'risil', 'rito', 'rofo', 'rubon', 'runo', 'ruvi', 'ruvun',
  'ruzil', 'salutan', 'samen', 'sapunu', 'sazape', 'sebel', 'sekules', 'sipal', 'sive', 'siza',
  'sodir', 'susa', 'tala', 'tarar', 'tatir', 'tazesu', 'tebenon', 'teno', 'tevar', 'tezu',
  'tigor', 'tikitel', 'topi', 'totuden', 'tozeger', 'tudes', 'tule', 'vafos', 'vako', 'velu',
  'velun', 'venis', 'venoso', 'vepos', 'vetir', 'vifa', 'vipe', 'visibo', 'voka', 'vopolen',
  'vudipun', 'vurose', 'zabo', 'zadedel', 'zarabas', 'zemon', 'zilun', 'zobo', 'zodadas', 'zuma',
];

const VOWELS = 'aeiou';

export type RandomInt = (maxExclusive: number) => number;
const cryptoRandom: RandomInt = (max) => randomInt(max);

/** Fisher-Yates shuffle (copy). */
export function shuffled<T>(items: readonly T[], rand: RandomInt = cryptoRandom): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rand(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Replace 1 or 2 (1 if the word has a single vowel) random vowel positions with a different vowel. */
export function mutateVowels(word: string, rand: RandomInt = cryptoRandom): string {
  const positions = [...word].flatMap((c, i) => (VOWELS.includes(c) ? [i] : []));
  if (positions.length === 0) return word;
  const count = positions.length === 1 ? 1 : 1 + rand(2);
  const chosen = shuffled(positions, rand).slice(0, count);
  const chars = [...word];
  for (const i of chosen) {
    const others = VOWELS.replace(chars[i]!, '');
    chars[i] = others[rand(others.length)]!;
  }
  return chars.join('');
}

/**
 * First untaken word of a shuffled list; then up to 200 vowel-mutated variants.
 * `taken` decides conflicts (state file, /var/lib/machines, machined).
 */
export async function generateName(
  taken: (n: string) => boolean | Promise<boolean>,
  opts: { words?: readonly string[]; rand?: RandomInt } = {},
): Promise<string> {
  const words = opts.words ?? WORDS;
  const rand = opts.rand ?? cryptoRandom;
  for (const w of shuffled(words, rand)) {
    if (!(await taken(w))) return w;
  }
  for (let attempt = 0; attempt < 200; attempt++) {
    const candidate = mutateVowels(words[rand(words.length)]!, rand);
    if (isValidName(candidate) && !(await taken(candidate))) return candidate;
  }
  throw new SdmeError('could not generate a unique container name; use an explicit name');
}
