/**
 * Which AWS account and Region a request to the control-plane stand-in addresses. AWS tells them
 * apart by endpoint (the Region) and by the caller's credentials (the account); locally every
 * client shares one URL, so the stand-in reads them from the request's SigV4 signature instead:
 *
 *   Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261206/eu-west-1/apigateway/aws4_request, SignedHeaders=…, Signature=…
 *
 * The credential scope names the Region the request was signed for (SigV4: "date/region/service/aws4_request");
 * the access key id names the caller, whose account is the assumed role's for keys the stand-in's
 * STS AssumeRole issued, and the stand-in's own account for any other key.
 */
import type { IncomingMessage } from 'node:http';
import { type PlaceId, placeId, regionPattern } from '#commons/places';

/** The account every caller is in unless it uses credentials of a role assumed here. */
export const DEFAULT_ACCOUNT = '000000000000';
/** The Region of a request whose signature names none (unsigned, or not SigV4). */
export const DEFAULT_REGION = 'us-east-1';
/** Where the `seed` of the stand-in lives and where a request without a signature lands. */
export const DEFAULT_PLACE: PlaceId = placeId({ account: DEFAULT_ACCOUNT, region: DEFAULT_REGION });

/** What the request's signature says about its signer: the access key id and the Region of the credential scope. */
export interface SigningScope {
  accessKeyId?: string;
  region?: string;
}

const CREDENTIAL = /Credential=([^/,\s]+)\/\d{8}\/([^/,\s]+)\/[^/,\s]+\/aws4_request/;

export function signingScope(req: IncomingMessage): SigningScope {
  const authorization = req.headers.authorization;
  const match = typeof authorization === 'string' ? CREDENTIAL.exec(authorization) : null;
  if (!match) return {};
  const [, accessKeyId, region] = match;
  return { accessKeyId, region: region !== undefined && regionPattern.test(region) ? region : undefined };
}
