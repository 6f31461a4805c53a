/**
 * cognito-local answers ListUserPoolClients in one page, whatever MaxResults says, with each
 * client's full description. Cognito answers at most 60 a page (MaxResults 1-60, API reference)
 * with ClientId, ClientName and UserPoolId only. This proxy in front of the local stand-in pages
 * and trims the listing as Cognito does, so the bench's audit makes the listing calls it makes on
 * AWS; every other call passes through unchanged.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

const maxPageSize = 60;
const listTarget = 'AWSCognitoIdentityProviderService.ListUserPoolClients';

interface ClientDescription {
  ClientId?: string;
  ClientName?: string;
  UserPoolId?: string;
}

const bodyOf = async (request: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

export const startPagingCognito = async (upstream: string) => {
  const server = createServer(async (request, response) => {
    const body = await bodyOf(request);
    const headers = Object.fromEntries(
      Object.entries(request.headers).filter(([name]) => !['host', 'content-length', 'connection'].includes(name)),
    ) as Record<string, string>;
    const listing = request.headers['x-amz-target'] === listTarget;
    const asked = listing ? (JSON.parse(body) as { UserPoolId: string; MaxResults?: number; NextToken?: string }) : undefined;
    const answer = await fetch(`${upstream}${request.url ?? '/'}`, {
      method: request.method ?? 'POST',
      headers,
      ...(request.method === 'GET' ? {} : { body: asked ? JSON.stringify({ UserPoolId: asked.UserPoolId }) : body }),
    });
    let text = await answer.text();
    if (asked && answer.ok) {
      const all = (JSON.parse(text) as { UserPoolClients?: ClientDescription[] }).UserPoolClients ?? [];
      const from = asked.NextToken ? Number(Buffer.from(asked.NextToken, 'base64url').toString()) : 0;
      const size = Math.min(asked.MaxResults ?? maxPageSize, maxPageSize);
      const page = all.slice(from, from + size).map(({ ClientId, ClientName, UserPoolId }) => ({ ClientId, ClientName, UserPoolId }));
      const next = from + size < all.length ? Buffer.from(String(from + size)).toString('base64url') : undefined;
      text = JSON.stringify({ UserPoolClients: page, ...(next ? { NextToken: next } : {}) });
    }
    // Errors keep their headers (x-amzn-errortype): the SDK reads the error's name there.
    const passed = [...answer.headers].filter(([name]) => !['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(name));
    response.writeHead(answer.status, Object.fromEntries(passed));
    response.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
