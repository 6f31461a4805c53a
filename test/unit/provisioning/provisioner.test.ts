import { describe, expect, it } from 'vitest';
import { resourceName } from '#provisioning/provisioner';

const named = (appKey: string) => resourceName({ appKey, appName: 'App', developer: 'dev@example.com' });

describe('resourceName', () => {
  it("names an app's resources portal-<app key> while that fits Cognito's 128 characters", () => {
    // Act + Assess
    expect(named('590d83b5c05f')).toBe('portal-590d83b5c05f');
    expect(named('a'.repeat(121))).toBe(`portal-${'a'.repeat(121)}`);
  });

  it("shortens a longer name deterministically, within 128 characters and Cognito's pattern", () => {
    // Prepare
    const appKey = `${'a'.repeat(120)}-long.key_8`;

    // Act
    const name = named(appKey);

    // Assess
    expect(name).toBe(named(appKey));
    expect(name).toHaveLength(128);
    expect(name).toMatch(/^[\w\s+=,.@-]+$/);
  });

  it('gives two long app keys that share their start different names, and no shortened name equals a plain one', () => {
    // Prepare
    const first = `${'b'.repeat(125)}-01`;
    const second = `${'b'.repeat(125)}-02`;

    // Act
    const names = [named(first), named(second)];

    // Assess
    expect(names[0]).not.toBe(names[1]);
    // A plain name holds no "+": app keys are letters, digits, ".", "-" and "_".
    expect(names.every((name) => name.includes('+'))).toBe(true);
  });

  it('shortens a known long key to the first 111 characters of its name, "+" and 16 hex digits of SHA-256 of the whole key', () => {
    // Prepare: the expected name was computed apart from this code (Python's hashlib), so it pins the digest's length and source.
    const appKey = `${'a'.repeat(120)}-long.key_8`;
    const expected = `portal-${'a'.repeat(104)}+b6f65a541f8b0e6f`;

    // Act
    const name = named(appKey);

    // Assess
    expect(name).toBe(expected);
    expect(name).toMatch(/\+[0-9a-f]{16}$/);
  });

  it('gives different names to long keys that share the 111 characters a shortened name keeps', () => {
    // Prepare: 104 shared key characters fill the kept 111 name characters with "portal-".
    const shared = 'k'.repeat(104);
    const keys = [`${shared}${'x'.repeat(30)}`, `${shared}${'y'.repeat(30)}`, `${shared}${'x'.repeat(29)}y`];

    // Act
    const names = keys.map(named);

    // Assess
    expect(names.map((name) => name.slice(0, 111))).toEqual(Array(3).fill(`portal-${shared}`));
    expect(new Set(names).size).toBe(3);
  });
});
