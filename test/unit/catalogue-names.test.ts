import { describe, expect, it } from 'vitest';
import { SdmeError } from '../../src/engine/errors.js';
import { generateName, isUpstreamValidName, isValidName, mutateVowels, shuffled, validateName, WORDS } from '../../src/engine/catalogue/names.js';

describe('validateName', () => {
  it.each(['a', 'web', 'deb-template', 'a-b-c', 'web-1', 'a--b', 'double--dash', 'a'.repeat(64), `a${'-b'.repeat(31)}c`])(
    'accepts %s',
    (n) => {
      expect(() => validateName(n)).not.toThrow();
    },
  );

  it.each([
    ['', "invalid name '': must not be empty"],
    ['a'.repeat(65), `invalid name '${'a'.repeat(65)}': must be at most 64 characters (got 65)`],
    ['1abc', "invalid name '1abc': must start with a lowercase letter and contain only a-z, 0-9 and '-'"],
    ['-abc', "invalid name '-abc': must start with a lowercase letter and contain only a-z, 0-9 and '-'"],
    ['Web', "invalid name 'Web': must start with a lowercase letter and contain only a-z, 0-9 and '-'"],
    ['web.1', "invalid name 'web.1': must contain only lowercase letters a-z, digits 0-9 and '-'"],
    ['a..b', "invalid name 'a..b': must contain only lowercase letters a-z, digits 0-9 and '-'"],
    ['a/b', "invalid name 'a/b': must contain only lowercase letters a-z, digits 0-9 and '-'"],
    ['aB', "invalid name 'aB': must contain only lowercase letters a-z, digits 0-9 and '-'"],
    ['trailing-', "invalid name 'trailing-': must not end with '-' (systemd-nspawn rejects it as a machine name)"],
    ['a-', "invalid name 'a-': must not end with '-' (systemd-nspawn rejects it as a machine name)"],
    ['a--', "invalid name 'a--': must not end with '-' (systemd-nspawn rejects it as a machine name)"],
    ['a\nb', "invalid name 'a\\x0ab': must contain only lowercase letters a-z, digits 0-9 and '-'"],
  ])('rejects %j', (n, msg) => {
    let err: unknown;
    try {
      validateName(n);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SdmeError);
    expect((err as Error).message).toBe(msg);
  });

  it('names the kind of thing when asked', () => {
    expect(() => validateName('X', 'pod')).toThrow("invalid pod name 'X'");
  });
});

describe('word list', () => {
  it('has 200 distinct valid words', () => {
    expect(WORDS).toHaveLength(200);
    expect(new Set(WORDS).size).toBe(200);
    for (const w of WORDS) {
      expect(isValidName(w)).toBe(true);
      expect(w).toMatch(/[aeiou]/);
      expect(w.length).toBeLessThanOrEqual(10);
    }
  });
});

describe('generateName', () => {
  it('returns an untaken word from the list', async () => {
    const taken = new Set(WORDS.slice(0, 150));
    for (let i = 0; i < 20; i++) {
      const n = await generateName((w) => taken.has(w));
      expect(WORDS).toContain(n);
      expect(taken.has(n)).toBe(false);
    }
  });

  it('is random: many calls give several different words', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) seen.add(await generateName(() => false));
    expect(seen.size).toBeGreaterThan(10);
  });

  it('falls back to vowel mutations when every word is taken (async taken)', async () => {
    const n = await generateName(async (w) => WORDS.includes(w));
    expect(WORDS).not.toContain(n);
    expect(isValidName(n)).toBe(true);
    // same consonant skeleton as some base word
    const skeleton = (s: string) => s.replace(/[aeiou]/g, '_');
    expect(WORDS.map(skeleton)).toContain(skeleton(n));
  });

  it('errors when nothing is free', async () => {
    await expect(generateName(() => true)).rejects.toThrow('could not generate a unique container name');
  });

  it('mutateVowels changes 1 vowel of a single-vowel word, 1 or 2 otherwise', () => {
    for (let i = 0; i < 50; i++) {
      const m = mutateVowels('kat');
      expect(m).toMatch(/^k[eiou]t$/);
      const m2 = mutateVowels('banana');
      const diff = [...m2].filter((c, j) => c !== 'banana'[j]).length;
      expect(diff === 1 || diff === 2).toBe(true);
      expect(m2.replace(/[aeiou]/g, '_')).toBe('b_n_n_');
    }
  });

  it('shuffled is a permutation (Fisher-Yates with injected randomness)', () => {
    const seq = [3, 0, 1, 0];
    let k = 0;
    const out = shuffled(['a', 'b', 'c', 'd', 'e'], (max) => seq[k++]! % max);
    expect([...out].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(out).toEqual(['c', 'e', 'b', 'a', 'd']); // swaps 4<->3, 3<->0, 2<->1, 1<->0
  });
});

describe('isUpstreamValidName (reading existing state)', () => {
  it.each([
    ['a-', true, false],
    ['web--', true, false],
    ['a--b', true, true],
    ['web', true, true],
    ['x'.repeat(64), true, true],
    ['x'.repeat(65), false, false],
    ['', false, false],
    ['Web', false, false],
    ['1web', false, false],
    ['-a', false, false],
    ['.web.tmp', false, false],
  ])('%j: upstream %s, new %s', (name, upstream, strict) => {
    expect(isUpstreamValidName(name)).toBe(upstream);
    expect(isValidName(name)).toBe(strict);
  });
});
