import { describe, expect, it } from 'vitest';
import { withPodLine } from '../../src/cli/containers.js';

describe('inspect table pod line', () => {
  const table = 'web (leader 42)\nROW  THIS\nuser  no\n';
  it('goes under the title line for a pod member', () => {
    expect(withPodLine(table, 'p1')).toBe('web (leader 42)\npod: p1\nROW  THIS\nuser  no\n');
  });
  it('is absent outside a pod', () => {
    expect(withPodLine(table, null)).toBe(table);
  });
});
