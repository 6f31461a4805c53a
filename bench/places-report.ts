/** The figures bench/places.ts measures, and the table `npm run bench` prints them as. */

export interface PlacesCase {
  case: string;
  places: number;
  /** API Gateway calls per create, every place together. */
  apiGatewayCalls: number;
  /** STS AssumeRole calls per create (another account's role, when its credentials are not cached). */
  assumeRoleCalls: number;
  /**
   * Sequential round trips: a create's time divided by the per-call latency, rounded down, median. Calls
   * made at once count once; an AssumeRole the credentials wait for counts too.
   */
  roundTrips: number;
  medianMs: number;
  p95Ms: number;
}

export interface PlacesFigures {
  delayMs: number;
  creates: number;
  cases: PlacesCase[];
}

export const placesHeading = ({ delayMs, creates }: PlacesFigures) =>
  `A create's cost when its APIs live in 1, 2 and 4 places (account and Region): ${creates} creates per case through ApiKeyProvisioner and the SDK clients as deployed,
every AWS call answered by the control-plane stand-in after ${delayMs} ms (one usage plan per place; DynamoDB, the same for every case, left out):`;

export const placesRows = ({ cases }: PlacesFigures) =>
  cases.map((row) => ({
    case: row.case,
    'API Gateway calls': row.apiGatewayCalls,
    AssumeRole: row.assumeRoleCalls,
    'sequential round trips (time / latency)': row.roundTrips,
    'median ms': row.medianMs.toFixed(1),
    'p95 ms': row.p95Ms.toFixed(1),
  }));
