import { describe, expect, it } from 'vitest';
import { CreateCredentialsRequest } from '#contract/schemas';
import { createRequest, exampleApiId } from '../../helpers/portal.ts';

const withPlanCount = (count: number) =>
  createRequest({ apis: [{ id: exampleApiId, usagePlans: Array.from({ length: count }, (_, index) => ({ id: `plan${index}` })) }] });

describe('CreateCredentialsRequest', () => {
  it('accepts exactly 10 usage plans for one API, the most one API key can join, and refuses 11', () => {
    // Act
    const ten = CreateCredentialsRequest.safeParse(withPlanCount(10));
    const eleven = CreateCredentialsRequest.safeParse(withPlanCount(11));

    // Assess
    expect(ten.success).toBe(true);
    expect(eleven.success).toBe(false);
    expect(eleven.error?.issues[0]?.path).toEqual(['apis', 0, 'usagePlans']);
  });
});

describe('appSlug', () => {
  it.each(['sha256-0123456789abcdef0123456789abcdef', 'Sha256-0123456789ABCDEF0123456789abcdef'])(
    'refuses %s, the form slug-less apps are keyed with, saying the form is reserved',
    (appSlug) => {
      // Act
      const result = CreateCredentialsRequest.safeParse(createRequest({ appSlug }));

      // Assess
      expect(result.success).toBe(false);
      expect(result.error?.issues).toEqual([expect.objectContaining({ path: ['appSlug'], message: expect.stringMatching(/reserved/) })]);
    },
  );
});

describe('appName', () => {
  it('checks its 256-character limit on the name as sent, then trims it', () => {
    // Act
    const padded = CreateCredentialsRequest.safeParse(createRequest({ appName: ` ${'a'.repeat(256)}` }));
    const atLimit = CreateCredentialsRequest.safeParse(createRequest({ appName: ` ${'a'.repeat(255)}` }));

    // Assess
    expect(padded.error?.issues).toEqual([expect.objectContaining({ path: ['appName'], code: 'too_big' })]);
    expect(atLimit.data?.appName).toBe('a'.repeat(255));
  });
});
