import { describe, expect, it } from 'vitest';
import { parseBasicAuthorization } from '#http/basic-auth';
import { basic, portalUser } from '../../helpers/portal.ts';

const token = basic(portalUser.username, portalUser.password).slice('Basic '.length);
const withAuthorization = (value: string) => ({ headers: { Authorization: value }, multiValueHeaders: { Authorization: [value] } });

describe('parseBasicAuthorization', () => {
  it.each([
    ['one space', `Basic ${token}`],
    ['two spaces (RFC 7235: 1*SP)', `Basic  ${token}`],
    ['many spaces', `Basic        ${token}`],
    ['the scheme in another letter case', `bAsIc  ${token}`],
  ])('reads the credential after %s', (_kind, value) => {
    // Act
    const credential = parseBasicAuthorization(withAuthorization(value));

    // Assess
    expect(credential).toEqual(portalUser);
  });

  it.each([
    ['no space', `Basic${token}`],
    ['a tab', `Basic\t${token}`],
    ['a space and a tab', `Basic \t${token}`],
    ['a no-break space', `Basic\u00a0${token}`],
    ['a line break', `Basic \n${token}`],
    ['only spaces', 'Basic   '],
    ['a leading space', ` Basic ${token}`],
    ['spaces inside the token', `Basic ${token.slice(0, 4)}  ${token.slice(4)}`],
  ])('refuses %s between or around the parts', (_kind, value) => {
    // Act
    const credential = parseBasicAuthorization(withAuthorization(value));

    // Assess
    expect(credential).toBeUndefined();
  });
});
