import { afterEach, describe, expect, it, vi } from 'vitest';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';
import { createRequest } from '../../helpers/portal.ts';

const { post, get } = await startWebhookForTests({ environment: { POWERTOOLS_LOG_LEVEL: 'INFO' } });

interface LogLine {
  message: string;
  function_name?: string;
  function_request_id?: string;
  correlation_id?: string;
  route?: string;
}

/** The functions' JSON log lines written to stdout while `act` runs. */
const logLinesDuring = async <T>(act: () => Promise<T>) => {
  const written: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (text.startsWith('{')) written.push(text);
    else write(chunk, ...(rest as []));
    return true;
  });
  const result = await act();
  vi.restoreAllMocks();
  const lines = written.flatMap((text) => text.split('\n').filter(Boolean)).map((text) => JSON.parse(text) as LogLine);
  return { result, lines };
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the local webhook, its functions sharing one process', () => {
  it('writes each log line with the context of its own request when requests run concurrently', async () => {
    // Prepare: four routes at once, each request doing its own awaits (AWS calls, the secret, validation).
    const requests = Array.from({ length: 12 }, (_, index) => [
      { route: 'createCredentials', send: () => post('/v1/createCredentials', createRequest({ appSlug: `log-context-${index}` })) },
      { route: 'health', send: () => get('/v1/health') },
      { route: 'revokeCredentials', send: () => post('/v1/revokeCredentials', { credentialType: 'API_KEY', appSlug: `never-created-${index}` }) },
      { route: 'updateCredentials', send: () => post('/v1/updateCredentials', { credentialType: 'API_KEY', appSlug: '' }) },
    ]).flat();

    // Act
    const { result: answers, lines } = await logLinesDuring(() =>
      Promise.all(requests.map(async ({ route, send }) => ({ route, response: await send() }))),
    );

    // Assess: every line is one request's; each request's lines share its function, invocation and API Gateway request id.
    expect(answers.map(({ response }) => response.status).sort()).toEqual(
      [...Array(12).fill(200), ...Array(12).fill(204), ...Array(12).fill(204), ...Array(12).fill(400)].sort(),
    );
    expect(lines.length).toBeGreaterThanOrEqual(requests.length);
    const byRequest = new Map<string | undefined, LogLine[]>();
    for (const line of lines) byRequest.set(line.correlation_id, [...(byRequest.get(line.correlation_id) ?? []), line]);
    expect(byRequest.size).toBe(requests.length);
    for (const [correlationId, ownLines] of byRequest) {
      const finished = ownLines.filter((line) => line.message === 'Request finished');
      expect(finished, `request ${correlationId}`).toHaveLength(1);
      const route = finished[0]?.route?.split('/').pop();
      expect(new Set(ownLines.map((line) => line.function_name)), `request ${correlationId}`).toEqual(new Set([route]));
      expect(new Set(ownLines.map((line) => line.function_request_id)).size, `request ${correlationId}`).toBe(1);
    }
    const invocations = new Set(lines.map((line) => line.function_request_id));
    expect(invocations.size).toBe(requests.length);
    // And each answer names the request whose lines these are, as API Gateway's x-amzn-RequestId does.
    for (const { route, response } of answers) {
      const ownLines = byRequest.get(response.headers.get('x-amzn-requestid') ?? undefined) ?? [];
      expect(ownLines.length, route).toBeGreaterThan(0);
      expect(
        ownLines.every((line) => line.function_name === route),
        route,
      ).toBe(true);
    }
  });
});
