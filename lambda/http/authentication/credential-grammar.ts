/**
 * What a credential can look like on the wire, in one place: the secret's loader refuses a
 * value the request parser could never accept, so a stored token cannot be refused forever.
 */

/** Longer than any real token (a JWT with many claims is a few KB); a header over it is not one. */
export const maxCredentialLength = 8 * 1024;

/** RFC 6750 §2.1 `b64token`: what may follow `Bearer ` in an Authorization header. */
export const bearerTokenGrammar = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * An API key is its header's whole value: RFC 9110 field-vchars without spaces (a proxy may
 * trim or fold them) and without obs-text (non-ASCII bytes arrive re-encoded), i.e. visible ASCII.
 */
export const apiKeyGrammar = /^[\x21-\x7e]+$/;
