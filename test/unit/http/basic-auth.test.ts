import { describe, expect, it } from 'vitest';
import { matchesAny, parseBasicAuthorization } from '#http/basic-auth';
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

describe('matchesAny', () => {
  const accepted = [portalUser, { username: 'portal-next', password: 'next-password-0123456789' }];

  it.each([
    ['the password of the pair', portalUser.username, portalUser.password],
    ['the password of the second pair', 'portal-next', 'next-password-0123456789'],
  ])('accepts the user name with %s', (_name, username, password) => {
    // Act
    const matched = matchesAny({ username, password }, accepted);

    // Assess
    expect(matched).toBe(true);
  });

  it.each([
    ['a prefix of the password', portalUser.username, portalUser.password.slice(0, -1)],
    ['the first character of the password', portalUser.username, portalUser.password.slice(0, 1)],
    ['an empty password', portalUser.username, ''],
    ['the password with extra characters after it', portalUser.username, `${portalUser.password}x`],
    ['the password in another letter case', portalUser.username, portalUser.password.toUpperCase()],
    ['the right password under a wrong user name', 'someone-else', portalUser.password],
    ['the right password under a prefix of the user name', portalUser.username.slice(0, -1), portalUser.password],
    ['the right password under an empty user name', '', portalUser.password],
    ["one pair's user name with the other pair's password", portalUser.username, 'next-password-0123456789'],
  ])('refuses %s', (_name, username, password) => {
    // Act
    const matched = matchesAny({ username, password }, accepted);

    // Assess
    expect(matched).toBe(false);
  });

  it('refuses everything when no pair is accepted', () => {
    // Act
    const matched = matchesAny(portalUser, []);

    // Assess
    expect(matched).toBe(false);
  });
});
