import { AccessLogField, AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';

/**
 * One JSON line per request: who called what, the answer, how long it took, and
 * which gateway response answered when API Gateway itself refused the call.
 * No header or body is logged: they carry credentials. Only fields API Gateway
 * cannot fill with a raw double quote are logged, so every line stays valid JSON.
 */
export const jsonAccessLogFormat = () =>
  AccessLogFormat.custom(
    JSON.stringify({
      requestId: AccessLogField.contextRequestId(),
      extendedRequestId: AccessLogField.contextExtendedRequestId(),
      requestTime: AccessLogField.contextRequestTime(),
      sourceIp: AccessLogField.contextIdentitySourceIp(),
      httpMethod: AccessLogField.contextHttpMethod(),
      resourcePath: AccessLogField.contextResourcePath(),
      path: AccessLogField.contextPath(),
      protocol: AccessLogField.contextProtocol(),
      status: AccessLogField.contextStatus(),
      responseLength: AccessLogField.contextResponseLength(),
      responseLatency: AccessLogField.contextResponseLatency(),
      integrationLatency: AccessLogField.contextIntegrationLatency(),
      integrationStatus: AccessLogField.contextIntegrationStatus(),
      errorResponseType: AccessLogField.contextErrorResponseType(),
      apiKeyId: AccessLogField.contextIdentityApiKeyId(),
      clientId: AccessLogField.contextAuthorizerClaims('client_id'),
      xrayTraceId: AccessLogField.contextXrayTraceId(),
    }),
  );
