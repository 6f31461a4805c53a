/** Decodes UTF-8, throwing on bytes that are not (the default decoder would put U+FFFD in their place). */
export const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
