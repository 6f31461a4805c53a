import type { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { apiGatewayIn } from '#clients/api-gateway';
import type { Place } from '#commons/places';
import type { PlaceElsewhere } from '#provisioning/key-places';

/** The API Gateway of a place elsewhere, reached as the functions reach it (its role, session named after the deployment). */
export const apiGatewayElsewhere = ({ place, target }: PlaceElsewhere, deploymentId: string, home: Place): APIGatewayClient =>
  apiGatewayIn(place, target, deploymentId, home.region);
