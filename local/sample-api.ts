import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type APIGatewayClient, GetApiKeysCommand, paginateGetUsagePlans } from '@aws-sdk/client-api-gateway';
import { createRemoteJWKSet, jwtVerify } from 'jose';

export interface LocalSampleApiOptions {
  /**
   * The control plane holding API keys and usage plans (the local stand-in). The Region it signs for (and its
   * credentials' account) is the place whose keys it admits: a sample of another Region gets a client of that Region.
   */
  apiGateway: APIGatewayClient;
  /** The REST API id GET /orders stands for: a key must be linked to a plan serving it. */
  ordersApiId: string;
  /** Its stage this sample stands for (default `prod`): a plan serving another stage admits no key here, as on API Gateway. */
  ordersStage?: string;
  /** The token issuer and its JWKS, and the scope GET /payments requires. */
  issuer: string;
  jwksUrl: string;
  paymentsScope: string;
  host?: string;
  port?: number;
}

export interface LocalSampleApi {
  url: string;
  close(): Promise<void>;
}

const answer = (response: ServerResponse, status: number, body: unknown) => {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
};

/**
 * The deployed sample API, on this machine: it admits what API Gateway would. GET /orders
 * takes an `x-api-key` that is enabled and linked to a usage plan serving the orders API's stage
 * (read from the control plane at each call, so a revoke is felt at once); GET /payments
 * takes an access token (the raw JWT in Authorization, as the Cognito authorizer does)
 * signed by the local token endpoint's keys, unexpired, carrying the required scope.
 */
export const startLocalSampleApi = async (options: LocalSampleApiOptions): Promise<LocalSampleApi> => {
  const jwks = createRemoteJWKSet(new URL(options.jwksUrl));
  const ordersStage = options.ordersStage ?? 'prod';

  const admitsKey = async (value: string): Promise<string | undefined> => {
    const { items = [] } = await options.apiGateway.send(new GetApiKeysCommand({ includeValues: true, limit: 500 }));
    // One page is enough for a local stand-in; API Gateway looks keys up by value itself.
    const key = items.find((item) => item.value === value && item.enabled);
    if (!key?.id) return undefined;
    for await (const page of paginateGetUsagePlans({ client: options.apiGateway }, { keyId: key.id })) {
      if ((page.items ?? []).some((plan) => plan.apiStages?.some((stage) => stage.apiId === options.ordersApiId && stage.stage === ordersStage)))
        return key.id;
    }
    return undefined;
  };

  const admitsToken = async (token: string): Promise<string | undefined> => {
    try {
      const { payload } = await jwtVerify(token, jwks, { issuer: options.issuer });
      const scopes = String(payload.scope ?? '').split(' ');
      return payload.token_use === 'access' && scopes.includes(options.paymentsScope) ? String(payload.client_id) : undefined;
    } catch {
      return undefined;
    }
  };

  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    try {
      if (request.method === 'GET' && path === '/orders') {
        const keyId = await admitsKey(String(request.headers['x-api-key'] ?? ''));
        // API Gateway's own answer to a missing, unknown, disabled or unlinked key.
        return keyId
          ? answer(response, 200, { orders: [{ id: 'o-1', total: 42 }], apiKeyId: keyId })
          : answer(response, 403, { message: 'Forbidden' });
      }
      if (request.method === 'GET' && path === '/payments') {
        const clientId = await admitsToken(String(request.headers.authorization ?? ''));
        return clientId
          ? answer(response, 200, { payments: [{ id: 'p-1', amount: 7 }], clientId })
          : answer(response, 401, { message: 'Unauthorized' });
      }
      answer(response, 403, { message: 'Missing Authentication Token' });
    } catch {
      answer(response, 502, { message: 'Internal server error' });
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
