import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from '#history/history-entry';
import { recordStreamBatch } from '#history/stream-consumer';
import { streamedEntry } from '#history/stream-entries';

const grant = (plan: string) => ({ apiIds: ['5aba4csvd4'], usagePlanIds: [plan], scopes: [] });
const change = (action: string, changeId = action, extra: Record<string, unknown> = {}) => ({
  action,
  source: 'repair',
  principal: 'arn:aws:iam::123456789012:user/ops',
  requestId: 'audit-1',
  at: '2026-01-01T00:00:00.000Z',
  changeId,
  ...extra,
});
const item = (state: string, plan: string, lastChange?: object, appKey = 'app-1') => ({
  appKey,
  state,
  credentialType: 'API_KEY',
  credentialId: 'key1',
  ...grant(plan),
  ...(lastChange ? { lastChange } : {}),
});
const streamRecord = (before: object | undefined, after: object | undefined, sequence = '1'): DynamoDBRecord => ({
  eventID: `event-${sequence}`,
  eventName: !before ? 'INSERT' : !after ? 'REMOVE' : 'MODIFY',
  dynamodb: {
    SequenceNumber: sequence,
    ApproximateCreationDateTime: 1_800_000_000,
    Keys: marshall({ appKey: ((after ?? before) as { appKey: string }).appKey }) as never,
    ...(before ? { OldImage: marshall(before, { removeUndefinedValues: true }) as never } : {}),
    ...(after ? { NewImage: marshall(after, { removeUndefinedValues: true }) as never } : {}),
  },
});

describe('the history entry of a registry stream record', () => {
  it("takes who, why and when from the writer's lastChange, and REGRANT's before from what AWS held", () => {
    // Act
    const streamed = streamedEntry(
      streamRecord(item('ACTIVE', '1el57v', change('HOLD')), item('ACTIVE', '1el57v', change('REGRANT', 'c1', { before: grant('2fm68w') }))),
    );

    // Assess
    expect(streamed).toEqual({
      discriminator: 'c1',
      entry: {
        appKey: 'app-1',
        at: '2026-01-01T00:00:00.000Z',
        action: 'REGRANT',
        source: 'repair',
        principal: 'arn:aws:iam::123456789012:user/ops',
        requestId: 'audit-1',
        credentialType: 'API_KEY',
        credentialId: 'key1',
        before: grant('2fm68w'),
        after: grant('1el57v'),
        outcome: 'OK',
      },
    });
  });

  it('names every id RELEASE_CLAIM deleted, with no grant after a revocation', () => {
    const streamed = streamedEntry(
      streamRecord(
        item('PENDING', '1el57v', change('TAKE_OVER')),
        item('REVOKED', '1el57v', change('RELEASE_CLAIM', 'c2', { deletedCredentialIds: ['k1', 'k2'] })),
      ),
    );
    expect(streamed?.entry).toMatchObject({ action: 'RELEASE_CLAIM', deletedCredentialIds: ['k1', 'k2'], before: grant('1el57v') });
    expect(streamed?.entry.after).toBeUndefined();
  });

  it('records no step (claim, hold, release, takeover), no claim given up, and no acknowledgement item', () => {
    for (const step of ['CLAIM', 'HOLD', 'RELEASE', 'TAKE_OVER']) {
      expect(streamedEntry(streamRecord(item('ACTIVE', '1el57v', change('UPDATE')), item('ACTIVE', '1el57v', change(step))))).toBeUndefined();
    }
    expect(streamedEntry(streamRecord(item('PENDING', '1el57v', change('CLAIM')), undefined))).toBeUndefined();
    expect(streamedEntry(streamRecord(undefined, { appKey: '#acknowledgement#ORPHAN#k1', kind: 'ORPHAN' }))).toBeUndefined();
  });

  it('records a change that kept the previous lastChange as UNNAMED_CHANGE by unknown, keyed by the stream record', () => {
    const named = change('CREATE');
    const streamed = streamedEntry(streamRecord(item('ACTIVE', '1el57v', named), item('ACTIVE', '3gn79x', named), '7'));
    expect(streamed).toMatchObject({
      discriminator: 'stream-event-7',
      entry: { action: 'UNNAMED_CHANGE', source: 'unknown', principal: 'unknown', before: grant('1el57v'), after: grant('3gn79x') },
    });
  });
});

describe('a stream batch', () => {
  const history = () => {
    const written = new Map<string, HistoryEntry>();
    return {
      written,
      put: async (entry: HistoryEntry, discriminator: string) => {
        if (entry.appKey === 'failing') throw new Error('throttled');
        written.set(`${entry.appKey} ${entry.at}#${discriminator}`, entry);
      },
    };
  };
  const update = (appKey: string, changeId: string, sequence: string) =>
    streamRecord(item('ACTIVE', '1el57v', change('HOLD'), appKey), item('ACTIVE', '2fm68w', change('UPDATE', changeId), appKey), sequence);

  it('writes one entry per change however often the batch is delivered', async () => {
    // Prepare
    const store = history();
    const batch = { Records: [update('a', 'c1', '1'), update('a', 'c2', '2')] };

    // Act
    await recordStreamBatch(batch, store);
    await recordStreamBatch(batch, store);

    // Assess
    expect([...store.written.keys()]).toEqual(['a 2026-01-01T00:00:00.000Z#c1', 'a 2026-01-01T00:00:00.000Z#c2']);
  });

  it('stops at the first record it cannot write and reports its sequence number, so Lambda retries from it', async () => {
    // Prepare
    const store = history();

    // Act
    const answer = await recordStreamBatch({ Records: [update('a', 'c1', '1'), update('failing', 'c2', '2'), update('b', 'c3', '3')] }, store);

    // Assess
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: '2' }] });
    expect([...store.written.values()].map((entry) => entry.appKey)).toEqual(['a']);
  });
});
