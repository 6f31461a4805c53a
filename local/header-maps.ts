/**
 * The two maps API Gateway builds from a request's header lines, in order: `headers` keeps the
 * last value of a name, `multiValueHeaders` all of them. Names keep the letter case they were sent in.
 */
export const headerMaps = (lines: Iterable<readonly [string, string]>) => {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of lines) {
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  return { headers, multiValueHeaders };
};
