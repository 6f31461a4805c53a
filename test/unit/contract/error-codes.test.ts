import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../helpers/openapi.ts';

/** Every error code the functions, and API Gateway's gateway responses, can answer with, read from their source. */
const codesInSource = () => {
  const files = ['lambda', 'infra'].flatMap((dir) =>
    readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .map((file) => join(dir, file)),
  );
  const codes = new Set<string>();
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/(?:errorTemplate|gatewayError)\(\s*'([A-Z][A-Z0-9_]+)'/g)) codes.add(match[1] as string);
    for (const match of source.matchAll(/(?:badRequest|conflict|unprocessable|unavailable)\(\s*'([A-Z][A-Z0-9_]+)'/g)) codes.add(match[1] as string);
    for (const match of source.matchAll(/new WebhookError\(\s*\d{3},\s*'([A-Z][A-Z0-9_]+)'/g)) codes.add(match[1] as string);
  }
  return [...codes].sort();
};

describe('error codes', () => {
  it('documents every code the functions and the gateway can answer with in the OpenAPI description', () => {
    // Prepare
    const description = String((openApiDocument.info as { description: string }).description);

    // Act
    const undocumented = codesInSource().filter((code) => !description.includes(`\`${code}\``));

    // Assess
    expect(codesInSource().length).toBeGreaterThan(20);
    expect(undocumented).toEqual([]);
  });
});
