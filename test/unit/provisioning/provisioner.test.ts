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
});
