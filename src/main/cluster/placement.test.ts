import { describe, expect, it } from 'vitest';
import { isUnreachable, noRayMessage, runningOn, takePlacement, unreachableDelay, unreachableMessage, waitsSoFar, workBackoff } from './placement';
import { SfaError } from '../../shared/errors';

const NODE_ID = 'c0ffee00112233445566778899aabbccddeeff00112233445566778';

describe('placement', () => {
  it('strips the cluster key and keeps only known, well-formed fields', () => {
    const raw = { model: 'dsp', stems: {}, cluster: { nodeId: NODE_ID, nodeIp: '10.0.0.7', actor: 'a1', transferSeconds: 0.2, bytesSent: 10, bytesReceived: -1, extra: 'x' } };
    const { result, placement } = takePlacement(raw);
    expect(result).toEqual({ model: 'dsp', stems: {} });
    expect(placement).toEqual({ nodeId: NODE_ID, nodeIp: '10.0.0.7', actor: 'a1', transferSeconds: 0.2, bytesSent: 10 });
  });

  it('passes a local result through and refuses a malformed cluster key', () => {
    expect(takePlacement({ bpm: 1 })).toEqual({ result: { bpm: 1 }, placement: null });
    expect(takePlacement(null)).toEqual({ result: null, placement: null });
    for (const cluster of [null, 'node', { nodeId: 'zz', nodeIp: '1.2.3.4' }, { nodeId: NODE_ID, nodeIp: '1.2.3.4/../x' }, { nodeId: NODE_ID }]) {
      expect(() => takePlacement({ cluster })).toThrow(SfaError);
    }
  });

  it('reads the node from the driver\'s first progress message only', () => {
    expect(runningOn(`running on node 10.0.0.7 (${NODE_ID.slice(0, 8)})`)).toEqual({ ip: '10.0.0.7', id: 'c0ffee00' });
    expect(runningOn('separating: chunk 1/4')).toBeNull();
    expect(runningOn('running on node 10.0.0.7 (not-hex!)')).toBeNull();
  });

  it('waits 5, 10, 20, then 30 s for an unreachable cluster, counted from the snoozes', () => {
    expect([0, 1, 2, 3, 4, 10].map(unreachableDelay)).toEqual([5, 10, 20, 30, 30, 30]);
    expect(unreachableMessage(10)).toBe('cluster unreachable: waiting (retrying in 10s)');
    expect(waitsSoFar({ maxAttempts: 5 }, 3)).toBe(2);
    expect(waitsSoFar({ maxAttempts: 3 }, 3)).toBe(0);
  });

  it('waits the same way while Ray is not installed here, and says so', () => {
    expect(isUnreachable(new SfaError('CLUSTER_NO_RAY', 'x'))).toBe(true);
    expect(isUnreachable(new SfaError('CLUSTER_UNREACHABLE', 'x'))).toBe(true);
    expect(isUnreachable(new SfaError('CLUSTER_AUTH', 'x'))).toBe(false);
    expect(noRayMessage(5)).toBe('Ray not installed: waiting for cluster support to be installed (retrying in 5s)');
  });

  it('retries a lost node within seconds; other errors keep the default backoff', () => {
    expect(workBackoff(1, new SfaError('NODE_LOST', 'x'), () => 0.99)).toBeLessThanOrEqual(4);
    expect(workBackoff(1, new SfaError('SIDECAR_ERROR', 'x'), () => 0)).toBe(7);
  });
});
