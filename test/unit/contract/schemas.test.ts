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
