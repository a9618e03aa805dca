/**
 * API Gateway HTTP API events (payload format 2.0, the `$default` route) shaped as API
 * Gateway hands them to the API Lambda: for the tests that drive its handler, in-process
 * (test/api/lambda-handler.spec.ts) or bundled (infra/lambda-bundles.spec.ts).
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** The HTTP API's default domain the events come in on. */
export const HTTP_API_DOMAIN = 'abc123.execute-api.us-east-1.amazonaws.com';
/** The API's URL on that domain: PUBLIC_BASE_URL of the function that receives them. */
export const HTTP_API_URL = `https://${HTTP_API_DOMAIN}`;

export interface HttpApiRequest {
  method: 'GET' | 'POST';
  path: string;
  query?: string;
  headers?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
  cookies?: string[];
  /** The client's address as API Gateway saw it (requestContext.http.sourceIp). */
  sourceIp?: string;
}

const USER_AGENT = 'card-store-tests';

/** An HTTP API event (payload format 2.0, `$default` route) as API Gateway hands it over. */
export function httpApiEvent(request: HttpApiRequest): APIGatewayProxyEventV2 {
  const now = new Date();
  const query = request.query ?? '';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: request.path,
    rawQueryString: query,
    ...(request.cookies ? { cookies: request.cookies } : {}),
    headers: {
      accept: '*/*',
      ...(request.body === undefined
        ? {}
        : {
            'content-length': String(
              Buffer.byteLength(request.body, request.isBase64Encoded ? 'base64' : 'utf8'),
            ),
          }),
      host: HTTP_API_DOMAIN,
      'user-agent': USER_AGENT,
      'x-amzn-trace-id': `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomUUID().replaceAll('-', '').slice(0, 24)}`,
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      ...request.headers,
    },
    ...(query
      ? { queryStringParameters: Object.fromEntries(new URLSearchParams(query).entries()) }
      : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: HTTP_API_DOMAIN,
      domainPrefix: 'abc123',
      http: {
        method: request.method,
        path: request.path,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp ?? '203.0.113.7',
        userAgent: USER_AGENT,
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(request.body === undefined ? {} : { body: request.body }),
    isBase64Encoded: request.isBase64Encoded ?? false,
  };
}

/** A JSON POST as a client sends it. */
export const jsonPost = (path: string, body: unknown): HttpApiRequest => ({
  method: 'POST',
  path,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
